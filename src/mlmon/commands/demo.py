"""`mlmon demo`: build the demo store from real market data and open the monitor on it.

Progress goes to stderr; with `--no-tui` the last line on stdout is the tracking URI of
the store, for `mlmon --tracking-uri ...` or `mlflow server --backend-store-uri ...`.
MLflow's usage telemetry is switched off for this command (unless
MLFLOW_DISABLE_TELEMETRY is already set): the demo talks to a local file and nothing
else.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mlmon.demo.live import LiveReplay
    from mlmon.demo.lock import DemoLock
    from mlmon.demo.store import DemoStore

log = logging.getLogger(__name__)

# Seconds between polls while replaying, unless --refresh is given.
LIVE_REFRESH_SECONDS = 5.0


def register(app: typer.Typer) -> None:
    """Add the `demo` command to `app`."""
    app.command(name="demo")(demo)


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder for the demo store. Default: the platform data dir's mlmon/demo (or $MLMON_DEMO_DIR).",
            show_default=False,
        ),
    ] = None,
    no_tui: Annotated[
        bool,
        typer.Option("--no-tui", help="Build the store and print its tracking URI; no monitor."),
    ] = False,
    live: Annotated[
        bool,
        typer.Option("--live", help="Replay the prediction log into the store while it runs."),
    ] = False,
    speed: Annotated[
        float,
        typer.Option("--speed", help="With --live: seconds per replayed trading day."),
    ] = 1.0,
    live_from: Annotated[
        str,
        typer.Option("--live-from", help="With --live: first replayed month, YYYY-MM."),
    ] = "2007-06",
    refresh: Annotated[
        float | None,
        typer.Option(
            "--refresh",
            help=f"Seconds between polls. Default: 30, or {LIVE_REFRESH_SECONDS:g} with --live.",
            show_default=False,
        ),
    ] = None,
    reduced: Annotated[
        bool,
        typer.Option("--reduced", hidden=True, help="One model and fewer months (for tests)."),
    ] = False,
) -> None:
    """Build a demo MLflow store from S&P 500 and NASDAQ prices, then open the monitor."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlmon.demo.lock import DemoLock
    from mlmon.demo.store import default_demo_dir
    from mlmon.logs import setup_logging

    setup_logging()
    lock = DemoLock(directory or default_demo_dir())
    try:
        _build_and_show(lock, no_tui, live, speed, live_from, refresh, reduced)
    finally:
        lock.release()


def _build_and_show(
    lock: DemoLock,
    no_tui: bool,
    live: bool,
    speed: float,
    live_from: str,
    refresh: float | None,
    reduced: bool,
) -> None:
    """Build under `lock`, held through a replay; a monitor without replay only reads, unlocked."""
    from mlmon.cli import fail
    from mlmon.demo.store import DemoError, DemoOptions, build_demo
    from mlmon.errors import MlmonError

    target = lock.directory
    options = DemoOptions.reduced() if reduced else DemoOptions()
    try:
        if live:
            _check_replay_options(speed, live_from)
        lock.acquire()
        store = build_demo(target, options, live_from=live_from if live else None, progress=_progress)
    except MlmonError as exc:
        fail(exc)
        return
    except Exception as exc:  # MLflow, LightGBM or disk errors: name the folder and the way out
        log.exception("building the demo store in %s failed", target)
        fail(
            DemoError(
                f"Building the demo store in {target} failed: {exc}.",
                "Delete that folder (or pass another --dir) and run mlmon demo again.",
            )
        )
        return

    replay = _replay(store, live_from, speed) if live else None
    if no_tui:
        print(store.tracking_uri, flush=True)
        if replay is not None:
            _replay_in_foreground(replay)
        return
    if replay is None:
        lock.release()
    if refresh is None and live:
        refresh = LIVE_REFRESH_SECONDS
    _open_monitor(store, replay, refresh)


def _progress(message: str) -> None:
    print(f"mlmon demo: {message}", file=sys.stderr, flush=True)


def _check_replay_options(speed: float, live_from: str) -> None:
    """Raise DemoError for a bad --speed or --live-from before anything is built."""
    from mlmon.demo.store import DemoError, month_start

    if not speed > 0:
        raise DemoError(f"Invalid --speed {speed!r}.", "Use a positive number of seconds per day.")
    month_start(live_from)


def _replay(store: DemoStore, live_from: str, speed: float) -> LiveReplay:
    from mlmon.demo.live import LiveReplay

    return LiveReplay(store, live_from, seconds_per_day=speed, progress=_progress)


def _replay_in_foreground(replay: LiveReplay) -> None:
    """Replay until the log ends or Ctrl+C, which stops it between two days."""
    from mlmon.cli import fail

    replay.start()
    try:
        while replay.running:
            replay.join(0.5)
    except KeyboardInterrupt:
        _progress("stopping the replay")
        replay.stop()
    if replay.error is not None:
        fail(replay.error)


def _open_monitor(store: DemoStore, replay: LiveReplay | None, refresh: float | None) -> None:
    """Run the TUI on the store; a replay runs beside it and stops when the TUI quits."""
    from mlmon.cli import fail
    from mlmon.config import load_settings
    from mlmon.errors import MlmonError

    try:
        settings = load_settings(tracking_uri=store.tracking_uri, refresh_seconds=refresh)
    except MlmonError as exc:
        fail(exc)
        return

    from mlmon.tui.app import create_app

    app = create_app(settings)
    if replay is not None:
        # The screen belongs to the TUI now: replay progress goes to the log file.
        replay.say = lambda message: log.info("demo replay: %s", message)
        replay.start()
    try:
        app.run()
    finally:
        if replay is not None:
            replay.stop()
    if replay is not None and replay.error is not None:
        fail(replay.error)

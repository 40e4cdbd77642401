"""The `mlmon` command line: parse options, build objects through factories, run.

Only typer is imported at module level, so `mlmon --help` returns without loading
mlflow, pandas or scipy. Each command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="mlmon",
    help="Keyboard-driven terminal monitor for models tracked in MLflow.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

TrackingUriOption = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        "-u",
        metavar="URI",
        help="MLflow tracking URI: http(s)://host:port or sqlite:///path/mlflow.db. "
        "Default: $MLFLOW_TRACKING_URI, then the config file, then http://localhost:5000.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model", "-m", metavar="NAME", help="Show only this registered model (repeatable).", show_default=False
    ),
]
RefreshOption = Annotated[
    float | None,
    typer.Option(
        "--refresh",
        metavar="SECONDS",
        help="Seconds between polls of the tracking server. Default: 30.",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="TOML config file. Default: the platform config dir's mlmon/config.toml.",
        show_default=False,
    ),
]


def fail(exc: Exception, code: int = 2) -> None:
    """Print a user-facing error on stderr and exit with `code`."""
    from mlmon.errors import MlmonError

    if isinstance(exc, MlmonError):
        message = f"mlmon: {exc.title}" + (f" {exc.fix}" if exc.fix else "")
    else:
        message = f"mlmon: {exc}"
    print(message, file=sys.stderr)
    raise typer.Exit(code)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    tracking_uri: TrackingUriOption = None,
    model: ModelOption = None,
    refresh: RefreshOption = None,
    config: ConfigOption = None,
) -> None:
    """Open the monitor (the same as `mlmon tui`) unless a command is given."""
    if ctx.invoked_subcommand is None:
        tui(tracking_uri=tracking_uri, model=model, refresh=refresh, config=config)


@app.command()
def tui(
    tracking_uri: TrackingUriOption = None,
    model: ModelOption = None,
    refresh: RefreshOption = None,
    config: ConfigOption = None,
) -> None:
    """Open the terminal monitor on a tracking server or local store."""
    from mlmon.config import load_settings
    from mlmon.errors import MlmonError

    try:
        settings = load_settings(
            tracking_uri=tracking_uri,
            refresh_seconds=refresh,
            models=tuple(model or ()),
            config_path=config,
        )
    except MlmonError as exc:
        fail(exc)
        return

    from mlmon.logs import setup_logging
    from mlmon.tui.app import create_app

    setup_logging()
    create_app(settings).run()


def main() -> None:
    """Entry point of the `mlmon` console script."""
    # mlmon is a read-only monitor: its MLflow client sends no usage telemetry to
    # MLflow's remote collector unless the user sets MLFLOW_DISABLE_TELEMETRY=false.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    _register_optional_commands()
    app()


def _register_optional_commands() -> None:
    """Add the commands that live in their own modules (each imports its heavy parts lazily)."""
    from mlmon.commands import register

    register(app)

"""Replay the demo's prediction log into the store, one trading day per tick.

`build_demo(..., live_from="2007-06")` leaves each version's predictions run RUNNING
with the batches before June 2007. `LiveReplay` then plays the remaining days: every
`seconds_per_day` it appends the next trading day's row to that month's batch file,
`predictions/YYYY-MM.parquet`, so the file grows through the month and the next month
starts a new one. The row of day t is written with `actual` NaN and filled in on the
next tick, when day t+1's close is known, as a production log would be.

Batch files are replaced atomically (written beside the store, then renamed over the
old file), so a reader never opens half a Parquet file. Each tick also logs the
`predictions_logged` metric, so a poller comparing metric timestamps finds the change.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mlmon.demo.batches import PREDICTIONS_FOLDER, ROWS_METRIC
from mlmon.demo.store import (
    DemoError,
    DemoStore,
    Progress,
    local_folder,
    month_start,
    read_prediction_log,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)


@dataclass
class _Series:
    """One version's live run: the rows still to play and the month files written."""

    model: str
    version: str
    run_id: str
    folder: Path  # the run's predictions/ artifact folder on disk
    pending: pd.DataFrame  # rows from live_from on, oldest first
    logged: int  # rows already in the run before the replay
    played: int = 0
    months: dict[str, pd.DataFrame] = field(default_factory=dict)


class LiveReplay:
    """Replay of the remaining trading days into every live predictions run, one per tick."""

    def __init__(
        self,
        store: DemoStore,
        live_from: str,
        *,
        seconds_per_day: float = 1.0,
        progress: Progress | None = None,
    ) -> None:
        if seconds_per_day <= 0:
            raise DemoError(
                f"Invalid replay speed {seconds_per_day!r} s per day.",
                "Use a positive number, e.g. --speed 1.",
            )
        self.store = store
        self.live_from = month_start(live_from)
        self.seconds_per_day = seconds_per_day
        self.say = progress or (lambda message: None)
        self.error: Exception | None = None
        self.last_day: pd.Timestamp | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: MlflowClient | None = None
        self._series: list[_Series] = []
        self._days: list[pd.Timestamp] = []
        self._next = 0  # index in _days of the next day to play

    def start(self) -> None:
        """Start `run()` in a daemon thread, which `stop()` ends."""
        self._thread = threading.Thread(
            target=self._run_logged, name="mlmon-demo-live", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        """Return True while the replay thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the replay thread to end, at most `timeout` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the replay to stop after the current tick and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Play every remaining day, or until `stop()`; the runs end FINISHED or KILLED."""
        self.prepare()
        self.say(
            f"Replaying {len(self._days)} trading days from {self.live_from:%Y-%m-%d}, "
            f"one every {self.seconds_per_day:g} s"
        )
        completed = True
        while self.remaining:
            if self._stop.wait(self.seconds_per_day):
                completed = False
                break
            day = self.step()
            if not self.remaining or self._days[self._next].month != day.month:
                self.say(f"Replayed through {day:%Y-%m}")
        self.finish(completed=completed)

    def prepare(self) -> None:
        """Open the store and load the live runs; `run()` calls it, tests may call it first."""
        from mlflow import MlflowClient

        if self._client is not None:
            return
        uri = self.store.tracking_uri
        self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self._series = self._load(self._client)
        self._days = sorted({day for one in self._series for day in one.pending["timestamp"]})

    @property
    def remaining(self) -> int:
        """Trading days not played yet (after `prepare()`)."""
        return len(self._days) - self._next

    def step(self) -> pd.Timestamp:
        """Play the next trading day into every live run now, without waiting."""
        self.prepare()
        assert self._client is not None
        day = self._days[self._next]
        for one in self._series:
            self._play(self._client, one, day)
        self._next += 1
        self.last_day = day
        return day

    def finish(self, *, completed: bool) -> None:
        """End the live runs: FINISHED with every actual filled in, or KILLED when stopped."""
        self.prepare()
        assert self._client is not None
        for one in self._series:
            if completed:
                self._fill_last_actual(one)
            self._client.set_terminated(one.run_id, "FINISHED" if completed else "KILLED")
        if completed:
            self.say("Replay finished")
        else:
            reached = f"{self.last_day:%Y-%m-%d}" if self.last_day is not None else "its first day"
            self.say(f"Replay stopped at {reached}")

    def _run_logged(self) -> None:
        try:
            self.run()
        except Exception as exc:  # reported by the command after the TUI closes
            log.exception("demo live replay failed")
            self.error = exc

    def _load(self, client: MlflowClient) -> list[_Series]:
        """Find the live runs the build left and the rows each still has to play."""
        series = []
        for model, versions in self.store.prediction_runs.items():
            for version, run_id in versions.items():
                run = client.get_run(run_id)
                if run.info.status != "RUNNING":
                    raise DemoError(
                        f"Predictions run {run_id} of {model} v{version} is "
                        f"{run.info.status}, not live.",
                        "Start the demo with --live so it prepares live runs.",
                    )
                frame = read_prediction_log(self.store.directory, model, version).frame
                early = frame["timestamp"] < self.live_from
                series.append(
                    _Series(
                        model,
                        version,
                        run_id,
                        local_folder(run.info.artifact_uri) / PREDICTIONS_FOLDER,
                        pending=frame[~early].reset_index(drop=True),
                        logged=int(early.sum()),
                    )
                )
        return series

    def _play(self, client: MlflowClient, one: _Series, day: pd.Timestamp) -> None:
        """Append `day`'s row (actual unknown yet) and fill the actual of the row before."""
        if one.played >= len(one.pending) or one.pending["timestamp"].iloc[one.played] != day:
            return
        row = one.pending.iloc[[one.played]].copy()
        row["actual"] = float("nan")
        month = f"{day:%Y-%m}"

        touched = {month}
        if one.played > 0:
            previous = one.pending.iloc[one.played - 1]
            previous_month = f"{previous['timestamp']:%Y-%m}"
            rows = one.months[previous_month]
            rows.loc[rows.index[-1], "actual"] = previous["actual"]
            touched.add(previous_month)
        one.months[month] = pd.concat([one.months[month], row]) if month in one.months else row
        one.played += 1

        for name in touched:
            self._write(one, name)
        # Months before the previous one never change again.
        for name in [name for name in one.months if name < min(touched)]:
            del one.months[name]
        total = one.logged + one.played
        client.log_metric(one.run_id, ROWS_METRIC, float(total), step=total)

    def _fill_last_actual(self, one: _Series) -> None:
        if one.played == 0:
            return
        last = one.pending.iloc[one.played - 1]
        month = max(one.months)
        rows = one.months[month]
        rows.loc[rows.index[-1], "actual"] = last["actual"]
        self._write(one, month)

    def _write(self, one: _Series, month: str) -> None:
        """Replace `predictions/<month>.parquet` in one step: write beside it, then rename."""
        scratch = self.store.directory / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        one.folder.mkdir(parents=True, exist_ok=True)
        temporary = scratch / f"{one.run_id}-{month}.parquet"
        one.months[month].to_parquet(temporary, index=False)
        os.replace(temporary, one.folder / f"{month}.parquet")

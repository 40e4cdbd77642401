"""The demo's production prediction log and the MLflow runs that hold it as batch files.

A version's prediction log has one row per trading day it was "in production": from
the first trading day after its training window (never in-sample) through the demo's
last month. Version 1 of each model covers 2005-01..2010-12, version 2 of
`spx-direction` 2007-01..2010-12, so the 2008 crisis reaches both.

Each version's log lives in its own run, tagged `mlmon.model`, `mlmon.version` and
`mlmon.role=predictions`, as one Parquet file a month, `predictions/YYYY-MM.parquet`.
Columns, in this order:

- `timestamp`: the trading day whose close the features use. The prediction is for
  the next trading day.
- `prediction`: the class, 0 or 1, or the predicted return.
- `actual`: the next day's up flag as 0.0 or 1.0, or its return. NaN while unknown.
- `score`: the probability of class 1 (classifiers only).
- `model_version`, `request_id` (`<model>:<version>:<YYYY-MM-DD>`), then the features.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mlmon.demo.training import TrainedVersion

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

PREDICTIONS_FOLDER = "predictions"
# Metric logged to every predictions run: rows written so far, one point per monthly
# file and then per replayed day. Its step is the row count too, so MLflow's latest
# value (the one at the highest step) is always the newest one. Its timestamp changes
# with every new batch, which is how a poller can detect new predictions.
ROWS_METRIC = "predictions_logged"


@dataclass(frozen=True)
class PredictionLog:
    """One version's daily predictions, as kept in the demo folder between builds."""

    model: str
    version: str
    frame: pd.DataFrame  # columns as in the module docstring, ordered by timestamp

    @property
    def first_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["timestamp"].iloc[0])

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["timestamp"].iloc[-1])


def prediction_log(
    trained: TrainedVersion, frame: pd.DataFrame, first_month: str, last_month: str
) -> PredictionLog:
    """Predict every trading day from the later of `first_month` and the day after training."""
    start = max(pd.Timestamp(first_month + "-01"), trained.spec.end + pd.Timedelta(days=1))
    stop = pd.Timestamp(last_month + "-01") + pd.offsets.MonthEnd(0)
    rows = frame.loc[start:stop]
    if rows.empty:
        raise ValueError(
            f"{trained.model.name} v{trained.version}: no trading day between "
            f"{start:%Y-%m-%d} and {stop:%Y-%m-%d}"
        )

    predicted = trained.predict(rows)
    days = rows.index.strftime("%Y-%m-%d")
    out = pd.DataFrame(
        {
            "timestamp": rows.index,
            "prediction": predicted["prediction"].to_numpy(),
            "actual": rows[trained.model.target].astype("float64").to_numpy(),
        }
    )
    if "score" in predicted:
        out["score"] = predicted["score"].to_numpy()
    out["model_version"] = trained.version
    out["request_id"] = [f"{trained.model.name}:{trained.version}:{day}" for day in days]
    features = rows[trained.model.features].reset_index(drop=True)
    out = pd.concat([out, features], axis=1)
    return PredictionLog(trained.model.name, trained.version, out)


def month_of(timestamps: pd.Series) -> pd.Series:
    """Return the `YYYY-MM` name of each timestamp's batch file."""
    return pd.to_datetime(timestamps).dt.strftime("%Y-%m")


def write_months(frame: pd.DataFrame, folder: Path) -> list[Path]:
    """Write one `YYYY-MM.parquet` per calendar month of `frame` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for month, rows in frame.groupby(month_of(frame["timestamp"]), sort=True):
        path = folder / f"{month}.parquet"
        rows.to_parquet(path, index=False)
        written.append(path)
    return written


def log_prediction_run(
    client: MlflowClient,
    experiment_id: str,
    log: PredictionLog,
    *,
    until: pd.Timestamp | None,
    scratch: Path,
) -> str:
    """Create the predictions run of one version, log its monthly batches, return its id.

    Without `until`, every day is logged and the run ends FINISHED. With `until`, only
    the days before it are logged and the run stays RUNNING, so a live replay can go on.
    """
    from mlflow.entities import Metric

    rows = log.frame if until is None else log.frame[log.frame["timestamp"] < until]
    run = client.create_run(
        experiment_id,
        run_name=f"{log.model} v{log.version} predictions",
        tags={
            "mlmon.model": log.model,
            "mlmon.version": log.version,
            "mlmon.role": "predictions",
            "mlmon.demo.live": "true" if until is not None else "false",
        },
    )
    run_id = run.info.run_id
    folder = scratch / run_id / PREDICTIONS_FOLDER
    files = write_months(rows, folder) if len(rows) else []
    if files:
        client.log_artifacts(run_id, str(folder), PREDICTIONS_FOLDER)

    counts = (
        rows.groupby(month_of(rows["timestamp"]), sort=True).size().cumsum() if len(rows) else []
    )
    now = int(pd.Timestamp.now(tz="UTC").timestamp() * 1000)
    points = [Metric(ROWS_METRIC, float(total), now, int(total)) for total in counts]
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start : start + 1000])
    if until is None:
        client.set_terminated(run_id, "FINISHED")
    return run_id


def prediction_runs(client: MlflowClient, experiment_ids: Iterable[str]) -> list[Run]:
    """Return the active predictions runs in the given experiments."""
    return list(
        client.search_runs(
            list(experiment_ids),
            filter_string="tags.`mlmon.role` = 'predictions'",
            max_results=1000,
        )
    )

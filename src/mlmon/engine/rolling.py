"""Metrics on a prediction log: task detection, time windows and series over windows.

A prediction log is a DataFrame with the columns `prediction`, `actual` (may be null
until the outcome is known), and optionally `score` and `timestamp` (ISO-8601 text,
datetimes, or epoch seconds or milliseconds). Rows with a null actual never enter a
metric, and `rows` minus `rows_used` in the result is the number left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlmon.engine.classification import classification_metrics
from mlmon.engine.metricset import MetricSet
from mlmon.engine.regression import regression_metrics
from mlmon.engine.trading import trading_metrics

TASKS = ("regression", "classification", "trading")

# Maximum count of distinct whole numbers, in both columns together, that can be class labels.
MAX_LABELS = 20
# Minimum share of predictions whose value also occurs among the actuals, for whole
# numbers to count as labels. A classifier predicts labels it was trained on, while a regression on
# whole numbers (prices in cents, counts) mostly predicts values that never occurred.
MIN_LABEL_OVERLAP = 0.5

# Epoch values above this are milliseconds: 1e11 seconds is the year 5138.
EPOCH_MILLISECONDS_ABOVE = 1e11


def detect_task(frame: pd.DataFrame) -> str:
    """Guess "classification" or "regression" from the prediction and actual columns.

    Classification when either column contains text or booleans. Also classification when
    both contain whole numbers with at most `MAX_LABELS` distinct values and one of these
    is true:

    - the values are only 0 and 1;
    - a `score` column contains probabilities in [0, 1];
    - at least `MIN_LABEL_OVERLAP` of the predictions are values seen among the actuals.
    Anything else is regression. Trading is never guessed: a return forecast is also
    a regression, so ask for trading metrics explicitly.
    """
    _require(frame, ("prediction", "actual"))
    predicted, observed = frame["prediction"].dropna(), frame["actual"].dropna()
    if any(column.dtype == bool or not pd.api.types.is_numeric_dtype(column) for column in (predicted, observed)):
        return "classification"
    predicted_values = _finite(predicted)
    observed_values = _finite(observed)
    values = np.concatenate([predicted_values, observed_values])
    # Beyond 2^53 every float64 is a whole number, so wholeness is no sign of labels there.
    if len(values) == 0 or np.any(values != np.round(values)) or np.any(np.abs(values) > 2.0**53):
        return "regression"
    labels = np.unique(values)
    if len(labels) > MAX_LABELS:
        return "regression"
    if np.all((labels == 0) | (labels == 1)) or _has_probability_score(frame):
        return "classification"
    if len(predicted_values) == 0:
        return "regression"
    overlap = np.isin(predicted_values, observed_values).mean()
    return "classification" if overlap >= MIN_LABEL_OVERLAP else "regression"


def _finite(column: pd.Series) -> np.ndarray:
    values = column.to_numpy(dtype=np.float64)
    return values[np.isfinite(values)]


def _has_probability_score(frame: pd.DataFrame) -> bool:
    """True when `frame` has a numeric `score` column whose finite values all lie in [0, 1]."""
    if "score" not in frame.columns or not pd.api.types.is_numeric_dtype(frame["score"]):
        return False
    if frame["score"].dtype == bool:
        return False
    scores = _finite(frame["score"].dropna())
    return len(scores) > 0 and bool(np.all((scores >= 0) & (scores <= 1)))


def compute_metrics(frame: pd.DataFrame, task: str = "auto", **options: Any) -> MetricSet:
    """Compute the metrics of `task` ("auto" detects it) on a prediction log.

    Options: `positive_label` and `positive_label_name` (classification; the name is
    how the caller's users set the label, e.g. "--positive-label"), `periods_per_year`
    and `risk_free_rate` (trading). Rows are put in timestamp order first when there is a timestamp column.
    """
    _require(frame, ("prediction", "actual"))
    if task == "auto":
        task = detect_task(frame)
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of auto, {', '.join(TASKS)}")
    rows = len(frame)
    unparsed = 0
    if "timestamp" in frame.columns:
        frame = sort_by_time(frame)
        unparsed = int(frame["timestamp"].isna().sum())
    known = frame[frame["actual"].notna()]

    if task == "regression":
        result = regression_metrics(known["prediction"].to_numpy(), known["actual"].to_numpy())
    elif task == "classification":
        score = known["score"].to_numpy() if "score" in known.columns else None
        result = classification_metrics(
            known["prediction"].to_numpy(),
            known["actual"].to_numpy(),
            score=score,
            positive_label=options.get("positive_label", 1),
            positive_label_name=options.get("positive_label_name", "positive_label"),
        )
    else:
        result = trading_metrics(
            known["prediction"].to_numpy(),
            known["actual"].to_numpy(),
            periods_per_year=options.get("periods_per_year", 252),
            risk_free_rate=options.get("risk_free_rate", 0.0),
        )
    notes = dict(result.notes)
    if rows > len(known):
        notes["actual"] = f"{rows - len(known)} row(s) without an actual left out"
    if unparsed:
        notes["timestamp"] = f"{unparsed} timestamp(s) not understood; those rows are ordered last"
    return MetricSet(result.task, result.values, result.undefined, rows, result.rows_used, notes)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Return timestamps as timezone-naive UTC datetimes.

    Accepts datetimes, ISO-8601 text, and epoch numbers (seconds, or milliseconds when
    above 1e11). Unparseable entries become NaT.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True)
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(np.float64)
        unit = "ms" if np.nanmax(np.abs(numbers.to_numpy())) > EPOCH_MILLISECONDS_ABOVE else "s"
        parsed = pd.to_datetime(numbers, unit=unit, utc=True)
    else:
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return parsed.dt.tz_localize(None)


def sort_by_time(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` in timestamp order (stable) with `timestamp` parsed to datetimes."""
    frame = frame.assign(timestamp=parse_timestamps(frame["timestamp"]))
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def last_rows(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """Return the newest `n` rows (by timestamp when there is one, else by position)."""
    if n <= 0:
        raise ValueError(f"window of {n} rows: use a positive number")
    if "timestamp" in frame.columns:
        frame = sort_by_time(frame)
    return frame.tail(n)


def time_window(frame: pd.DataFrame, period: str, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Rows with end − period < timestamp ≤ end; `end` defaults to the newest timestamp.

    `period` is a pandas offset such as "7D", "30D", "90D" or "12h".
    """
    _require(frame, ("timestamp",))
    frame = sort_by_time(frame)
    span = pd.Timedelta(period)
    if end is None:
        end = frame["timestamp"].max()
    stamps = frame["timestamp"]
    return frame[(stamps > end - span) & (stamps <= end)]


def window_series(frame: pd.DataFrame, task: str, metric: str, window_rows: int, **options: Any) -> pd.DataFrame:
    """Compute one metric over consecutive, non-overlapping windows of `window_rows` rows.

    Windows are cut from the newest row backwards, so the last window always ends at the
    newest row and only the oldest rows may be left over. Returns columns `end_timestamp`
    (last timestamp in the window; NaT without a timestamp column) and `value` (NaN
    where the metric is undefined), oldest window first.
    """
    if window_rows <= 0:
        raise ValueError(f"window of {window_rows} rows: use a positive number")
    if "timestamp" in frame.columns:
        frame = sort_by_time(frame)
    if task == "auto":
        task = detect_task(frame)
    first = len(frame) % window_rows
    ends, values = [], []
    for start in range(first, len(frame), window_rows):
        window = frame.iloc[start : start + window_rows]
        result = compute_metrics(window, task, **options)
        if metric not in result.values:
            raise ValueError(f"{task} has no metric {metric!r}; it has {', '.join(result.values)}")
        value = result.values[metric]
        ends.append(window["timestamp"].iloc[-1] if "timestamp" in window.columns else pd.NaT)
        values.append(np.nan if value is None else value)
    return pd.DataFrame({"end_timestamp": pd.Series(ends, dtype="datetime64[ns]"), "value": values})


def current_and_previous(
    frame: pd.DataFrame, task: str, window: int | str, **options: Any
) -> tuple[MetricSet, MetricSet | None]:
    """Metrics of the newest window and of the window just before it.

    `window` is a row count or a pandas offset ("7D"). The previous window is None when
    no row falls before the current one.
    """
    if "timestamp" in frame.columns:
        frame = sort_by_time(frame)
    if task == "auto":
        task = detect_task(frame)
    if isinstance(window, int):
        current, earlier = frame.tail(window), frame.iloc[: max(len(frame) - window, 0)]
        previous = earlier.tail(window)
    else:
        _require(frame, ("timestamp",))
        end = frame["timestamp"].max()
        span = pd.Timedelta(window)
        current = time_window(frame, window, end)
        previous = time_window(frame, window, end - span)
    result = compute_metrics(current, task, **options)
    if len(previous) == 0:
        return result, None
    return result, compute_metrics(previous, task, **options)


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise KeyError(
            f"prediction log has no column {', '.join(map(repr, missing))}; it has {', '.join(map(str, frame.columns))}"
        )

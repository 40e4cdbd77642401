"""Task detection, windows over a prediction log, and series over consecutive windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from mlmon.engine import (
    compute_metrics,
    current_and_previous,
    detect_task,
    last_rows,
    parse_timestamps,
    time_window,
    window_series,
)


def _log(size: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    actual = rng.normal(0, 0.01, size)
    frame = pd.DataFrame(
        {
            # Out of order on purpose: windows must follow time, not file order.
            "timestamp": pd.date_range("2024-01-01", periods=size, freq="D")[rng.permutation(size)],
            "prediction": actual + rng.normal(0, 0.01, size),
            "actual": actual,
        }
    )
    return frame


def test_detects_classification_and_regression():
    assert detect_task(pd.DataFrame({"prediction": [0, 1, 1], "actual": [1, 1, 0]})) == "classification"
    assert detect_task(pd.DataFrame({"prediction": ["a", "b"], "actual": ["a", None]})) == "classification"
    assert detect_task(pd.DataFrame({"prediction": [0.2, 1.5], "actual": [0.1, 1.2]})) == "regression"


def test_rows_without_actual_are_counted_not_used():
    frame = pd.DataFrame({"prediction": [1.0, 2.0, 3.0], "actual": [1.5, None, 2.0]})
    result = compute_metrics(frame, "regression")
    assert result.rows == 3
    assert result.rows_used == 2
    assert result.values["mae"] == pytest.approx(0.75)
    assert "1 row" in result.notes["actual"]


def test_trading_follows_timestamp_order():
    frame = pd.DataFrame({"timestamp": [3, 1, 2], "prediction": [1.0, 1.0, 1.0], "actual": [0.5, -0.5, 0.1]})
    # In time order the returns are -0.5, 0.1, 0.5: wealth 0.5 at the trough.
    result = compute_metrics(frame, "trading")
    assert result.values["max_drawdown"] == pytest.approx(-0.5)


def test_parse_timestamps_accepts_epoch_seconds_millis_and_iso():
    seconds = parse_timestamps(pd.Series([1_700_000_000, 1_700_000_060]))
    millis = parse_timestamps(pd.Series([1_700_000_000_000, 1_700_000_060_000]))
    text = parse_timestamps(pd.Series(["2023-11-14T22:13:20Z", "2023-11-14T22:14:20+00:00"]))
    assert list(seconds) == list(millis) == list(text)


def test_last_rows_and_time_window_use_time_order():
    frame = _log()
    newest = last_rows(frame, 10)
    assert list(newest["timestamp"]) == list(pd.date_range("2024-03-31", periods=10, freq="D"))
    week = time_window(frame, "7D")
    assert len(week) == 7
    assert week["timestamp"].min() == pd.Timestamp("2024-04-03")


def test_window_series_matches_a_manual_loop():
    frame = _log(103)
    series = window_series(frame, "regression", "mae", 25)
    ordered = frame.sort_values("timestamp").reset_index(drop=True)
    # 103 rows in windows of 25: the oldest 3 rows are left over.
    expected = [
        skm.mean_absolute_error(ordered["actual"][s : s + 25], ordered["prediction"][s : s + 25])
        for s in range(3, 103, 25)
    ]
    assert list(series.columns) == ["end_timestamp", "value"]
    np.testing.assert_allclose(series["value"], expected, rtol=1e-12)
    assert series["end_timestamp"].iloc[-1] == ordered["timestamp"].iloc[-1]


def test_window_series_marks_undefined_windows_nan():
    frame = pd.DataFrame({"prediction": [1.0, 2.0, 3.0, 4.0], "actual": [5.0, 5.0, 1.0, 2.0]})
    series = window_series(frame, "regression", "r2", 2)
    assert np.isnan(series["value"].iloc[0])
    assert series["value"].iloc[1] == pytest.approx(skm.r2_score([1.0, 2.0], [3.0, 4.0]))


def test_current_and_previous_by_rows_and_by_time():
    frame = _log(60)
    ordered = frame.sort_values("timestamp").reset_index(drop=True)
    current, previous = current_and_previous(frame, "regression", 20)
    assert current.values["mae"] == pytest.approx(
        skm.mean_absolute_error(ordered["actual"][40:], ordered["prediction"][40:])
    )
    assert previous.values["mae"] == pytest.approx(
        skm.mean_absolute_error(ordered["actual"][20:40], ordered["prediction"][20:40])
    )
    current, previous = current_and_previous(frame, "regression", "30D")
    assert current.rows == 30
    assert previous.rows == 30
    _, none = current_and_previous(frame, "regression", "90D")
    assert none is None


def test_unknown_metric_and_task_are_rejected():
    with pytest.raises(ValueError, match="no metric"):
        window_series(_log(), "regression", "accuracy", 10)
    with pytest.raises(ValueError, match="unknown task"):
        compute_metrics(_log(), "forecast")


def test_unparsed_timestamps_are_noted():
    frame = pd.DataFrame({"timestamp": ["2024-01-02", "soon"], "prediction": [1.0, 2.0], "actual": [1.0, 3.0]})
    result = compute_metrics(frame, "regression")
    assert "1 timestamp" in result.notes["timestamp"]
    assert result.rows_used == 2

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


def test_whole_number_regression_is_not_taken_for_classes():
    # Prices in whole units: few distinct values, but no prediction equals an actual.
    frame = pd.DataFrame({"prediction": [100, 250, 300, 120], "actual": [110, 240, 330, 100]})
    assert detect_task(frame) == "regression"
    result = compute_metrics(frame)
    assert result.task == "regression"
    assert result.values["mae"] == pytest.approx(
        skm.mean_absolute_error(frame["actual"], frame["prediction"])
    )


@pytest.mark.parametrize(
    ("columns", "task"),
    [
        # The demo classifier: int predictions, float actuals, a probability score.
        ({"prediction": [0, 1, 1, 0], "actual": [0.0, 1.0, 0.0, 0.0], "score": [0.2, 0.9, 0.6, 0.1]}, "classification"),
        # 0/1 only is binary even when every prediction in the window is wrong.
        ({"prediction": [0, 0, 0], "actual": [1, 1, 1]}, "classification"),
        # Labels 0..2 with predictions mostly among the actuals.
        ({"prediction": [0, 2, 1, 2, 0], "actual": [0, 2, 2, 1, 0]}, "classification"),
        # Labels 3 and 7 that never match, but scored as probabilities.
        ({"prediction": [3, 3], "actual": [7, 7], "score": [0.1, 0.4]}, "classification"),
        # The same without a score reads as a regression on whole numbers.
        ({"prediction": [3, 3], "actual": [7, 7]}, "regression"),
        # Scores outside [0, 1] are not probabilities.
        ({"prediction": [3, 4], "actual": [7, 8], "score": [2.0, 5.0]}, "regression"),
        # Floats this large are all whole numbers, but not labels.
        ({"prediction": [1e308, 1e300], "actual": [-1e308, 1e300]}, "regression"),
        # Counts predicted off by one: few labels, little overlap.
        ({"prediction": [5, 12, 40, 7], "actual": [6, 11, 41, 8]}, "regression"),
    ],
)
def test_detect_task_cases(columns, task):
    assert detect_task(pd.DataFrame(columns)) == task

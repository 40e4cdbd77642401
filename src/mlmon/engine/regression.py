"""Regression metrics: mae mse rmse mape r2 pearson_r direction_accuracy.

They agree with scikit-learn and scipy except where those return a made-up number:
`r2` and `pearson_r` are undefined (None with a reason) on constant input, and `mape`
skips rows whose actual is zero instead of dividing by machine epsilon.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlmon.engine.metricset import MetricBuilder, MetricSet, as_float_array, finite_pairs

REGRESSION_METRICS = ("mae", "mse", "rmse", "mape", "r2", "pearson_r", "direction_accuracy")


def regression_metrics(prediction: Any, actual: Any) -> MetricSet:
    """Compute every regression metric on paired predictions and actuals.

    Rows where either value is missing, NaN or infinite are dropped first, and
    `rows_used` is the number that remain.
    """
    predicted = as_float_array(prediction)
    observed = as_float_array(actual)
    if len(predicted) != len(observed):
        raise ValueError(f"prediction has {len(predicted)} rows but actual has {len(observed)}")
    _, (predicted, observed) = finite_pairs(predicted, observed)
    out = MetricBuilder(REGRESSION_METRICS)
    rows, used = len(prediction), len(predicted)
    if used == 0:
        out.undefine_all("no row with a finite prediction and actual")
        return out.build("regression", rows, used)

    error = predicted - observed
    mse = float(np.mean(error * error))
    out.set("mae", float(np.mean(np.abs(error))))
    out.set("mse", mse)
    out.set("rmse", math.sqrt(mse))

    value, reason, excluded = mape(predicted, observed)
    out.set("mape", value, reason)
    if excluded:
        out.notes["mape"] = f"{excluded} row(s) with actual = 0 left out"

    out.set("r2", *r2(predicted, observed))
    out.set("pearson_r", *pearson_r(predicted, observed))
    out.set("direction_accuracy", *direction_accuracy(predicted, observed))
    return out.build("regression", rows, used)


def mape(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str, int]:
    """Mean absolute percentage error as a fraction over rows with actual ≠ 0.

    Returns (value, reason if undefined, number of rows left out for a zero actual).
    The denominator is |actual|, so negative actuals do not flip the sign of an error.
    """
    nonzero = observed != 0
    excluded = int(len(observed) - np.count_nonzero(nonzero))
    if not nonzero.any():
        return None, "every actual is 0", excluded
    ratio = np.abs(predicted[nonzero] - observed[nonzero]) / np.abs(observed[nonzero])
    return float(np.mean(ratio)), "", excluded


def r2(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str]:
    """Coefficient of determination 1 − SS_res / SS_tot; undefined for constant actuals."""
    if len(observed) < 2:
        return None, "needs at least 2 rows"
    if np.ptp(observed) == 0:
        return None, "constant actuals"
    centred = observed - observed.mean()
    residual = observed - predicted
    return 1.0 - float(np.dot(residual, residual) / np.dot(centred, centred)), ""


def pearson_r(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str]:
    """Pearson correlation of prediction and actual; undefined when either is constant."""
    if len(observed) < 2:
        return None, "needs at least 2 rows"
    if np.ptp(predicted) == 0:
        return None, "constant predictions"
    if np.ptp(observed) == 0:
        return None, "constant actuals"
    # Centre and scale each vector before the dot product, as scipy does, so large
    # offsets do not cancel catastrophically.
    x = predicted - predicted.mean()
    y = observed - observed.mean()
    x /= np.linalg.norm(x)
    y /= np.linalg.norm(y)
    return float(np.clip(np.dot(x, y), -1.0, 1.0)), ""


def direction_accuracy(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str]:
    """Share of rows with actual ≠ 0 where sign(prediction) = sign(actual)."""
    moved = observed != 0
    if not moved.any():
        return None, "every actual is 0, so no direction to predict"
    hits = np.sign(predicted[moved]) == np.sign(observed[moved])
    return float(np.mean(hits)), ""

"""Regression metrics: mae mse rmse mape r2 pearson_r direction_accuracy.

They agree with scikit-learn and scipy except where those return a made-up number:
`r2` and `pearson_r` are undefined (None with a reason) on constant input, and `mape`
skips rows whose actual is zero instead of dividing by machine epsilon.

Values near the float64 limit (1e300) are computed in units of a power of two, so
scale-free metrics such as `pearson_r` and `r2` stay exact and `mae` and `rmse` stay
finite where the true value is. A metric whose true value overflows float64 (`mse`
of errors above ~1e154) is undefined with the reason "values overflow float64".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlmon.engine.metricset import (
    OVERFLOW,
    MetricBuilder,
    MetricSet,
    as_float_array,
    finite_pairs,
    magnitude_scale,
)

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

    # Overflow shows up as inf or NaN in a result and becomes an undefined metric, so
    # numpy's warnings about it would only clutter stderr.
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        _fill(out, predicted, observed)
    return out.build("regression", rows, used)


def _fill(out: MetricBuilder, predicted: np.ndarray, observed: np.ndarray) -> None:
    scale = magnitude_scale(predicted, observed)
    error = predicted / scale - observed / scale if scale != 1.0 else predicted - observed
    mean_square = float(np.mean(error * error))
    out.set("mae", float(np.mean(np.abs(error))) * scale, OVERFLOW)
    out.set("mse", mean_square * scale * scale, OVERFLOW)
    out.set("rmse", math.sqrt(mean_square) * scale, OVERFLOW)

    value, reason, excluded = mape(predicted, observed)
    out.set("mape", value, reason or OVERFLOW)
    if excluded:
        out.notes["mape"] = f"{excluded} row(s) with actual = 0 left out"

    out.set("r2", *r2(predicted, observed))
    out.set("pearson_r", *pearson_r(predicted, observed))
    out.set("direction_accuracy", *direction_accuracy(predicted, observed))


def mape(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str, int]:
    """Mean absolute percentage error as a fraction over rows with actual ≠ 0.

    Returns (value, reason if undefined, number of rows left out for a zero actual).
    The denominator is |actual|, so negative actuals do not flip the sign of an error.
    """
    nonzero = observed != 0
    excluded = int(len(observed) - np.count_nonzero(nonzero))
    if not nonzero.any():
        return None, "every actual is 0", excluded
    predicted, observed = predicted[nonzero], observed[nonzero]
    with np.errstate(over="ignore", invalid="ignore"):
        difference = np.abs(predicted - observed)
        ratio = difference / np.abs(observed)
        # |p − a| overflows when both are near the float64 limit; |p / a − 1| is the
        # same ratio without the overflowing intermediate.
        overflowed = np.isinf(difference)
        if overflowed.any():
            ratio[overflowed] = np.abs(predicted[overflowed] / observed[overflowed] - 1.0)
        value = float(np.mean(ratio))
    if not math.isfinite(value):
        return None, OVERFLOW, excluded
    return value, "", excluded


def r2(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str]:
    """Coefficient of determination 1 − SS_res / SS_tot; undefined for constant actuals."""
    if len(observed) < 2:
        return None, "needs at least 2 rows"
    if np.ptp(observed) == 0:
        return None, "constant actuals"
    predicted, observed = _scaled(predicted, observed)
    centred = observed - observed.mean()
    residual = observed - predicted
    return 1.0 - float(np.dot(residual, residual) / np.dot(centred, centred)), OVERFLOW


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
    predicted, observed = _scaled(predicted, observed)
    x = predicted - predicted.mean()
    y = observed - observed.mean()
    x /= np.linalg.norm(x)
    y /= np.linalg.norm(y)
    return float(np.clip(np.dot(x, y), -1.0, 1.0)), OVERFLOW


def direction_accuracy(predicted: np.ndarray, observed: np.ndarray) -> tuple[float | None, str]:
    """Share of rows with actual ≠ 0 where sign(prediction) = sign(actual)."""
    moved = observed != 0
    if not moved.any():
        return None, "every actual is 0, so no direction to predict"
    hits = np.sign(predicted[moved]) == np.sign(observed[moved])
    return float(np.mean(hits)), ""


def _scaled(predicted: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays divided by one power of two when they approach the float64 limit."""
    scale = magnitude_scale(predicted, observed)
    if scale == 1.0:
        return predicted, observed
    return predicted / scale, observed / scale

"""Regression metrics against scikit-learn and scipy, and the hand cases where they differ."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from mlmon.engine import regression_metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [2, 17, 1000, 50_000])
def test_matches_sklearn_and_scipy(seed, size):
    rng = np.random.default_rng(seed)
    actual = rng.normal(0.001, 0.02, size)
    prediction = actual * rng.uniform(-1, 2) + rng.normal(0, 0.01, size)
    result = regression_metrics(prediction, actual)
    values = result.values
    assert result.rows == result.rows_used == size
    assert values["mae"] == pytest.approx(skm.mean_absolute_error(actual, prediction), rel=1e-12)
    assert values["mse"] == pytest.approx(skm.mean_squared_error(actual, prediction), rel=1e-12)
    assert values["rmse"] == pytest.approx(
        skm.root_mean_squared_error(actual, prediction), rel=1e-12
    )
    # No actual is exactly 0 here, so scikit-learn's MAPE is the same fraction.
    assert values["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(actual, prediction), rel=1e-12
    )
    assert values["r2"] == pytest.approx(skm.r2_score(actual, prediction), rel=1e-9, abs=1e-12)
    assert values["pearson_r"] == pytest.approx(stats.pearsonr(prediction, actual)[0], abs=1e-12)
    expected_direction = np.mean(np.sign(prediction) == np.sign(actual))
    assert values["direction_accuracy"] == pytest.approx(expected_direction)
    assert result.undefined == {}


def test_mape_uses_absolute_actual():
    values = regression_metrics([-1, -4, 3], [-2, -4, 2]).values
    # (0.5 + 0 + 0.5) / 3
    assert values["mape"] == pytest.approx(1 / 3)


def test_mape_skips_zero_actuals_and_says_how_many():
    result = regression_metrics([1.0, 2.0, 5.0], [0.0, 1.0, 4.0])
    assert result.values["mape"] == pytest.approx((1.0 + 0.25) / 2)
    assert "1 row" in result.notes["mape"]


def test_constant_actuals_make_r2_and_pearson_undefined():
    result = regression_metrics([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert result.values["r2"] is None
    assert result.undefined["r2"] == "constant actuals"
    assert result.values["pearson_r"] is None
    assert "constant" in result.undefined["pearson_r"]
    assert result.values["mae"] == pytest.approx(2 / 3)


def test_constant_predictions_make_pearson_undefined_not_zero():
    result = regression_metrics([0.5, 0.5, 0.5], [1.0, 2.0, 4.0])
    assert result.values["pearson_r"] is None
    assert result.values["r2"] is not None


def test_one_row_leaves_r2_undefined():
    result = regression_metrics([1.0], [2.0])
    assert result.values["r2"] is None
    assert result.values["mae"] == 1.0


def test_nan_and_inf_rows_are_dropped_and_counted():
    result = regression_metrics([1.0, np.nan, 3.0, np.inf, 5.0], [1.5, 2.0, np.nan, 4.0, 4.0])
    assert result.rows == 5
    assert result.rows_used == 2
    assert result.values["mae"] == pytest.approx(0.75)


def test_direction_accuracy_ignores_zero_actuals():
    values = regression_metrics([0.1, -0.2, 0.3, 0.4], [0.0, -1.0, -1.0, 2.0]).values
    assert values["direction_accuracy"] == pytest.approx(2 / 3)
    assert regression_metrics([1.0, 2.0], [0.0, 0.0]).values["direction_accuracy"] is None


def test_no_usable_row_leaves_everything_undefined():
    result = regression_metrics([np.nan], [1.0])
    assert all(value is None for value in result.values.values())
    assert set(result.undefined) == set(result.values)


# For values near the float64 limit, the oracle is scipy and scikit-learn on the same
# data divided by 1e300. That is not a power of two, so it rounds differently from the
# engine. mae and rmse are multiplied back by 1e300.
HUGE = 1e300


@pytest.mark.parametrize(
    ("prediction", "actual"),
    [
        ([1e308, 1e300], [-1e308, 1e300]),
        ([1.5e308, 1.6e308, -1e308, 3e307], [1.7e308, 1.1e308, -1.2e308, 5e307]),
    ],
)
def test_values_near_the_float64_limit_match_scipy(prediction, actual):
    prediction, actual = np.array(prediction), np.array(actual)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        result = regression_metrics(prediction, actual)
    values = result.values
    p, a = prediction / HUGE, actual / HUGE
    # scipy's own mean overflows on the second case (NaN); it is exact on the first.
    with np.errstate(all="ignore"):
        raw = stats.pearsonr(prediction, actual)[0]
    expected = raw if np.isfinite(raw) else stats.pearsonr(p, a)[0]
    assert values["pearson_r"] == pytest.approx(expected, abs=1e-12)
    assert values["r2"] == pytest.approx(skm.r2_score(a, p), rel=1e-9)
    assert values["mae"] == pytest.approx(skm.mean_absolute_error(a, p) * HUGE, rel=1e-12)
    assert values["rmse"] == pytest.approx(skm.root_mean_squared_error(a, p) * HUGE, rel=1e-12)
    assert values["mape"] == pytest.approx(np.mean(np.abs((p - a) / a)), rel=1e-12)
    # The mean squared error itself is above 1e308 and cannot be represented.
    assert values["mse"] is None
    assert result.undefined["mse"] == "values overflow float64"


def test_tiny_values_match_scipy():
    rng = np.random.default_rng(3)
    actual = rng.normal(0, 1, 50)
    prediction = actual + rng.normal(0, 0.3, 50)
    tiny = 1e-300
    values = regression_metrics(prediction * tiny, actual * tiny).values
    assert values["pearson_r"] == pytest.approx(stats.pearsonr(prediction, actual)[0], abs=1e-12)
    assert values["r2"] == pytest.approx(skm.r2_score(actual, prediction), rel=1e-9)
    assert values["rmse"] == pytest.approx(
        skm.root_mean_squared_error(actual, prediction) * tiny, rel=1e-12
    )


def test_mape_overflow_is_undefined_with_a_reason():
    # |1e308 − 1e-300| / 1e-300 is about 1e608.
    result = regression_metrics([1e308, 2.0], [1e-300, 1.0])
    assert result.values["mape"] is None
    assert result.undefined["mape"] == "values overflow float64"

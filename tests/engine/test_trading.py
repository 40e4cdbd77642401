"""Trading metrics against hand computations and a plain-Python oracle."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from mlmon.engine import trading_metrics
from mlmon.engine.trading import max_drawdown, sharpe


def test_sharpe_of_returns_not_prices():
    value, _ = sharpe(np.array([0.5, 1.5, 0.2, 0.1, 0.3, 2.0]))
    assert value == pytest.approx(15.42, abs=0.005)


def test_constant_returns_have_no_sharpe():
    value, reason = sharpe(np.full(250, 0.001))
    assert value is None
    assert "constant" in reason


def test_drawdown_counts_a_loss_on_the_first_day():
    returns = np.array([-0.10, -0.05, -0.122807, 0, 0, 0])
    assert max_drawdown(returns) == pytest.approx(-0.25, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [3, 250, 5000])
def test_matches_plain_python(seed, size):
    rng = np.random.default_rng(seed)
    actual = rng.normal(0.0005, 0.01, size)
    prediction = rng.normal(0, 1, size)
    prediction[0] = 0.0  # a flat position earns 0
    values = trading_metrics(prediction, actual, periods_per_year=52, risk_free_rate=0.0001).values

    returns = [
        math.copysign(1, p) * a if p != 0 else 0.0 for p, a in zip(prediction, actual, strict=True)
    ]
    excess = [r - 0.0001 for r in returns]
    expected_sharpe = statistics.mean(excess) / statistics.stdev(excess) * math.sqrt(52)
    wealth, peak, worst = 1.0, 1.0, 0.0
    for r in returns:
        wealth *= 1 + r
        peak = max(peak, wealth)
        worst = min(worst, wealth / peak - 1)
    traded = [r for r in returns if r != 0]
    assert values["sharpe"] == pytest.approx(expected_sharpe, rel=1e-9)
    assert values["max_drawdown"] == pytest.approx(worst, rel=1e-9, abs=1e-15)
    assert values["total_return"] == pytest.approx(wealth - 1, rel=1e-9, abs=1e-15)
    assert values["win_rate"] == pytest.approx(sum(r > 0 for r in traded) / len(traded))


def test_all_zero_returns_leave_win_rate_undefined():
    result = trading_metrics([0.0, 0.0, 0.0], [0.01, -0.02, 0.03])
    assert result.values["win_rate"] is None
    assert result.values["sharpe"] is None
    assert result.values["total_return"] == 0.0
    assert result.values["max_drawdown"] == 0.0


@pytest.mark.parametrize("periods", [0, -5, math.nan, math.inf])
def test_periods_per_year_must_be_positive(periods):
    with pytest.raises(ValueError, match="periods_per_year"):
        trading_metrics([1.0, -1.0], [0.01, 0.02], periods_per_year=periods)


def test_huge_returns_give_reasons_not_warnings():
    import warnings

    returns = np.array([1e300, -3e299, 2e300, 5e299])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = trading_metrics(np.ones(4), returns)
    scaled = returns / 1e300
    expected = statistics.mean(scaled) / statistics.stdev(scaled) * math.sqrt(252)
    assert result.values["sharpe"] == pytest.approx(expected, rel=1e-12)
    assert result.values["total_return"] is None
    assert result.undefined["total_return"] == "values overflow float64"
    assert result.values["win_rate"] == pytest.approx(0.75)

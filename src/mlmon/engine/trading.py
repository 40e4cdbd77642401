"""Trading metrics of the strategy that goes long or short on the sign of the prediction.

The per-period strategy return is r_t = sign(prediction_t) × actual_t, where `actual` is
the asset's simple return over the period the prediction was made for (0.01 = +1 %).
Rows must be in time order; `compute_metrics` sorts by timestamp before calling this.
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

TRADING_METRICS = ("sharpe", "max_drawdown", "total_return", "win_rate")


def strategy_returns(prediction: Any, actual: Any) -> np.ndarray:
    """Return sign(prediction) × actual for the rows where both are finite."""
    _, (predicted, observed) = finite_pairs(as_float_array(prediction), as_float_array(actual))
    return np.sign(predicted) * observed


def trading_metrics(
    prediction: Any, actual: Any, periods_per_year: float = 252, risk_free_rate: float = 0.0
) -> MetricSet:
    """Compute sharpe, max_drawdown, total_return and win_rate of the sign strategy.

    `periods_per_year` annualises the Sharpe ratio (252 for daily bars); `risk_free_rate`
    is per period, in the same units as the returns.
    """
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise ValueError(f"periods_per_year is {periods_per_year}; it must be a positive number such as 252")
    if not math.isfinite(risk_free_rate):
        raise ValueError(f"risk_free_rate is {risk_free_rate}; it must be a finite return per period")
    returns = strategy_returns(prediction, actual)
    out = MetricBuilder(TRADING_METRICS)
    rows, used = len(as_float_array(prediction)), len(returns)
    if used == 0:
        out.undefine_all("no row with a finite prediction and actual")
        return out.build("trading", rows, used)

    # Returns large enough to overflow wealth give inf or NaN, recorded as undefined
    # with a reason; numpy's warnings about it would only clutter stderr.
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        out.set("sharpe", *sharpe(returns, periods_per_year, risk_free_rate))
        out.set("max_drawdown", max_drawdown(returns), OVERFLOW)
        out.set("total_return", float(np.prod(1.0 + returns) - 1.0), OVERFLOW)
        out.set("win_rate", *win_rate(returns))
    return out.build("trading", rows, used)


def sharpe(
    returns: np.ndarray, periods_per_year: float = 252, risk_free_rate: float = 0.0
) -> tuple[float | None, str]:
    """Annualised Sharpe ratio mean(r − rf) / std(r − rf, ddof=1) × √periods_per_year."""
    if len(returns) < 2:
        return None, "needs at least 2 returns"
    # Equal returns have zero spread; floating-point noise in the standard deviation
    # would otherwise turn that into a ratio near 1e16.
    if np.ptp(returns) == 0:
        return None, "constant returns have no volatility"
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        excess = returns - risk_free_rate
        # The ratio is scale-free; dividing by a power of two keeps huge returns from
        # overflowing the variance (see magnitude_scale).
        excess = excess / magnitude_scale(excess)
        spread = float(np.std(excess, ddof=1))
        mean = float(np.mean(excess))
    if not (math.isfinite(spread) and math.isfinite(mean)):
        return None, OVERFLOW
    if spread <= 1e-12 * max(abs(mean), 1e-300):
        return None, "returns have no measurable volatility"
    return mean / spread * math.sqrt(periods_per_year), ""


def max_drawdown(returns: np.ndarray) -> float:
    """Largest fall from a running peak of wealth, as a negative fraction (−0.25 = −25 %).

    Wealth starts at 1.0 before the first return, so a loss on the first period counts.
    """
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + returns)])
    peak = np.maximum.accumulate(wealth)
    return float(np.min(wealth / peak - 1.0))


def win_rate(returns: np.ndarray) -> tuple[float | None, str]:
    """Share of positive returns among the periods with a non-zero return."""
    traded = returns[returns != 0]
    if len(traded) == 0:
        return None, "every strategy return is 0"
    return float(np.mean(traded > 0)), ""

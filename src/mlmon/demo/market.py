"""Daily S&P 500 and NASDAQ features and targets from the prices shipped with `arch`.

`arch.data.sp500` and `arch.data.nasdaq` hold daily Open, High, Low, Close, Adj Close
and Volume from 1999-01-04 to 2018-12-31, the same 5,031 trading days for both, read
from files inside the package (no network).

Every feature of day t uses prices up to and including day t's close. The targets are
day t+1's close-to-close return (`*_next_return`) and whether it is positive
(`*_next_up`). Returns
are simple returns in decimal (0.01 is 1 %), volatilities are daily standard deviations
of those returns, RSI is in points (0–100), MACD is in percent of the close so that it
means the same in 1999 and in 2010.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Rows dropped at the start: the 26-day EMA of MACD and its 9-day signal need this long
# before they stop depending on the first price.
WARMUP_DAYS = 60


def load_prices() -> dict[str, pd.DataFrame]:
    """Return the daily price frames keyed by `spx` and `ndx`, indexed by trading day."""
    from arch.data import nasdaq, sp500

    return {"spx": sp500.load(), "ndx": nasdaq.load()}


def rsi(close: pd.Series, window: int = 14) -> pd.Series:
    """Wilder's relative strength index: 100 - 100 / (1 + mean gain / mean loss)."""
    change = close.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / window, adjust=False).mean()
    loss = (-change.clip(upper=0)).ewm(alpha=1 / window, adjust=False).mean()
    # A window with no losses has RSI 100; 0/0 (a flat window) is left NaN.
    strength = gain / loss.replace(0, np.nan)
    value = 100 - 100 / (1 + strength)
    return value.where(loss > 0, 100.0).where(gain + loss > 0)


def macd(close: pd.Series) -> pd.DataFrame:
    """MACD (12/26-day EMAs), its 9-day signal and their difference, in % of the close."""
    line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    line = 100 * line / close
    signal = line.ewm(span=9, adjust=False).mean()
    return pd.DataFrame({"macd": line, "macd_signal": signal, "macd_hist": line - signal})


def asset_features(prices: pd.DataFrame, prefix: str, *, full: bool) -> pd.DataFrame:
    """Features of one index; `full=False` keeps the few used as the other market's view."""
    close = prices["Adj Close"]
    returns = close.pct_change()
    volume = prices["Volume"].astype("float64")
    lines = macd(close)

    columns: dict[str, pd.Series] = {
        "ret_1d": returns,
        "ret_5d": close.pct_change(5),
        "vol_20d": returns.rolling(20).std(),
        "rsi_14": rsi(close),
        "macd_hist": lines["macd_hist"],
        "volume_ratio_20d": volume / volume.rolling(20).mean(),
    }
    if full:
        columns.update(
            {
                "ret_lag1": returns.shift(1),
                "ret_lag2": returns.shift(2),
                "ret_20d": close.pct_change(20),
                "vol_5d": returns.rolling(5).std(),
                "vol_ratio_5_20": returns.rolling(5).std() / returns.rolling(20).std(),
                "macd": lines["macd"],
                "macd_signal": lines["macd_signal"],
                # A day with zero volume gives ±inf here; market_frame drops that row.
                "volume_change_1d": np.log(volume / volume.shift(1)),
                # Intraday range and overnight gap, both relative to a close.
                "range_hl": (prices["High"] - prices["Low"]) / prices["Close"],
                "gap_open": prices["Open"] / prices["Close"].shift(1) - 1,
            }
        )
    frame = pd.DataFrame(columns)
    return frame.add_prefix(f"{prefix}_")


def market_frame() -> pd.DataFrame:
    """Return one row per trading day: every feature of both markets plus the targets.

    The first `WARMUP_DAYS` rows and the last row (no next day) are dropped, so the frame
    has no missing values.
    """
    prices = load_prices()
    parts = []
    for prefix in ("spx", "ndx"):
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(asset_features(prices[prefix], prefix, full=True))
        next_return = prices[prefix]["Adj Close"].pct_change().shift(-1)
        parts.append(
            pd.DataFrame(
                {
                    f"{prefix}_next_return": next_return,
                    # NaN stays NaN on the last day instead of becoming "down".
                    f"{prefix}_next_up": (next_return > 0)
                    .astype("float64")
                    .where(next_return.notna()),
                }
            )
        )
    frame = pd.concat(parts, axis=1).iloc[WARMUP_DAYS:]
    frame = frame.replace([np.inf, -np.inf], np.nan).dropna()
    frame.index = pd.DatetimeIndex(frame.index).astype("datetime64[ns]")
    frame.index.name = "timestamp"
    return frame


def feature_columns(own: str, other: str) -> list[str]:
    """Columns a model of market `own` reads: all of its features, a few of `other`'s."""
    mine = [f"{own}_{name}" for name in _FULL_NAMES]
    theirs = [f"{other}_{name}" for name in _SHORT_NAMES]
    return mine + theirs


_SHORT_NAMES = ("ret_1d", "ret_5d", "vol_20d", "rsi_14", "macd_hist", "volume_ratio_20d")
_FULL_NAMES = (
    *_SHORT_NAMES,
    "ret_lag1",
    "ret_lag2",
    "ret_20d",
    "vol_5d",
    "vol_ratio_5_20",
    "macd",
    "macd_signal",
    "volume_change_1d",
    "range_hl",
    "gap_open",
)

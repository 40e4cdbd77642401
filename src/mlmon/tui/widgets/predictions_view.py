"""The Predictions tab's content, computed from a prediction log without any widget.

The tab calls `PredictionsView.build` when the log or the chosen window changes; every
number comes from `mlmon.engine`. Kept apart from the widgets so tests can check the
numbers against scikit-learn and scipy directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlmon.engine.metricset import MetricSet


@dataclass(frozen=True)
class Window:
    """A metrics window: the newest `rows` rows, or the newest `period` of time."""

    label: str
    rows: int | None = None
    period: str | None = None
    # Rows per window of the performance-over-time chart for time windows, at one
    # prediction per trading day (21 a month); row windows use their own size. A week
    # uses 20 rows too: 5-row accuracies are mostly noise.
    trend_rows: int = 0

    @property
    def engine_window(self) -> int | str | None:
        """The engine's window argument; None means all rows."""
        return self.rows if self.rows is not None else self.period


WINDOWS = (
    Window("last 20 rows", rows=20),
    Window("last 60 rows", rows=60),
    Window("last 250 rows", rows=250),
    Window("1 week", period="7D", trend_rows=20),
    Window("1 month", period="30D", trend_rows=21),
    Window("3 months", period="91D", trend_rows=63),
    Window("all rows"),
)
DEFAULT_WINDOW = 1

# The metric drawn over consecutive windows, and whether higher is better.
MAIN_METRIC = {
    "classification": ("accuracy", True),
    "regression": ("rmse", False),
    "trading": ("sharpe", True),
}
# Minimum number of windows for a trend line, and the row window used for "all rows".
MIN_TREND_WINDOWS = 2
ALL_ROWS_TREND = 60
# A target counts as a return when every |actual| is below this and both signs occur.
RETURN_LIKE_MAX = 1.0


@dataclass(frozen=True, eq=False)
class WindowMetrics:
    """Metrics of the chosen window and of the one before it (None when no rows precede)."""

    current: MetricSet
    previous: MetricSet | None
    trading: MetricSet | None = None
    trading_previous: MetricSet | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None


@dataclass(frozen=True, eq=False)
class PredictionsView:
    """Everything the Predictions tab draws for one log and one window."""

    task: str
    trading: bool
    frame: pd.DataFrame
    window: Window
    metrics: WindowMetrics | None
    trend: pd.DataFrame | None
    trend_rows: int
    confusion: tuple[list[Any], np.ndarray] | None

    @property
    def main_metric(self) -> str:
        return MAIN_METRIC[self.task][0]

    @staticmethod
    def build(
        frame: pd.DataFrame,
        window: Window,
        task: str = "auto",
        options: dict[str, Any] | None = None,
    ) -> PredictionsView:
        """Compute the window's metrics, the trend and the task's extras for `frame`."""
        from mlmon import engine

        options = options or {}
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
        known = frame[frame["actual"].notna()]
        configured_trading = task == "trading"
        if task in ("auto", "trading"):
            task = engine.detect_task(known) if len(known) else "regression"
        trading = configured_trading or (task == "regression" and is_return_like(known["actual"]))

        metrics = _window_metrics(frame, task, trading, window, options) if len(known) else None
        trend_rows = window.rows or window.trend_rows or ALL_ROWS_TREND
        trend = None
        if len(known) >= trend_rows * MIN_TREND_WINDOWS:
            trend = engine.window_series(known, task, MAIN_METRIC[task][0], trend_rows, **options)
        confusion = None
        if task == "classification" and metrics is not None:
            scope = _window_rows(known, window)
            confusion = engine.confusion_matrix(scope["prediction"].to_numpy(), scope["actual"].to_numpy())
        return PredictionsView(task, trading, frame, window, metrics, trend, trend_rows, confusion)

    def window_frame(self) -> pd.DataFrame:
        """Return the rows in the chosen window, with or without actuals."""
        return _window_rows(self.frame, self.window)

    def equity_curve(self) -> pd.DataFrame:
        """Wealth of the sign strategy over the window, from 1.0: (timestamp, wealth)."""
        import numpy as np
        import pandas as pd

        from mlmon.engine.trading import strategy_returns

        rows = self.window_frame()
        rows = rows[rows["actual"].notna() & rows["prediction"].notna()]
        returns = strategy_returns(rows["prediction"].to_numpy(), rows["actual"].to_numpy())
        return pd.DataFrame({"timestamp": rows["timestamp"].to_numpy(), "wealth": np.cumprod(1.0 + returns)})


def is_return_like(actual: pd.Series) -> bool:
    """Return True when the actuals look like period returns (small, both signs)."""
    import numpy as np

    values = actual.to_numpy(dtype="float64")
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return False
    return bool(np.abs(values).max() < RETURN_LIKE_MAX and (values > 0).any() and (values < 0).any())


def change(current: float | None, previous: float | None) -> float | None:
    """Return current − previous, or None when either is undefined."""
    if current is None or previous is None or not (math.isfinite(current) and math.isfinite(previous)):
        return None
    return current - previous


def _window_rows(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
    if window.rows is not None:
        return frame.tail(window.rows)
    if window.period is not None and len(frame):
        import pandas as pd

        end = frame["timestamp"].max()
        return frame[frame["timestamp"] > end - pd.Timedelta(window.period)]
    return frame


def _window_metrics(
    frame: pd.DataFrame, task: str, trading: bool, window: Window, options: dict[str, Any]
) -> WindowMetrics:
    from mlmon import engine

    known = frame[frame["actual"].notna()]
    engine_window = window.engine_window
    if engine_window is None:
        current, previous = engine.compute_metrics(known, task, **options), None
    else:
        current, previous = engine.current_and_previous(known, task, engine_window, **options)
    trading_now = trading_before = None
    if trading:
        if engine_window is None:
            trading_now = engine.compute_metrics(known, "trading", **options)
        else:
            trading_now, trading_before = engine.current_and_previous(known, "trading", engine_window, **options)
    scope = _window_rows(known, window)
    first = scope["timestamp"].iloc[0] if len(scope) else None
    last = scope["timestamp"].iloc[-1] if len(scope) else None
    return WindowMetrics(current, previous, trading_now, trading_before, first, last)

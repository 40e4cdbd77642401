"""Text panels of the Predictions tab: window metrics and the confusion matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mlmon.tui.widgets.predictions_view import WindowMetrics, change

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlmon.engine.metricset import MetricSet

# Metrics where a fall is good news; the change column colours by this.
LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "mape", "log_loss"})
PERCENT_METRICS = frozenset(
    {
        "accuracy",
        "precision",
        "recall",
        "f1",
        "direction_accuracy",
        "win_rate",
        "total_return",
        "max_drawdown",
        "mape",
    }
)


def format_metric(name: str, value: float | None) -> str:
    """Format one metric value; percentages for shares and returns, 4 digits otherwise."""
    if value is None:
        return "n/a"
    if name in PERCENT_METRICS:
        return f"{value * 100:.1f}%"
    return f"{value:.4g}"


def format_change(name: str, value: float | None) -> Text:
    """Format current − previous with a sign, green when it is an improvement."""
    if value is None:
        return Text("")
    text = f"{value * 100:+.1f} pt" if name in PERCENT_METRICS else f"{value:+.3g}"
    if value == 0:
        return Text(text, style="dim")
    better = (value < 0) if name in LOWER_IS_BETTER else (value > 0)
    return Text(text, style="green" if better else "red")


def window_span(first: pd.Timestamp | None, last: pd.Timestamp | None) -> str:
    if first is None or last is None:
        return ""
    return f"{first:%Y-%m-%d} → {last:%Y-%m-%d}"


class MetricsPanel(Static):
    """The chosen window's metrics beside the previous window's and the change."""

    def show(self, metrics: WindowMetrics | None, window_label: str) -> None:
        """Render the metric table; `metrics` None means no row has an actual yet."""
        if metrics is None:
            self.update(Text(f"Metrics ({window_label}): no prediction has an actual yet.", style="dim"))
            return
        parts: list[Any] = [
            Text.assemble(
                (f"{window_label}", "bold"),
                f"  {window_span(metrics.first, metrics.last)}  ",
                (f"{metrics.current.rows_used} rows used", "dim"),
            ),
            metric_table(metrics.current, metrics.previous),
        ]
        if metrics.trading is not None:
            parts.append(Text("sign strategy", style="bold"))
            parts.append(metric_table(metrics.trading, metrics.trading_previous))
        self.update(Group(*parts))


def metric_table(current: MetricSet, previous: MetricSet | None) -> Table:
    """Build a table of metric | now | before | change, with undefined values as n/a."""
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    table.add_column("metric")
    table.add_column("now", justify="right")
    table.add_column("before", justify="right")
    table.add_column("change", justify="right")
    for name, value in current.values.items():
        before = previous.values.get(name) if previous is not None else None
        table.add_row(
            name,
            format_metric(name, value),
            format_metric(name, before) if previous else "–",
            format_change(name, change(value, before)),
        )
    return table


class ConfusionPanel(Static):
    """Confusion matrix counts: rows are actual labels, columns predicted labels."""

    def show(self, confusion: tuple[list[Any], np.ndarray] | None, window_label: str) -> None:
        if confusion is None:
            self.update(Text("Confusion matrix: no rows with an actual in this window.", style="dim"))
            return
        labels, counts = confusion
        table = Table(title=f"confusion ({window_label})", box=None, padding=(0, 1), header_style="dim")
        table.add_column("actual \\ pred")
        for label in labels:
            table.add_column(str(label), justify="right")
        for row, label in enumerate(labels):
            cells = [Text(str(int(count)), style="bold" if row == col else "") for col, count in enumerate(counts[row])]
            table.add_row(str(label), *cells)
        self.update(table)

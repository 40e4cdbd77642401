"""Accuracy tab: metric histories of the selected version, champion, challenger and marked runs.

The metric is picked from the selected version's run (default: its first metric outside
`system/`). `x` cycles the x axis between step, time since the run's first point and
wall-clock time; `l` switches the y axis between linear and log.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static
from textual_plotext import PlotextPlot

from mlmon.snapshot import Series, Snapshot
from mlmon.tracking import MetricPoint, Run
from mlmon.tui.format import format_value, plain, version_label
from mlmon.tui.messages import MetricChosen
from mlmon.tui.tabs.base import Selection

X_MODES = ("step", "relative time", "wall clock")
# Colour names that both plotext and Rich understand, so the legend matches the lines.
SERIES_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
_TIME_UNITS = ((3600.0, "h"), (60.0, "min"), (1.0, "s"))
_WALL_FORMAT = "%Y-%m-%d %H:%M:%S"
# Metric names whose smaller values are better: losses and errors (LightGBM logs "l1", "l2").
LOWER_IS_BETTER = re.compile(r"loss|error|rmse|mse|mae|mape|\bl[12]\b|perplexity", re.IGNORECASE)


def metric_keys(keys: list[str] | set[str]) -> list[str]:
    """Order metric keys for the picker: training metrics, then MLflow's `system/` metrics."""
    return sorted(keys, key=lambda key: (key.startswith("system/"), key))


def default_metric(run: Run) -> str:
    """Pick the metric to chart first: the first training metric logged at more than one step.

    Evaluation metrics logged once (at step 0) draw a single dot, so a metric with a
    history wins. Without one, the first key outside `system/` is used.
    """
    keys = metric_keys(set(run.metrics))
    training = [key for key in keys if not key.startswith("system/")]
    with_history = [key for key in training if run.metrics[key].step > 0]
    return (with_history or keys)[0]


@dataclass(frozen=True)
class PlottedSeries:
    """The data handed to plotext for one series, after NaN and log-scale filtering."""

    label: str
    run_id: str
    x: tuple[float | str, ...]
    y: tuple[float, ...]
    skipped: int


class AccuracyTab(Vertical):
    """Metric histories as a plotext chart with a legend of last/min/max per series."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric_key: str | None = None
        """The metric drawn, kept across polls and version changes while the run has it."""
        self.x_mode = X_MODES[0]
        self.log_y = False
        self.plotted: tuple[PlottedSeries, ...] = ()
        self._keys: list[str] = []
        self._series: tuple[Series, ...] = ()
        self._labels: dict[str, str] = {}
        self._selection = Selection()

    def compose(self) -> ComposeResult:
        with Horizontal(id="chart-toolbar"):
            yield Select[str]([], prompt="metric", compact=True, id="metric-select")
            yield Static(id="chart-axes")
        yield Static(id="chart-empty", classes="empty-state")
        yield PlotextPlot(id="metric-chart")
        yield Static(id="chart-error")
        yield Static(id="chart-legend")

    @property
    def metric_select(self) -> Select[str]:
        return self.query_one("#metric-select", Select)

    @property
    def chart(self) -> PlotextPlot:
        return self.query_one("#metric-chart", PlotextPlot)

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Update the metric list and redraw the chart from the snapshot's series."""
        self._selection = selection
        version = snapshot.version(selection.model_name, selection.version)
        run = snapshot.runs.get(version.run_id or "") if version else None
        keys = metric_keys(set(run.metrics)) if run else []
        self._set_keys(keys)

        if run is not None and keys and self.metric_key not in keys:
            # The new run lacks the metric on screen, so fall back to its default.
            self.choose_metric(default_metric(run))

        self._labels = _legend_labels(snapshot, selection)
        series = tuple(item for item in snapshot.series if item.key == self.metric_key)
        if run is not None and all(item.run_id != run.run_id for item in series):
            # These series were polled for another selection, so wait for this one's.
            series = ()
        self._series = series
        if version is None:
            self._show_empty("Accuracy: select a model version in the picker (Enter).")
        elif run is None and version.run_id:
            self._show_empty(f"Accuracy: loading the run behind v{version.version}…")
        elif not keys:
            self._show_empty(f"Accuracy: the source run of v{version.version} has no metrics logged.")
        elif not self._series and snapshot.errors.get("chart"):
            self._show_empty(f"Accuracy: {snapshot.errors['chart']}")
        elif not self._series:
            self._show_empty(f"Accuracy: loading the history of {self.metric_key}…")
        else:
            self.set_class(False, "-empty")
        # A failed history request keeps the previous lines on screen, marked stale.
        error = snapshot.errors.get("chart", "")
        self.query_one("#chart-error", Static).update(plain(f"Chart data not refreshed: {error}"))
        self.set_class(bool(error), "-stale")
        self._draw()

    def choose_metric(self, key: str) -> None:
        """Draw `key` from now on and ask the screen to fetch its history."""
        if key == self.metric_key:
            return
        self.metric_key = key
        with self.prevent(Select.Changed):
            self.metric_select.value = key
        self.post_message(MetricChosen(key))

    def _set_keys(self, keys: list[str]) -> None:
        if keys == self._keys:
            return
        self._keys = keys
        with self.prevent(Select.Changed):
            self.metric_select.set_options((key, key) for key in keys)
            if self.metric_key in keys:
                self.metric_select.value = self.metric_key

    def _show_empty(self, message: str) -> None:
        self.query_one("#chart-empty", Static).update(plain(message))
        self.set_class(True, "-empty")

    @on(Select.Changed, "#metric-select")
    def _metric_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self.choose_metric(event.value)

    def action_cycle_x(self) -> None:
        self.x_mode = X_MODES[(X_MODES.index(self.x_mode) + 1) % len(X_MODES)]
        self._draw()

    def action_toggle_log(self) -> None:
        self.log_y = not self.log_y
        self._draw()

    # Drawing.

    def _draw(self) -> None:
        self.query_one("#chart-axes", Static).update(
            f" x: {self.x_mode} (x)  y: {'log' if self.log_y else 'linear'} (l)"
        )
        plt = self.chart.plt
        plt.clear_figure()
        unit_seconds, unit = _time_unit(self._series)
        plotted: list[PlottedSeries] = []
        for index, series in enumerate(self._series):
            item = self._prepare(series, unit_seconds)
            plotted.append(item)
            if not item.y:
                continue
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if self.x_mode == "wall clock":
                plt.date_form("Y-m-d H:M:S", "m-d H:M")
            plt.plot(list(item.x), list(item.y), marker="braille", color=colour)
        if self.log_y:
            plt.yscale("log")
        plt.xlabel({"step": "step", "relative time": f"time since first point ({unit})"}.get(self.x_mode, "time"))
        self.plotted = tuple(plotted)
        self.chart.refresh()
        self.query_one("#chart-legend", Static).update(self._legend())

    def _prepare(self, series: Series, unit_seconds: float) -> PlottedSeries:
        """Drop NaN and infinite points (and non-positive ones on a log axis) and map x."""
        points = [point for point in series.points if math.isfinite(point.value)]
        if self.log_y:
            points = [point for point in points if point.value > 0]
        skipped = len(series.points) - len(points)
        label = self._labels.get(series.run_id, series.label)

        x: list[float | str]
        if self.x_mode == "step":
            x = [float(point.step) for point in points]
        elif self.x_mode == "relative time":
            start = min((point.timestamp for point in series.points), default=0)
            x = [(point.timestamp - start) / 1000 / unit_seconds for point in points]
        else:
            x = [datetime.fromtimestamp(point.timestamp / 1000).strftime(_WALL_FORMAT) for point in points]
        return PlottedSeries(label, series.run_id, tuple(x), tuple(point.value for point in points), skipped)

    def _legend(self) -> Table:
        """Return one row per series: colour key, label, then last, min and max with their steps."""
        # The best value is the min for losses and errors, else the max. Its column gets a star.
        lower_better = self._lower_is_better()
        legend = Table(box=None, padding=(0, 1, 0, 0), show_edge=False, header_style="dim")
        legend.add_column("", no_wrap=True, width=1)
        legend.add_column("series", no_wrap=True, overflow="ellipsis", ratio=1)
        legend.add_column("last", no_wrap=True, justify="right")
        legend.add_column("min ★" if lower_better else "min", no_wrap=True, justify="right")
        legend.add_column("max" if lower_better else "max ★", no_wrap=True, justify="right")

        source = {series.run_id: series for series in self._series}
        for index, item in enumerate(self.plotted):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            series = source.get(item.run_id)
            finite = [point for point in series.points if math.isfinite(point.value)] if series else []
            label = plain(item.label)
            if item.skipped:
                reason = "NaN/inf, ≤0 on log y" if self.log_y else "NaN/inf"
                label.append(f" ({item.skipped} {reason} skipped)", style="dim")
            if not finite:
                legend.add_row(Text("■", style=colour), label, "-", "-", "-")
                continue
            last = finite[-1]
            low = min(finite, key=lambda point: point.value)
            high = max(finite, key=lambda point: point.value)
            legend.add_row(Text("■", style=colour), label, *(_at_step(point) for point in (last, low, high)))
        return legend

    def _lower_is_better(self) -> bool:
        """Tell whether smaller values of the charted metric are better.

        A threshold in the config decides ("below" alerts on low values, so higher is
        better). Without one, losses and errors are recognised by name.
        """
        key = self.metric_key or ""
        model_name = self._selection.model_name
        settings = getattr(self.app, "settings", None)
        if settings is not None and model_name is not None:
            threshold = settings.model(model_name).metrics.get(key)
            if threshold is not None:
                return threshold.direction == "above"
        return bool(LOWER_IS_BETTER.search(key.rsplit("/", 1)[-1]))


def _at_step(point: MetricPoint) -> Text:
    """Return a value with its step, e.g. "0.897 @49". Four digits keep the legend narrow."""
    return Text.assemble(format_value(point.value, digits=4), (f" @{point.step}", "dim"))


def _time_unit(series: tuple[Series, ...]) -> tuple[float, str]:
    """Pick seconds, minutes or hours so the longest series spans a readable range."""
    span_ms = 0
    for item in series:
        if item.points:
            stamps = [point.timestamp for point in item.points]
            span_ms = max(span_ms, max(stamps) - min(stamps))
    for seconds, unit in _TIME_UNITS:
        if span_ms / 1000 >= 2 * seconds:
            return seconds, unit
    return 1.0, "s"


def _legend_labels(snapshot: Snapshot, selection: Selection) -> dict[str, str]:
    """Label series by model version where the run is one, e.g. "v1 @champion"."""
    labels = {series.run_id: series.label for series in snapshot.series}
    for model in snapshot.models:
        for version in model.versions:
            if version.run_id not in labels:
                continue
            label = version_label(version.version, model.aliases_of(version.version))
            # Marked runs may come from another registered model, so the label names it.
            if model.name != selection.model_name:
                label = f"{model.name} {label}"
            labels[version.run_id] = label
    return labels

"""Predictions tab: is the selected version still right on production data?

The poller has already read the prediction log into `snapshot.predictions`; this tab
only slices it. Views, switched with `v`/`V` so each fits 80×24:

- overview: prediction and actual over time beside the window's metrics (and, on wide
  terminals, the main metric over consecutive windows below);
- table: recent predictions, sortable (`s`, `S`), following new rows;
- errors: prediction against actual, and a histogram of prediction − actual;
- task: the confusion matrix and score over time (classification), or the equity curve
  of the sign strategy (trading or a return-like target);
- trend: the main metric (accuracy, rmse) over consecutive windows.

`w`/`W` pick the metrics window: last 20/60/250 rows, 1 week, 1 month, 3 months or all.
A view, window and sort chosen here survive every refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Static
from textual.worker import Worker, WorkerState

from mlmon.insights import PredictionsState, shows_selection
from mlmon.snapshot import Snapshot
from mlmon.tui.tabs.base import Selection
from mlmon.tui.widgets.predictions_charts import ErrorHistogram, LineChart, ScatterChart, TimeChart
from mlmon.tui.widgets.predictions_panels import ConfusionPanel, MetricsPanel
from mlmon.tui.widgets.predictions_table import RecentPredictions
from mlmon.tui.widgets.predictions_view import DEFAULT_WINDOW, WINDOWS, PredictionsView, Window
from mlmon.tui.widgets.skipped_files import show_skipped_files

log = logging.getLogger(__name__)

VIEWS = ("overview", "table", "errors", "task", "trend")
VIEW_GROUP = "predictions-view"


class PredictionsTab(Vertical, can_focus=True):
    """Production predictions against actuals for the selected model version."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_view(1)", "View"),
        Binding("V", "cycle_view(-1)", "Previous view", show=False),
        Binding("w", "cycle_window(1)", "Window"),
        Binding("W", "cycle_window(-1)", "Previous window", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view_name = VIEWS[0]
        """The sub-view on screen, kept across refreshes."""
        self.window_index = DEFAULT_WINDOW
        """Index into WINDOWS of the metrics window, kept across refreshes."""
        self.state: PredictionsState | None = None
        self.view: PredictionsView | None = None
        self._drawn_for: tuple[object, int] | None = None
        self._computed_for: tuple[object, int] | None = None
        # The selection whose state the next poll brings, shown while it is read.
        self._waiting_for: str | None = None
        self._worker: Worker[tuple[object, PredictionsView]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="predictions-bar")
        yield Static(id="predictions-errors", classes="panel-errors")
        yield Static(id="predictions-empty", classes="empty-state")
        with ContentSwitcher(initial="predictions-overview", id="predictions-views"):
            with Vertical(id="predictions-overview"):
                with Horizontal(classes="overview-row"):
                    yield TimeChart("prediction and actual", id="predictions-time")
                    yield MetricsPanel(id="predictions-metrics")
                yield LineChart("main metric over windows", id="predictions-trend-small", classes="wide-only")
            yield RecentPredictions(id="predictions-table")
            with Horizontal(id="predictions-errors-view"):
                yield ScatterChart("pred. vs actual", id="predictions-scatter")
                yield ErrorHistogram("error histogram", id="predictions-histogram")
            with Horizontal(id="predictions-task"):
                yield ConfusionPanel(id="predictions-confusion")
                yield LineChart("score over time", id="predictions-task-chart")
            yield LineChart("main metric over windows", id="predictions-trend")

    # Typed accessors.

    @property
    def switcher(self) -> ContentSwitcher:
        return self.query_one("#predictions-views", ContentSwitcher)

    @property
    def metrics_panel(self) -> MetricsPanel:
        return self.query_one(MetricsPanel)

    @property
    def table(self) -> RecentPredictions:
        return self.query_one(RecentPredictions)

    @property
    def window(self) -> Window:
        return WINDOWS[self.window_index]

    # Drawing.

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Redraw from the newest snapshot; recomputes only when the log or window changed."""
        state = snapshot.predictions
        self._waiting_for = None
        if not shows_selection(state, selection.model_name, selection.version):
            state = None
            if selection.model_name is not None:
                self._waiting_for = " v".join(filter(None, (selection.model_name, selection.version)))
        self.state = state
        self._redraw()

    @property
    def ready(self) -> bool:
        """True when the view on screen was computed for the current log and window."""
        return self._drawn_for is not None and self._computed_for == self._drawn_for

    def _redraw(self) -> None:
        state = self.state
        empty = self.query_one("#predictions-empty", Static)
        errors = self.query_one("#predictions-errors", Static)
        prediction_log = state.log if state else None
        skipped = prediction_log.errors if prediction_log else ()
        problem = state.error if state else None
        show_skipped_files(errors, problem, skipped)
        if state is None or prediction_log is None or prediction_log.rows == 0:
            self.set_class(True, "-empty")
            empty.update(Text(_empty_message(state, self._waiting_for)))
            self._drawn_for = None
            self._update_bar()
            return
        self.set_class(False, "-empty")

        key = (prediction_log, self.window_index)
        if key == self._drawn_for:
            return
        self._drawn_for = key
        options = {
            "periods_per_year": state.periods_per_year,
            "risk_free_rate": state.risk_free_rate,
        }
        # The trend computes one metric set per window, which takes up to a few hundred ms
        # on a few thousand rows. So the view is built in a thread, and a newer request
        # cancels an older one.
        build = partial(PredictionsView.build, prediction_log.frame, self.window, state.task, options)
        self._worker = self.run_worker(
            partial(_keyed, key, build),
            name="predictions view",
            group=VIEW_GROUP,
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    @on(Worker.StateChanged)
    def _view_built(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        event.stop()
        if event.state is WorkerState.SUCCESS and event.worker.result is not None:
            key, view = event.worker.result
            if key != self._drawn_for:
                return
            self._computed_for = key
            self.view = view
            self._draw(view)
            self._update_bar()
        elif event.state is WorkerState.ERROR:
            name = self.state.model_name if self.state else None
            log.error("predictions view of %s failed", name, exc_info=event.worker.error)
            errors = self.query_one("#predictions-errors", Static)
            errors.update(Text(f"Computing the metrics failed: {event.worker.error}", style="bold red"))
            errors.display = True

    def _draw(self, view: PredictionsView) -> None:
        frame = view.frame
        known = frame[frame["actual"].notna()]
        classification = view.task == "classification"
        self.query_one(TimeChart).show(frame, classification)
        self.metrics_panel.show(view.metrics, view.window.label)
        self.table.show(frame)
        self.query_one(ScatterChart).show(known["prediction"].tolist(), known["actual"].tolist())
        self.query_one(ErrorHistogram).show((known["prediction"] - known["actual"]).tolist())

        confusion = self.query_one(ConfusionPanel)
        task_chart = self.query_one("#predictions-task-chart", LineChart)
        confusion.display = classification
        if classification:
            confusion.show(view.confusion, view.window.label)
            task_chart.title = "score over time"
            task_chart.message = "no score column in the log"
            scored = frame[frame["score"].notna()]
            task_chart.show({"score": (scored["timestamp"], scored["score"].tolist())})
        elif view.trading:
            curve = view.equity_curve()
            task_chart.title = f"sign equity, {view.window.label}"
            task_chart.message = "no rows with an actual"
            task_chart.show({"wealth": (curve["timestamp"], curve["wealth"].tolist())})
        else:
            task_chart.show_message("no extras for a regression on a non-return target")

        metric = view.main_metric
        label = f"{metric} per {view.trend_rows}-row window"
        for chart in self.query("#predictions-trend, #predictions-trend-small").results(LineChart):
            chart.title = label
            chart.message = f"needs at least {2 * view.trend_rows} rows with actuals"
            if view.trend is None:
                chart.show_message(chart.message)
            else:
                trend = view.trend.dropna(subset=["value"])
                chart.show({metric: (trend["end_timestamp"], trend["value"].tolist())})

    def _update_bar(self) -> None:
        state = self.state
        position = f"{VIEWS.index(self.view_name) + 1}/{len(VIEWS)}"
        parts: list[tuple[str, str] | str] = [
            (f" {self.view_name} ", "reverse"),
            (f" {position} v", "dim"),
            ("  window ", "dim"),
            (self.window.label, "bold"),
            (" w", "dim"),
        ]
        if self.view is not None and state is not None and state.log is not None:
            task = self.view.task + (" + trading" if self.view.trading and self.view.task != "trading" else "")
            parts.append((f"  {task}, {state.log.rows} rows", "dim"))
        self.query_one("#predictions-bar", Static).update(Text.assemble(*parts))

    def on_descendant_focus(self) -> None:
        self._update_bar()

    def on_descendant_blur(self) -> None:
        self._update_bar()

    def on_focus(self) -> None:
        self._update_bar()

    def on_blur(self) -> None:
        self._update_bar()

    # Actions.

    def action_cycle_view(self, step: int) -> None:
        """Show the next (or previous) sub-view."""
        self.view_name = VIEWS[(VIEWS.index(self.view_name) + step) % len(VIEWS)]
        self.switcher.current = _view_id(self.view_name)
        # The table takes the focus for its cursor; other views hand it back to the tab.
        if self.view_name == "table":
            self.table.focus()
        elif self.table.has_focus:
            self.focus()
        self._update_bar()

    def action_cycle_window(self, step: int) -> None:
        """Compute the metrics over the next (or previous) window."""
        self.window_index = (self.window_index + step) % len(WINDOWS)
        self._redraw()


def _keyed(key: object, build: Callable[[], PredictionsView]) -> tuple[object, PredictionsView]:
    return key, build()


def _view_id(name: str) -> str:
    return "predictions-errors-view" if name == "errors" else f"predictions-{name}"


def _empty_message(state: PredictionsState | None, waiting_for: str | None = None) -> str:
    if waiting_for is not None:
        return f"Predictions: reading the prediction log of {waiting_for}…"
    if state is None:
        return "Predictions: select a model version to see its prediction log."
    target = f"{state.model_name} v{state.version}" if state.version else state.model_name
    if state.error:
        return f"Predictions: the prediction log of {target} could not be read."
    return (
        f"Predictions: no prediction rows for {target}. Log batch files under predictions/ "
        f"in a run tagged mlmon.model={state.model_name}, mlmon.version={state.version}, "
        "mlmon.role=predictions, or set a predictions glob for the model in the config file."
    )

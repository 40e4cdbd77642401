"""The main screen: header, tab bar, model picker and tabs, fed by one poll worker.

State flows down: the screen owns the selection, the newest Snapshot and the poll
schedule, and pushes them into the widgets. Intents flow up as messages from
`mlmon.tui.messages`. The poll runs as one exclusive worker in the "poll" group, and the
next timed poll is scheduled only when the last one has ended, so polls never overlap.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Tab, Tabs
from textual.worker import Worker, WorkerState

from mlmon.snapshot import ConnectionState, ConnectionStatus, Snapshot, ViewRequest
from mlmon.tui.messages import (
    MetricChosen,
    ModelFilterChanged,
    ModelSelected,
    SnapshotReady,
    VersionMarked,
)
from mlmon.tui.tabs.accuracy import AccuracyTab, metric_keys
from mlmon.tui.tabs.alerts import AlertsTab
from mlmon.tui.tabs.base import Selection, SnapshotView
from mlmon.tui.tabs.features import FeaturesTab
from mlmon.tui.tabs.health import HealthTab
from mlmon.tui.tabs.overview import OverviewTab
from mlmon.tui.tabs.predictions import PredictionsTab
from mlmon.tui.widgets.model_picker import ModelPicker
from mlmon.tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from mlmon.tui.app import MlmonApp

log = logging.getLogger(__name__)

# Tab ids in key order: `1` shows the first.
TAB_IDS = ("overview", "accuracy", "predictions", "features", "health", "alerts")
POLL_GROUP = "poll"
# Screen actions that act on one tab, and the tabs that must be showing for them.
_TAB_ACTIONS = {
    "chart_x_axis": ("accuracy",),
    "chart_log_y": ("accuracy",),
    "tab_view": ("predictions", "features"),
    "tab_window": ("predictions",),
    "tab_importance": ("features",),
}


class MonitorScreen(Screen[None]):
    """The monitor: model picker on the left, the selected version's tabs on the right."""

    app: MlmonApp

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(number), f"show_tab('{tab_id}')", tab_id.title(), show=False)
            for number, tab_id in enumerate(TAB_IDS, start=1)
        ),
        Binding("r", "refresh", "Refresh"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("slash", "filter_models", "Filter", key_display="/"),
        Binding("m", "pick_metric", "Metric"),
        # Chart keys work wherever the focus is, but only while the Accuracy tab shows.
        Binding("x", "chart_x_axis", "x axis"),
        Binding("l", "chart_log_y", "log y"),
        # Predictions and Features keys, likewise live only while their tab shows; a
        # focused tab handles them itself first.
        Binding("v", "tab_view(1)", "View"),
        Binding("V", "tab_view(-1)", "Previous view", show=False),
        Binding("w", "tab_window(1)", "Window"),
        Binding("W", "tab_window(-1)", "Previous window", show=False),
        Binding("t", "tab_importance(1)", "Importance type"),
        Binding("T", "tab_importance(-1)", "Previous type", show=False),
    ]
    # Textual declares this as an instance attribute, so it cannot be a ClassVar here.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012

    snapshot: var[Snapshot | None] = var(None)
    """The newest Snapshot on screen, or None until the first poll ends."""

    selection: var[Selection] = var(Selection)
    """The model version chosen in the picker."""

    paused: var[bool] = var(False)
    """Whether timed polls are paused. Polls the user asks for (r, a new selection) still run."""

    metric_key: var[str | None] = var(None)
    """The metric the Accuracy chart draws."""

    def __init__(self) -> None:
        super().__init__()
        self.overlay_run_ids: tuple[str, ...] = ()
        self.model_filter = ""
        self.polls_started = 0
        self._timer: Timer | None = None
        self._poll_worker: Worker[None] | None = None
        self._poll_is_timed = False
        self._pending: Snapshot | None = None
        self._stale_tabs: set[str] = set(TAB_IDS)

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status-header")
        yield Tabs(
            *(Tab(f"{number} {tab_id.title()}", id=f"tab-{tab_id}") for number, tab_id in enumerate(TAB_IDS, 1)),
            id="tab-bar",
        )
        with Horizontal(id="body"):
            yield ModelPicker(id="model-picker")
            with ContentSwitcher(initial="overview", id="tab-content"):
                yield OverviewTab(id="overview")
                yield AccuracyTab(id="accuracy")
                yield PredictionsTab(id="predictions")
                yield FeaturesTab(id="features")
                yield HealthTab(id="health")
                yield AlertsTab(id="alerts")
        yield Footer()

    # Typed accessors for the children the handlers talk to.

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    @property
    def picker(self) -> ModelPicker:
        return self.query_one(ModelPicker)

    @property
    def content(self) -> ContentSwitcher:
        return self.query_one("#tab-content", ContentSwitcher)

    @property
    def accuracy(self) -> AccuracyTab:
        return self.query_one(AccuracyTab)

    def tab(self, tab_id: str) -> SnapshotView:
        view: Widget = self.query_one(f"#{tab_id}")
        return view  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.header.server = self.app.settings.tracking_uri
        self.picker.version_list.focus()
        self.request_poll()

    # The poll cycle.

    def view_request(self) -> ViewRequest:
        """Describe what is on screen, so the poll fetches only that."""
        return ViewRequest(
            model_name=self.selection.model_name,
            version=self.selection.version,
            metric_key=self.metric_key,
            overlay_run_ids=self.overlay_run_ids,
            model_filter=self.model_filter,
        )

    def request_poll(self, *, timed: bool = False) -> None:
        """Poll now. A running poll is cancelled, since the newer request describes the screen."""
        # NOTE: cancelling cannot stop a local store's read already running in its worker
        # thread. That read finishes in the background and its result is dropped.
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        view = self.view_request()
        self.polls_started += 1
        self._poll_is_timed = timed
        self.header.polling = True
        log.debug("poll %d started for %s", self.polls_started, view)
        self._poll_worker = self.run_worker(
            self._poll(view),
            name=f"poll {self.polls_started}",
            group=POLL_GROUP,
            exclusive=True,
            exit_on_error=False,
        )

    async def _poll(self, view: ViewRequest) -> None:
        started = time.monotonic()

        def show_tracking_data(early: Snapshot) -> None:
            # Models, runs and the chart go on screen before the slower prediction log read.
            self.post_message(SnapshotReady(early, view))

        snapshot = await self.app.poller.poll(view, on_tracking=show_tracking_data)
        log.info(
            "poll of %s ended in %.0f ms: %s",
            snapshot.server,
            (time.monotonic() - started) * 1000,
            snapshot.connection.status,
        )
        self.post_message(SnapshotReady(snapshot, view))

    @on(Worker.StateChanged)
    def _poll_ended(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._poll_worker or event.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            return
        if event.state is WorkerState.CANCELLED:
            return
        self.header.polling = False
        if event.state is WorkerState.ERROR:
            self._show_poll_failure(worker.error)
        self._schedule_next_poll()

    def _show_poll_failure(self, error: BaseException | None) -> None:
        """Turn a failed poll into a toast and an error state. The last data stays on screen."""
        log.error("poll of %s failed", self.app.settings.tracking_uri, exc_info=error)
        previous = self.header.connection
        now = datetime.now().astimezone()
        self.header.connection = ConnectionState(
            status=ConnectionStatus.ERROR,
            since=previous.since if previous.status is ConnectionStatus.ERROR else now,
            last_success=previous.last_success,
            error_title=f"Poll failed: {error!r}",
            failures=previous.failures + 1,
        )
        self._mark_stale(True)
        # notify() renders markup, so markup=False keeps the error text literal.
        self.notify(f"Poll failed: {error!r}. Details are in the log file.", severity="error", markup=False)

    def _schedule_next_poll(self) -> None:
        # The poller backs off while the server fails, so its delay replaces the interval.
        delay = self.app.poller.next_delay()
        self._timer = self.set_timer(delay, self._timed_poll, name="next poll")

    def _timed_poll(self) -> None:
        self._timer = None
        if self.paused:
            # No poll while paused. The header says that newer data is probably waiting.
            self.header.refresh_due = True
            return
        self.request_poll(timed=True)

    @on(SnapshotReady)
    def _snapshot_ready(self, message: SnapshotReady) -> None:
        if self.paused and self._poll_is_timed:
            # This poll began before the pause, so its data is held for the resume.
            self._pending = message.snapshot
            self.header.refresh_due = True
            return
        self.snapshot = message.snapshot

    def watch_snapshot(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        self._toast_new_failure(self.header.connection, snapshot.connection)
        self.header.connection = snapshot.connection
        self._mark_stale(snapshot.connection.status in (ConnectionStatus.UNREACHABLE, ConnectionStatus.ERROR))
        if snapshot.errors.get("models"):
            self.notify(f"Models: {snapshot.errors['models']}", severity="warning", markup=False)
        self.picker.show_models(snapshot.models)
        if self.selection.model_name is None and snapshot.models:
            self._select_default(snapshot)
        self._stale_tabs = set(TAB_IDS)
        self._show_current_tab()

    def _toast_new_failure(self, previous: ConnectionState, current: ConnectionState) -> None:
        """Toast the error and its fix once, when the connection turns bad. The header keeps it."""
        failed = (ConnectionStatus.UNREACHABLE, ConnectionStatus.ERROR)
        if current.status not in failed or previous.status == current.status:
            return
        self.notify(
            f"{current.error_title} {current.error_fix}".strip(),
            title=f"Tracking server {current.status}",
            severity="error",
            markup=False,
        )

    def _mark_stale(self, stale: bool) -> None:
        self.content.set_class(stale, "-stale")
        self.picker.set_class(stale, "-stale")

    def _select_default(self, snapshot: Snapshot) -> None:
        """Select a champion (or newest) version so the tabs show data at once.

        The model is the first one named with --model, else the first by name that has
        versions.
        """
        with_versions = [model for model in snapshot.models if model.versions]
        by_name = {model.name: model for model in with_versions}
        configured = [by_name[name] for name in self.app.settings.model_filter if name in by_name]
        ordered = configured or sorted(with_versions, key=lambda model: model.name.lower())
        if not ordered:
            return
        model = ordered[0]
        newest = max(model.versions, key=lambda item: item.version_number)
        self.picker.select(model.name, model.aliases.get("champion") or newest.version)

    def _show_current_tab(self) -> None:
        """Redraw the visible tab. Hidden tabs redraw when shown, so they cost nothing per poll."""
        current = self.content.current
        if self.snapshot is None or current is None or current not in self._stale_tabs:
            return
        self._stale_tabs.discard(current)
        self.tab(current).show_snapshot(self.snapshot, self.selection)

    # User intents.

    @on(ModelSelected)
    def _model_selected(self, message: ModelSelected) -> None:
        self.selection = message.selection
        self._stale_tabs = set(TAB_IDS)
        self._show_current_tab()
        self.request_poll()

    @on(MetricChosen)
    def _metric_chosen(self, message: MetricChosen) -> None:
        if message.key != self.metric_key:
            self.metric_key = message.key
            self.request_poll()

    @on(VersionMarked)
    def _version_marked(self, message: VersionMarked) -> None:
        marked = [run_id for run_id in self.overlay_run_ids if run_id != message.run_id]
        if message.marked:
            marked.append(message.run_id)
        self.overlay_run_ids = tuple(marked)
        self.request_poll()

    @on(ModelFilterChanged)
    def _model_filter_changed(self, message: ModelFilterChanged) -> None:
        if message.text != self.model_filter:
            self.model_filter = message.text
            self.request_poll()

    @on(Tabs.TabActivated, "#tab-bar")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.content.current = (event.tab.id or "tab-overview").removeprefix("tab-")
        self._show_current_tab()
        self.refresh_bindings()

    def action_show_tab(self, tab_id: str) -> None:
        """Show one of the six tabs."""
        self.query_one("#tab-bar", Tabs).active = f"tab-{tab_id}"

    def action_refresh(self) -> None:
        """Poll now, also while paused."""
        self.request_poll()

    def action_toggle_pause(self) -> None:
        """Pause or resume timed polls. Resuming applies held data and polls if one came due."""
        self.paused = not self.paused
        self.header.paused = self.paused
        if self.paused:
            return
        due = self.header.refresh_due
        self.header.refresh_due = False
        if self._pending is not None:
            self.snapshot, self._pending = self._pending, None
        if due and self._timer is None:
            self.request_poll()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tabs = _TAB_ACTIONS.get(action)
        if tabs is None:
            return True
        try:
            return self.content.current in tabs
        except NoMatches:  # Asked before compose: no tab is showing yet.
            return False

    def run_tab_action(self, tab_id: str, action: str, *args: object) -> None:
        """Show `tab_id` and run its `action_<action>` (for the command palette).

        The tab is called directly: the content switcher changes only after the tab bar's
        message arrives, so the screen's own tab actions would still see the old tab.
        """
        self.action_show_tab(tab_id)
        tab = self.query_one(PredictionsTab) if tab_id == "predictions" else self.query_one(FeaturesTab)
        getattr(tab, f"action_{action}")(*args)

    def action_tab_view(self, step: int) -> None:
        """Show the next (1) or previous (-1) view of the Predictions or Features tab."""
        if self.content.current == "predictions":
            self.query_one(PredictionsTab).action_cycle_view(step)
        else:
            self.query_one(FeaturesTab).action_cycle_view()

    def action_tab_window(self, step: int) -> None:
        """Switch the Predictions tab to the next (1) or previous (-1) window."""
        self.query_one(PredictionsTab).action_cycle_window(step)

    def action_tab_importance(self, step: int) -> None:
        """Rank the Features tab by the next (1) or previous (-1) importance type."""
        self.query_one(FeaturesTab).action_cycle_kind(step)

    def action_chart_x_axis(self) -> None:
        """Cycle the chart's x axis: step, time since the first point, wall clock."""
        self.accuracy.action_cycle_x()

    def action_chart_log_y(self) -> None:
        """Switch the chart's y axis between linear and log."""
        self.accuracy.action_toggle_log()

    def action_filter_models(self) -> None:
        """Open the model filter."""
        self.picker.start_filter()

    def action_pick_metric(self) -> None:
        """Show the Accuracy tab and open its metric list."""
        self.action_show_tab("accuracy")
        select = self.accuracy.metric_select
        select.focus()
        select.expanded = True

    def choose_metric(self, key: str) -> None:
        """Chart `key` (used by the command palette)."""
        self.action_show_tab("accuracy")
        self.accuracy.choose_metric(key)

    def metric_keys(self) -> list[str]:
        """Return the metric keys of the selected version's run, as the Accuracy tab lists them."""
        if self.snapshot is None:
            return []
        version = self.snapshot.version(self.selection.model_name, self.selection.version)
        run = self.snapshot.runs.get(version.run_id or "") if version else None
        return metric_keys(set(run.metrics)) if run else []

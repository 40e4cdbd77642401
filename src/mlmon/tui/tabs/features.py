"""Features tab: which inputs drive the selected version, and which of them moved.

The ranked list shows feature importance from the version's training run (LightGBM or
XGBoost autolog files, or a generic importance file). `t`/`T` switch the importance
type. The highlighted feature's detail shows its importance and rank in every type,
its drift against the training reference (`reference/` in the same run), its Pearson
correlation with the actual and with the absolute error, and a histogram of reference
against current values. `v` switches to a correlation matrix of the top features.
Importance type, view and highlighted feature survive every refresh.
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
from textual.widgets import ContentSwitcher, OptionList, Static
from textual.worker import Worker, WorkerState

from mlmon.insights import FeaturesState, PredictionsState, shows_selection
from mlmon.snapshot import Snapshot
from mlmon.tui.tabs.base import Selection
from mlmon.tui.widgets.features_panels import CorrelationPanel, FeatureDetail, ImportanceList
from mlmon.tui.widgets.features_view import FeaturesView
from mlmon.tui.widgets.skipped_files import show_skipped_files

log = logging.getLogger(__name__)

VIEWS = ("importance", "correlation")
VIEW_GROUP = "features-view"


class FeaturesTab(Vertical):
    """Importance ranking, per-feature detail and correlations for the selected version."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "cycle_kind(1)", "Importance type"),
        Binding("T", "cycle_kind(-1)", "Previous type", show=False),
        Binding("v", "cycle_view", "View"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind_index = 0
        """Index of the importance type ranked, kept across refreshes."""
        self.view_name = VIEWS[0]
        self.feature: str | None = None
        """The highlighted feature, kept by name across refreshes."""
        self.view: FeaturesView | None = None
        self._states: tuple[FeaturesState | None, PredictionsState | None] = (None, None)
        self._built_for: tuple[object, object] | None = None
        self._computed_for: tuple[object, object] | None = None
        # The selection whose state the next poll brings, shown while it is read.
        self._waiting_for: str | None = None
        self._worker: Worker[tuple[object, FeaturesView]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="features-bar")
        yield Static(id="features-errors", classes="panel-errors")
        yield Static(id="features-empty", classes="empty-state")
        with ContentSwitcher(initial="features-main", id="features-views"):
            with Horizontal(id="features-main"):
                yield ImportanceList(id="features-ranking")
                yield FeatureDetail(id="features-detail")
            yield CorrelationPanel(id="features-correlation")

    # Typed accessors.

    @property
    def ranking(self) -> ImportanceList:
        return self.query_one(ImportanceList)

    @property
    def detail(self) -> FeatureDetail:
        return self.query_one(FeatureDetail)

    @property
    def kind(self) -> str:
        """The importance type ranked now, e.g. "gain"."""
        if self.view is None or not self.view.importances:
            return "none"
        return self.view.importances[self.kind_index % len(self.view.importances)].kind

    # Drawing.

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Redraw from the newest snapshot; recomputes drift only when its inputs changed."""
        features, predictions = snapshot.features, snapshot.predictions
        self._waiting_for = None
        if not shows_selection(features, selection.model_name, selection.version):
            features = predictions = None
            if selection.model_name is not None:
                self._waiting_for = " v".join(filter(None, (selection.model_name, selection.version)))
        elif not shows_selection(predictions, selection.model_name, selection.version):
            predictions = None
        self._states = (features, predictions)
        key = (
            features.files if features else None,
            predictions.log if predictions else None,
        )
        if key == self._built_for:
            self._draw()
            return
        self._built_for = key
        # Drift sorts every feature column: built in a thread, a newer request cancels it.
        self._worker = self.run_worker(
            partial(_keyed, key, partial(FeaturesView.build, features, predictions)),
            name="features view",
            group=VIEW_GROUP,
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    @property
    def ready(self) -> bool:
        """True when the view on screen was computed from the newest states."""
        return self._built_for is not None and self._computed_for == self._built_for

    @on(Worker.StateChanged)
    def _view_built(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        event.stop()
        if event.state is WorkerState.SUCCESS and event.worker.result is not None:
            key, view = event.worker.result
            if key != self._built_for:
                return
            self._computed_for = key
            self.view = view
            self._draw()
        elif event.state is WorkerState.ERROR:
            log.error("features view failed", exc_info=event.worker.error)
            errors = self.query_one("#features-errors", Static)
            errors.update(Text(f"Computing the feature view failed: {event.worker.error}", style="bold red"))
            errors.display = True

    def _draw(self) -> None:
        features = self._states[0]
        view = self.view
        errors = self.query_one("#features-errors", Static)
        problem = features.error if features else None
        skipped = features.files.errors if features and features.files is not None else ()
        show_skipped_files(errors, problem, skipped)
        empty = view is None or not view.features
        self.set_class(empty, "-empty")
        if empty:
            message = _empty_message(features, self._waiting_for)
            self.query_one("#features-empty", Static).update(Text(message))
            self._update_bar()
            return
        assert view is not None
        self.ranking.show(view.ranked(self.kind_index), self.feature)
        self.feature = self.ranking.selected_feature
        self.detail.show(view, self.feature)
        rows = 0 if view.log is None else len(view.log)
        self.query_one(CorrelationPanel).show(view.correlations(self.kind_index), self.kind, rows)
        self._update_bar()

    def _update_bar(self) -> None:
        view = self.view
        kinds = [item.kind for item in view.importances] if view else []
        parts: list[tuple[str, str]] = [
            (f" {self.view_name} ", "reverse"),
            (" v", "dim"),
            ("  ranked by ", "dim"),
        ]
        parts.append((self.kind, "bold"))
        if len(kinds) > 1:
            parts.append((f" {self.kind_index % len(kinds) + 1}/{len(kinds)} t", "dim"))
        if view is not None and view.features:
            parts.append((f"  {len(view.features)} features", "dim"))
        self.query_one("#features-bar", Static).update(Text.assemble(*parts))

    def on_descendant_focus(self) -> None:
        self._update_bar()

    def on_descendant_blur(self) -> None:
        self._update_bar()

    @on(OptionList.OptionHighlighted, "#features-ranking")
    def _feature_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        name = event.option.id
        if name == self.feature or self.view is None:
            return
        self.feature = name
        self.detail.show(self.view, name)

    # Actions.

    def action_cycle_kind(self, step: int) -> None:
        """Rank by the next (or previous) importance type."""
        if self.view is None or not self.view.importances:
            return
        self.kind_index = (self.kind_index + step) % len(self.view.importances)
        self._draw()

    def action_cycle_view(self) -> None:
        """Switch between the ranking with detail and the correlation matrix."""
        self.view_name = VIEWS[(VIEWS.index(self.view_name) + 1) % len(VIEWS)]
        switcher = self.query_one("#features-views", ContentSwitcher)
        switcher.current = "features-main" if self.view_name == "importance" else "features-correlation"
        # Keep the focus inside the tab so its keys keep working.
        if self.view_name == "importance":
            self.ranking.focus()
        else:
            self.query_one(CorrelationPanel).focus()
        self._update_bar()


def _keyed(key: object, build: Callable[[], FeaturesView]) -> tuple[object, FeaturesView]:
    return key, build()


def _empty_message(state: FeaturesState | None, waiting_for: str | None = None) -> str:
    if waiting_for is not None:
        return f"Features: reading the feature data of {waiting_for}…"
    if state is None:
        return "Features: select a model version to see its features."
    target = f"{state.model_name} v{state.version}" if state.version else state.model_name
    return (
        f"Features: nothing known about the features of {target}. Log feature importance "
        "(autolog does) and training data under reference/ in the version's source run, "
        "or prediction batches with feature columns."
    )

"""Overview tab: cards for the selected version, its source run, latest metrics and params."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from mlmon.snapshot import Snapshot
from mlmon.tracking import ModelVersion, RegisteredModel, Run
from mlmon.tui.format import format_duration, format_time, format_value, plain
from mlmon.tui.tabs.base import Selection


def _fields(rows: list[tuple[str, RenderableType]]) -> Table:
    """Return a two-column name/value grid."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    return table


class OverviewTab(VerticalScroll):
    """Cards for the selected version. Only their contents change, so scrolling survives polls."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="overview-empty", classes="empty-state")
        # Cards a person checks first come first, which matters at 24 rows.
        yield Static(id="version-card", classes="card")
        yield Static(id="metrics-card", classes="card")
        yield Static(id="run-card", classes="card")
        yield Static(id="params-card", classes="card")

    def on_mount(self) -> None:
        self.card("version-card").border_title = "Version"
        self.card("run-card").border_title = "Source run"
        self.card("metrics-card").border_title = "Latest metrics"
        self.card("params-card").border_title = "Params"
        self.query_one("#overview-empty", Static).update("Overview: select a model version in the picker (Enter).")

    def card(self, card_id: str) -> Static:
        return self.query_one(f"#{card_id}", Static)

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Fill the cards from the version `selection` names, or show why they are empty."""
        model = snapshot.model(selection.model_name)
        version = snapshot.version(selection.model_name, selection.version)
        empty = self.query_one("#overview-empty", Static)

        if model is None or version is None:
            # --model names, and the picker's confirmed filter the poll sent to the server.
            named = tuple(getattr(getattr(self.app, "settings", None), "model_filter", ()))
            typed = str(getattr(self.screen, "model_filter", ""))
            empty.update(_empty_reason(snapshot, selection, named, typed))
            self.set_class(True, "-empty")
            return
        self.set_class(False, "-empty")

        run = snapshot.runs.get(version.run_id or "")
        self.card("version-card").update(self._version_fields(model, version))
        if run is None and version.run_id and not _model_runs_loaded(model, snapshot):
            # The snapshot predates this selection, and the poll it started brings the runs.
            loading = Text("Loading…", style="italic")
            self.card("run-card").update(Text.assemble("Loading run ", plain(version.run_id), "…"))
            self.card("metrics-card").update(loading)
            self.card("params-card").update(loading)
            return
        self.card("run-card").update(self._run_fields(version, run, snapshot))
        self.card("metrics-card").update(self._metrics_table(run))
        self.card("params-card").update(self._params_table(run))

    @staticmethod
    def _version_fields(model: RegisteredModel, version: ModelVersion) -> Table:
        aliases = model.aliases_of(version.version)
        rows: list[tuple[str, RenderableType]] = [
            ("model", plain(model.name)),
            ("version", plain(version.version)),
            ("aliases", plain(" ".join(f"@{alias}" for alias in aliases) or "-")),
            ("stage", plain(f"{version.current_stage or 'None'} (status {version.status})")),
            ("created", plain(format_time(version.creation_timestamp))),
            ("source", plain(version.source or "-")),
        ]
        if version.description:
            rows.append(("description", plain(version.description)))
        return _fields(rows)

    @staticmethod
    def _run_fields(version: ModelVersion, run: Run | None, snapshot: Snapshot) -> RenderableType:
        if version.run_id is None:
            return Text("This version has no source run.")
        if run is None:
            error = snapshot.errors.get("runs", "")
            return Text.assemble("Run ", plain(version.run_id), " not found (deleted or unreadable). ", plain(error))
        return _fields(
            [
                ("name", plain(run.run_name or "-")),
                ("run id", plain(run.run_id)),
                ("status", plain(run.status)),
                ("started", plain(format_time(run.start_time))),
                ("ended", plain(format_time(run.end_time) if run.end_time else "running")),
                ("duration", plain(format_duration(run.start_time, run.end_time))),
            ]
        )

    @staticmethod
    def _metrics_table(run: Run | None) -> RenderableType:
        if run is None or not run.metrics:
            return Text("No metrics logged.")
        # Long keys fold onto a second line so values and steps are never cut.
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
        table.add_column("metric", overflow="fold", ratio=1)
        table.add_column("value", justify="right", no_wrap=True, min_width=9)
        table.add_column("step", justify="right", no_wrap=True)
        # Training metrics first, then the `system/` metrics MLflow logs for hardware.
        keys = sorted(run.metrics, key=lambda key: (key.startswith("system/"), key))
        for key in keys:
            metric = run.metrics[key]
            table.add_row(plain(key), plain(format_value(metric.value)), plain(str(metric.step)))
        return table

    @staticmethod
    def _params_table(run: Run | None) -> RenderableType:
        if run is None or not run.params:
            return Text("No params logged.")
        return _fields([(key, plain(value)) for key, value in sorted(run.params.items())])


def _model_runs_loaded(model: RegisteredModel, snapshot: Snapshot) -> bool:
    """Tell whether the snapshot was polled with `model` selected (it contains any of its runs)."""
    return any(version.run_id in snapshot.runs for version in model.versions if version.run_id)


def _empty_reason(snapshot: Snapshot, selection: Selection, named: tuple[str, ...] = (), typed: str = "") -> Text:
    """Say why there is no version to show: no connection yet, no models, or none selected.

    `named` are the models given with --model, `typed` the picker's filter; either can
    hide every model of a store that has some.
    """
    connection = snapshot.connection
    if not snapshot.models and connection.error_title:
        return Text.assemble("Overview: no data. ", plain(connection.error_title), " ", plain(connection.error_fix))
    if not snapshot.models and named:
        names = ", ".join(named)
        label = "named" if len(named) == 1 else "among"
        matching = f" matching {typed!r}" if typed else ""
        return Text.assemble(
            "Overview: no registered model ",
            plain(f"{label} {names}{matching}"),
            " (--model). Check the spelling, or start mlmon without --model to list every model.",
        )
    if not snapshot.models and typed:
        return Text.assemble(
            "Overview: no registered model matches ",
            plain(repr(typed)),
            ". Press / and Escape to clear the filter.",
        )
    if not snapshot.models:
        return Text("Overview: no registered models found. Register a model version in MLflow to monitor it.")
    if selection.model_name is not None:
        return Text.assemble(
            "Overview: ",
            plain(f"{selection.model_name} v{selection.version}"),
            " is not in the latest data (deleted, or filtered out).",
        )
    return Text("Overview: select a model version in the picker (Enter).")

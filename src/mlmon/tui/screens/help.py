"""The key bindings screen that `?` opens."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (keys, what they do), grouped by where they work.
KEY_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Anywhere",
        (
            ("1 … 6", "tabs: Overview Accuracy Predictions Features Health Alerts"),
            ("r", "refresh now (also while paused)"),
            ("p", "pause or resume timed refreshes"),
            ("/", "filter models by name (Enter keeps, Esc clears)"),
            ("m", "choose the charted metric"),
            ("tab", "move the focus to the next panel"),
            ("ctrl+p", "command palette: every action by name"),
            ("? / q", "this help / quit"),
        ),
    ),
    (
        "Model picker",
        (
            ("j k ↑ ↓", "move"),
            ("Enter", "select the version for every tab"),
            ("space", "mark the version for overlay on the chart"),
        ),
    ),
    (
        "Accuracy chart",
        (
            ("x", "x axis: step, time since first point, wall clock"),
            ("l", "y axis: linear or log"),
            ("m", "choose the metric (Enter opens the list)"),
        ),
    ),
    (
        "Predictions tab",
        (
            ("v / V", "next / previous view: overview, table, errors, task, trend"),
            ("w / W", "next / previous metrics window: 20, 60, 250 rows, week, month, …"),
            ("s / S", "table view: sort by the next column / reverse the order"),
            ("Home / End", "table view: first / last row"),
        ),
    ),
    (
        "Features tab",
        (
            ("v", "next view: importance, correlation"),
            ("t / T", "next / previous importance type"),
        ),
    ),
)


class HelpScreen(ModalScreen[None]):
    """A list of mlmon's keys. Esc, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-panel") as panel:
            panel.border_title = "Keys"
            panel.border_subtitle = "Esc closes, ↑ ↓ PgUp PgDn scroll"
            yield Static(self._table())

    def on_mount(self) -> None:
        # Focus the panel so the arrow keys scroll it on short terminals.
        self.query_one("#help-panel").focus()

    @staticmethod
    def _table() -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for group, keys in KEY_GROUPS:
            table.add_row(f"[underline]{group}[/]", "")
            for key, action in keys:
                table.add_row(key, action)
        return table

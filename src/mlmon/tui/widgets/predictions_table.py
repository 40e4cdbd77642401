"""The table of recent predictions: sortable, and following new rows at the bottom.

Following works like `tail -f`. While the cursor is on the newest row of a table sorted
by time, new rows move it to the new newest row. Once the user moves away, a refresh
leaves the cursor on the same prediction, found again by its timestamp.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

if TYPE_CHECKING:
    import pandas as pd

# Newest rows shown; older ones are in the charts and metrics, not the table.
TABLE_ROWS = 500
COLUMNS = ("timestamp", "prediction", "actual", "error", "score")


def _cell(value: float) -> Text:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Text("–", style="dim", justify="right")
    return Text(f"{value:.4g}", justify="right")


class RecentPredictions(DataTable[Text]):
    """Recent predictions; `s` cycles the sort column, `S` reverses the order.

    A new sort moves the cursor to the first row, so the extremes of the sort column show.
    Home and End go to the first and last row (DataTable binds them to columns).
    """

    DEFAULT_CSS = """
    RecentPredictions {
        border-top: hkey $primary-background;
        border-title-align: left;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_column = "timestamp"
        self.sort_reverse = False
        self.rows_shown: list[tuple[str, float, float, float, float]] = []
        self._shown_order: list[str] = []
        self.total_rows = 0
        """Rows in the frame last shown, of which the newest TABLE_ROWS are in the table."""

    def on_mount(self) -> None:
        # Columns start as wide as their label with a sort arrow: DataTable sizes a column
        # by its widest label or cell so far, and a later, longer label would be cut.
        for name in COLUMNS:
            self.add_column(f"{name} ▲", key=name)
        self._label_columns()

    @property
    def following(self) -> bool:
        """True while the cursor sits on the newest row of a timestamp-ordered table."""
        if self.sort_column != "timestamp" or self.row_count == 0:
            return self.row_count == 0
        newest = 0 if self.sort_reverse else self.row_count - 1
        return self.cursor_row == newest

    def show(self, frame: pd.DataFrame) -> None:
        """Show the newest TABLE_ROWS rows of `frame`, keeping sort and cursor."""
        recent = frame.tail(TABLE_ROWS)
        self.total_rows = len(frame)
        error = recent["prediction"] - recent["actual"]
        self.rows_shown = [
            (f"{stamp:%Y-%m-%d %H:%M}", pred, actual, err, score)
            for stamp, pred, actual, err, score in zip(
                recent["timestamp"],
                recent["prediction"],
                recent["actual"],
                error,
                recent["score"],
                strict=True,
            )
        ]
        self._redraw()

    def _redraw(self) -> None:
        follow = self.following
        # The prediction under the cursor, found again after the rows are replaced.
        current = self._shown_order[self.cursor_row] if 0 <= self.cursor_row < len(self._shown_order) else None
        index = COLUMNS.index(self.sort_column)

        def key(row: tuple) -> tuple:
            value = row[index]
            missing = isinstance(value, float) and math.isnan(value)
            return (missing, value if not missing else 0)

        rows = sorted(self.rows_shown, key=key, reverse=self.sort_reverse)
        self._shown_order = [row[0] for row in rows]
        self.clear()
        for row in rows:
            self.add_row(Text(row[0]), *(_cell(value) for value in row[1:]))
        self._label_columns()
        self.border_title = self.title
        if not self.row_count:
            return
        if follow:
            target = 0 if self.sort_reverse else self.row_count - 1
        elif current in self._shown_order:
            target = self._shown_order.index(current)
        else:
            target = min(self.cursor_row, self.row_count - 1)
        self.move_cursor(row=target, animate=False)

    @property
    def title(self) -> str:
        """How many of the frame's rows the table holds, e.g. "newest 500 of 1511 rows"."""
        if self.total_rows > len(self.rows_shown):
            return f"newest {len(self.rows_shown)} of {self.total_rows} rows"
        return f"all {self.total_rows} rows"

    def _label_columns(self) -> None:
        arrow = "▼" if self.sort_reverse else "▲"
        for name in COLUMNS:
            column = self.columns.get(name)  # type: ignore[call-overload]
            if column is not None:
                column.label = Text(f"{name} {arrow}" if name == self.sort_column else name)

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.sort_column = COLUMNS[(COLUMNS.index(self.sort_column) + 1) % len(COLUMNS)]
        self._redraw()
        self._to_first_row()

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._redraw()
        self._to_first_row()

    def _to_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0, animate=False)
            self.scroll_to(y=0, animate=False)

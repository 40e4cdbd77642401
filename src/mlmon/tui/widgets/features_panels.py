"""Widgets of the Features tab: ranked importance bars, the feature detail, correlations."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from mlmon.tui.format import shorten_middle
from mlmon.tui.widgets.features_view import CURRENT_ROWS, FeaturesView

if TYPE_CHECKING:
    import pandas as pd

BAR_CELLS = 12
NAME_CELLS = 16
_SEVERITY_STYLE = {"none": "green", "warning": "yellow", "critical": "bold red"}


def format_importance(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def importance_bar(value: float | None, largest: float, cells: int = BAR_CELLS) -> str:
    """Draw a bar of up to `cells` cells, in eighths, proportional to value / largest."""
    if value is None or math.isnan(value) or largest <= 0:
        return ""
    eighths = round(max(0.0, value) / largest * cells * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else "▏▎▍▌▋▊▉"[rest - 1])


class ImportanceList(OptionList):
    """Features ranked by the chosen importance type, each with a bar; the cursor selects one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last_ranking: tuple[list[tuple[str, float | None]], str | None] = ([], None)

    def show(self, ranking: list[tuple[str, float | None]], selected: str | None) -> None:
        """Replace the options, keeping `selected` highlighted when it is still listed."""
        self._last_ranking = (ranking, selected)
        values = [value for _, value in ranking if value is not None and not math.isnan(value)]
        largest = max((abs(value) for value in values), default=0.0)

        # Fit one line per feature: rank (3 cells), name, bar, and the value where there is room.
        # The content region excludes the scrollbar; before the first layout it is 0 wide.
        width = max(self.scrollable_content_region.width - 1, 18)
        value_cells = 7 if width >= 40 else 0
        bar_cells = min(BAR_CELLS, max(3, (width - 3 - value_cells) // 3))
        name_cells = max(4, min(NAME_CELLS, width - 3 - bar_cells - value_cells - 1))

        options = []
        for rank, (name, value) in enumerate(ranking, start=1):
            label = Text.assemble(
                (f"{rank:>2} " if value is not None else " · ", "dim"),
                (shorten_middle(name, name_cells).ljust(name_cells), ""),
                " ",
                (importance_bar(value, largest, bar_cells).ljust(bar_cells), "cyan"),
                (format_importance(value).rjust(value_cells) if value_cells else "", "dim"),
            )
            options.append(Option(label, id=name))

        highlighted = self.highlighted
        self.clear_options()
        self.add_options(options)
        names = [name for name, _ in ranking]
        if names:
            self.highlighted = names.index(selected) if selected in names else min(highlighted or 0, len(names) - 1)

    def on_resize(self) -> None:
        ranking, _ = self._last_ranking
        if ranking:
            self.show(ranking, self.selected_feature)

    @property
    def selected_feature(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id


class FeatureDetail(Vertical):
    """Importance and rank per type, drift, correlations and a reference-vs-current histogram."""

    def compose(self) -> ComposeResult:
        yield Static(id="feature-facts")
        yield PlotextPlot(id="feature-histogram")

    def show(self, view: FeaturesView, feature: str | None) -> None:
        facts = self.query_one("#feature-facts", Static)
        plot = self.query_one("#feature-histogram", PlotextPlot)
        plot.plt.clear_figure()
        if feature is None:
            facts.update(Text("No feature to show.", style="dim"))
            plot.refresh()
            return
        facts.update(
            Group(
                Text(feature, style="bold"),
                _importance_table(view, feature),
                *_drift_lines(view, feature),
            )
        )
        histogram = view.histogram(feature)
        if histogram is None:
            plot.plt.title("no numeric values in both the reference and the log")
        else:
            labels = [f"{edge:.3g}" for edge in histogram.edges[:-1]]
            shares = [list(histogram.reference), list(histogram.current)]
            # plotext's type stub calls the legend argument `label`; the code takes `labels`.
            plot.plt.multiple_bar(labels, shares, labels=["reference", "current"])  # type: ignore[call-arg]
            plot.plt.title(f"share of rows per bin (current: newest {CURRENT_ROWS})")
        plot.refresh()


def _importance_table(view: FeaturesView, feature: str) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    for column, justify in (
        ("type", "left"),
        ("value", "right"),
        ("rank", "right"),
        ("share", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for importance in view.importances:
        rank = importance.rank_of(feature)
        share = importance.share_of(feature)
        table.add_row(
            importance.kind + (" (Σ|list|)" if importance.reduced else ""),
            format_importance(importance.values.get(feature)),
            f"{rank} of {len(importance.values)}" if rank else "–",
            f"{share * 100:.1f}%" if share is not None else "–",
        )
    if not view.importances:
        table.add_row("(no importance files in the version's run)", "", "", "")
    return table


def _drift_lines(view: FeaturesView, feature: str) -> list[Text]:
    # Drift and correlations cover different rows, so each names its rows. Lines are short
    # because the detail is about 30 cells wide on an 80-column terminal.
    lines = []
    drift = view.column_drift(feature)
    if drift is not None:
        scores = drift.scores
        verdict = {True: "drifted", False: "no drift", None: drift.status.replace("_", " ")}[drift.drifted]
        lines.append(
            Text.assemble(("drift ", "dim"), (f"{verdict} ({drift.severity})", _SEVERITY_STYLE.get(drift.severity, "")))
        )
        lines.append(
            Text.assemble(
                ("psi ", "dim"),
                _number(scores.get("psi")),
                ("  ks p ", "dim"),
                _number(scores.get("ks_p_value")),
                ("  wass ", "dim"),
                _number(scores.get("wasserstein_normed")),
            )
        )
        lines.append(Text(f"· newest {_rows(view.current)} vs {_rows(view.reference)} ref rows", style="dim"))
    elif view.drift_error:
        lines.append(Text(f"drift: {view.drift_error}", style="dim"))
    else:
        lines.append(Text("drift: no reference data under reference/ in the version's run", style="dim"))
    relation = view.relation(feature)
    if relation is not None:
        lines.append(
            Text.assemble(
                ("corr actual ", "dim"),
                _number(relation.with_actual),
                ("  |error| ", "dim"),
                _number(relation.with_abs_error),
            )
        )
        lines.append(Text(f"· {relation.rows} log rows with actual", style="dim"))
    return lines


def _rows(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None else len(frame)


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"


# Correlation matrix layout: each value is "+0.12" plus one space, and a row label is
# the feature's number, a space and up to LABEL_NAME_CELLS of its name.
CELL_CELLS = 6
LABEL_NAME_CELLS = 16


class CorrelationPanel(Static, can_focus=True):
    """Pearson correlations among the top features, strong ones highlighted.

    Columns carry the features' numbers and rows their numbers and names, so the matrix
    fits 80 columns. A narrow panel shows fewer features, the top ones first.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last_args: tuple[pd.DataFrame | None, str, int] | None = None

    def show(self, matrix: pd.DataFrame | None, kind: str, rows: int = 0) -> None:
        """Draw `matrix` (top features by `kind` first), computed over `rows` log rows."""
        self._last_args = (matrix, kind, rows)
        if matrix is None:
            self.update(
                Text(
                    "Correlations need a prediction log with at least two numeric features.",
                    style="dim",
                )
            )
            return
        # Before the first layout the panel is 0 wide; the screen's width is the upper bound.
        width = self.content_region.width or self.app.size.width
        label_cells = 3 + LABEL_NAME_CELLS
        count = max(2, min(len(matrix.columns), (width - label_cells) // CELL_CELLS))
        names = [str(name) for name in matrix.columns[:count]]
        name_cells = max(4, min(LABEL_NAME_CELLS, width - 3 - count * CELL_CELLS))

        title = f"Pearson r: top {count} by {kind}, all {rows} rows"
        table = Table(title=title, box=None, padding=(0, 0, 0, 1), show_edge=False, title_justify="left")
        table.add_column("", no_wrap=True)
        for number in range(1, count + 1):
            table.add_column(str(number), justify="right", no_wrap=True, min_width=CELL_CELLS - 1)
        for number, name in enumerate(names, start=1):
            cells = [_correlation_cell(matrix.loc[name, other], same=name == other) for other in names]
            table.add_row(f"{number:>2} {shorten_middle(name, name_cells)}", *cells)
        self.update(table)

    def on_resize(self) -> None:
        if self._last_args is not None:
            self.show(*self._last_args)


def _correlation_cell(value: float | None, *, same: bool) -> Text:
    if same or value is None or not math.isfinite(value):
        return Text("·" if same else "n/a", style="dim")
    style = ""
    if abs(value) >= 0.7:
        style = "bold red"
    elif abs(value) >= 0.4:
        style = "yellow"
    return Text(f"{value:+.2f}", style=style)

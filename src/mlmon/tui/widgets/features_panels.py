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
    lines = []
    drift = view.column_drift(feature)
    if drift is not None:
        scores = drift.scores
        verdict = {True: "drifted", False: "no drift", None: drift.status.replace("_", " ")}[drift.drifted]
        lines.append(
            Text.assemble(
                ("drift ", "dim"),
                (f"{verdict} ({drift.severity})", _SEVERITY_STYLE.get(drift.severity, "")),
                ("  psi ", "dim"),
                _number(scores.get("psi")),
                ("  ks p ", "dim"),
                _number(scores.get("ks_p_value")),
                ("  wass ", "dim"),
                _number(scores.get("wasserstein_normed")),
            )
        )
    elif view.drift_error:
        lines.append(Text(f"drift: {view.drift_error}", style="dim"))
    else:
        lines.append(Text("drift: no reference data under reference/ in the version's run", style="dim"))
    relation = view.relation(feature)
    if relation is not None:
        lines.append(
            Text.assemble(
                ("corr with actual ", "dim"),
                _number(relation.with_actual),
                ("  with |error| ", "dim"),
                _number(relation.with_abs_error),
                (f"  ({relation.rows} rows)", "dim"),
            )
        )
    return lines


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"


class CorrelationPanel(Static, can_focus=True):
    """Pearson correlations among the top features, strong ones highlighted."""

    def show(self, matrix: pd.DataFrame | None, kind: str) -> None:
        if matrix is None:
            self.update(
                Text(
                    "Correlations need a prediction log with at least two numeric features.",
                    style="dim",
                )
            )
            return
        table = Table(title=f"Pearson r among the top features by {kind}", box=None, padding=(0, 1))
        table.add_column("")
        short = [name[:8] for name in matrix.columns]
        for name in short:
            table.add_column(name, justify="right")
        for name in matrix.index:
            cells = []
            for other in matrix.columns:
                value = matrix.loc[name, other]
                if name == other or value is None or not math.isfinite(value):
                    cells.append(Text("·" if name == other else "n/a", style="dim"))
                    continue
                style = ""
                if abs(value) >= 0.7:
                    style = "bold red"
                elif abs(value) >= 0.4:
                    style = "yellow"
                cells.append(Text(f"{value:+.2f}", style=style))
            table.add_row(str(name)[:NAME_CELLS], *cells)
        self.update(table)

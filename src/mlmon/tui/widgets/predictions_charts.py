"""plotext charts of the Predictions tab.

Each chart keeps the data it was last given and draws it on render, so a resize redraws
at the new size without recomputing anything. Series longer than the chart is wide are
thinned to about `MAX_POINTS` points (every k-th point), which plotext cannot show
apart anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from mlmon.tui.format import shorten_middle

if TYPE_CHECKING:
    import pandas as pd

MAX_POINTS = 1500
DATE_FORM = "Y-m-d"
# Rolling window (rows) that turns 0/1 labels into a readable share-of-positives line.
LABEL_SMOOTHING = 20


def thin(length: int) -> slice:
    """Return a slice that keeps about MAX_POINTS of `length` evenly spaced items."""
    step = max(1, -(-length // MAX_POINTS))
    return slice(None, None, step)


def date_labels(stamps: pd.Series) -> list[str]:
    """Format UTC timestamps the way plotext's date axis reads them."""
    return [stamp.strftime("%Y-%m-%d") for stamp in stamps]


class Chart(PlotextPlot):
    """A plotext chart with a title and an empty-state message when it has no data."""

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.message = "no data yet"
        self.has_data = False
        self.shown_title = title

    def start(self) -> None:
        """Clear the figure and set the title; subclasses then add their series."""
        self.plt.clear_figure()
        self.set_title(self.title)

    def set_title(self, title: str) -> None:
        """Set the title; `render` shortens it to the width at that time."""
        self.shown_title = title

    def render(self) -> RenderResult:
        # plotext drops a title wider than the plot area, so fit it to the current width.
        self.plt.title(shorten_middle(self.shown_title, max(self.size.width - 10, 12)))
        return super().render()

    def show_message(self, message: str) -> None:
        """Show `message` instead of a chart."""
        self.has_data = False
        self.message = message
        self.start()
        self.set_title(f"{self.title}: {message}")
        self.refresh()


class TimeChart(Chart):
    """Prediction and actual over time; 0/1 labels are drawn as rolling shares."""

    def show(self, frame: pd.DataFrame, classification: bool) -> None:
        if frame.empty:
            self.show_message("no predictions")
            return
        self.start()
        self.plt.date_form(DATE_FORM)
        keep = thin(len(frame))
        dates = date_labels(frame["timestamp"].iloc[keep])
        if classification:
            # Wider for long logs, so years of daily labels still read as a trend.
            rows = max(LABEL_SMOOTHING, len(frame) // 50)
            smooth = frame[["prediction", "actual"]].rolling(rows, min_periods=1).mean()
            predicted = smooth["prediction"].iloc[keep].tolist()
            observed = smooth["actual"].iloc[keep].ffill().fillna(0).tolist()
            self.plt.plot(dates, predicted, label="predicted 1s", marker="braille")
            self.plt.plot(dates, observed, label="actual 1s", marker="braille")
            # The legend names the series, so the title gives only the smoothing.
            self.set_title(f"share of 1s, {rows}-row mean")
        else:
            self.plt.plot(dates, frame["prediction"].iloc[keep].tolist(), label="prediction", marker="braille")
            known = frame[frame["actual"].notna()]
            known = known.iloc[thin(len(known))]
            if len(known):
                self.plt.plot(
                    date_labels(known["timestamp"]), known["actual"].tolist(), label="actual", marker="braille"
                )
        self.has_data = True
        self.refresh()


class ScatterChart(Chart):
    """Prediction against actual, one dot per row with an actual."""

    def show(self, prediction: Sequence[float], actual: Sequence[float]) -> None:
        if len(prediction) == 0:
            self.show_message("no rows with an actual")
            return
        self.start()
        keep = thin(len(prediction))
        self.plt.scatter(list(actual)[keep], list(prediction)[keep], marker="dot")
        self.plt.xlabel("actual")
        self.plt.ylabel("prediction")
        self.has_data = True
        self.refresh()


class ErrorHistogram(Chart):
    """Histogram of prediction − actual."""

    def show(self, errors: Sequence[float], bins: int = 30) -> None:
        if len(errors) == 0:
            self.show_message("no rows with an actual")
            return
        self.start()
        self.plt.hist(list(errors), bins=bins)
        self.plt.xlabel("prediction − actual")
        self.has_data = True
        self.refresh()


class LineChart(Chart):
    """One or more series over time (score, equity curve, metric trend)."""

    def show(self, series: dict[str, tuple[pd.Series, Sequence[float]]], y_label: str = "") -> None:
        series = {label: (x, y) for label, (x, y) in series.items() if len(y)}
        if not series:
            self.show_message(self.message)
            return
        self.start()
        self.plt.date_form(DATE_FORM)
        for label, (stamps, values) in series.items():
            keep = thin(len(values))
            self.plt.plot(date_labels(stamps.iloc[keep]), list(values)[keep], label=label, marker="braille")
        if y_label:
            self.plt.ylabel(y_label)
        self.has_data = True
        self.refresh()

"""Predictions tab: production predictions against actuals for the selected version.

Until the prediction-log reader lands this tab shows only what would feed it.
"""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from mlmon.snapshot import Snapshot
from mlmon.tui.tabs.base import Selection


class PredictionsTab(Static):
    """The Predictions tab. For now it shows a one-line empty state naming its data source."""

    DEFAULT_CLASSES = "empty-state"

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Say which prediction log would feed this tab for the selected version."""
        target = _target(selection)
        self.update(
            f"Predictions: no prediction log found for {escape(target)}; log batches under "
            "predictions/ in a run tagged mlmon.role=predictions."
        )


def _target(selection: Selection) -> str:
    if selection.model_name is None:
        return "the selected model (none selected)"
    if selection.version is None:
        return selection.model_name
    return f"{selection.model_name} v{selection.version}"

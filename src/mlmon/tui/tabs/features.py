"""Features tab: feature drift and importance for the selected version.

Until the drift reader lands this tab shows only what would feed it.
"""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from mlmon.snapshot import Snapshot
from mlmon.tui.tabs.base import Selection


class FeaturesTab(Static):
    """The Features tab. For now it shows a one-line empty state naming its data sources."""

    DEFAULT_CLASSES = "empty-state"

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Say which reference data and prediction log would feed this tab."""
        if selection.model_name is None:
            target = "the selected model (none selected)"
        elif selection.version is None:
            target = selection.model_name
        else:
            target = f"{selection.model_name} v{selection.version}"
        self.update(
            f"Features: no drift data for {escape(target)}; log training features under "
            "reference/ in the version's source run and prediction batches under predictions/."
        )

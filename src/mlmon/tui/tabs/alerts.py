"""Alerts tab: fired, acknowledged and snoozed alerts (not yet fed)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mlmon.snapshot import Snapshot
from mlmon.tui.tabs.base import Selection


class AlertsTab(Static):
    """The Alerts tab. For now it shows a one-line empty state naming what would feed it."""

    DEFAULT_CLASSES = "empty-state"

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Say where alert rules come from."""
        # A Text object, not a markup string, because the square brackets are TOML table names.
        self.update(
            Text(
                "Alerts: no alerts evaluated yet. Rules read thresholds from [alerts] and "
                '[models."NAME"].metrics in the config file.'
            )
        )

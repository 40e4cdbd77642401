"""Health tab: serving endpoint and host health for the selected version (not yet fed)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mlmon.snapshot import Snapshot
from mlmon.tui.format import plain
from mlmon.tui.tabs.base import Selection


class HealthTab(Static):
    """The Health tab. For now it shows a one-line empty state naming what would feed it."""

    DEFAULT_CLASSES = "empty-state"

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None:
        """Say which config key would feed this tab for the selected model."""
        name = selection.model_name or "NAME"
        self.update(
            Text.assemble(
                "Health: no endpoint probes or host metrics for ",
                plain(name),
                '. Set endpoint under [models."',
                plain(name),
                '"] in the config file.',
            )
        )

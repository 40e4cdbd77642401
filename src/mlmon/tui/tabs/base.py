"""The contract between the app and its tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mlmon.snapshot import Snapshot


@dataclass(frozen=True)
class Selection:
    """The registered model and version chosen in the picker."""

    model_name: str | None = None
    version: str | None = None


class SnapshotView(Protocol):
    """A tab that redraws itself from the newest Snapshot and the current selection.

    The screen calls `show_snapshot` for the visible tab on every new Snapshot and
    selection change, and again when a tab becomes visible, so hidden tabs cost nothing
    per poll. It must keep the user's own state (scroll, sort, chosen metric, window)
    across calls.
    """

    def show_snapshot(self, snapshot: Snapshot, selection: Selection) -> None: ...

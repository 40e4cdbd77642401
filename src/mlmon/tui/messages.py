"""Messages that cross widget boundaries: results from the poll worker and user intents.

Names are past tense because each reports something that already happened. The screen
that owns the state handles them, and widgets only post them.
"""

from __future__ import annotations

from textual.message import Message

from mlmon.snapshot import Snapshot, ViewRequest
from mlmon.tui.tabs.base import Selection


class SnapshotReady(Message):
    """The result of one poll: `snapshot` for the screen that `view` describes."""

    def __init__(self, snapshot: Snapshot, view: ViewRequest) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.view = view

    def can_replace(self, message: Message) -> bool:
        # Newest snapshot wins: a queued older one is dropped unread.
        return isinstance(message, SnapshotReady)


class ModelSelected(Message):
    """A registered model version chosen in the picker with Enter."""

    def __init__(self, selection: Selection) -> None:
        super().__init__()
        self.selection = selection


class VersionMarked(Message):
    """A version's run marked or unmarked for overlay on the Accuracy chart."""

    def __init__(self, model_name: str, version: str, run_id: str, marked: bool) -> None:
        super().__init__()
        self.model_name = model_name
        self.version = version
        self.run_id = run_id
        self.marked = marked


class ModelFilterChanged(Message):
    """A substring filter for registered model names, confirmed with Enter or cleared with Esc."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class MetricChosen(Message):
    """The metric key chosen for the Accuracy chart."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

"""The model picker: registered models with their versions and aliases, filterable with `/`.

A refresh rebuilds the list only when its entries changed, and then restores the
highlighted entry and the scroll offset, so polling never moves the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from mlmon.tracking import ModelVersion, RegisteredModel
from mlmon.tui.format import version_label
from mlmon.tui.messages import ModelFilterChanged, ModelSelected, VersionMarked
from mlmon.tui.tabs.base import Selection


@dataclass(frozen=True)
class _Entry:
    """One line of the list: a model heading (version is None) or one of its versions."""

    model_name: str
    version: str | None
    run_id: str | None
    label: str

    @property
    def option_id(self) -> str:
        # repr() of the pair is unique for any model name, whatever characters it contains.
        return repr((self.model_name, self.version))


class VersionList(OptionList):
    """The option list of the picker, with j/k added to the arrow keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class ModelPicker(Vertical):
    """Registered models and their versions. Enter selects, space marks, `/` filters."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "mark", "Mark for chart")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._models: tuple[RegisteredModel, ...] = ()
        self._entries: tuple[_Entry, ...] = ()
        self._empty_note = ""
        self.selection = Selection()
        self.marked: dict[str, tuple[str, str]] = {}
        """Run ids marked for overlay, each with its (model name, version)."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter models (Enter keeps, Esc clears)", id="model-filter")
        yield VersionList(id="version-list")

    @property
    def filter_input(self) -> Input:
        return self.query_one("#model-filter", Input)

    @property
    def version_list(self) -> VersionList:
        return self.query_one("#version-list", VersionList)

    @property
    def filter_text(self) -> str:
        return self.filter_input.value.strip()

    # Data in.

    def show_models(self, models: tuple[RegisteredModel, ...]) -> None:
        """Show the models of a new snapshot, keeping highlight, scroll and filter."""
        self._models = models
        self._rebuild()

    def _rebuild(self) -> None:
        entries = tuple(self._build_entries())
        # When the filter hides every model, a note names the filter. Without a filter the
        # Overview tab explains an empty list, because it also shows whether the poll failed.
        empty_note = f"No registered model matches {self.filter_text!r}." if not entries and self.filter_text else ""
        if entries == self._entries and empty_note == self._empty_note:
            return
        self._entries = entries
        self._empty_note = empty_note

        options = self.version_list
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        scroll_y = options.scroll_y
        options.clear_options()
        options.add_options(self._option(entry) for entry in entries)
        if empty_note:
            options.add_option(Option(Text(empty_note, style="italic"), id="empty-note", disabled=True))

        target = highlighted or self._selected_option_id()
        index = self._index_of(target)
        if index is None or not entries:
            index = next((i for i, entry in enumerate(entries) if entry.version is not None), None)
        options.highlighted = index
        options.scroll_to(y=scroll_y, animate=False, immediate=True)

    def _build_entries(self) -> list[_Entry]:
        needle = self.filter_text.lower()
        entries: list[_Entry] = []
        for model in sorted(self._models, key=lambda item: item.name.lower()):
            if needle and needle not in model.name.lower():
                continue
            heading = model.name if model.versions else f"{model.name} (no versions)"
            entries.append(_Entry(model.name, None, None, heading))
            versions = sorted(model.versions, key=lambda item: item.version_number, reverse=True)
            for version in versions:
                entries.append(self._version_entry(model, version))
        return entries

    def _version_entry(self, model: RegisteredModel, version: ModelVersion) -> _Entry:
        label = version_label(version.version, model.aliases_of(version.version))
        if version.current_stage not in ("", "None"):
            label += f" [{version.current_stage}]"
        selected = (self.selection.model_name, self.selection.version) == (
            model.name,
            version.version,
        )
        marked = version.run_id is not None and version.run_id in self.marked
        selected_mark = "▶" if selected else " "
        overlay_mark = "+" if marked else " "
        prefix = selected_mark + overlay_mark
        return _Entry(model.name, version.version, version.run_id, f"{prefix}{label}")

    @staticmethod
    def _option(entry: _Entry) -> Option:
        if entry.version is None:
            # Headings are disabled so the cursor moves only over versions.
            return Option(Text(entry.label, style="bold"), id=entry.option_id, disabled=True)
        return Option(Text(entry.label), id=entry.option_id)

    def _index_of(self, option_id: str | None) -> int | None:
        if option_id is None:
            return None
        try:
            return self.version_list.get_option_index(option_id)
        except Exception:  # OptionDoesNotExist: the entry is gone or filtered out.
            return None

    def _selected_option_id(self) -> str | None:
        if self.selection.model_name is None:
            return None
        return repr((self.selection.model_name, self.selection.version))

    def _entry_at(self, index: int | None) -> _Entry | None:
        if index is None or not 0 <= index < len(self._entries):
            return None
        return self._entries[index]

    # User intents out.

    def select(self, model_name: str, version: str) -> None:
        """Make `model_name` v`version` the selection and tell the screen."""
        self.selection = Selection(model_name, version)
        self._rebuild()
        self.post_message(ModelSelected(self.selection))

    def action_mark(self) -> None:
        """Mark or unmark the highlighted version's run for overlay on the chart."""
        entry = self._entry_at(self.version_list.highlighted)
        if entry is None or entry.version is None or entry.run_id is None:
            return
        marked = entry.run_id not in self.marked
        if marked:
            self.marked[entry.run_id] = (entry.model_name, entry.version)
        else:
            del self.marked[entry.run_id]
        self._rebuild()
        self.post_message(VersionMarked(entry.model_name, entry.version, entry.run_id, marked))

    @on(OptionList.OptionSelected, "#version-list")
    def _version_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self._entry_at(event.option_index)
        if entry is not None and entry.version is not None:
            self.select(entry.model_name, entry.version)

    def start_filter(self) -> None:
        """Show the filter field and move the focus into it."""
        self.filter_input.display = True
        self.filter_input.focus()

    @on(Input.Changed, "#model-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        # Narrow the loaded list at once. The server gets the filter only once it is confirmed.
        event.stop()
        self._rebuild()

    @on(Input.Submitted, "#model-filter")
    def _filter_confirmed(self, event: Input.Submitted) -> None:
        event.stop()
        self._leave_filter()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.filter_input.has_focus:
            event.stop()
            self.filter_input.value = ""
            self._leave_filter()

    def _leave_filter(self) -> None:
        self.filter_input.display = bool(self.filter_text)
        self.version_list.focus()
        self.post_message(ModelFilterChanged(self.filter_text))

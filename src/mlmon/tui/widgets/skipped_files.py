"""The red list of unreadable files above the Predictions and Features views."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static


def show_skipped_files(static: Static, problem: str | None, skipped: Sequence[str]) -> None:
    """Fill `static` with the skipped files, wrapped, in a quarter of the screen's height.

    The height cap set here overrides the stylesheet's `.panel-errors` cap, so the
    trimmed list and the visible area have the same number of lines.
    """
    max_lines = max(4, static.app.size.height // 4)
    parent = static.parent
    width = (parent.size.width if isinstance(parent, Widget) else 0) or static.app.size.width
    static.styles.max_height = max_lines
    # Two cells of `.panel-errors` padding.
    static.update(skipped_files_text(problem, skipped, width - 2, max_lines))
    static.display = bool(problem or skipped)


def skipped_files_text(problem: str | None, skipped: Sequence[str], width: int, max_lines: int) -> Text:
    """Return "N files skipped:" and one wrapped entry per file, within `max_lines` lines.

    `problem` is an error that stopped the whole read (shown first); `skipped` has one
    "<file>: <problem>" line per file. `width` is the text width in cells, used to count
    wrapped lines. Files that do not fit end in "… and N more".
    """
    width = max(width, 20)
    text = Text(style="bold red")
    used = 0
    if problem:
        text.append(problem + "\n")
        used += _lines(problem, width)
    if skipped:
        noun = "file" if len(skipped) == 1 else "files"
        text.append(f"{len(skipped)} {noun} skipped:\n")
        used += 1
    for index, error in enumerate(skipped):
        entry = f"• {error}"
        rest = len(skipped) - index
        # Keep the last line free for "… and N more" unless this is the last file.
        room = max_lines - used - (0 if rest == 1 else 1)
        if _lines(entry, width) > room and index > 0:
            text.append(f"… and {rest} more (all are in the log file)\n")
            break
        text.append(entry + "\n")
        used += _lines(entry, width)
    text.rstrip()
    return text


def _lines(line: str, width: int) -> int:
    console = Console(width=width, file=io.StringIO())
    return max(1, len(Text(line).wrap(console, width)))

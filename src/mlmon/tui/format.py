"""Formatting of values from the tracking store for display.

The helpers return `rich.text.Text` or plain strings meant for `Text` objects, so text
from the server is not parsed as Rich markup.
"""

from __future__ import annotations

import math
from datetime import datetime

from rich.text import Text


def format_value(value: float, digits: int = 6) -> str:
    """Format a metric value to `digits` significant digits, writing NaN and ±inf as words."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def format_time(epoch_ms: int | None) -> str:
    """Format an MLflow timestamp (epoch milliseconds) as local date and time, or "-"."""
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int | None, end_ms: int | None) -> str:
    """Format the time between two epoch-millisecond timestamps, e.g. "1 h 02 min", or "-"."""
    if start_ms is None or end_ms is None or end_ms < start_ms:
        return "-"
    seconds = (end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


def version_label(version: str, aliases: tuple[str, ...]) -> str:
    """Return a version with its aliases, e.g. "v1 @champion", user-set aliases first."""
    return " ".join([f"v{version}", *(f"@{alias}" for alias in aliases)])


def shorten_middle(text: str, width: int) -> str:
    """Cut the middle out of `text` so it fits `width` cells, keeping both ends."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return f"{text[:head]}…{text[len(text) - tail :]}"


def plain(text: object, style: str = "") -> Text:
    """Wrap server text in `Text` so square brackets in it are shown, not parsed as markup."""
    return Text(str(text), style=style)

"""Helpers for Pilot tests: build the app the CLI builds, record messages, wait with a bound."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from rich.console import Console
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Static

from mlmon.config import Settings
from mlmon.tui.app import MlmonApp, create_app
from mlmon.tui.screens.monitor import MonitorScreen

# Generous, because other test sessions share the 2 CPU cores and MLflow's first import is slow.
WAIT_S = 60.0


def build_app(uri: str, refresh_seconds: float = 30.0, **settings: object) -> MlmonApp:
    """Build the app through the same factory as the `mlmon` command."""
    return create_app(Settings(tracking_uri=uri, refresh_seconds=refresh_seconds, **settings))


class MessageLog:
    """Messages posted to (or bubbled up to) the monitor screen, in order."""

    def __init__(self, screen: MonitorScreen) -> None:
        self.messages: list[Message] = []
        original = screen.post_message

        def post(message: Message) -> bool:
            self.messages.append(message)
            return original(message)

        screen.post_message = post  # type: ignore[method-assign]

    def of(self, kind: type[Message]) -> list:
        return [message for message in self.messages if isinstance(message, kind)]


async def wait_for(
    pilot: Pilot, condition: Callable[[], object], what: str, timeout: float = WAIT_S
) -> None:
    """Let the app run until `condition()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)


def text_of(widget: Static, width: int = 120) -> str:
    """Render a Static's content to plain text, as a terminal `width` cells wide would show it."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()

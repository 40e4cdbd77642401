"""The top line: connection state, last good refresh, pause state and the server URI."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from mlmon.errors import SourceErrorKind
from mlmon.snapshot import ConnectionState, ConnectionStatus
from mlmon.tui.format import shorten_middle

_STATUS_STYLE = {
    ConnectionStatus.CONNECTING: "$text-warning",
    ConnectionStatus.OK: "$text-success",
    ConnectionStatus.UNREACHABLE: "$text-error",
    ConnectionStatus.ERROR: "$text-error",
}




def _clock(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%H:%M:%S") if moment else "-"


class StatusHeader(Widget):
    """One line showing whether the data on screen is current and where it came from."""

    server: reactive[str] = reactive("")
    """The tracking URI the monitor reads."""

    connection: reactive[ConnectionState] = reactive(ConnectionState)
    """The connection state reported by the latest poll."""

    polling: reactive[bool] = reactive(False)
    """Whether a poll is running now."""

    paused: reactive[bool] = reactive(False)
    """Whether timed refreshes are paused."""

    refresh_due: reactive[bool] = reactive(False)
    """Whether a timed refresh came due while paused, so newer data is probably waiting."""

    def watch_connection(self, connection: ConnectionState) -> None:
        # Data from before a failure stays on screen. The class lets the sheet mark it.
        self.set_class(connection.status in (ConnectionStatus.UNREACHABLE, ConnectionStatus.ERROR), "-stale")

    def watch_paused(self, paused: bool) -> None:
        self.set_class(paused, "-paused")

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("mlmon ", style="bold")
        line.append_text(self._state_text())

        if self.connection.last_success is not None:
            line.append(f"  refreshed {_clock(self.connection.last_success)}")
        if self.polling:
            line.append("  polling…", style="italic")
        if self.paused:
            line.append("  PAUSED", style="bold reverse")
            line.append(" newer data waiting, p resumes" if self.refresh_due else " p resumes")

        # The URI gets whatever width is left, shortened in the middle so host and file both show.
        room = self.size.width - line.cell_len - 2
        if room >= 12:
            line.append("  ")
            line.append(shorten_middle(self.server, room), style="dim")
        return line

    def _state_text(self) -> Text:
        connection = self.connection
        style = self.app.theme_variables.get(_STATUS_STYLE[connection.status].lstrip("$"), "")
        if connection.status is ConnectionStatus.OK:
            return Text("● ok", style=style)
        if connection.status is ConnectionStatus.CONNECTING:
            return Text("○ connecting", style=style)
        # Only data from an earlier good poll can be stale.
        stale = ", data stale" if connection.last_success else ""
        # Timeouts and refused connections both count as unreachable. The error kind
        # separates a server that accepts connections but never responds from one that is down.
        if connection.error_kind == SourceErrorKind.TIMED_OUT:
            return Text(f"✖ not responding since {_clock(connection.since)}{stale}", style=style)
        if connection.status is ConnectionStatus.UNREACHABLE:
            return Text(f"✖ unreachable since {_clock(connection.since)}{stale}", style=style)
        return Text(f"✖ error since {_clock(connection.since)}{stale}", style=style)

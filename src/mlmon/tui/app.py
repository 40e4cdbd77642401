"""The Textual app and `create_app`, the one factory the CLI and the tests use."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from mlmon.config import Settings
from mlmon.poller import Poller
from mlmon.sources.base import TrackingSource, open_source
from mlmon.tui.commands import MonitorCommands
from mlmon.tui.screens.help import HelpScreen
from mlmon.tui.screens.monitor import MonitorScreen

log = logging.getLogger(__name__)

STYLESHEET = "mlmon.tcss"


def stylesheet_path() -> Path | None:
    """Find mlmon.tcss: inside the installed package (wheel), else at the repository's top level."""
    packaged = resources.files("mlmon").joinpath(STYLESHEET)
    if packaged.is_file():
        return Path(str(packaged))
    # Editable install: src/mlmon/tui/app.py -> parents[3] is the repository root.
    checkout = Path(__file__).resolve().parents[3] / STYLESHEET
    if checkout.is_file():
        return checkout
    return None


class MlmonApp(App[None]):
    """mlmon's terminal UI: one MonitorScreen fed by a Poller over one tracking source."""

    TITLE = "mlmon"
    CSS_PATH = stylesheet_path()
    COMMANDS = App.COMMANDS | {MonitorCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, settings: Settings, source: TrackingSource) -> None:
        super().__init__()
        self.settings = settings
        self.source = source
        self.poller = Poller(source, settings)
        if self.CSS_PATH is None:
            log.warning(
                "stylesheet %s not found in the package or the checkout, so widget defaults apply",
                STYLESHEET,
            )

    def get_default_screen(self) -> MonitorScreen:
        return MonitorScreen()

    def action_help(self) -> None:
        """Show the key bindings."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def on_unmount(self) -> None:
        try:
            await self.source.aclose()
        except Exception:
            # Closing at exit must not hide the user's last screen behind a traceback.
            log.exception("closing the source for %s failed", self.source.uri)


def create_app(settings: Settings, source: TrackingSource | None = None) -> MlmonApp:
    """Build the app for `settings`, opening the tracking source unless one is given."""
    if source is None:
        source = open_source(settings.tracking_uri, settings)
    log.info("starting the monitor on %s", settings.tracking_uri)
    return MlmonApp(settings, source)

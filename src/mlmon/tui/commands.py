"""Command palette entries (ctrl+p) for every monitor action, including each chart metric."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from mlmon.tui.screens.monitor import TAB_IDS, MonitorScreen


class MonitorCommands(Provider):
    """Refresh, pause, tabs, filter, chart axes, tab views and windows, metric choice, by name."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen
        if not isinstance(screen, MonitorScreen):
            return []
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("Refresh now", screen.action_refresh, "Poll the tracking server at once (r)"),
            (
                "Resume refresh" if screen.paused else "Pause refresh",
                screen.action_toggle_pause,
                "Stop or restart timed polls (p)",
            ),
            ("Filter models", screen.action_filter_models, "Narrow the picker by name (/)"),
            (
                "Chart: cycle x axis",
                screen.accuracy.action_cycle_x,
                "Step, relative time, wall clock (x)",
            ),
            ("Chart: toggle log y", screen.accuracy.action_toggle_log, "Linear or log y axis (l)"),
            ("Show key bindings", screen.app.action_help, "List every key (?)"),
            (
                "Predictions: next window",
                partial(screen.run_tab_action, "predictions", "cycle_window", 1),
                "Metrics over the next window (w)",
            ),
            (
                "Predictions: previous window",
                partial(screen.run_tab_action, "predictions", "cycle_window", -1),
                "Metrics over the previous window (W)",
            ),
            (
                "Predictions: next view",
                partial(screen.run_tab_action, "predictions", "cycle_view", 1),
                "Overview, table, errors, task, trend (v)",
            ),
            (
                "Features: next view",
                partial(screen.run_tab_action, "features", "cycle_view"),
                "Importance or correlation (v)",
            ),
            (
                "Features: next importance type",
                partial(screen.run_tab_action, "features", "cycle_kind", 1),
                "Rank features by the next importance type (t)",
            ),
        ]
        for number, tab_id in enumerate(TAB_IDS, start=1):
            commands.append(
                (
                    f"Show tab: {tab_id.title()}",
                    partial(screen.action_show_tab, tab_id),
                    f"Key {number}",
                )
            )
        for key in screen.metric_keys():
            commands.append(
                (
                    f"Chart metric: {key}",
                    partial(screen.choose_metric, key),
                    "Draw this metric's history",
                )
            )
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            # The palette parses strings as markup, and metric keys come from the server.
            yield DiscoveryHit(Content(title), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(escape(title)), callback, text=title, help=help_text
                )

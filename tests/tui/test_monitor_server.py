"""Pilot test of the monitor on a real `mlflow server` over HTTP."""

from __future__ import annotations

import pytest

from mlmon.tui.screens.monitor import MonitorScreen
from mlmon.tui.tabs.accuracy import AccuracyTab
from tests.tui.helpers import build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio


async def test_server_overview_and_chart(mlflow_server) -> None:
    seeded = mlflow_server.seeded
    app = build_app(mlflow_server.uri)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        champion_run = seeded.run_ids["run-a"]
        await wait_for(
            pilot, lambda: screen.snapshot and champion_run in screen.snapshot.runs, "run-a loaded"
        )
        await pilot.pause()

        assert screen.header.connection.status == "ok"
        assert mlflow_server.uri in screen.header.render().plain
        overview = screen.query_one("#overview")
        assert champion_run in text_of(overview.card("run-card"))
        assert "@champion" in text_of(overview.card("version-card"))

        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        await wait_for(pilot, lambda: len(accuracy.plotted) == 2, "two plotted series")
        champion = next(series for series in accuracy.plotted if series.label == "v1 @champion")
        expected = seeded.histories["run-a"]["accuracy"]
        assert champion.x == tuple(float(step) for step, _ in expected)
        assert champion.y == pytest.approx([value for _, value in expected], rel=1e-12)

"""Pilot tests of the monitor against a seeded local sqlite store: list, select, chart, keys."""

from __future__ import annotations

import pytest

from mlmon.tui.app import stylesheet_path
from mlmon.tui.messages import MetricChosen, ModelSelected, SnapshotReady, VersionMarked
from mlmon.tui.screens.help import HelpScreen
from mlmon.tui.screens.monitor import TAB_IDS, MonitorScreen
from mlmon.tui.tabs.accuracy import AccuracyTab
from mlmon.tui.tabs.base import Selection
from tests.tui.helpers import MessageLog, build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio


def _seeded_value(value: float) -> str:
    # The display format, written out here instead of calling the code under test.
    return f"{value:.6g}"


async def test_startup_lists_seeded_model(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.snapshot is not None, "the first snapshot")
        await wait_for(pilot, lambda: log.of(ModelSelected), "the default selection")

        labels = [str(option.prompt) for option in screen.picker.version_list.options]
        assert labels[0] == local_store.seeded.model_name
        assert any(label.endswith("v2 @challenger") for label in labels)
        assert any(label.endswith("v1 @champion") for label in labels)
        # With nothing chosen yet, the champion is selected so the tabs show data at once.
        assert log.of(ModelSelected)[0].selection == Selection(local_store.seeded.model_name, "1")


async def test_selecting_version_fills_overview(local_store) -> None:
    seeded = local_store.seeded
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")

        # The list is: heading, v2, v1. Move to v2 and select it.
        screen.picker.version_list.focus()
        screen.picker.version_list.highlighted = 2
        await pilot.press("k", "enter")
        await wait_for(pilot, lambda: screen.selection.version == "2", "v2 to be selected")
        assert log.of(ModelSelected)[-1].selection == Selection(seeded.model_name, "2")

        run_id = seeded.run_ids["run-b"]
        await wait_for(pilot, lambda: run_id in screen.snapshot.runs, "run-b in a snapshot")
        await pilot.pause()
        overview = screen.query_one("#overview")
        version_card = text_of(overview.card("version-card"))
        run_card = text_of(overview.card("run-card"))
        metrics_card = text_of(overview.card("metrics-card"))
        params_card = text_of(overview.card("params-card"))

        assert "@challenger" in version_card
        assert seeded.model_name in version_card
        assert run_id in run_card
        assert "run-b" in run_card
        assert "FINISHED" in run_card
        assert "50 s" in run_card  # the seeded run ends 50 steps of 1 s after its start
        for key, value in seeded.params["run-b"].items():
            assert any(line.split() == [key, value] for line in params_card.splitlines())
        for key, history in seeded.histories["run-b"].items():
            last_step, last_value = history[-1]
            row = next(line.split() for line in metrics_card.splitlines() if line.split()[:1] == [key])
            assert row == [key, _seeded_value(last_value), str(last_step)]


async def test_accuracy_draws_seeded_histories(local_store) -> None:
    seeded = local_store.seeded
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")
        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        await wait_for(pilot, lambda: len(accuracy.plotted) == 2, "two plotted series")

        # The default metric is the first outside system/. v1 is selected, v2 overlaid.
        assert accuracy.metric_key == "accuracy"
        assert log.of(MetricChosen)[0].key == "accuracy"
        by_label = {series.label: series for series in accuracy.plotted}
        assert set(by_label) == {"v1 @champion", "v2 @challenger"}
        for label, run_name in (("v1 @champion", "run-a"), ("v2 @challenger", "run-b")):
            expected = seeded.histories[run_name]["accuracy"]
            assert by_label[label].x == tuple(float(step) for step, _ in expected)
            assert by_label[label].y == pytest.approx([value for _, value in expected], rel=1e-12)

        # The chart widget really drew: plotext uses braille cells for line markers.
        # Higher accuracy is better, so the max column carries the best-value star.
        legend = text_of(screen.query_one("#chart-legend"))
        assert "max ★" in legend
        assert "min ★" not in legend
        rendered = accuracy.chart.render().plain
        assert any("\u2800" <= char <= "\u28ff" for char in rendered)

        # Picking another metric posts MetricChosen and redraws from a new poll.
        accuracy.metric_select.value = "loss"
        await wait_for(pilot, lambda: log.of(MetricChosen)[-1].key == "loss", "MetricChosen(loss)")
        await wait_for(
            pilot,
            lambda: (
                accuracy.plotted and accuracy.plotted[0].y[0] == pytest.approx(seeded.histories["run-a"]["loss"][0][1])
            ),
            "the loss history",
        )
        assert screen.view_request().metric_key == "loss"
        assert "min ★" in text_of(screen.query_one("#chart-legend"))


async def test_number_keys_switch_tabs(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot is not None, "the first snapshot")
        for number in (2, 3, 4, 5, 6, 1):
            await pilot.press(str(number))
            tab_id = TAB_IDS[number - 1]
            assert screen.content.current == tab_id
            assert screen.query_one("#tab-bar").active == f"tab-{tab_id}"
        await pilot.press("5")
        health = text_of(screen.query_one("#health")).replace("\n", " ")
        assert "Health: no endpoint probes" in health


async def test_r_refreshes_now(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(
            pilot,
            lambda: screen.snapshot is not None and not screen.header.polling,
            "a quiet screen",
        )
        before = len(log.of(SnapshotReady))
        taken_at = screen.snapshot.taken_at

        await pilot.press("r")
        await wait_for(pilot, lambda: len(log.of(SnapshotReady)) > before, "a snapshot after r")
        await wait_for(pilot, lambda: screen.snapshot.taken_at > taken_at, "the new snapshot on screen")


async def test_p_pauses_timed_polls(local_store) -> None:
    app = build_app(local_store.uri, refresh_seconds=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        # The first snapshot selects a default version, which polls again: wait for that
        # poll to end too, or it would start while paused and spoil the count.
        await wait_for(
            pilot,
            lambda: screen.selection.model_name is not None
            and screen.snapshot is not None
            and screen.snapshot.predictions is not None
            and not screen.header.polling
            and screen._timer is not None,
            "the default selection's poll to end and the next timed poll to be scheduled",
        )

        await pilot.press("p")
        assert screen.paused
        polls = screen.polls_started
        snapshots = len(log.of(SnapshotReady))
        await pilot.pause(2.5)  # more than two refresh intervals
        assert screen.polls_started == polls
        assert len(log.of(SnapshotReady)) == snapshots
        assert screen.header.refresh_due
        assert "PAUSED newer data waiting" in screen.header.render().plain

        await pilot.press("p")
        assert not screen.paused
        assert screen.polls_started == polls + 1
        await wait_for(pilot, lambda: len(log.of(SnapshotReady)) > snapshots, "a snapshot after resuming")
        assert "PAUSED" not in screen.header.render().plain


async def test_help_and_command_palette(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot is not None, "the first snapshot")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is screen

        await pilot.press("ctrl+p")
        await pilot.press(*"pause refresh")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.paused, "the palette to pause polling")


async def test_chart_axes_and_marked_runs(local_store) -> None:
    seeded = local_store.seeded
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")
        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        await wait_for(pilot, lambda: len(accuracy.plotted) == 2, "two plotted series")
        champion = seeded.histories["run-a"]["accuracy"]

        # Seeded points are 1000 ms apart, so time since the first point equals the step in s.
        await pilot.press("x")
        assert accuracy.x_mode == "relative time"
        assert accuracy.plotted[0].x == pytest.approx([float(step) for step, _ in champion])
        await pilot.press("x")
        assert accuracy.x_mode == "wall clock"
        assert all(isinstance(value, str) for value in accuracy.plotted[0].x)
        await pilot.press("x", "l")
        assert accuracy.x_mode == "step"
        assert accuracy.log_y
        # Every seeded accuracy value is positive, so the log axis keeps all of them.
        assert len(accuracy.plotted[0].y) == len(champion)

        # Space marks the highlighted version (v2) for overlay and sends its run to the poller.
        screen.picker.version_list.focus()
        screen.picker.version_list.highlighted = 1
        await pilot.press("space")
        marked = log.of(VersionMarked)[-1]
        assert (marked.version, marked.run_id, marked.marked) == (
            "2",
            seeded.run_ids["run-b"],
            True,
        )
        assert screen.view_request().overlay_run_ids == (seeded.run_ids["run-b"],)
        assert str(screen.picker.version_list.get_option_at_index(1).prompt).startswith(" +v2")
        await pilot.press("space")
        assert screen.view_request().overlay_run_ids == ()


async def test_layout_fits_80x24(local_store) -> None:
    assert stylesheet_path() is not None
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")
        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        await wait_for(pilot, lambda: len(accuracy.plotted) == 2, "two plotted series")
        await pilot.pause()

        # The stylesheet applied: the picker has its narrow width, not a default 1fr.
        assert screen.picker.region.width == 24
        chart = accuracy.chart.region
        legend = screen.query_one("#chart-legend").region
        assert chart.width >= 50
        assert chart.height >= 10
        # Header, legend (heading plus one row per series) and footer all fit on screen.
        assert legend.height == 3
        assert legend.bottom <= 23
        assert screen.header.region.y == 0


async def test_overview_scrolls_with_keys_and_keeps_scroll(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        run_id = local_store.seeded.run_ids["run-a"]
        await wait_for(pilot, lambda: screen.snapshot and run_id in screen.snapshot.runs, "run-a loaded")
        await pilot.pause()
        overview = screen.query_one("#overview")
        # At 24 rows the four cards do not fit, so the tab scrolls.
        assert overview.max_scroll_y > 0

        overview.focus()
        await pilot.press("j", "j", "j")
        await wait_for(pilot, lambda: overview.scroll_y == 3, "three lines scrolled", timeout=5)
        before = len(log.of(SnapshotReady))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(log.of(SnapshotReady)) > before, "a refreshed snapshot")
        await pilot.pause()
        assert overview.scroll_y == 3
        await pilot.press("k")
        await wait_for(pilot, lambda: overview.scroll_y == 2, "one line back up", timeout=5)

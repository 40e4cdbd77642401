"""Pilot tests of what the monitor must survive: markup in server text, NaN and inf,
failed polls, and refreshes while the user is in the middle of something."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.snapshot import ConnectionStatus
from mlmon.sources.base import open_source
from mlmon.tui.app import create_app
from mlmon.tui.messages import ModelFilterChanged, SnapshotReady
from mlmon.tui.tabs.accuracy import AccuracyTab
from tests.sources.stub_server import StubServer
from tests.tui.helpers import MessageLog, build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio

MARKUP_MODEL = "markup-model"
EMPTY_MODEL = "empty-model"
MARKUP_PARAM = "[bold red]not a style[/]"
NAN_STEP = 5


@pytest.fixture(scope="module")
def markup_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local store whose run carries Rich markup in its text and NaN/inf in its metrics."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    root: Path = tmp_path_factory.mktemp("markup-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("markup", artifact_location=(root / "artifacts").as_uri())
    run = client.create_run(experiment, run_name="[i]run[/i]", start_time=1_700_000_000_000)
    run_id = run.info.run_id
    score = [
        Metric("score", math.nan if step == NAN_STEP else step / 10, 1_700_000_000_000 + step, step)
        for step in range(10)
    ]
    odd = [
        Metric("nan_metric", math.nan, 1_700_000_000_000, 0),
        Metric("inf_metric", math.inf, 1_700_000_000_000, 0),
        Metric("neg_inf_metric", -math.inf, 1_700_000_000_000, 0),
    ]
    client.log_batch(run_id, metrics=score + odd)
    client.log_param(run_id, "note", MARKUP_PARAM)
    client.set_terminated(run_id, "FINISHED", end_time=1_700_000_010_000)
    client.create_registered_model(MARKUP_MODEL)
    client.create_model_version(MARKUP_MODEL, source=f"runs:/{run_id}/model", run_id=run_id, description="[b]desc[/b]")
    client.set_registered_model_alias(MARKUP_MODEL, "champion", "1")
    client.create_registered_model(EMPTY_MODEL)
    yield uri


class FlakySource:
    """A real source with a switch that makes every call fail as a dead server (or a bug) would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.failure: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name == "aclose":
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.failure is not None:
                raise self.failure
            return await method(*args, **kwargs)

        return call


async def test_server_text_and_odd_values_shown_literally(markup_store: str) -> None:
    app = build_app(markup_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot and screen.snapshot.runs, "the run to load")
        await pilot.pause()
        overview = screen.query_one("#overview")
        params = text_of(overview.card("params-card"))
        metrics = {
            line.split()[0]: line.split()[1]
            for line in text_of(overview.card("metrics-card")).splitlines()[1:]
            if line.strip()
        }

        assert MARKUP_PARAM in params
        labels = [str(option.prompt) for option in screen.picker.version_list.options]
        assert labels[0] == f"{EMPTY_MODEL} (no versions)"
        assert "[i]run[/i]" in text_of(overview.card("run-card"))
        assert "[b]desc[/b]" in text_of(overview.card("version-card"))
        assert metrics["nan_metric"] == "NaN"
        assert metrics["inf_metric"] == "inf"
        assert metrics["neg_inf_metric"] == "-inf"

        # The chart skips the NaN point instead of drawing it as 0.
        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        accuracy.choose_metric("score")
        await wait_for(pilot, lambda: accuracy.plotted and accuracy.plotted[0].y, "the score history")
        plotted = accuracy.plotted[0]
        assert plotted.skipped == 1
        assert NAN_STEP not in plotted.x
        assert len(plotted.y) == 9


async def test_unreachable_server_keeps_stale_data(local_store) -> None:
    source = FlakySource(open_source(local_store.uri, Settings(tracking_uri=local_store.uri)))
    app = create_app(Settings(tracking_uri=local_store.uri), source=source)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        run_id = local_store.seeded.run_ids["run-a"]
        await wait_for(pilot, lambda: screen.snapshot and run_id in screen.snapshot.runs, "run-a loaded")

        source.failure = SourceError(SourceErrorKind.UNREACHABLE, "Cannot reach 127.0.0.1:9.", "Start the server.")
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: screen.header.connection.status == ConnectionStatus.UNREACHABLE,
            "unreachable",
        )
        assert "unreachable since" in screen.header.render().plain
        assert screen.content.has_class("-stale")
        assert screen.header.has_class("-stale")
        # The last good data stays on screen.
        assert run_id in text_of(screen.query_one("#overview").card("run-card"))
        assert len(screen.picker.version_list.options) == 3

        source.failure = None
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.header.connection.status == ConnectionStatus.OK, "recovery")
        assert not screen.content.has_class("-stale")


async def test_failed_worker_becomes_toast(local_store) -> None:
    source = FlakySource(open_source(local_store.uri, Settings(tracking_uri=local_store.uri)))
    app = create_app(Settings(tracking_uri=local_store.uri), source=source)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot is not None, "the first snapshot")

        source.failure = RuntimeError("boom [red]x[/red]")
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: screen.header.connection.status == ConnectionStatus.ERROR,
            "an error state",
        )
        messages = [notification.message for notification in app._notifications]
        assert any("boom [red]x[/red]" in message for message in messages)
        assert app.is_running
        assert screen._timer is not None  # the next poll is still scheduled


async def test_refresh_keeps_selection_filter_and_metric(local_store) -> None:
    seeded = local_store.seeded
    app = build_app(local_store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")

        await pilot.press("slash", *"seed", "enter")
        assert log.of(ModelFilterChanged)[-1].text == "seed"
        await pilot.press("2")
        accuracy = screen.query_one(AccuracyTab)
        await wait_for(pilot, lambda: accuracy.plotted, "the chart")
        accuracy.choose_metric("loss")
        screen.picker.version_list.focus()
        screen.picker.version_list.highlighted = 1  # v2, highlighted but not selected
        await wait_for(
            pilot,
            lambda: accuracy.plotted and accuracy.plotted[0].x and not screen.header.polling,
            "loss",
        )

        before = len(log.of(SnapshotReady))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(log.of(SnapshotReady)) > before, "the refreshed snapshot")
        await pilot.pause()

        assert screen.selection.version == "1"
        assert screen.picker.version_list.highlighted == 1
        assert screen.picker.filter_text == "seed"
        assert screen.view_request().model_filter == "seed"
        assert accuracy.metric_key == "loss"
        assert accuracy.metric_select.value == "loss"
        assert seeded.model_name in str(screen.picker.version_list.get_option_at_index(0).prompt)

        # A filter that matches nothing leaves only a note saying so, and Escape brings everything back.
        await pilot.press("slash", *"zzz")
        options = screen.picker.version_list
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            "No registered model matches 'zzz'."
        ]
        assert options.get_option_at_index(0).disabled
        await pilot.press("escape")
        assert screen.picker.version_list.option_count == 3


async def test_dead_server_explained_on_screen() -> None:
    from tests.mlflow_server import free_port

    # Nothing listens on this loopback port, so every request is refused.
    app = build_app(f"http://127.0.0.1:{free_port()}")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(
            pilot,
            lambda: screen.header.connection.status == ConnectionStatus.UNREACHABLE,
            "the unreachable state",
        )
        await pilot.pause()
        header = screen.header.render().plain
        assert "unreachable since" in header
        assert "data stale" not in header  # nothing was loaded, so nothing is stale
        overview = text_of(screen.query_one("#overview-empty")).replace("\n", " ")
        assert "Overview: no data." in overview
        assert screen.header.connection.error_fix in overview
        toasts = [notification.title for notification in app._notifications]
        assert toasts == ["Tracking server unreachable"]


def _overview_empty(screen) -> str:
    return text_of(screen.query_one("#overview-empty")).replace("\n", " ")


async def test_malformed_models_explained_on_screen() -> None:
    stub = StubServer(responses={"registered-models/search": {"registered_models": [{"foo": 1}]}}).start()
    try:
        app = build_app(stub.uri)
        async with app.run_test(size=(100, 24)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.header.connection.status == ConnectionStatus.ERROR, "the error state")
            await pilot.pause()
            connection = screen.header.connection
            assert f"{stub.uri}/api/2.0/mlflow/registered-models/search" in connection.error_title
            assert "'name'" in connection.error_title
            assert "error since" in screen.header.render().plain
            overview = _overview_empty(screen)
            assert "Overview: no data." in overview
            assert "malformed response" in overview
            assert "MLflow server" in overview  # the fix
            toasts = [(item.title, item.message) for item in app._notifications]
            assert [title for title, _ in toasts] == ["Tracking server error"]
            assert connection.error_title in toasts[0][1]
    finally:
        stub.stop()


async def test_silent_server_shows_not_responding() -> None:
    # A listening socket that never accepts: connections succeed but no response ever comes.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app = build_app(uri, read_timeout=1.0)
        async with app.run_test(size=(100, 24)) as pilot:
            screen = app.screen
            await wait_for(
                pilot, lambda: screen.header.connection.status == ConnectionStatus.UNREACHABLE, "the timeout"
            )
            await pilot.pause()
            header = screen.header.render().plain
            assert "not responding since" in header
            assert "unreachable" not in header
            assert "did not respond within 1 s" in _overview_empty(screen)
    finally:
        silent.close()


async def test_unknown_model_option_named_on_screen(local_store) -> None:
    app = build_app(local_store.uri, model_filter=("nosuchmodel",))
    async with app.run_test(size=(120, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot is not None, "the first snapshot")
        await pilot.pause()
        assert screen.header.connection.status == ConnectionStatus.OK
        overview = _overview_empty(screen)
        assert "no registered model named nosuchmodel (--model)" in overview
        assert "Register a model version" not in overview


async def test_confirmed_filter_without_match_named_on_screen(local_store) -> None:
    app = build_app(local_store.uri)
    async with app.run_test(size=(120, 24)) as pilot:
        screen = app.screen
        log = MessageLog(screen)
        await wait_for(pilot, lambda: screen.selection.model_name is not None, "the default selection")
        before = len(log.of(SnapshotReady))
        await pilot.press("slash", *"xyz", "enter")
        await wait_for(
            pilot,
            lambda: len(log.of(SnapshotReady)) > before and not screen.snapshot.models,
            "the filtered snapshot",
        )
        await pilot.pause()
        overview = _overview_empty(screen)
        assert "no registered model matches 'xyz'" in overview
        assert "Register a model version" not in overview
        assert "No registered model matches 'xyz'." in str(screen.picker.version_list.get_option_at_index(0).prompt)

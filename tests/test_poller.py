"""The poller against its own small server: sampled first loads, tail refreshes, idle cost.

The server here contains 30 runs, so the request counts show that an idle poll does not
grow with the number of runs. Expected history values come from MlflowClient's full
`get_metric_history`, an independent path through MLflow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.poller import RECOVERY_MAX_DELAY_S, Poller
from mlmon.snapshot import ConnectionStatus, ViewRequest
from mlmon.sources.history import FRESH_RUNS_PER_REQUEST
from mlmon.sources.mlflow_rest import RestSource
from tests.faultproxy import Fault, FaultProxy
from tests.mlflow_server import ServerHandle, start_server

RUNS = 30
STEPS = 300
BASE_TIME = 1_700_000_000_000
MODEL = "poller-model"
# An idle poll may cost this many requests, whatever the number of runs.
IDLE_REQUEST_LIMIT = 5


@dataclass
class PollerServer:
    handle: ServerHandle
    run_ids: list[str]
    experiment_id: str


def _loss(run: int, step: int) -> float:
    return 1.0 / (1 + step) + run / 100


@pytest.fixture(scope="module")
def poller_server(tmp_path_factory, isolated_environment) -> Iterator[PollerServer]:
    handle = start_server(tmp_path_factory.mktemp("poller-server"))
    try:
        client = MlflowClient(tracking_uri=handle.uri, registry_uri=handle.uri)
        experiment_id = client.create_experiment("poller")
        run_ids = []
        for index in range(RUNS):
            run_id = client.create_run(experiment_id, run_name=f"run-{index:02d}").info.run_id
            metrics = [Metric("loss", _loss(index, step), BASE_TIME + step, step) for step in range(STEPS)]
            client.log_batch(run_id, metrics=metrics)
            run_ids.append(run_id)
        client.create_registered_model(MODEL)
        for run_id in run_ids[:2]:
            client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
        client.set_registered_model_alias(MODEL, "champion", "1")
        client.set_registered_model_alias(MODEL, "challenger", "2")
        yield PollerServer(handle, run_ids, experiment_id)
    finally:
        handle.stop()


@pytest.fixture
def proxy(poller_server) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=poller_server.handle.uri).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest_asyncio.fixture(loop_scope="function")
async def source(proxy) -> AsyncIterator[RestSource]:
    source = RestSource(proxy.uri, Settings(tracking_uri=proxy.uri))
    try:
        yield source
    finally:
        await source.aclose()


def _view(run_ids: list[str], points: int = 50) -> ViewRequest:
    return ViewRequest(
        model_name=MODEL,
        version="1",
        metric_key="loss",
        overlay_run_ids=tuple(run_ids),
        chart_points=points,
    )


def _full_history(uri: str, run_id: str) -> dict[int, float]:
    client = MlflowClient(tracking_uri=uri)
    return {metric.step: metric.value for metric in client.get_metric_history(run_id, "loss")}


async def test_first_poll_samples_every_chart_run(poller_server, proxy, source):
    poller = Poller(source, source.settings)
    snapshot = await poller.poll(_view(poller_server.run_ids))
    assert snapshot.connection.status is ConnectionStatus.OK
    assert {series.run_id for series in snapshot.series} == set(poller_server.run_ids)
    # Whole histories come 10 runs a request: three sampled requests for 30 runs.
    assert proxy.count("get-history-bulk-interval") == RUNS // FRESH_RUNS_PER_REQUEST
    labels = {series.run_id: series.label for series in snapshot.series}
    assert labels[poller_server.run_ids[0]] == "v1"
    assert labels[poller_server.run_ids[1]] == "v2 @challenger"
    expected = _full_history(poller_server.handle.uri, poller_server.run_ids[5])
    series = next(item for item in snapshot.series if item.run_id == poller_server.run_ids[5])
    steps = [point.step for point in series.points]
    assert steps[0] == 0
    assert steps[-1] == STEPS - 1
    assert 40 <= len(steps) <= 60
    assert all(point.value == pytest.approx(expected[point.step]) for point in series.points)


async def test_idle_poll_cost_independent_of_run_count(poller_server, proxy, source):
    counts = {}
    for size in (3, RUNS):
        poller = Poller(source, source.settings)
        view = _view(poller_server.run_ids[:size])
        await poller.poll(view)
        proxy.reset_count()
        snapshot = await poller.poll(view)
        assert len(snapshot.series) == size
        counts[size] = proxy.count()
        assert proxy.count("get-history") == 0
    assert counts[3] == counts[RUNS]
    assert counts[RUNS] <= IDLE_REQUEST_LIMIT


async def test_refresh_fetches_only_the_new_tail(poller_server, proxy, source):
    uri = poller_server.handle.uri
    poller = Poller(source, source.settings)
    view = _view(poller_server.run_ids, points=50)
    await poller.poll(view)
    # Three runs keep training: 20 more steps each.
    changed = poller_server.run_ids[10:13]
    client = MlflowClient(tracking_uri=uri)
    for run_id in changed:
        last = max(_full_history(uri, run_id))
        new = [Metric("loss", 0.001 * step, BASE_TIME + step, step) for step in range(last + 1, last + 21)]
        client.log_batch(run_id, metrics=new)
    proxy.reset_count()
    snapshot = await poller.poll(view)

    history_requests = [item for item in proxy.requests if "get-history-bulk-interval" in item.path]
    assert len(history_requests) == 1
    query = parse_qs(urlparse(history_requests[0].path).query)
    assert sorted(query["run_ids"]) == sorted(changed)
    last_step = int(query["end_step"][0])
    assert int(query["start_step"][0]) == last_step - 20
    for run_id in changed:
        series = next(item for item in snapshot.series if item.run_id == run_id)
        expected = _full_history(uri, run_id)
        assert series.points[-1].step == max(expected)
        tail = [point for point in series.points if point.step > last_step - 20]
        assert [point.step for point in tail] == list(range(last_step - 19, last_step + 1))
        assert all(point.value == pytest.approx(expected[point.step]) for point in series.points)
        assert series.points[0].step == 0


async def test_poll_bad_history_keeps_other_data(poller_server, proxy, source):
    poller = Poller(source, source.settings)
    first = await poller.poll(_view(poller_server.run_ids[:4]))
    proxy.set_fault(Fault.TRUNCATED)
    proxy.only_path = "get-history"
    # A new chart width forces a full fetch, which the proxy spoils.
    snapshot = await poller.poll(_view(poller_server.run_ids[:4], points=80))
    assert snapshot.connection.status is ConnectionStatus.OK
    assert "incomplete" in snapshot.errors["chart"] or "not a JSON" in snapshot.errors["chart"]
    assert snapshot.models == first.models
    assert snapshot.series == first.series


async def test_poll_slow_history_marks_chart_only(poller_server, proxy):
    proxy.delay_s = 5.0
    proxy.set_fault(Fault.SLOW)
    proxy.only_path = "get-history"
    source = RestSource(proxy.uri, Settings(tracking_uri=proxy.uri, read_timeout=1.0))
    try:
        snapshot = await Poller(source, source.settings).poll(_view(poller_server.run_ids[:3]))
    finally:
        await source.aclose()
    assert snapshot.connection.status is ConnectionStatus.OK
    assert "did not respond within 1 s" in snapshot.errors["chart"]
    assert snapshot.models
    assert snapshot.series == ()


async def test_backoff_grows_to_a_ceiling_and_resets(poller_server, proxy, source):
    poller = Poller(source, Settings(tracking_uri=proxy.uri, refresh_seconds=10.0))
    proxy.set_fault(Fault.REFUSED)
    delays = []
    for _ in range(7):
        snapshot = await poller.poll(_view([]))
        assert snapshot.connection.status is ConnectionStatus.UNREACHABLE
        delays.append(poller.next_delay())
    assert delays == sorted(delays)
    assert delays[0] < 10.0
    # Backoff never waits longer than a normal poll would (the refresh interval is 10 s).
    assert delays[-1] == min(10.0, RECOVERY_MAX_DELAY_S)
    proxy.set_fault(Fault.NONE)
    assert (await poller.poll(_view([]))).connection.status is ConnectionStatus.OK
    assert poller.next_delay() == 10.0


def _page_transport(pages: dict[str | None, dict]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        token = None
        if request.method == "POST":
            import json

            token = json.loads(request.content).get("page_token")
        return httpx.Response(200, json=pages[token])

    return httpx.MockTransport(handle)


def _raw_run(run_id: str) -> dict:
    return {"info": {"run_id": run_id, "experiment_id": "1", "status": "RUNNING"}, "data": {}}


async def test_paging_drops_runs_seen_on_an_earlier_page():
    # Page tokens are offsets: a run created between the two reads shifts "b" onto page 2.
    pages = {
        None: {"runs": [_raw_run("a"), _raw_run("b")], "next_page_token": "t1"},
        "t1": {"runs": [_raw_run("b"), _raw_run("c")], "next_page_token": "t2"},
        "t2": {},
    }
    source = RestSource("http://127.0.0.1:9", Settings(tracking_uri="http://127.0.0.1:9"), _page_transport(pages))
    try:
        runs = await source.search_runs(["1"])
    finally:
        await source.aclose()
    assert [run.run_id for run in runs] == ["a", "b", "c"]


async def test_paging_stops_on_repeated_token():
    pages = {
        None: {"runs": [_raw_run("a")], "next_page_token": "same"},
        "same": {"runs": [_raw_run("a")], "next_page_token": "same"},
    }
    source = RestSource("http://127.0.0.1:9", Settings(tracking_uri="http://127.0.0.1:9"), _page_transport(pages))
    try:
        runs = await asyncio.wait_for(source.search_runs(["1"]), timeout=5)
    finally:
        await source.aclose()
    assert [run.run_id for run in runs] == ["a"]


async def test_poll_never_raises_source_error(poller_server):
    class Broken:
        uri = "http://127.0.0.1:9"

        async def search_registered_models(self, name_filter=None):
            raise SourceError(SourceErrorKind.SERVER_ERROR, "boom on http://127.0.0.1:9", "fix it")

    poller = Poller(Broken(), Settings(tracking_uri=Broken.uri))  # type: ignore[arg-type]
    snapshot = await poller.poll(_view([]))
    assert snapshot.connection.status is ConnectionStatus.ERROR
    assert snapshot.connection.error_title == "boom on http://127.0.0.1:9"
    assert snapshot.models == ()


async def test_models_new_version_and_alias_appear(poller_server, proxy, source):
    client = MlflowClient(tracking_uri=poller_server.handle.uri, registry_uri=poller_server.handle.uri)
    before = {model.name: model for model in await source.search_registered_models()}[MODEL]
    proxy.reset_count()
    again = {model.name: model for model in await source.search_registered_models()}[MODEL]
    # Nothing changed: the versions read before are reused.
    assert proxy.count("model-versions/search") == 0
    assert again == before

    run_id = poller_server.run_ids[2]
    created = client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "challenger", created.version)
    try:
        after = {model.name: model for model in await source.search_registered_models()}[MODEL]
        assert after.versions[0].version == created.version
        assert after.versions[0].run_id == run_id
        assert after.aliases["challenger"] == created.version
        assert after.versions[0].aliases == ("challenger",)
    finally:
        client.set_registered_model_alias(MODEL, "challenger", "2")
        client.delete_model_version(MODEL, created.version)

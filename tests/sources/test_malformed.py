"""The REST source against a stub server that returns 200 with JSON of the wrong shape.

Each case must end in a MALFORMED `SourceError` whose title names the server, the
endpoint and the field, never in a KeyError, and never in an empty result taken as data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.poller import Poller
from mlmon.snapshot import ConnectionStatus, ViewRequest
from mlmon.sources.mlflow_rest import RestSource
from tests.sources.stub_server import StubServer

MODELS = "registered-models/search"
VERSIONS = "model-versions/search"
RUNS = "runs/search"
HISTORY = "metrics/get-history-bulk-interval"
GOOD_MODELS = {"registered_models": [{"name": "m", "aliases": [{"alias": "champion", "version": "1"}]}]}
GOOD_VERSIONS = {"model_versions": [{"name": "m", "version": "1", "run_id": "r1"}]}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(loop_scope="function")
async def source(stub: StubServer) -> AsyncIterator[RestSource]:
    source = RestSource(stub.uri, Settings(tracking_uri=stub.uri, max_retries=0))
    try:
        yield source
    finally:
        await source.aclose()


async def _models(source: RestSource) -> Any:
    return await source.search_registered_models()


async def _runs(source: RestSource) -> Any:
    return await source.search_runs(["0"])


async def _history(source: RestSource) -> Any:
    return await source.metric_histories(["r1"], "loss")


async def _experiments(source: RestSource) -> Any:
    return await source.search_experiments()


async def _artifacts(source: RestSource) -> Any:
    return await source.list_artifacts("r1")


CASES = [
    # (responses, call, endpoint named in the title, words the title must contain)
    ({MODELS: {"registered_models": [{"foo": 1}]}}, _models, MODELS, ["'name'", '{"foo": 1}']),
    ({MODELS: {"registered_models": "notalist"}}, _models, MODELS, ["'registered_models'", "not a list"]),
    ({MODELS: {"registered_models": [7]}}, _models, MODELS, ["item 0", "not an object"]),
    (
        {MODELS: {"registered_models": [{"name": "m", "aliases": {"champion": "1"}}]}, VERSIONS: GOOD_VERSIONS},
        _models,
        MODELS,
        ["'aliases'", "not a list"],
    ),
    ({MODELS: {"registered_models": [{"name": ["m"]}]}}, _models, MODELS, ["'name'", "a list"]),
    ({MODELS: GOOD_MODELS, VERSIONS: {"model_versions": [{"name": "m"}]}}, _models, VERSIONS, ["'version'"]),
    ({MODELS: GOOD_MODELS, VERSIONS: {"model_versions": [{"version": "1"}]}}, _models, VERSIONS, ["'name'"]),
    (
        {MODELS: GOOD_MODELS, VERSIONS: {"model_versions": [{"name": "m", "version": "1", "tags": "x"}]}},
        _models,
        VERSIONS,
        ["'tags'", "not a list"],
    ),
    ({MODELS: {"registered_models": [{"name": "m"}], "next_page_token": 5}}, _models, MODELS, ["next_page_token"]),
    ({RUNS: {"runs": [{"info": "x"}]}}, _runs, RUNS, ["'info'", "not an object"]),
    ({RUNS: {"runs": [{"info": {"experiment_id": "0"}}]}}, _runs, RUNS, ["'run_id'"]),
    ({RUNS: {"runs": [{"info": {"run_id": "r1"}}]}}, _runs, RUNS, ["'experiment_id'"]),
    (
        {RUNS: {"runs": [{"info": {"run_id": "r1", "experiment_id": "0"}, "data": {"metrics": [{"value": 1}]}}]}},
        _runs,
        RUNS,
        ["'key'"],
    ),
    ({HISTORY: {"metrics": {"run_id": "r1"}}}, _history, HISTORY, ["'metrics'", "not a list"]),
    ({HISTORY: {"metrics": [{"run_id": "r1", "value": {"v": 1}}]}}, _history, HISTORY, ["metric value"]),
    ({HISTORY: {"metrics": [{"value": 1.0}]}}, _history, HISTORY, ["'run_id'"]),
    ({"experiments/search": {"experiments": [{"name": "e"}]}}, _experiments, "experiments/search", ["'experiment_id'"]),
    ({"artifacts/list": {"files": [{"is_dir": False}]}}, _artifacts, "artifacts/list", ["'path'"]),
]


@pytest.mark.parametrize(("responses", "call", "endpoint", "words"), CASES)
async def test_wrong_shape_is_a_malformed_response(stub, source, responses, call, endpoint, words):
    stub.responses.update(responses)
    with pytest.raises(SourceError) as caught:
        await call(source)
    error = caught.value
    assert error.kind is SourceErrorKind.MALFORMED
    assert f"{stub.uri}/api/2.0/mlflow/{endpoint}" in error.title
    for word in words:
        assert word in error.title
    assert "MLflow server" in error.fix


async def test_well_formed_stub_answers_parse(stub, source):
    # The same stub with MLflow's real shapes parses, so the cases above fail for their fault only.
    stub.responses.update(
        {
            MODELS: GOOD_MODELS,
            VERSIONS: GOOD_VERSIONS,
            RUNS: {
                "runs": [
                    {
                        "info": {"run_uuid": "r1", "experiment_id": "0"},
                        "data": {"metrics": [{"key": "loss", "value": "NaN", "step": 3}], "params": []},
                    }
                ]
            },
            HISTORY: {"metrics": [{"run_id": "r1", "key": "loss", "value": 0.5, "step": 1, "timestamp": 9}]},
        }
    )
    [model] = await source.search_registered_models()
    assert (model.name, model.aliases, [v.version for v in model.versions]) == ("m", {"champion": "1"}, ["1"])
    [run] = await source.search_runs(["0"])
    assert run.run_id == "r1"
    assert run.metrics["loss"].step == 3
    assert (await source.metric_histories(["r1"], "loss"))["r1"][0].value == 0.5
    assert await source.search_experiments() == []  # MLflow returns `{}` for a search without hits


async def test_poll_reports_malformed_models_as_error(stub, source):
    stub.responses[MODELS] = {"registered_models": [{"foo": 1}]}
    poller = Poller(source, source.settings)
    snapshot = await poller.poll(ViewRequest())
    assert snapshot.connection.status is ConnectionStatus.ERROR
    assert f"{stub.uri}/api/2.0/mlflow/{MODELS}" in snapshot.connection.error_title
    assert "'name'" in snapshot.connection.error_title
    assert snapshot.connection.error_fix

"""Fixtures for the source tests: one `source` fixture over both the REST and local source."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from mlmon.config import Settings
from mlmon.sources.base import TrackingSource, open_source
from tests.seed import Seeded

# Artifacts and metrics the contract tests add to the seeded run "run-c"; the names are
# namespaced so other tests that read the shared stores do not see them by accident.
ARTIFACT_DIR = "mlmon-contract"
IMPORTANCE = {"lag_1": 12.5, "rsi_14": 3.0}
SPECIAL_KEY = "contract/special"
# (step, value) as logged; MLflow stores ±inf as ±float max and returns NaN as "NaN".
SPECIAL_VALUES = [(0, math.nan), (1, math.inf), (2, -math.inf), (3, 1.5)]


@dataclass
class SourceCase:
    """A source under test and what was written into its store."""

    kind: str
    uri: str
    seeded: Seeded
    source: TrackingSource


def _add_contract_content(uri: str, seeded: Seeded, scratch: Path) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run_id = seeded.run_ids["run-c"]
    if any(item.path == ARTIFACT_DIR for item in client.list_artifacts(run_id)):
        return
    import json

    (scratch / "feature_importance_gain.json").write_text(json.dumps(IMPORTANCE))
    nested = scratch / "predictions"
    nested.mkdir()
    (nested / "2008-01.csv").write_text("timestamp,prediction\n1,0.5\n")
    client.log_artifact(run_id, str(scratch / "feature_importance_gain.json"), ARTIFACT_DIR)
    client.log_artifacts(run_id, str(nested), f"{ARTIFACT_DIR}/predictions")
    metrics = [
        Metric(SPECIAL_KEY, value, 1_700_000_000_000 + step, step) for step, value in SPECIAL_VALUES
    ]
    client.log_batch(run_id, metrics=metrics)


@pytest.fixture(scope="session")
def rest_content(mlflow_server, tmp_path_factory) -> Seeded:
    _add_contract_content(
        mlflow_server.uri, mlflow_server.seeded, tmp_path_factory.mktemp("rest-content")
    )
    return mlflow_server.seeded


@pytest.fixture(scope="session")
def local_content(local_store, tmp_path_factory) -> Seeded:
    _add_contract_content(
        local_store.uri, local_store.seeded, tmp_path_factory.mktemp("local-content")
    )
    return local_store.seeded


# The loop scope matches the tests' so the HTTP client opens and closes on one loop.
@pytest_asyncio.fixture(params=["rest", "local"], loop_scope="function")
async def source_case(request) -> AsyncIterator[SourceCase]:
    if request.param == "rest":
        server = request.getfixturevalue("mlflow_server")
        seeded = request.getfixturevalue("rest_content")
        uri = server.uri
    else:
        store = request.getfixturevalue("local_store")
        seeded = request.getfixturevalue("local_content")
        uri = store.uri
    source = open_source(uri, Settings(tracking_uri=uri))
    try:
        yield SourceCase(request.param, uri, seeded, source)
    finally:
        await source.aclose()

"""Shared fixtures: a real mlflow server, a local sqlite store, and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# MLflow 3 sends usage telemetry to a remote host unless it is disabled. The tests talk
# only to loopback, so telemetry is disabled before anything imports mlflow.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"

from tests.mlflow_server import ServerHandle, start_server
from tests.seed import Seeded, seed_store


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the developer's config, state, cache and MLFLOW_TRACKING_URI out of the tests."""
    home = tmp_path_factory.mktemp("mlmon-home")
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("MLFLOW_") and key != "MLFLOW_DISABLE_TELEMETRY":
                patch.delenv(key)
        patch.setenv("MLMON_CONFIG", str(home / "config.toml"))
        patch.setenv("MLMON_STATE_DIR", str(home / "state"))
        patch.setenv("MLMON_CACHE_DIR", str(home / "cache"))
        patch.setenv("MLMON_LOG_FILE", str(home / "mlmon.log"))
        # Autologging and system metrics are switched on per test where wanted.
        patch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")
        yield


@dataclass
class SeededServer:
    """A running seeded server."""

    handle: ServerHandle
    seeded: Seeded

    @property
    def uri(self) -> str:
        return self.handle.uri


@dataclass
class SeededLocalStore:
    """A seeded local sqlite store."""

    uri: str
    seeded: Seeded


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory, isolated_environment: None) -> Iterator[SeededServer]:
    """A real `mlflow server` on 127.0.0.1, seeded once per test session."""
    handle = start_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        seeded = seed_store(handle.uri)
        yield SeededServer(handle, seeded)
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def local_store(tmp_path_factory: pytest.TempPathFactory, isolated_environment: None) -> SeededLocalStore:
    """A local sqlite store seeded with the same content as the server."""
    root = tmp_path_factory.mktemp("local-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    seeded = seed_store(uri, artifact_root=root / "artifacts")
    return SeededLocalStore(uri, seeded)


@pytest.fixture
def fresh_dir(tmp_path: Path) -> Path:
    """An empty directory for one test's files."""
    return tmp_path

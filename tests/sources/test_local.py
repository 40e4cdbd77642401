"""LocalSource cases that only a local store has: missing stores and worker threads."""

from __future__ import annotations

import threading

import pytest

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources.mlflow_local import LocalSource


async def test_missing_sqlite_store_is_not_created(tmp_path):
    path = tmp_path / "absent" / "mlflow.db"
    uri = f"sqlite:///{path}"
    source = LocalSource(uri, Settings(tracking_uri=uri))
    with pytest.raises(SourceError) as caught:
        await source.search_experiments()
    assert caught.value.kind is SourceErrorKind.NOT_FOUND
    assert str(path) in caught.value.title
    assert not path.exists()


async def test_client_calls_run_off_the_event_loop(local_store, monkeypatch):
    source = LocalSource(local_store.uri, Settings(tracking_uri=local_store.uri))
    threads = []
    original = source._client

    def record_thread():
        threads.append(threading.current_thread())
        return original()

    monkeypatch.setattr(source, "_client", record_thread)
    await source.search_experiments()
    assert threads
    assert threads[0] is not threading.main_thread()

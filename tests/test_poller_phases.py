"""A poll hands over tracking data before it reads the prediction log."""

from __future__ import annotations

from mlmon.config import Settings
from mlmon.poller import Poller
from mlmon.snapshot import ConnectionStatus, Snapshot, ViewRequest
from mlmon.sources.base import open_source


async def test_tracking_data_arrives_before_insights(local_store):
    source = open_source(local_store.uri, Settings(tracking_uri=local_store.uri))
    poller = Poller(source, Settings(tracking_uri=local_store.uri))
    model = local_store.seeded.model_name
    view = ViewRequest(model_name=model, version="2", metric_key="loss")
    early: list[Snapshot] = []
    try:
        final = await poller.poll(view, on_tracking=early.append)
        second = await poller.poll(view, on_tracking=early.append)
    finally:
        await source.aclose()

    assert len(early) == 2
    first_early = early[0]
    assert first_early.connection.status is ConnectionStatus.OK
    assert first_early.model(model) is not None
    assert local_store.seeded.run_ids["run-b"] in first_early.runs
    assert first_early.series
    # Nothing was collected before the first poll, so the early snapshot has no insight yet.
    assert first_early.predictions is None
    assert final.predictions is not None
    assert final.predictions.model_name == model
    # Later early snapshots keep the previous insight on screen instead of blanking it.
    assert early[1].predictions is final.predictions
    assert second.predictions is not None


async def test_backoff_ceiling_follows_refresh(tmp_path):
    missing = f"sqlite:///{tmp_path / 'absent' / 'mlflow.db'}"
    delays: dict[float, list[float]] = {}
    for refresh in (5.0, 300.0):
        settings = Settings(tracking_uri=missing, refresh_seconds=refresh)
        source = open_source(missing, settings)
        poller = Poller(source, settings)
        try:
            delays[refresh] = []
            for _ in range(8):
                snapshot = await poller.poll(ViewRequest())
                assert snapshot.connection.status is not ConnectionStatus.OK
                delays[refresh].append(poller.next_delay())
        finally:
            await source.aclose()

    # A short refresh caps the backoff at the refresh interval itself.
    assert delays[5.0] == [2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    # A long refresh still retries within a minute, so recovery shows up sooner.
    assert delays[300.0] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]

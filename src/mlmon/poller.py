"""One polling cycle: fetch what the screen shows, then hand back a Snapshot.

The poller never touches widgets. The TUI runs `poll()` in an exclusive worker, posts
the Snapshot it returns, and schedules the next cycle when this one ends, so polls never
overlap. On failure the last good data is returned again with the connection marked
unreachable or in error, so stale data stays on screen.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.insights import InsightCollector
from mlmon.snapshot import ConnectionState, ConnectionStatus, Series, Snapshot, ViewRequest
from mlmon.sources.base import TrackingSource
from mlmon.tracking import RegisteredModel, Run

log = logging.getLogger(__name__)

# Aliases whose versions the Accuracy chart overlays by default.
OVERLAY_ALIASES = ("champion", "challenger")
_UNREACHABLE_KINDS = {SourceErrorKind.UNREACHABLE, SourceErrorKind.TIMED_OUT}


class Poller:
    """Turns one `ViewRequest` into one `Snapshot` per call, keeping the last good data."""

    def __init__(self, source: TrackingSource, settings: Settings) -> None:
        self.source = source
        self.settings = settings
        self._connection = ConnectionState()
        self._last: Snapshot | None = None
        self._insights = InsightCollector(source, settings)

    @property
    def connection(self) -> ConnectionState:
        """The connection state after the latest poll."""
        return self._connection

    async def poll(self, view: ViewRequest) -> Snapshot:
        """Run one cycle and return a Snapshot; never raises `SourceError`."""
        now = datetime.now().astimezone()
        try:
            snapshot = await self._fetch(view, now)
        except SourceError as exc:
            log.warning("poll of %s failed: %s", self.source.uri, exc)
            return self._failed(exc, now)

        self._connection = ConnectionState(status=ConnectionStatus.OK, since=now, last_success=now)
        snapshot = replace(snapshot, connection=self._connection)
        self._last = snapshot
        return snapshot

    async def _fetch(self, view: ViewRequest, now: datetime) -> Snapshot:
        models = await self.source.search_registered_models(view.model_filter or None)
        models = self._apply_model_filter(models)
        model = next((item for item in models if item.name == view.model_name), None)

        run_ids = self._runs_to_load(model, view)
        runs = {run.run_id: run for run in await self.source.get_runs(run_ids)} if run_ids else {}

        series: tuple[Series, ...] = ()
        if model is not None and view.metric_key:
            series = await self._series(model, runs, view)

        # Prediction log and feature data of the selected version; failures end up in
        # the returned states, never here.
        predictions, features = await self._insights.collect(model, view.version)

        return Snapshot(
            server=self.source.uri,
            taken_at=now,
            connection=self._connection,
            models=tuple(models),
            runs=runs,
            series=series,
            predictions=predictions,
            features=features,
        )

    def _apply_model_filter(self, models: list[RegisteredModel]) -> list[RegisteredModel]:
        wanted = self.settings.model_filter
        if not wanted:
            return models
        return [model for model in models if model.name in wanted]

    @staticmethod
    def _runs_to_load(model: RegisteredModel | None, view: ViewRequest) -> list[str]:
        run_ids: list[str] = []
        if model is not None:
            run_ids.extend(version.run_id for version in model.versions if version.run_id)
        run_ids.extend(view.overlay_run_ids)
        return list(dict.fromkeys(run_ids))

    async def _series(self, model: RegisteredModel, runs: dict[str, Run], view: ViewRequest) -> tuple[Series, ...]:
        labels = _chart_labels(model, view)
        wanted = [run_id for run_id in labels if run_id in runs and view.metric_key in runs[run_id].metrics]
        if not wanted or view.metric_key is None:
            return ()
        histories = await self.source.metric_histories(wanted, view.metric_key, max_points=view.chart_points)
        return tuple(
            Series(run_id=run_id, key=view.metric_key, label=labels[run_id], points=tuple(histories.get(run_id, [])))
            for run_id in wanted
        )

    def _failed(self, exc: SourceError, now: datetime) -> Snapshot:
        previous = self._connection
        status = ConnectionStatus.UNREACHABLE if exc.kind in _UNREACHABLE_KINDS else ConnectionStatus.ERROR
        since = previous.since if previous.status == status and previous.since else now
        self._connection = ConnectionState(
            status=status,
            since=since,
            last_success=previous.last_success,
            error_title=exc.title,
            error_fix=exc.fix,
            failures=previous.failures + 1,
        )
        if self._last is None:
            return Snapshot(server=self.source.uri, taken_at=now, connection=self._connection)
        return replace(self._last, connection=self._connection)


def _chart_labels(model: RegisteredModel, view: ViewRequest) -> dict[str, str]:
    """Return run id -> legend label: the selected version, champion/challenger, overlays."""
    labels: dict[str, str] = {}
    by_version = {version.version: version for version in model.versions}

    def add(version: str | None, suffix: str = "") -> None:
        item = by_version.get(version or "")
        if item is not None and item.run_id and item.run_id not in labels:
            labels[item.run_id] = f"v{item.version}{suffix}"

    add(view.version)
    for alias in OVERLAY_ALIASES:
        add(model.aliases.get(alias), f" @{alias}")
    for run_id in view.overlay_run_ids:
        labels.setdefault(run_id, run_id[:8])
    return labels

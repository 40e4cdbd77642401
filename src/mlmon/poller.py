"""One polling cycle: fetch what the screen shows, then hand back a Snapshot.

The poller never touches widgets. The TUI runs `poll()` in an exclusive worker, posts
the Snapshot it returns, and schedules the next cycle after `next_delay()` seconds, so
polls never overlap. On failure the last good data is returned again with the
connection marked unreachable or in error, so stale data stays on screen, and
`next_delay()` backs off until the server responds again.

A poll requests only what is on screen and only what changed: registered models and
all their versions (two requests), the runs behind the selected model's versions and the
chart's overlays with their latest values (one `runs/search`), and metric histories only
for the chart's runs and metric, where a run whose latest value did not move costs no
request at all. An idle poll therefore costs the same few requests whatever the number
of runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.insights import InsightCollector
from mlmon.snapshot import ConnectionState, ConnectionStatus, Series, Snapshot, ViewRequest
from mlmon.sources.base import TrackingSource
from mlmon.sources.history import HistoryCache
from mlmon.tracking import RegisteredModel, Run

log = logging.getLogger(__name__)

# Aliases whose versions the Accuracy chart overlays by default.
OVERLAY_ALIASES = ("champion", "challenger")
_UNREACHABLE_KINDS = {SourceErrorKind.UNREACHABLE, SourceErrorKind.TIMED_OUT}
# After a failed poll the next one comes after 2 s, then 4, 8, ... up to the refresh
# interval, or RECOVERY_MAX_DELAY_S if that is shorter. A server that comes back is
# noticed within seconds and never later than a normal poll would notice it, while one
# that stays down gets no more requests than it would while up.
RECOVERY_FIRST_DELAY_S = 2.0
RECOVERY_MAX_DELAY_S = 60.0


class Poller:
    """Turns one `ViewRequest` into one `Snapshot` per call, keeping the last good data."""

    def __init__(self, source: TrackingSource, settings: Settings) -> None:
        self.source = source
        self.settings = settings
        self._connection = ConnectionState()
        self._last: Snapshot | None = None
        self._insights = InsightCollector(source, settings)
        self._histories = HistoryCache()
        self._retry_after: float | None = None

    @property
    def connection(self) -> ConnectionState:
        """The connection state after the latest poll."""
        return self._connection

    def next_delay(self) -> float:
        """Seconds until the next poll: the refresh interval, or a backoff after failures.

        A rate-limited server's `Retry-After` is honoured when it is longer.
        """
        failures = self._connection.failures
        if self._connection.status in (ConnectionStatus.OK, ConnectionStatus.CONNECTING) or not failures:
            return self.settings.refresh_seconds
        ceiling = max(min(self.settings.refresh_seconds, RECOVERY_MAX_DELAY_S), RECOVERY_FIRST_DELAY_S)
        delay = min(RECOVERY_FIRST_DELAY_S * 2 ** min(failures - 1, 16), ceiling)
        if self._retry_after is not None:
            delay = max(delay, min(self._retry_after, 3600.0))
        return delay

    async def poll(self, view: ViewRequest, on_tracking: Callable[[Snapshot], None] | None = None) -> Snapshot:
        """Run one cycle and return a Snapshot; never raises `SourceError`.

        Reading a version's prediction log and feature files can take seconds on a cold
        cache, so `on_tracking`, when given, receives the Snapshot as soon as the models,
        runs and chart are in; it still carries the previous prediction and feature states.
        """
        now = datetime.now().astimezone()
        try:
            snapshot, model = await self._fetch_tracking(view, now)
        except SourceError as exc:
            log.warning("poll of %s failed: %s", self.source.uri, exc)
            return self._failed(exc, now)

        previous = self._connection
        since = previous.since if previous.status is ConnectionStatus.OK and previous.since else now
        self._connection = ConnectionState(status=ConnectionStatus.OK, since=since, last_success=now)
        self._retry_after = None
        snapshot = replace(snapshot, connection=self._connection)
        if self._last is not None:
            snapshot = replace(snapshot, predictions=self._last.predictions, features=self._last.features)
        if on_tracking is not None:
            on_tracking(snapshot)

        # Prediction log and feature data of the selected version; failures end up in
        # the returned states, never here. Further per-model collectors go here too.
        predictions, features = await self._insights.collect(model, view.version)
        snapshot = replace(snapshot, predictions=predictions, features=features)
        self._last = snapshot
        return snapshot

    async def _fetch_tracking(self, view: ViewRequest, now: datetime) -> tuple[Snapshot, RegisteredModel | None]:
        models = await self.source.search_registered_models(view.model_filter or None)
        models = self._apply_model_filter(models)
        model = next((item for item in models if item.name == view.model_name), None)

        run_ids = self._runs_to_load(model, view)
        runs = {run.run_id: run for run in await self.source.get_runs(run_ids)} if run_ids else {}

        series: tuple[Series, ...] = ()
        errors: dict[str, str] = {}
        if view.metric_key and (model is not None or view.overlay_run_ids):
            try:
                series = await self._series(model, runs, view)
            except SourceError as exc:
                if exc.kind is SourceErrorKind.UNREACHABLE:
                    raise
                # The server responded to this poll's other requests, so a timed-out or bad
                # history response spoils the chart only, not the rest of the screen.
                log.warning("chart data from %s failed: %s", self.source.uri, exc)
                errors["chart"] = f"{exc.title} {exc.fix}".strip()
                previous = self._last.series if self._last is not None else ()
                series = tuple(item for item in previous if item.key == view.metric_key)

        snapshot = Snapshot(
            server=self.source.uri,
            taken_at=now,
            connection=self._connection,
            models=tuple(models),
            runs=runs,
            series=series,
            errors=errors,
        )
        return snapshot, model

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

    async def _series(
        self, model: RegisteredModel | None, runs: dict[str, Run], view: ViewRequest
    ) -> tuple[Series, ...]:
        key = view.metric_key
        labels = _chart_labels(model, view)
        wanted = [run_id for run_id in labels if run_id in runs and key in runs[run_id].metrics]
        if not wanted or key is None:
            return ()
        latest = {run_id: runs[run_id].metrics[key] for run_id in wanted}
        histories = await self._histories.histories(self.source, latest, key, view.chart_points)
        return tuple(
            Series(
                run_id=run_id,
                key=key,
                label=labels[run_id],
                points=tuple(histories.get(run_id, [])),
            )
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
            error_kind=str(exc.kind),
            failures=previous.failures + 1,
        )
        self._retry_after = getattr(exc, "retry_after", None)
        if self._last is None:
            return Snapshot(server=self.source.uri, taken_at=now, connection=self._connection)
        return replace(self._last, connection=self._connection)


def _chart_labels(model: RegisteredModel | None, view: ViewRequest) -> dict[str, str]:
    """Return run id -> legend label: the selected version, champion/challenger, overlays."""
    labels: dict[str, str] = {}
    by_version = {version.version: version for version in model.versions} if model else {}
    aliases = model.aliases if model else {}

    def add(version: str | None, suffix: str = "") -> None:
        item = by_version.get(version or "")
        if item is not None and item.run_id and item.run_id not in labels:
            labels[item.run_id] = f"v{item.version}{suffix}"

    add(view.version)
    for alias in OVERLAY_ALIASES:
        add(aliases.get(alias), f" @{alias}")
    for run_id in view.overlay_run_ids:
        labels.setdefault(run_id, run_id[:8])
    return labels

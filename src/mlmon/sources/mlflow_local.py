"""`LocalSource`: a local MLflow store (sqlite: or file:) read through MlflowClient.

MlflowClient is synchronous and takes over a second to import. The client is built and
every call runs in a worker thread (`asyncio.to_thread`), so the event loop never waits
on it. The registry URI is the tracking URI: a local store keeps both in one database.
A sqlite store that does not exist raises `SourceError` instead of being created, since
mlmon only reads.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources.history import sample_points
from mlmon.tracking import (
    ArtifactInfo,
    Experiment,
    LatestMetric,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    Run,
    metric_value,
)

T = TypeVar("T")
MAX_RUNS_PER_HISTORY_CALL = 100
MAX_POINTS_PER_RUN = 2500
_RUNS_PAGE = 1000


class LocalSource:
    """A `TrackingSource` for sqlite:, file: and plain-path tracking URIs."""

    def __init__(self, uri: str, settings: Settings) -> None:
        self.uri = uri
        self.settings = settings
        self._client_instance: Any = None
        self._client_lock = threading.Lock()

    async def aclose(self) -> None:
        self._client_instance = None

    async def server_version(self) -> str:
        def version() -> str:
            import mlflow

            return str(mlflow.__version__)

        return await self._call("the MLflow version", lambda _client: version())

    async def search_experiments(self) -> list[Experiment]:
        def read(client: Any) -> list[Experiment]:
            from mlflow.entities import ViewType

            experiments = _all_pages(
                lambda token: client.search_experiments(
                    view_type=ViewType.ACTIVE_ONLY,
                    max_results=1000,
                    order_by=["last_update_time DESC"],
                    page_token=token,
                )
            )
            return [
                Experiment(
                    str(item.experiment_id), item.name, item.lifecycle_stage, item.last_update_time
                )
                for item in _unique(experiments, lambda item: item.experiment_id)
            ]

        return await self._call("experiments", read)

    async def search_registered_models(
        self, name_filter: str | None = None
    ) -> list[RegisteredModel]:
        def read(client: Any) -> list[RegisteredModel]:
            model_filter = f"name ILIKE {_quote('%' + name_filter + '%')}" if name_filter else None
            models = _unique(
                _all_pages(
                    lambda token: client.search_registered_models(
                        filter_string=model_filter, max_results=1000, page_token=token
                    )
                ),
                lambda item: item.name,
            )
            if not models:
                return []
            version_filter = None
            if name_filter:
                version_filter = f"name IN ({', '.join(_quote(model.name) for model in models)})"
            versions = _unique(
                _all_pages(
                    lambda token: client.search_model_versions(
                        filter_string=version_filter, max_results=10_000, page_token=token
                    )
                ),
                lambda item: (item.name, str(item.version)),
            )
            by_model: dict[str, list[Any]] = {}
            for version in versions:
                by_model.setdefault(version.name, []).append(version)
            return [_registered_model(model, by_model.get(model.name, [])) for model in models]

        return await self._call("registered models", read)

    async def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        wanted = list(dict.fromkeys(run_ids))

        def read(client: Any) -> list[Run]:
            from mlflow.exceptions import MlflowException

            runs = []
            for run_id in wanted:
                try:
                    run = client.get_run(run_id)
                except MlflowException as exc:
                    if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                        continue
                    raise
                if run.info.lifecycle_stage == "active":
                    runs.append(_run(run))
            return runs

        return await self._call(f"{len(wanted)} runs", read) if wanted else []

    async def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
    ) -> list[Run]:
        if not experiment_ids:
            return []

        def read(client: Any) -> list[Run]:
            from mlflow.entities import ViewType

            page_size = min(max(max_results, 1), _RUNS_PAGE)
            runs: dict[str, Run] = {}
            token = None
            seen: set[str] = set()
            while len(runs) < max_results:
                page = client.search_runs(
                    list(experiment_ids),
                    filter_string,
                    ViewType.ACTIVE_ONLY,
                    page_size,
                    page_token=token,
                )
                for item in page:
                    runs.setdefault(item.info.run_id, _run(item))
                token = page.token
                if not token or token in seen:
                    break
                seen.add(token)
            return list(runs.values())[:max_results]

        return await self._call(f"runs matching {filter_string!r}", read)

    async def metric_histories(
        self,
        run_ids: Sequence[str],
        key: str,
        max_points: int = 200,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, list[MetricPoint]]:
        wanted = list(dict.fromkeys(run_ids))
        points = min(max(int(max_points), 1), MAX_POINTS_PER_RUN)
        low = start_step if start_step is not None else None
        high = end_step if end_step is not None else None
        if (low is None) != (high is None):
            low = 0 if low is None else low
            high = 2**63 - 1 if high is None else high

        def read(client: Any) -> dict[str, list[MetricPoint]]:
            histories: dict[str, list[MetricPoint]] = {run_id: [] for run_id in wanted}
            store = client._tracking_client.store
            if hasattr(store, "get_metric_history_bulk_interval"):
                # The sqlalchemy store samples in SQL, as the server does for RestSource.
                for start in range(0, len(wanted), MAX_RUNS_PER_HISTORY_CALL):
                    chunk = wanted[start : start + MAX_RUNS_PER_HISTORY_CALL]
                    for item in store.get_metric_history_bulk_interval(
                        chunk, key, points, low, high
                    ):
                        histories[item.run_id].append(_point(item))
            else:
                for run_id in wanted:
                    series = [_point(metric) for metric in client.get_metric_history(run_id, key)]
                    if low is not None and high is not None:
                        series = [point for point in series if low <= point.step <= high]
                    series.sort(key=lambda point: (point.step, point.timestamp))
                    histories[run_id] = sample_points(series, points)
            for series in histories.values():
                series.sort(key=lambda point: (point.step, point.timestamp))
            return histories

        return (
            await self._call(f"history of {key!r} for {len(wanted)} runs", read) if wanted else {}
        )

    async def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        def read(client: Any) -> list[ArtifactInfo]:
            return [
                ArtifactInfo(item.path, bool(item.is_dir), item.file_size)
                for item in client.list_artifacts(run_id, path or None)
            ]

        return await self._call(f"artifacts under {path or '/'!r} of run {run_id}", read)

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        clean = PurePosixPath(path)
        if clean.is_absolute() or ".." in clean.parts or not clean.parts:
            raise SourceError(
                SourceErrorKind.BAD_REQUEST,
                f"Artifact path {path!r} of run {run_id} in {self.uri} is not a file inside "
                "the run's artifact folder.",
                "Use a path relative to the run's artifact root, as list_artifacts returns it.",
            )

        def read(client: Any) -> Path:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(
                dir=destination.parent, prefix=".mlmon-download-"
            ) as scratch:
                local = Path(client.download_artifacts(run_id, str(clean), scratch))
                if local.is_dir():
                    raise SourceError(
                        SourceErrorKind.BAD_REQUEST,
                        f"Artifact {path!r} of run {run_id} in {self.uri} is a folder, not a file.",
                        "List it with list_artifacts and download its files one by one.",
                    )
                shutil.move(str(local), destination)
            return destination

        return await self._call(f"artifact {path!r} of run {run_id}", read)

    async def _call(self, what: str, function: Callable[[Any], T]) -> T:
        """Run `function(client)` in a worker thread and classify what it raises."""

        def run() -> T:
            return function(self._client())

        try:
            return await asyncio.to_thread(run)
        except SourceError:
            raise
        except Exception as exc:
            raise self._classify(what, exc) from exc

    def _client(self) -> Any:
        with self._client_lock:
            if self._client_instance is None:
                self._check_store_exists()
                from mlflow.tracking import MlflowClient

                self._client_instance = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
            return self._client_instance

    def _check_store_exists(self) -> None:
        parsed = urlparse(self.uri)
        if parsed.scheme == "sqlite":
            # sqlite:///abs/path has path "/abs/path"; sqlite:////abs has "//abs".
            raw = (
                unquote(self.uri.split("sqlite:///", 1)[1])
                if self.uri.startswith("sqlite:///")
                else ""
            )
            path = Path(raw) if raw else None
        elif parsed.scheme == "file":
            path = Path(unquote(parsed.path))
        else:
            path = Path(self.uri)
        if path is not None and not path.exists():
            raise SourceError(
                SourceErrorKind.NOT_FOUND,
                f"No MLflow store at {self.uri} ({path} does not exist).",
                "Check the path in the tracking URI; mlmon reads stores but never creates them.",
            )

    def _classify(self, what: str, exc: Exception) -> SourceError:
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        code = getattr(exc, "error_code", "")
        if "MLFLOW_ALLOW_FILE_STORE" in str(exc):
            return SourceError(
                SourceErrorKind.BAD_REQUEST,
                f"Reading {what} from {self.uri} failed: MLflow rejects plain file stores "
                "by default.",
                "Set MLFLOW_ALLOW_FILE_STORE=true, or migrate the store to sqlite.",
            )
        if code == "RESOURCE_DOES_NOT_EXIST":
            return SourceError(
                SourceErrorKind.NOT_FOUND,
                f"Reading {what} from {self.uri} failed: {message}.",
                "Check the id or name; it may have been deleted.",
            )
        if code == "INVALID_PARAMETER_VALUE":
            return SourceError(
                SourceErrorKind.BAD_REQUEST,
                f"Reading {what} from {self.uri} failed: {message}.",
                "Check the filter expression or the value given.",
            )
        return SourceError(
            SourceErrorKind.SERVER_ERROR,
            f"Reading {what} from {self.uri} failed: {type(exc).__name__}: {message}.",
            "Check the store is readable and not locked by a migration; "
            "the log file has the details.",
        )


def _all_pages(fetch: Callable[[str | None], Any]) -> list[Any]:
    """Call a paged MlflowClient search until its token runs out or repeats."""
    items: list[Any] = []
    token = None
    seen: set[str] = set()
    while True:
        page = fetch(token)
        items.extend(page)
        token = getattr(page, "token", None)
        if not token or token in seen:
            return items
        seen.add(token)


def _unique(items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    """Drop items whose key appeared earlier: page tokens are offsets and may overlap."""
    return list({key(item): item for item in reversed(items)}.values())[::-1]


def _quote(value: str) -> str:
    if "'" in value and '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "\\'") + "'"


def _point(metric: Any) -> MetricPoint:
    return MetricPoint(
        step=int(metric.step), timestamp=int(metric.timestamp), value=metric_value(metric.value)
    )


def _run(run: Any) -> Run:
    info, data = run.info, run.data
    metrics: dict[str, LatestMetric] = {}
    # `data.metrics` holds only values; the full latest records carry step and timestamp.
    for metric in getattr(data, "_metric_objs", None) or []:
        metrics[metric.key] = LatestMetric(
            metric.key, metric_value(metric.value), int(metric.timestamp), int(metric.step)
        )
    for key, value in data.metrics.items():
        metrics.setdefault(key, LatestMetric(key, metric_value(value), 0, 0))
    return Run(
        run_id=info.run_id,
        experiment_id=str(info.experiment_id),
        run_name=info.run_name or data.tags.get("mlflow.runName", ""),
        status=str(info.status),
        start_time=info.start_time,
        end_time=info.end_time,
        metrics=metrics,
        params=dict(data.params),
        tags=dict(data.tags),
        artifact_uri=info.artifact_uri or "",
    )


def _registered_model(model: Any, versions: list[Any]) -> RegisteredModel:
    aliases = {str(alias): str(version) for alias, version in (model.aliases or {}).items()}
    base = RegisteredModel(
        name=model.name,
        description=model.description or "",
        aliases=aliases,
        creation_timestamp=model.creation_timestamp,
        last_updated_timestamp=model.last_updated_timestamp,
        tags=dict(model.tags or {}),
    )
    parsed = [
        ModelVersion(
            name=model.name,
            version=str(item.version),
            run_id=item.run_id or None,
            current_stage=str(item.current_stage or "None"),
            status=str(item.status or "READY"),
            source=item.source or "",
            creation_timestamp=item.creation_timestamp,
            last_updated_timestamp=item.last_updated_timestamp,
            aliases=base.aliases_of(str(item.version)),
            description=item.description or "",
            tags=dict(item.tags or {}),
        )
        for item in versions
    ]
    parsed.sort(key=lambda version: (version.version_number, version.version), reverse=True)
    return RegisteredModel(
        name=base.name,
        description=base.description,
        aliases=base.aliases,
        creation_timestamp=base.creation_timestamp,
        last_updated_timestamp=base.last_updated_timestamp,
        tags=base.tags,
        versions=tuple(parsed),
    )

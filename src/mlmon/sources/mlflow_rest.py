"""`RestSource`: an MLflow tracking server read through its REST API with httpx.

Every call maps to as few requests as the API allows: registered models and all their
versions take two requests whatever their number (one while the models are unchanged),
runs are read by id with one `runs/search` per 500 ids, and histories come sampled on
the server through `get-history-bulk-interval`, 100 runs a call. Responses omit empty
lists (a search with no hits is `{}`), so every list is read with a default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources.rest_transport import RestTransport
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

API = "/api/2.0/mlflow"
# Server-side limits (as in MLflow 3.17's handlers): run ids per bulk-interval call,
# points per run.
MAX_RUNS_PER_HISTORY_CALL = 100
MAX_POINTS_PER_RUN = 2500
# Page sizes: registered-models/search allows 1,000, model-versions/search 200,000.
_MODELS_PAGE = 1000
_VERSIONS_PAGE = 10_000
_EXPERIMENTS_PAGE = 1000
# Maximum age in seconds of model versions reused while their registered models look unchanged.
VERSIONS_MAX_AGE_S = 300.0
# Run ids per `attributes.run_id IN (...)` filter; keeps the filter string under ~20 kB.
_RUN_IDS_PER_SEARCH = 500


class RestSource:
    """A `TrackingSource` for http(s) tracking URIs."""

    def __init__(self, uri: str, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._http = RestTransport(uri, settings, transport)
        self.uri = self._http.uri
        # run id -> experiment id, so reading runs by id needs no experiments/search.
        self._run_experiments: dict[str, str] = {}
        # name filter -> (registered models' signature, monotonic time read, raw versions)
        self._versions_cache: dict[str, tuple[tuple[Any, ...], float, list[dict[str, Any]]]] = {}

    @property
    def request_count(self) -> int:
        """Requests sent so far, retries included."""
        return self._http.request_count

    async def aclose(self) -> None:
        await self._http.aclose()

    async def server_version(self) -> str:
        return (await self._http.get_text("/version")).strip()

    async def search_experiments(self) -> list[Experiment]:
        items = await self._paged_post(
            "experiments/search",
            {
                "max_results": _EXPERIMENTS_PAGE,
                "view_type": "ACTIVE_ONLY",
                "order_by": ["last_update_time DESC"],
            },
            "experiments",
            "experiment_id",
        )
        return [
            Experiment(
                experiment_id=str(item["experiment_id"]),
                name=str(item.get("name", "")),
                lifecycle_stage=str(item.get("lifecycle_stage", "active")),
                last_update_time=_int_or_none(item.get("last_update_time")),
            )
            for item in items
        ]

    async def search_registered_models(self, name_filter: str | None = None) -> list[RegisteredModel]:
        params: dict[str, Any] = {"max_results": _MODELS_PAGE}
        if name_filter:
            params["filter"] = f"name ILIKE {_quote('%' + name_filter + '%')}"
        raw_models = await self._paged_get("registered-models/search", params, "registered_models", "name")
        if not raw_models:
            return []
        raw_versions = await self._model_versions(raw_models, name_filter)
        by_model: dict[str, list[dict[str, Any]]] = {}
        for item in raw_versions:
            by_model.setdefault(str(item.get("name", "")), []).append(item)
        return [_registered_model(item, by_model.get(str(item["name"]), [])) for item in raw_models]

    async def _model_versions(self, raw_models: list[dict[str, Any]], name_filter: str | None) -> list[dict[str, Any]]:
        """Return all versions of `raw_models`, re-reading them only when they may have changed.

        Creating, deleting or moving a version between stages bumps its registered model's
        `last_updated_timestamp`, and `latest_versions` shows each stage's newest version
        with its status. While neither moved, the versions read before are reused, for at
        most VERSIONS_MAX_AGE_S, since a version's own description and tags change without
        touching the model.
        """
        signature = tuple(
            (
                str(item["name"]),
                item.get("last_updated_timestamp"),
                tuple(
                    (latest.get("version"), latest.get("status"), latest.get("current_stage"))
                    for latest in item.get("latest_versions", [])
                    if isinstance(latest, dict)
                ),
            )
            for item in raw_models
        )
        cached = self._versions_cache.get(name_filter or "")
        now = time.monotonic()
        if cached is not None and cached[0] == signature and now - cached[1] < VERSIONS_MAX_AGE_S:
            return cached[2]
        params: dict[str, Any] = {"max_results": _VERSIONS_PAGE}
        if name_filter:
            names = ", ".join(_quote(str(item["name"])) for item in raw_models)
            params["filter"] = f"name IN ({names})"
        versions = await self._paged_get("model-versions/search", params, "model_versions", ("name", "version"))
        self._versions_cache[name_filter or ""] = (signature, now, versions)
        return versions

    async def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        wanted = list(dict.fromkeys(run_ids))
        if not wanted:
            return []
        if any(run_id not in self._run_experiments for run_id in wanted):
            experiment_ids = [item.experiment_id for item in await self.search_experiments()]
        else:
            experiment_ids = sorted({self._run_experiments[run_id] for run_id in wanted})
        found: dict[str, Run] = {}
        for start in range(0, len(wanted), _RUN_IDS_PER_SEARCH):
            chunk = wanted[start : start + _RUN_IDS_PER_SEARCH]
            ids = ", ".join(_quote(run_id) for run_id in chunk)
            for run in await self.search_runs(experiment_ids, f"attributes.run_id IN ({ids})", len(chunk)):
                found[run.run_id] = run
        return [found[run_id] for run_id in wanted if run_id in found]

    async def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
    ) -> list[Run]:
        if not experiment_ids:
            return []
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "max_results": min(max(max_results, 1), 50_000),
            "run_view_type": "ACTIVE_ONLY",
        }
        items = await self._paged_post("runs/search", body, "runs", None, limit=max_results)
        runs: dict[str, Run] = {}
        for item in items:
            run = _run(item)
            runs.setdefault(run.run_id, run)
            self._run_experiments[run.run_id] = run.experiment_id
        return list(runs.values())

    async def metric_histories(
        self,
        run_ids: Sequence[str],
        key: str,
        max_points: int = 200,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, list[MetricPoint]]:
        wanted = list(dict.fromkeys(run_ids))
        histories: dict[str, list[MetricPoint]] = {run_id: [] for run_id in wanted}
        if not wanted:
            return histories
        if (start_step is None) != (end_step is None):
            # The server needs both bounds, so an open end becomes the largest 64-bit step.
            start_step = 0 if start_step is None else start_step
            end_step = 2**63 - 1 if end_step is None else end_step
        points = min(max(int(max_points), 1), MAX_POINTS_PER_RUN)
        chunks = [wanted[i : i + MAX_RUNS_PER_HISTORY_CALL] for i in range(0, len(wanted), MAX_RUNS_PER_HISTORY_CALL)]
        responses = await asyncio.gather(
            *(self._history_chunk(chunk, key, points, start_step, end_step) for chunk in chunks)
        )
        for response in responses:
            for item in response.get("metrics", []):
                run_id = str(item.get("run_id", ""))
                if run_id in histories:
                    histories[run_id].append(_metric_point(item))
        for series in histories.values():
            series.sort(key=lambda point: (point.step, point.timestamp))
        return histories

    async def _history_chunk(
        self,
        run_ids: list[str],
        key: str,
        max_points: int,
        start_step: int | None,
        end_step: int | None,
    ) -> dict[str, Any]:
        params: list[tuple[str, str | int]] = [("run_ids", run_id) for run_id in run_ids]
        params += [("metric_key", key), ("max_results", max_points)]
        if start_step is not None and end_step is not None:
            params += [("start_step", start_step), ("end_step", end_step)]
        return await self._http.get_json(f"{API}/metrics/get-history-bulk-interval", params=params)

    async def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        params: dict[str, Any] = {"run_id": run_id}
        if path:
            params["path"] = path
        files = await self._paged_get("artifacts/list", params, "files", "path")
        return [
            ArtifactInfo(
                path=str(item["path"]),
                is_dir=bool(item.get("is_dir", False)),
                file_size=_int_or_none(item.get("file_size")),
            )
            for item in files
            if item.get("path")
        ]

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        clean = PurePosixPath(path)
        if clean.is_absolute() or ".." in clean.parts:
            raise SourceError(
                SourceErrorKind.BAD_REQUEST,
                f"Artifact path {path!r} of run {run_id} on {self.uri} leaves the run's artifact folder.",
                "Use a path relative to the run's artifact root, as list_artifacts returns it.",
            )
        return await self._http.download("/get-artifact", {"run_uuid": run_id, "path": str(clean)}, destination)

    async def _paged_get(
        self, endpoint: str, params: dict[str, Any], list_key: str, id_key: str | tuple[str, ...]
    ) -> list[dict[str, Any]]:
        return await self._paged("GET", endpoint, params, list_key, id_key, limit=None)

    async def _paged_post(
        self,
        endpoint: str,
        body: dict[str, Any],
        list_key: str,
        id_key: str | tuple[str, ...] | None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return await self._paged("POST", endpoint, body, list_key, id_key, limit=limit)

    async def _paged(
        self,
        method: str,
        endpoint: str,
        payload: dict[str, Any],
        list_key: str,
        id_key: str | tuple[str, ...] | None,
        limit: int | None,
    ) -> list[dict[str, Any]]:
        """Follow `next_page_token` and drop items seen on an earlier page.

        Page tokens are offsets, so an item created between two page reads can appear on
        both pages; items are de-duplicated by `id_key` (runs by `info.run_id`).
        """
        items: dict[Any, dict[str, Any]] = {}
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            request = dict(payload)
            if token:
                request["page_token"] = token
            path = f"{API}/{endpoint}"
            if method == "GET":
                response = await self._http.get_json(path, params=request)
            else:
                response = await self._http.post_json(path, request)
            for item in response.get(list_key, []):
                if isinstance(item, dict):
                    items.setdefault(_item_id(item, id_key, len(items)), item)
            token = response.get("next_page_token") or None
            # A token seen before would loop forever (some 3.x servers repeat one).
            if not token or token in seen_tokens or (limit is not None and len(items) >= limit):
                break
            seen_tokens.add(token)
        result = list(items.values())
        return result if limit is None else result[:limit]


def _item_id(item: dict[str, Any], id_key: str | tuple[str, ...] | None, fallback: int) -> Any:
    if id_key is None:
        return (item.get("info") or {}).get("run_id") or fallback
    if isinstance(id_key, tuple):
        return tuple(str(item.get(key, "")) for key in id_key)
    return item.get(id_key, fallback)


def _quote(value: str) -> str:
    """Quote a string literal for an MLflow filter expression."""
    if "'" in value and '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "\\'") + "'"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _tags(items: Any) -> dict[str, str]:
    return {str(tag["key"]): str(tag.get("value", "")) for tag in items or [] if isinstance(tag, dict) and "key" in tag}


def _metric_point(item: dict[str, Any]) -> MetricPoint:
    return MetricPoint(
        step=_int_or_none(item.get("step")) or 0,
        timestamp=_int_or_none(item.get("timestamp")) or 0,
        value=metric_value(item.get("value")),
    )


def _run(item: dict[str, Any]) -> Run:
    info = item.get("info") or {}
    data = item.get("data") or {}
    metrics: dict[str, LatestMetric] = {}
    for metric in data.get("metrics", []):
        if isinstance(metric, dict) and "key" in metric:
            point = _metric_point(metric)
            metrics[str(metric["key"])] = LatestMetric(str(metric["key"]), point.value, point.timestamp, point.step)
    tags = _tags(data.get("tags"))
    return Run(
        run_id=str(info.get("run_id") or info.get("run_uuid", "")),
        experiment_id=str(info.get("experiment_id", "")),
        run_name=str(info.get("run_name") or tags.get("mlflow.runName", "")),
        status=str(info.get("status", "UNKNOWN")),
        start_time=_int_or_none(info.get("start_time")),
        end_time=_int_or_none(info.get("end_time")),
        metrics=metrics,
        params=_tags(data.get("params")),
        tags=tags,
        artifact_uri=str(info.get("artifact_uri", "")),
    )


def _registered_model(item: dict[str, Any], versions: list[dict[str, Any]]) -> RegisteredModel:
    aliases = {
        str(alias["alias"]): str(alias.get("version", ""))
        for alias in item.get("aliases", [])
        if isinstance(alias, dict) and "alias" in alias
    }
    model = RegisteredModel(
        name=str(item["name"]),
        description=str(item.get("description", "")),
        aliases=aliases,
        creation_timestamp=_int_or_none(item.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(item.get("last_updated_timestamp")),
        tags=_tags(item.get("tags")),
    )
    parsed = [_model_version(version, model) for version in versions]
    parsed.sort(key=lambda version: (version.version_number, version.version), reverse=True)
    return replace(model, versions=tuple(parsed))


def _model_version(item: dict[str, Any], model: RegisteredModel) -> ModelVersion:
    version = str(item.get("version", ""))
    return ModelVersion(
        name=model.name,
        version=version,
        run_id=str(item["run_id"]) if item.get("run_id") else None,
        current_stage=str(item.get("current_stage", "None")),
        status=str(item.get("status", "READY")),
        source=str(item.get("source", "")),
        creation_timestamp=_int_or_none(item.get("creation_timestamp")),
        last_updated_timestamp=_int_or_none(item.get("last_updated_timestamp")),
        aliases=model.aliases_of(version),
        description=str(item.get("description", "")),
        tags=_tags(item.get("tags")),
    )

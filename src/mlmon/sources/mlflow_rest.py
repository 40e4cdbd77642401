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
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from mlmon.config import Settings
from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources import rest_records as records
from mlmon.sources.rest_transport import RestTransport
from mlmon.tracking import ArtifactInfo, Experiment, MetricPoint, RegisteredModel, Run

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
        where = self._where("POST", "experiments/search")
        return [records.experiment(item, where) for item in items]

    async def search_registered_models(self, name_filter: str | None = None) -> list[RegisteredModel]:
        params: dict[str, Any] = {"max_results": _MODELS_PAGE}
        if name_filter:
            params["filter"] = f"name ILIKE {_quote('%' + name_filter + '%')}"
        raw_models = await self._paged_get("registered-models/search", params, "registered_models", "name")
        if not raw_models:
            return []
        models_at = self._where("GET", "registered-models/search")
        for item in raw_models:
            records.required_text(item, "name", models_at, "a registered model")
        raw_versions = await self._model_versions(raw_models, name_filter)
        versions_at = self._where("GET", "model-versions/search")
        by_model: dict[str, list[dict[str, Any]]] = {}
        for item in raw_versions:
            by_model.setdefault(records.required_text(item, "name", versions_at, "a model version"), []).append(item)
        return [
            records.registered_model(item, by_model.get(str(item["name"]), []), models_at, versions_at)
            for item in raw_models
        ]

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
        where = self._where("POST", "runs/search")
        runs: dict[str, Run] = {}
        for item in items:
            run = records.run(item, where)
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
        where = self._where("GET", "metrics/get-history-bulk-interval")
        for response in responses:
            for item in records.object_list(response, "metrics", where):
                run_id = records.required_text(item, "run_id", where, "a metric point")
                if run_id in histories:
                    histories[run_id].append(records.metric_point(item, where))
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
        where = self._where("GET", "artifacts/list")
        return [records.artifact(item, where) for item in files]

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        clean = PurePosixPath(path)
        if clean.is_absolute() or ".." in clean.parts:
            raise SourceError(
                SourceErrorKind.BAD_REQUEST,
                f"Artifact path {path!r} of run {run_id} on {self.uri} leaves the run's artifact folder.",
                "Use a path relative to the run's artifact root, as list_artifacts returns it.",
            )
        return await self._http.download("/get-artifact", {"run_uuid": run_id, "path": str(clean)}, destination)

    def _where(self, method: str, endpoint: str) -> str:
        """Name a request in error titles: method and URL without query or credentials."""
        return f"{method} {self.uri}{API}/{endpoint}"

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
            where = self._where(method, endpoint)
            for item in records.object_list(response, list_key, where):
                items.setdefault(_item_id(item, id_key, len(items)), item)
            token = response.get("next_page_token") or None
            if token is not None and not isinstance(token, str):
                raise records.malformed(where, f"'next_page_token' is not a string ({token!r:.40})")
            # A token seen before would loop forever (some 3.x servers repeat one).
            if not token or token in seen_tokens or (limit is not None and len(items) >= limit):
                break
            seen_tokens.add(token)
        result = list(items.values())
        return result if limit is None else result[:limit]


def _item_id(item: dict[str, Any], id_key: str | tuple[str, ...] | None, fallback: int) -> Any:
    if id_key is None:
        info = item.get("info")
        return (info.get("run_id") if isinstance(info, dict) else None) or fallback
    if isinstance(id_key, tuple):
        return tuple(str(item.get(key, "")) for key in id_key)
    value = item.get(id_key)
    # An id of the wrong type is reported by the record's parser; here it must only stay hashable.
    return value if isinstance(value, str | int) else ("", fallback)


def _quote(value: str) -> str:
    """Quote a string literal for an MLflow filter expression."""
    if "'" in value and '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "\\'") + "'"

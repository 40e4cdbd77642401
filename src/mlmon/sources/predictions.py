"""Prediction logs: batch files from MLflow runs or local files, merged into one frame.

Where the batches come from, per registered model:

- **MLflow artifacts.** Runs tagged `mlmon.model=<name>`, `mlmon.version=<version>` and
  `mlmon.role=predictions` contain batch files under `predictions/`. Tables written by
  `mlflow.log_table` in those runs are found through the `mlflow.loggedArtifacts` tag.
- **Local files.** A glob from the model's `predictions` config key; it replaces the
  MLflow lookup for that model.

Formats: Parquet, CSV, split-orient JSON and JSON Lines (read by `mlmon.tables`).
Columns: `timestamp` and `prediction` are required, `actual`, `score`, `model_version`
and `request_id` are optional, every other column is a feature. A batch without
`prediction` but with `actual` is an actuals-only batch: it fills in `actual` for the
earlier rows with the same `request_id` (or, without one, the same timestamp). The
column checks and the merge live in `mlmon.sources.prediction_batches`.

Each poll downloads only batch files that are new or whose size changed (local files:
size or modification time) and keeps parsed batches in memory. A bad file is reported
by name and skipped; the other batches still show.
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from mlmon import paths
from mlmon.errors import InputError, SourceError
from mlmon.sources.prediction_batches import (
    BatchError,
    feature_columns,
    merge_batches,
    normalize_batch,
)

if TYPE_CHECKING:
    import pandas as pd

    from mlmon.sources.base import TrackingSource
    from mlmon.tracking import Run

log = logging.getLogger(__name__)

PREDICTIONS_FOLDER = "predictions"
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".json", ".jsonl", ".ndjson")
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Nested folders under predictions/ are walked this deep, so a bad tree cannot loop.
_MAX_DEPTH = 3

# Fingerprint of a batch whose download failed: never equal to a listed one, so retried.
_RETRY: tuple[object, ...] = ("retry",)
# Fetches one batch file (downloading it if needed) and returns its local path.
_Loader = Callable[[], Awaitable[Path]]


@dataclass(frozen=True)
class BatchFile:
    """One batch file as read on the latest poll: where it is, rows, and any problem."""

    location: str
    rows: int = 0
    error: str | None = None


@dataclass(frozen=True, eq=False)
class PredictionLog:
    """All batches of one model version merged, oldest first.

    `frame` has a UTC `timestamp` column, `prediction`, and `actual`/`score` (NaN where
    missing) plus any feature columns. `errors` contains one line per bad batch file.
    """

    frame: pd.DataFrame
    files: tuple[BatchFile, ...] = ()
    errors: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        """Number of merged prediction rows."""
        return len(self.frame)


def cache_path(root: Path, run_id: str, artifact_path: str) -> Path:
    """Return where an artifact is cached, refusing any path that would leave `root`.

    Artifact paths come from the server, so an absolute path, a `..` part or an odd run
    id raises `InputError` instead of writing elsewhere on the disk.
    """
    if not _RUN_ID.match(run_id):
        raise InputError(
            f"Refusing run id {run_id!r} as a cache folder name.",
            "Check the tracking server's data.",
        )
    parts = PurePosixPath(artifact_path.replace("\\", "/")).parts
    if not parts or artifact_path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", artifact_path) or ".." in parts:
        raise InputError(
            f"Refusing artifact path {artifact_path!r} of run {run_id}: it points outside the run.",
            "Check the tracking server's data; mlmon only reads paths inside a run.",
        )
    base = (root / run_id).resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        raise InputError(
            f"Refusing artifact path {artifact_path!r}: it resolves outside the cache.",
            "Check the data.",
        )
    return target


@dataclass
class _Cached:
    """A parsed batch with the fingerprint (size or mtime) it was read at."""

    fingerprint: tuple[object, ...]
    frame: pd.DataFrame | None
    error: str | None = None


@dataclass
class _ModelCache:
    batches: dict[str, _Cached] = field(default_factory=dict)
    log: PredictionLog | None = None
    order: tuple[str, ...] = ()


class PredictionLogReader:
    """Reads one model version's prediction log on each poll, re-reading only changes.

    One reader lives as long as the poller; it keeps parsed batches in memory and
    downloaded files under `<cache dir>/predictions/<run id>/`.
    """

    def __init__(self, source: TrackingSource | None, cache_root: Path | None = None) -> None:
        self.source = source
        self.cache_root = cache_root or paths.cache_dir() / "predictions"
        self._models: dict[tuple[str, str | None], _ModelCache] = {}

    async def read(self, model_name: str, version: str | None, pattern: str | None = None) -> PredictionLog:
        """Return the merged log; `pattern` (a local glob) replaces the MLflow lookup.

        Raises `SourceError` when the tracking server fails; bad files only add errors.
        """
        cache = self._models.setdefault((model_name, version), _ModelCache())
        if pattern:
            found = await asyncio.to_thread(_local_files, pattern)
        else:
            found = await self._artifact_files(model_name, version)

        changed = tuple(found) != cache.order
        for key, (fingerprint, loader) in found.items():
            cached = cache.batches.get(key)
            if cached is not None and cached.fingerprint == fingerprint:
                continue
            changed = True
            cache.batches[key] = await self._load(key, fingerprint, loader)
        for key in set(cache.batches) - set(found):
            del cache.batches[key]

        if cache.log is None or changed:
            cache.order = tuple(found)
            cache.log = await asyncio.to_thread(_build_log, [(key, cache.batches[key]) for key in found])
        return cache.log

    async def _load(self, key: str, fingerprint: tuple[object, ...], loader: _Loader) -> _Cached:
        try:
            path = await loader()
        except SourceError as exc:
            # A failed download may succeed on the next poll, so it is not cached as a
            # bad file: the RETRY fingerprint never matches a listing.
            log.warning("prediction batch %s not downloaded: %s", key, exc)
            return _Cached(_RETRY, None, f"{key}: download failed ({exc.title}). {exc.fix}".strip())
        except InputError as exc:
            log.warning("prediction batch %s skipped: %s", key, exc)
            return _Cached(fingerprint, None, str(exc))
        try:
            frame = await asyncio.to_thread(_read_batch, path, key)
        except BatchError as exc:
            log.warning("prediction batch %s skipped: %s", key, exc)
            return _Cached(fingerprint, None, str(exc))
        return _Cached(fingerprint, frame)

    async def _artifact_files(
        self, model_name: str, version: str | None
    ) -> dict[str, tuple[tuple[object, ...], _Loader]]:
        assert self.source is not None, "an MLflow lookup needs a tracking source"
        source = self.source
        experiments = await source.search_experiments()
        filter_string = f"tags.`mlmon.model` = '{_quote(model_name)}' AND tags.`mlmon.role` = 'predictions'"
        if version is not None:
            filter_string += f" AND tags.`mlmon.version` = '{_quote(version)}'"
        runs = await source.search_runs([item.experiment_id for item in experiments], filter_string)
        runs.sort(key=lambda run: (run.start_time or 0, run.run_id))

        found: dict[str, tuple[tuple[object, ...], _Loader]] = {}
        for run in runs:
            for path, size in await self._run_tables(run):
                key = f"run {run.run_id[:8]}:{path}"
                found[key] = ((run.run_id, path, size), self._downloader(run.run_id, path))
        return found

    async def _run_tables(self, run: Run) -> list[tuple[str, int | None]]:
        """Return (artifact path, size) of every batch file in one predictions run."""
        source = self.source
        assert source is not None
        tables: list[tuple[str, int | None]] = []
        folders = [(PREDICTIONS_FOLDER, 0)]
        while folders:
            folder, depth = folders.pop(0)
            for entry in sorted(await source.list_artifacts(run.run_id, folder), key=lambda item: item.path):
                if entry.is_dir and depth < _MAX_DEPTH:
                    folders.append((entry.path, depth + 1))
                elif entry.path.lower().endswith(TABLE_SUFFIXES):
                    tables.append((entry.path, entry.file_size))

        listed = {path for path, _ in tables}
        for path in _logged_tables(run):
            if path in listed:
                continue
            parent = str(PurePosixPath(path).parent)
            entries = await source.list_artifacts(run.run_id, "" if parent == "." else parent)
            size = next((entry.file_size for entry in entries if entry.path == path), None)
            tables.append((path, size))
        return tables

    def _downloader(self, run_id: str, path: str) -> _Loader:
        async def download() -> Path:
            destination = cache_path(self.cache_root, run_id, path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            return await self.source.download_artifact(run_id, path, destination)  # type: ignore[union-attr]

        return download


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _logged_tables(run: Run) -> list[str]:
    """Return table paths from the run's `mlflow.loggedArtifacts` tag (JSON list)."""
    raw = run.tags.get("mlflow.loggedArtifacts")
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("run %s has an unreadable mlflow.loggedArtifacts tag", run.run_id)
        return []
    return [
        str(item["path"])
        for item in items
        if isinstance(item, dict)
        and item.get("type") == "table"
        and str(item.get("path", "")).lower().endswith(TABLE_SUFFIXES)
    ]


def _local_files(pattern: str) -> dict[str, tuple[tuple[object, ...], _Loader]]:
    found: dict[str, tuple[tuple[object, ...], _Loader]] = {}
    for name in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
        path = Path(name)
        if not path.is_file():
            continue
        stat = path.stat()

        async def load(path: Path = path) -> Path:
            return path

        found[str(path)] = ((stat.st_size, stat.st_mtime_ns), load)
    return found


def _read_batch(path: Path, location: str) -> pd.DataFrame:
    from mlmon.tables import read_table

    try:
        frame = read_table(path)
    except InputError as exc:
        # The title names the downloaded copy in the cache; the file's name is enough.
        title = exc.title.replace(str(path), path.name)
        raise BatchError(f"{location}: {title}", exc.fix) from exc
    except UnicodeDecodeError as exc:
        raise BatchError(f"{location}: not UTF-8 text ({exc.reason}).", "Write batch files as UTF-8.") from exc
    except (ValueError, OSError) as exc:
        raise BatchError(
            f"{location}: cannot read the file ({exc}).",
            "Write Parquet, CSV, split JSON or JSON Lines.",
        ) from exc
    return normalize_batch(frame, location)


def _build_log(batches: list[tuple[str, _Cached]]) -> PredictionLog:
    good = [cached.frame for _, cached in batches if cached.frame is not None]
    frame = merge_batches(good)
    files = tuple(
        BatchFile(key, 0 if cached.frame is None else len(cached.frame), cached.error) for key, cached in batches
    )
    errors = tuple(cached.error for _, cached in batches if cached.error)
    return PredictionLog(frame=frame, files=files, errors=errors, features=feature_columns(frame))

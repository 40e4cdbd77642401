"""Files a model version's training run logged: feature importance and reference data.

- Importance files sit at the run's artifact root (LightGBM and XGBoost autolog write
  them there; see `mlmon.engine.importance` for the formats).
- The drift reference is the training data under `reference/`, in any table format
  `mlmon.tables` reads; several files are concatenated.

Files are downloaded into `<cache dir>/runs/<run id>/` only when new or resized, and
parsed results are kept in memory, so a poll over an unchanged run costs two listings.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlmon import paths
from mlmon.engine.importance import (
    Importance,
    ImportanceFormatError,
    is_importance_file,
    order_kinds,
    parse_importance,
)
from mlmon.errors import InputError, SourceError
from mlmon.sources.predictions import TABLE_SUFFIXES, cache_path

if TYPE_CHECKING:
    import pandas as pd

    from mlmon.sources.base import TrackingSource
    from mlmon.tracking import ArtifactInfo

log = logging.getLogger(__name__)

REFERENCE_FOLDER = "reference"


@dataclass(frozen=True, eq=False)
class RunFiles:
    """The importance and reference data of one training run; `errors` name each bad file."""

    run_id: str
    importances: tuple[Importance, ...] = ()
    reference: pd.DataFrame | None = None
    reference_files: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


class ModelFilesReader:
    """Reads importance and reference files of training runs, re-reading only changes."""

    def __init__(self, source: TrackingSource, cache_root: Path | None = None) -> None:
        self.source = source
        self.cache_root = cache_root or paths.cache_dir() / "runs"
        self._seen: dict[str, tuple[tuple[object, ...], RunFiles]] = {}

    async def read(self, run_id: str) -> RunFiles:
        """Return the run's importance and reference data; raises only `SourceError`."""
        root = await self.source.list_artifacts(run_id, "")
        importance_files = sorted(
            (entry for entry in root if not entry.is_dir and is_importance_file(entry.path)),
            key=lambda e: e.path,
        )
        reference_files: list[ArtifactInfo] = []
        if any(entry.is_dir and entry.path == REFERENCE_FOLDER for entry in root):
            listing = await self.source.list_artifacts(run_id, REFERENCE_FOLDER)
            reference_files = sorted(
                (e for e in listing if not e.is_dir and e.path.lower().endswith(TABLE_SUFFIXES)),
                key=lambda e: e.path,
            )

        fingerprint = tuple((entry.path, entry.file_size) for entry in [*importance_files, *reference_files])
        seen = self._seen.get(run_id)
        if seen is not None and seen[0] == fingerprint:
            return seen[1]

        errors: list[str] = []
        importances: list[Importance] = []
        for entry in importance_files:
            try:
                local = await self._download(run_id, entry.path)
                text = await asyncio.to_thread(local.read_text, encoding="utf-8")
                importances.extend(parse_importance(Path(entry.path).name, text))
            except (ImportanceFormatError, UnicodeDecodeError, InputError, SourceError) as exc:
                errors.append(f"{entry.path}: {exc}")
                log.warning("importance file %s of run %s skipped: %s", entry.path, run_id, exc)

        frames = []
        for entry in reference_files:
            try:
                local = await self._download(run_id, entry.path)
                frames.append(await asyncio.to_thread(_read_reference, local))
            except (InputError, SourceError, ValueError, UnicodeDecodeError, OSError) as exc:
                errors.append(f"{entry.path}: {exc}")
                log.warning("reference file %s of run %s skipped: %s", entry.path, run_id, exc)

        reference = None
        if frames:
            import pandas as pd

            reference = pd.concat(frames, ignore_index=True, sort=False)
        result = RunFiles(
            run_id=run_id,
            importances=tuple(order_kinds(importances)),
            reference=reference,
            reference_files=tuple(entry.path for entry in reference_files),
            errors=tuple(errors),
        )
        self._seen[run_id] = (fingerprint, result)
        return result

    async def _download(self, run_id: str, path: str) -> Path:
        destination = cache_path(self.cache_root, run_id, path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        return await self.source.download_artifact(run_id, path, destination)


def _read_reference(path: Path) -> pd.DataFrame:
    from mlmon.tables import read_table

    return read_table(path)

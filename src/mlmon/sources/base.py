"""The one async interface every tracking source implements.

`RestSource` (http/https) and `LocalSource` (sqlite:/file: through MlflowClient in a
worker thread) both satisfy `TrackingSource`; the poller and the headless commands talk
to nothing else. A failed call raises `mlmon.errors.SourceError` with a classified kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from mlmon.tracking import ArtifactInfo, Experiment, MetricPoint, RegisteredModel, Run


@runtime_checkable
class TrackingSource(Protocol):
    """Read-only access to one MLflow tracking store."""

    uri: str

    async def server_version(self) -> str:
        """Return the server's MLflow version (local stores return the client's)."""
        ...

    async def search_experiments(self) -> list[Experiment]:
        """Return the active experiments."""
        ...

    async def search_registered_models(self, name_filter: str | None = None) -> list[RegisteredModel]:
        """Return registered models with their aliases and all their versions."""
        ...

    async def get_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Return the given runs with latest metrics, params and tags; unknown ids are skipped."""
        ...

    async def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
    ) -> list[Run]:
        """Return runs matching an MLflow filter expression, de-duplicated by run id."""
        ...

    async def metric_histories(
        self,
        run_ids: Sequence[str],
        key: str,
        max_points: int = 200,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, list[MetricPoint]]:
        """Return one metric's history per run, sampled to about `max_points` per run.

        With `start_step`/`end_step` only that step range is returned (both inclusive).
        Runs without the metric map to an empty list.
        """
        ...

    async def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """Return one level of a run's artifact tree."""
        ...

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        """Download one artifact file to `destination` (a file path) and return it."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...


def open_source(uri: str, settings: object | None = None) -> TrackingSource:
    """Return the source for a tracking URI: REST for http(s), MlflowClient otherwise."""
    from mlmon.config import Settings

    resolved = settings if isinstance(settings, Settings) else Settings(tracking_uri=uri)
    if uri.lower().startswith(("http://", "https://")):
        from mlmon.sources.mlflow_rest import RestSource

        return RestSource(uri, resolved)

    from mlmon.sources.mlflow_local import LocalSource

    return LocalSource(uri, resolved)

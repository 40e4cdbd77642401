"""Prediction and feature data for the selected model version, collected on each poll.

The poller calls `InsightCollector.collect` once per cycle. Everything slow (listing and
downloading artifacts, parsing tables) happens there, inside the poller's worker. The
Predictions and Features tabs only slice the frames in the resulting states. A
failure becomes the `error` of the state it concerns and never fails the poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mlmon.errors import MlmonError

if TYPE_CHECKING:
    from mlmon.config import ModelSettings, Settings
    from mlmon.sources.base import TrackingSource
    from mlmon.sources.model_files import ModelFilesReader, RunFiles
    from mlmon.sources.predictions import PredictionLog, PredictionLogReader
    from mlmon.tracking import RegisteredModel

log = logging.getLogger(__name__)

# Alias whose version is shown when the picker has no version selected.
DEFAULT_ALIAS = "champion"


@dataclass(frozen=True, eq=False)
class PredictionsState:
    """One model version's prediction log and the task settings used to judge it.

    `task` is the configured task, and `auto` lets the engine decide. `error` is set when
    the log could not be read at all, while `log.errors` names single bad batch files.
    """

    model_name: str
    version: str | None
    task: str = "auto"
    log: PredictionLog | None = None
    error: str = ""
    periods_per_year: int = 252
    risk_free_rate: float = 0.0


@dataclass(frozen=True, eq=False)
class FeaturesState:
    """Importance and reference data from the version's training run."""

    model_name: str
    version: str | None
    run_id: str | None = None
    files: RunFiles | None = None
    error: str = ""


def shows_selection(state: PredictionsState | FeaturesState | None, model: str | None, version: str | None) -> bool:
    """Return True when `state` was collected for the selected model and version.

    A new selection is polled at once, so until that poll ends the Snapshot still contains
    the previous selection's state, which the tabs must not show under the new name.
    """
    if state is None or model is None:
        return False
    return state.model_name == model and (version is None or state.version == version)


def resolve_version(model: RegisteredModel, version: str | None) -> str | None:
    """Return the version to show: the selected one, else the champion, else the newest."""
    if version is not None:
        return version
    if DEFAULT_ALIAS in model.aliases:
        return model.aliases[DEFAULT_ALIAS]
    newest = max(model.versions, key=lambda item: item.version_number, default=None)
    return newest.version if newest else None


class InsightCollector:
    """Holds the readers (and their caches) that live as long as the poller."""

    def __init__(self, source: TrackingSource, settings: Settings) -> None:
        from mlmon.sources.model_files import ModelFilesReader
        from mlmon.sources.predictions import PredictionLogReader

        self.settings = settings
        self.predictions: PredictionLogReader = PredictionLogReader(source)
        self.model_files: ModelFilesReader = ModelFilesReader(source)
        # The last log and run files read per model version, shown (with the error) when
        # a later poll cannot read them: stale data beats an empty tab.
        self._last_logs: dict[tuple[str, str | None], PredictionLog] = {}
        self._last_files: dict[str, RunFiles] = {}

    async def collect(
        self, model: RegisteredModel | None, version: str | None
    ) -> tuple[PredictionsState | None, FeaturesState | None]:
        """Read the prediction log and training-run files for one model version."""
        if model is None:
            return None, None
        version = resolve_version(model, version)
        model_settings = self.settings.model(model.name)
        return (
            await self._predictions(model.name, version, model_settings),
            await self._features(model, version),
        )

    async def _predictions(self, name: str, version: str | None, settings: ModelSettings) -> PredictionsState:
        state = PredictionsState(
            model_name=name,
            version=version,
            task=settings.task,
            periods_per_year=settings.periods_per_year,
            risk_free_rate=settings.risk_free_rate,
        )
        try:
            prediction_log = await self.predictions.read(name, version, settings.predictions)
        except MlmonError as exc:
            log.warning("prediction log of %s v%s unavailable: %s", name, version, exc)
            return replace(state, error=str(exc), log=self._last_logs.get((name, version)))
        except Exception as exc:  # one model's odd data must not stop the poll
            log.exception("prediction log of %s v%s failed", name, version)
            error = f"Reading the prediction log failed: {exc}"
            return replace(state, error=error, log=self._last_logs.get((name, version)))
        self._last_logs[(name, version)] = prediction_log
        return replace(state, log=prediction_log)

    async def _features(self, model: RegisteredModel, version: str | None) -> FeaturesState:
        item = next((entry for entry in model.versions if entry.version == version), None)
        run_id = item.run_id if item else None
        state = FeaturesState(model_name=model.name, version=version, run_id=run_id)
        if run_id is None:
            return replace(
                state,
                error=f"Version {version} of {model.name} has no source run to read files from.",
            )
        try:
            files = await self.model_files.read(run_id)
        except MlmonError as exc:
            log.warning("files of run %s unavailable: %s", run_id, exc)
            return replace(state, error=str(exc), files=self._last_files.get(run_id))
        except Exception as exc:  # as above: keep the poll alive, show the failure
            log.exception("files of run %s failed", run_id)
            error = f"Reading run {run_id} failed: {exc}"
            return replace(state, error=error, files=self._last_files.get(run_id))
        self._last_files[run_id] = files
        return replace(state, files=files)

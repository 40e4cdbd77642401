"""Records read from an MLflow tracking store, shared by every source and the UI.

Times are epoch milliseconds as MLflow stores them. Metric values are floats where NaN
stays NaN and MLflow's stand-in for infinity (±1.7976931348623157e308) becomes ±inf, so
neither is ever shown as a number it is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# MLflow stores ±inf as ±float max; anything this large came from an infinity.
_INFINITY_STAND_IN = 1.79e308
# Registered models may carry this alias automatically; user-set aliases come first.
AUTOMATIC_ALIASES = frozenset({"latest"})


def metric_value(raw: Any) -> float:
    """Convert a metric value as MLflow returns it (number or "NaN" string) to a float."""
    if isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            return math.nan
    elif raw is None:
        return math.nan
    else:
        value = float(raw)
    if math.isfinite(value) and abs(value) >= _INFINITY_STAND_IN:
        return math.copysign(math.inf, value)
    return value


@dataclass(frozen=True)
class Experiment:
    """One MLflow experiment."""

    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    last_update_time: int | None = None


@dataclass(frozen=True)
class LatestMetric:
    """The newest value of one metric key in a run, as `runs/search` returns it."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class Run:
    """One run with its latest metric values, params and tags."""

    run_id: str
    experiment_id: str
    run_name: str = ""
    status: str = "UNKNOWN"
    start_time: int | None = None
    end_time: int | None = None
    metrics: dict[str, LatestMetric] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifact_uri: str = ""


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, with the aliases that point at it."""

    name: str
    version: str
    run_id: str | None = None
    current_stage: str = "None"
    status: str = "READY"
    source: str = ""
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def version_number(self) -> int:
        """The version as an integer, for sorting (MLflow sends it as a string)."""
        try:
            return int(self.version)
        except ValueError:
            return -1


@dataclass(frozen=True)
class RegisteredModel:
    """One registered model; `aliases` maps each alias to a version string."""

    name: str
    description: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    versions: tuple[ModelVersion, ...] = ()

    def aliases_of(self, version: str) -> tuple[str, ...]:
        """Return the aliases pointing at `version`, user-set ones before automatic ones."""
        names = [alias for alias, target in self.aliases.items() if target == version]
        return tuple(sorted(names, key=lambda alias: (alias in AUTOMATIC_ALIASES, alias)))


@dataclass(frozen=True)
class MetricPoint:
    """One point of a metric history."""

    step: int
    timestamp: int
    value: float


@dataclass(frozen=True)
class ArtifactInfo:
    """One entry of a run's artifact listing; `path` is relative to the artifact root."""

    path: str
    is_dir: bool
    file_size: int | None = None

"""The immutable data the UI renders: one `Snapshot` per completed poll.

The poller builds a new Snapshot each cycle and the TUI replaces the old one whole;
widgets never mutate it. `ViewRequest` travels the other way. It describes what is on
screen, so the poller fetches only that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from mlmon.insights import FeaturesState, PredictionsState
from mlmon.tracking import MetricPoint, ModelVersion, RegisteredModel, Run


class ConnectionStatus(StrEnum):
    """Connection to the tracking store as the header shows it."""

    CONNECTING = "connecting"
    OK = "ok"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True)
class ConnectionState:
    """The tracking store's state: since when it is in it and the last good refresh."""

    status: ConnectionStatus = ConnectionStatus.CONNECTING
    since: datetime | None = None
    last_success: datetime | None = None
    error_title: str = ""
    error_fix: str = ""
    # The failed request's `SourceErrorKind`, e.g. "timed out"; empty while healthy.
    error_kind: str = ""
    failures: int = 0


@dataclass(frozen=True)
class ViewRequest:
    """Description of what the screen shows, so a poll fetches only that.

    `overlay_run_ids` are runs marked for the Accuracy chart besides the selected
    version's run. `chart_points` is about the chart's width in cells.
    """

    model_name: str | None = None
    version: str | None = None
    metric_key: str | None = None
    overlay_run_ids: tuple[str, ...] = ()
    chart_points: int = 200
    model_filter: str = ""


@dataclass(frozen=True)
class Series:
    """One metric history to draw, labelled for the legend."""

    run_id: str
    key: str
    label: str
    points: tuple[MetricPoint, ...]


@dataclass(frozen=True)
class Snapshot:
    """Everything one poll produced; the newest one replaces any older one."""

    server: str
    taken_at: datetime
    connection: ConnectionState
    models: tuple[RegisteredModel, ...] = ()
    # The runs behind model versions and overlays, by run id.
    runs: dict[str, Run] = field(default_factory=dict)
    # Histories for the chart on screen, one per run.
    series: tuple[Series, ...] = ()
    # Errors that concern one part of the screen, keyed by the part ("models", "chart").
    errors: dict[str, str] = field(default_factory=dict)
    # Prediction log and training-run files of the selected version (see mlmon.insights).
    predictions: PredictionsState | None = None
    features: FeaturesState | None = None

    def model(self, name: str | None) -> RegisteredModel | None:
        """Return the registered model called `name`, if loaded."""
        return next((model for model in self.models if model.name == name), None)

    def version(self, name: str | None, version: str | None) -> ModelVersion | None:
        """Return one version of a registered model, if loaded."""
        model = self.model(name)
        if model is None:
            return None
        return next((item for item in model.versions if item.version == version), None)

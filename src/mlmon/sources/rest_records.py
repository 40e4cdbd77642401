"""Parsers that turn MLflow REST JSON into `mlmon.tracking` records, checking its shape.

A proxy, a different API or a broken server can return 200 with JSON of the wrong
shape. Each parser raises `SourceError(MALFORMED)` naming the request and the field
instead of a KeyError or TypeError, so the monitor shows which server sent what. Fields
the monitor cannot do without (a model's name, a version's number, a run's id) are
required; others fall back to defaults, because MLflow omits empty and default fields.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from mlmon.errors import SourceError, SourceErrorKind
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

MALFORMED_FIX = (
    "Check that the tracking URI points at an MLflow server (2.9 or later), not at a proxy "
    "or another service; if it does, the server's log may show why it answers this way."
)
# Characters of an offending item quoted in the error title.
_PREVIEW_CHARS = 80


def malformed(where: str, problem: str) -> SourceError:
    """Return the error for a response from `where` (method and URL) that has the wrong shape."""
    return SourceError(SourceErrorKind.MALFORMED, f"{where} sent a malformed response: {problem}.", MALFORMED_FIX)


def _preview(value: Any) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def object_list(container: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """Return `container[key]` as a list of objects; absent or null means empty, as MLflow omits empty lists."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(where, f"field {key!r} is {_type_name(value)}, not a list ({_preview(value)})")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise malformed(where, f"item {index} of {key!r} is {_type_name(item)}, not an object ({_preview(item)})")
    return value


def optional_object(container: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise malformed(where, f"field {key!r} is {_type_name(value)}, not an object ({_preview(value)})")
    return value


def required_text(item: dict[str, Any], key: str, where: str, what: str) -> str:
    """Return a required string (or number, as ids sometimes come) field of `item`."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        problem = "has no" if value is None else f"has {_type_name(value)} as"
        raise malformed(where, f"{what} {problem} {key!r} ({_preview(item)})")
    return str(value)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def tags(item: dict[str, Any], key: str, where: str) -> dict[str, str]:
    """Return a `[{"key": ..., "value": ...}]` list (tags, params) as a dict."""
    return {
        required_text(tag, "key", where, f"an entry of {key!r}"): str(tag.get("value", ""))
        for tag in object_list(item, key, where)
    }


def metric_point(item: dict[str, Any], where: str) -> MetricPoint:
    raw = item.get("value")
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, str | int | float)):
        raise malformed(where, f"a metric value is {_type_name(raw)}, not a number ({_preview(item)})")
    return MetricPoint(
        step=int_or_none(item.get("step")) or 0,
        timestamp=int_or_none(item.get("timestamp")) or 0,
        value=metric_value(raw),
    )


def experiment(item: dict[str, Any], where: str) -> Experiment:
    return Experiment(
        experiment_id=required_text(item, "experiment_id", where, "an experiment"),
        name=str(item.get("name", "")),
        lifecycle_stage=str(item.get("lifecycle_stage", "active")),
        last_update_time=int_or_none(item.get("last_update_time")),
    )


def artifact(item: dict[str, Any], where: str) -> ArtifactInfo:
    return ArtifactInfo(
        path=required_text(item, "path", where, "an artifact"),
        is_dir=bool(item.get("is_dir", False)),
        file_size=int_or_none(item.get("file_size")),
    )


def run(item: dict[str, Any], where: str) -> Run:
    info = optional_object(item, "info", where)
    data = optional_object(item, "data", where)
    # Old servers send only the deprecated `run_uuid`.
    id_key = "run_uuid" if info.get("run_uuid") and not info.get("run_id") else "run_id"
    run_id = required_text(info, id_key, where, "a run's info")
    metrics: dict[str, LatestMetric] = {}
    for metric in object_list(data, "metrics", where):
        key = required_text(metric, "key", where, f"a metric of run {run_id}")
        point = metric_point(metric, where)
        metrics[key] = LatestMetric(key, point.value, point.timestamp, point.step)
    run_tags = tags(data, "tags", where)
    return Run(
        run_id=run_id,
        experiment_id=required_text(info, "experiment_id", where, f"run {run_id}'s info"),
        run_name=str(info.get("run_name") or run_tags.get("mlflow.runName", "")),
        status=str(info.get("status", "UNKNOWN")),
        start_time=int_or_none(info.get("start_time")),
        end_time=int_or_none(info.get("end_time")),
        metrics=metrics,
        params=tags(data, "params", where),
        tags=run_tags,
        artifact_uri=str(info.get("artifact_uri", "")),
    )


def registered_model(
    item: dict[str, Any], versions: list[dict[str, Any]], where: str, versions_where: str
) -> RegisteredModel:
    """Build a model from a `registered-models/search` item and its `model-versions/search` items."""
    aliases = {
        required_text(alias, "alias", where, "a registered model's alias"): str(alias.get("version", ""))
        for alias in object_list(item, "aliases", where)
    }
    model = RegisteredModel(
        name=required_text(item, "name", where, "a registered model"),
        description=str(item.get("description", "")),
        aliases=aliases,
        creation_timestamp=int_or_none(item.get("creation_timestamp")),
        last_updated_timestamp=int_or_none(item.get("last_updated_timestamp")),
        tags=tags(item, "tags", where),
    )
    parsed = [model_version(version, model, versions_where) for version in versions]
    parsed.sort(key=lambda version: (version.version_number, version.version), reverse=True)
    return replace(model, versions=tuple(parsed))


def model_version(item: dict[str, Any], model: RegisteredModel, where: str) -> ModelVersion:
    version = required_text(item, "version", where, f"a version of {model.name!r}")
    return ModelVersion(
        name=model.name,
        version=version,
        run_id=str(item["run_id"]) if item.get("run_id") else None,
        current_stage=str(item.get("current_stage", "None")),
        status=str(item.get("status", "READY")),
        source=str(item.get("source", "")),
        creation_timestamp=int_or_none(item.get("creation_timestamp")),
        last_updated_timestamp=int_or_none(item.get("last_updated_timestamp")),
        aliases=model.aliases_of(version),
        description=str(item.get("description", "")),
        tags=tags(item, "tags", where),
    )

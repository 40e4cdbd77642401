"""Settings: command line > environment > TOML file > defaults, validated once.

One TOML file serves every part of mlmon. Every key is documented in the README; an
unknown key or a value of the wrong type raises `ConfigError` naming the key, the value
and the fix.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlmon import paths
from mlmon.errors import ConfigError

DEFAULT_TRACKING_URI = "http://localhost:5000"
TASKS = ("auto", "regression", "classification", "trading")


@dataclass(frozen=True)
class MetricThreshold:
    """Warning and critical levels for one metric. `direction` is the side of a level that alerts."""

    warning: float | None = None
    critical: float | None = None
    direction: str = "below"


@dataclass(frozen=True)
class ModelSettings:
    """Per-model settings from a `[models."NAME"]` table."""

    task: str = "auto"
    predictions: str | None = None
    endpoint: str | None = None
    metrics: dict[str, MetricThreshold] = field(default_factory=dict)
    periods_per_year: int = 252
    risk_free_rate: float = 0.0


@dataclass(frozen=True)
class Settings:
    """Everything mlmon reads from its options, environment and config file."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    refresh_seconds: float = 30.0
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_retries: int = 2
    max_concurrency: int = 4
    models: dict[str, ModelSettings] = field(default_factory=dict)
    model_filter: tuple[str, ...] = ()
    config_path: Path | None = None

    def model(self, name: str) -> ModelSettings:
        """Return the settings for one registered model, defaults if it has none."""
        return self.models.get(name, ModelSettings())


_TOP_KEYS: dict[str, type | tuple[type, ...]] = {
    "tracking_uri": str,
    "refresh_seconds": (int, float),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "max_retries": int,
    "max_concurrency": int,
}
_MODEL_KEYS: dict[str, type | tuple[type, ...]] = {
    "task": str,
    "predictions": str,
    "endpoint": str,
    "metrics": dict,
    "periods_per_year": int,
    "risk_free_rate": (int, float),
}
_TYPE_WORDS = {int: "a whole number", str: "a quoted string", dict: "a table"}
# Tables that later features read; accepted here so one file can hold them all.
_RESERVED_TABLES = {"alerts", "keys"}


def load_settings(
    *,
    tracking_uri: str | None = None,
    refresh_seconds: float | None = None,
    models: tuple[str, ...] = (),
    config_path: Path | None = None,
) -> Settings:
    """Build settings from the command line, MLFLOW_TRACKING_URI and the config file."""
    path = config_path or paths.config_file()
    explicit = config_path is not None
    settings = _read_file(path, required=explicit)

    env_uri = os.environ.get("MLFLOW_TRACKING_URI")
    if tracking_uri:
        settings = replace(settings, tracking_uri=tracking_uri)
    elif env_uri:
        settings = replace(settings, tracking_uri=env_uri)
    if refresh_seconds is not None:
        settings = replace(settings, refresh_seconds=refresh_seconds)
    if models:
        settings = replace(settings, model_filter=tuple(models))

    _validate(settings, refresh_origin="--refresh" if refresh_seconds is not None else f"refresh_seconds in {path}")
    return settings


def _read_file(path: Path, *, required: bool) -> Settings:
    if not path.exists():
        if required:
            raise ConfigError(
                f"Config file {path} not found.",
                "Check the --config path, or omit it to use the defaults.",
            )
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"Config file {path} is not UTF-8 text.", "Save it as UTF-8 TOML.") from exc
    except OSError as exc:
        raise ConfigError(
            f"Cannot read config file {path}: {exc.strerror or exc}.", "Check that it is a readable file."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Invalid TOML in config file {path}: {exc}.", "Fix the syntax.") from exc
    return _parse(data, path)


def _parse(data: dict[str, Any], path: Path) -> Settings:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TOP_KEYS:
            values[key] = _check_type(path, key, value, _TOP_KEYS[key])
        elif key == "models":
            values["models"] = _parse_models(path, _check_type(path, key, value, dict))
        elif key in _RESERVED_TABLES:
            _check_type(path, key, value, dict)
        else:
            raise ConfigError(
                f"Unknown key {key!r} in config file {path}.",
                f"Remove it; known keys are {', '.join(sorted([*_TOP_KEYS, 'models']))}.",
            )
    for key in ("refresh_seconds", "connect_timeout", "read_timeout"):
        if key in values:
            values[key] = float(values[key])
    return Settings(config_path=path, **values)


def _parse_models(path: Path, tables: dict[str, Any]) -> dict[str, ModelSettings]:
    models: dict[str, ModelSettings] = {}
    for name, table in tables.items():
        where = f"models.{name!r}"
        _check_type(path, where, table, dict)
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in _MODEL_KEYS:
                raise ConfigError(
                    f"Unknown key {key!r} in [{where}] of config file {path}.",
                    f"Remove it; known keys are {', '.join(sorted(_MODEL_KEYS))}.",
                )
            values[key] = _check_type(path, f"{where}.{key}", value, _MODEL_KEYS[key])
        if values.get("task", "auto") not in TASKS:
            raise ConfigError(
                f"Invalid task {values['task']!r} for model {name!r} in {path}.",
                f"Use one of {', '.join(TASKS)}.",
            )
        if "metrics" in values:
            values["metrics"] = _parse_thresholds(path, where, values["metrics"])
        if values.get("periods_per_year", 1) <= 0:
            raise ConfigError(
                f"Invalid periods_per_year {values['periods_per_year']} for model {name!r} in {path}.",
                "Use the number of trading periods in a year, e.g. 252 for daily returns.",
            )
        if "risk_free_rate" in values:
            values["risk_free_rate"] = float(values["risk_free_rate"])
        models[name] = ModelSettings(**values)
    return models


def _parse_thresholds(path: Path, where: str, table: dict[str, Any]) -> dict[str, MetricThreshold]:
    thresholds: dict[str, MetricThreshold] = {}
    for metric, spec in table.items():
        key = f"{where}.metrics.{metric}"
        _check_type(path, key, spec, dict)
        direction = spec.get("direction", "below")
        if direction not in ("below", "above"):
            raise ConfigError(
                f"Invalid direction {direction!r} for {key} in {path}.",
                'Use "below" (alert when the value falls under the level) or "above".',
            )
        levels = {}
        for level in ("warning", "critical"):
            if level in spec:
                levels[level] = float(_check_type(path, f"{key}.{level}", spec[level], (int, float)))
        thresholds[metric] = MetricThreshold(direction=direction, **levels)
    return thresholds


def _check_type(path: Path, key: str, value: Any, expected: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) or not isinstance(value, expected):
        types = (expected,) if isinstance(expected, type) else expected
        wanted = "a number" if float in types else _TYPE_WORDS.get(types[0], types[0].__name__)
        raise ConfigError(
            f"Invalid value {value!r} for {key} in config file {path}.",
            f"Use {wanted}.",
        )
    return value


def _validate(settings: Settings, refresh_origin: str) -> None:
    if settings.refresh_seconds < 1:
        raise ConfigError(
            f"Invalid refresh interval {settings.refresh_seconds:g} s ({refresh_origin}).",
            "Use 1 or more seconds.",
        )
    where = f"in config file {settings.config_path}"
    for key in ("connect_timeout", "read_timeout"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"Invalid {key} {getattr(settings, key)!r} {where}.", "Use a positive number of seconds.")
    if settings.max_concurrency < 1:
        raise ConfigError(f"Invalid max_concurrency {settings.max_concurrency} {where}.", "Use 1 or more.")
    if settings.max_retries < 0:
        raise ConfigError(f"Invalid max_retries {settings.max_retries} {where}.", "Use 0 or more.")
    scheme = settings.tracking_uri.split(":", 1)[0].lower()
    if scheme not in ("http", "https", "sqlite", "file") and not settings.tracking_uri.startswith("/"):
        raise ConfigError(
            f"Unsupported tracking URI {settings.tracking_uri!r}.",
            "Use an http(s):// server, a sqlite:///path/mlflow.db store or a file: store.",
        )

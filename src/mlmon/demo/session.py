"""MLflow's process-wide settings for a demo build, set on entry and put back on exit.

The fluent API (`mlflow.start_run`, autolog, system metrics) reads the tracking URI
and its settings from module globals and environment variables. A build changes them
only while it runs, because the same process goes on to open the monitor (the CLI) or
to use other stores (the test suite).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

# MLflow reads these at call time; the build sets them and puts the old values back.
_MLFLOW_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING",
    "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL",
    "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING",
)


@contextmanager
def mlflow_session(uri: str) -> Iterator[MlflowClient]:
    """Point MLflow's fluent API at the demo store with autolog on; undo it afterwards.

    The tracking and registry URIs are both set so a user's MLFLOW_REGISTRY_URI never
    receives demo models. System metrics are sampled every 0.5 s (MLflow's default is
    10 s) because a demo training run lasts only a few seconds.
    """
    import mlflow
    from mlflow import MlflowClient

    saved = {key: os.environ.get(key) for key in _MLFLOW_ENV}
    # MLflow's INFO lines (database set-up, system metrics threads) would bury progress.
    mlflow_log = logging.getLogger("mlflow")
    level = mlflow_log.level
    mlflow_log.setLevel(logging.WARNING)
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        mlflow.enable_system_metrics_logging()
        mlflow.set_system_metrics_sampling_interval(0.5)
        mlflow.set_system_metrics_samples_before_logging(1)
        mlflow.lightgbm.autolog(log_models=False, silent=True)
        yield MlflowClient(tracking_uri=uri, registry_uri=uri)
    finally:
        mlflow.lightgbm.autolog(disable=True)
        mlflow_log.setLevel(level)
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Stderr:
    """Stand-in for stdout that writes to whatever sys.stderr is at the time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

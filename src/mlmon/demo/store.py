"""Build the demo's MLflow store, or reuse the one a previous build finished.

Layout of the demo folder (default: the platform data dir's `mlmon/demo`):

    mlflow.db          the tracking and registry store (sqlite)
    artifacts/         every run's artifacts, one folder per experiment
    prediction-log/    each version's full daily prediction log, kept so predictions
                       runs can be rebuilt (after a live replay) without retraining
    demo.json          the build's record of the options used and the steps finished

A build trains first and logs predictions second, and updates `demo.json` after each
step. A second build with the same options reuses the store. A build interrupted
during training starts over, and a store left behind by a live replay only gets new
predictions runs. Only the files named above are deleted, never the folder itself or
anything else in it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from mlmon.demo.session import Stderr, mlflow_session
from mlmon.errors import MlmonError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from mlmon.demo.batches import PredictionLog

log = logging.getLogger(__name__)

# Bump when the store's content changes shape, so older demo folders are rebuilt.
STORE_FORMAT = 1
MARKER = "demo.json"
PREDICTIONS_EXPERIMENT = "prediction-logs"
# The marker goes first, so a wipe cut short never leaves a marker over a half store.
_OWNED = (MARKER, "mlflow.db", "mlflow.db-journal", "artifacts", "prediction-log", "scratch")
Progress = Callable[[str], None]


class DemoError(MlmonError):
    """The demo store cannot be built or read."""


@dataclass(frozen=True)
class DemoOptions:
    """Contents of a build: the full demo by default, a small one from `reduced()`."""

    models: tuple[str, ...] = ("spx-direction", "ndx-return")
    first_month: str = "2005-01"
    last_month: str = "2010-12"
    num_boost_round: int = 200

    @classmethod
    def reduced(cls) -> DemoOptions:
        """Return options for one model, predictions through 2007-06 and 40 rounds."""
        return cls(models=("spx-direction",), last_month="2007-06", num_boost_round=40)

    def to_json(self) -> dict[str, object]:
        """Return the options as demo.json stores them (lists, not tuples)."""
        return {**asdict(self), "models": list(self.models)}


@dataclass(frozen=True)
class DemoStore:
    """A finished demo store and where its parts are."""

    directory: Path
    options: DemoOptions
    reused: bool
    build_seconds: float
    # model name -> version -> predictions run id
    prediction_runs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def tracking_uri(self) -> str:
        """The `sqlite:////absolute/path/mlflow.db` URI of the store."""
        return sqlite_uri(self.directory)


def default_demo_dir() -> Path:
    """Return the platform data dir's `mlmon/demo`, or MLMON_DEMO_DIR when set."""
    override = os.environ.get("MLMON_DEMO_DIR")
    if override:
        return Path(override)
    from platformdirs import PlatformDirs

    return Path(PlatformDirs("mlmon", appauthor=False).user_data_dir) / "demo"


def sqlite_uri(directory: Path) -> str:
    """Return the tracking URI of the demo store in `directory` (an absolute path)."""
    return f"sqlite:///{directory.resolve() / 'mlflow.db'}"


def log_path(directory: Path, model: str, version: str) -> Path:
    """Return where one version's full daily prediction log is kept between builds."""
    return directory / "prediction-log" / model / f"v{version}.parquet"


def build_demo(
    directory: Path,
    options: DemoOptions | None = None,
    *,
    live_from: str | None = None,
    progress: Progress | None = None,
) -> DemoStore:
    """Build the demo store in `directory`, or reuse a finished one built with `options`.

    With `live_from` (`YYYY-MM`), the predictions runs hold only the days before that
    month and stay RUNNING, for `mlmon.demo.live.LiveReplay` to continue them.
    """
    options = options or DemoOptions()
    say = progress or (lambda message: None)
    started = time.monotonic()
    directory = directory.expanduser().resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(
            f"Cannot create the demo folder {directory}: {exc}.", "Pass a writable --dir."
        ) from exc

    if live_from is not None:
        month_start(live_from)
    marker = _read_marker(directory)
    trained = _is_trained(directory, marker, options)
    predictions_state = "complete" if live_from is None else f"live:{live_from}"
    if trained and marker.get("predictions") == predictions_state == "complete":
        say(f"Reusing the demo store in {directory}")
        runs = marker.get("prediction_runs", {})
        return DemoStore(directory, options, reused=True, build_seconds=0.0, prediction_runs=runs)

    if not trained:
        _reject_foreign_store(directory, marker)
        # Before any client opens mlflow.db: a deleted open database turns read-only.
        _wipe(directory)
        # From here on the folder is ours to wipe, even if this build dies half-way.
        _write_marker(directory, options, trained=False, predictions="none")
    # MLflow prints registry messages on stdout, which belongs to the tracking URI.
    with mlflow_session(sqlite_uri(directory)) as client, redirect_stdout(Stderr()):
        if not trained:
            versions = _train_all(client, directory, options, say)
        else:
            versions = marker["versions"]
            say(f"Reusing the trained models in {directory}")
        # Until the new predictions runs are all logged, the store counts as unfinished.
        _write_marker(directory, options, trained=True, predictions="none", versions=versions)
        runs = _replace_prediction_runs(client, directory, versions, live_from, say)

    elapsed = time.monotonic() - started
    _write_marker(
        directory,
        options,
        trained=True,
        predictions=predictions_state,
        versions=versions,
        prediction_runs=runs,
        build_seconds=round(elapsed, 1),
    )
    say(f"Demo store ready in {elapsed:.1f} s")
    return DemoStore(directory, options, reused=False, build_seconds=elapsed, prediction_runs=runs)


def _train_all(
    client: MlflowClient, directory: Path, options: DemoOptions, say: Progress
) -> dict[str, list[str]]:
    """Train, register and predict with every version; return the versions of each model."""
    from mlmon.demo.batches import prediction_log
    from mlmon.demo.market import market_frame
    from mlmon.demo.training import MODELS, train_version

    specs = {model.name: model for model in MODELS}
    unknown = [name for name in options.models if name not in specs]
    if unknown:
        raise DemoError(f"Unknown demo model {', '.join(unknown)}.", f"Use {', '.join(specs)}.")

    say("Computing features from the S&P 500 and NASDAQ daily prices (1999-2018)")
    frame = market_frame()
    versions: dict[str, list[str]] = {}
    for name in options.models:
        model = specs[name]
        location = (directory / "artifacts" / name).as_uri()
        experiment_id = client.create_experiment(name, artifact_location=location)
        client.create_registered_model(name, description=model.description)
        for spec in model.versions:
            say(f"Training {name} on 1999-{spec.end.year} ({options.num_boost_round} rounds)")
            trained = train_version(
                frame,
                model,
                spec,
                experiment_id=experiment_id,
                num_boost_round=options.num_boost_round,
                scratch=directory / "scratch" / "training",
            )
            client.set_registered_model_alias(name, spec.alias, trained.version)
            predictions = prediction_log(trained, frame, options.first_month, options.last_month)
            path = log_path(directory, name, trained.version)
            path.parent.mkdir(parents=True, exist_ok=True)
            predictions.frame.to_parquet(path, index=False)
            versions.setdefault(name, []).append(trained.version)
            shutil.rmtree(directory / "scratch", ignore_errors=True)
    return versions


def _replace_prediction_runs(
    client: MlflowClient,
    directory: Path,
    versions: dict[str, list[str]],
    live_from: str | None,
    say: Progress,
) -> dict[str, dict[str, str]]:
    """Delete any predictions runs and log new ones from the saved prediction logs."""
    import pandas as pd

    from mlmon.demo.batches import log_prediction_run, prediction_runs

    experiment = client.get_experiment_by_name(PREDICTIONS_EXPERIMENT)
    if experiment is None:
        location = (directory / "artifacts" / PREDICTIONS_EXPERIMENT).as_uri()
        experiment_id = client.create_experiment(PREDICTIONS_EXPERIMENT, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
        for run in prediction_runs(client, [experiment_id]):
            client.delete_run(run.info.run_id)
            # The deleted run stays in mlflow.db; its batch files would only fill the disk.
            folder = local_folder(run.info.artifact_uri)
            if folder.resolve().is_relative_to(directory / "artifacts"):
                shutil.rmtree(folder, ignore_errors=True)

    until = pd.Timestamp(live_from + "-01") if live_from else None
    runs: dict[str, dict[str, str]] = {}
    for name, numbers in versions.items():
        for version in numbers:
            predictions = read_prediction_log(directory, name, version)
            last = (
                predictions.last_day
                if until is None
                else min(predictions.last_day, until - pd.Timedelta(days=1))
            )
            say(
                f"Logging {name} v{version} predictions {predictions.first_day:%Y-%m}..{last:%Y-%m}"
            )
            run_id = log_prediction_run(
                client,
                experiment_id,
                predictions,
                until=until,
                scratch=directory / "scratch" / "predictions",
            )
            runs.setdefault(name, {})[version] = run_id
    shutil.rmtree(directory / "scratch", ignore_errors=True)
    return runs


def read_prediction_log(directory: Path, model: str, version: str) -> PredictionLog:
    """Read one version's saved daily prediction log."""
    import pandas as pd

    from mlmon.demo.batches import PredictionLog

    path = log_path(directory, model, version)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DemoError(
            f"Cannot read the demo prediction log {path}: {exc}.",
            f"Delete the folder {directory} (or pass another --dir) and run mlmon demo again.",
        ) from exc
    return PredictionLog(model, version, frame)


def month_start(month: str) -> pd.Timestamp:
    """Parse `YYYY-MM` (as --live-from takes it) to its first day."""
    import pandas as pd

    try:
        return pd.Timestamp(month + "-01")
    except ValueError as exc:
        raise DemoError(
            f"Invalid month {month!r}.", "Write it as YYYY-MM, for example 2007-06."
        ) from exc


def local_folder(artifact_uri: str) -> Path:
    """Return the folder behind a `file:` artifact URI (the demo keeps artifacts local)."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme not in ("", "file"):
        raise DemoError(
            f"Demo artifacts at {artifact_uri} are not on this disk.", "Rebuild the demo store."
        )
    return Path(unquote(parsed.path))


def _is_trained(directory: Path, marker: dict, options: DemoOptions) -> bool:
    """Return True if a build with `options` finished training and left its files."""
    if marker.get("format") != STORE_FORMAT or marker.get("options") != options.to_json():
        return False
    if marker.get("trained") is not True or not (directory / "mlflow.db").is_file():
        return False
    versions = marker.get("versions")
    if not isinstance(versions, dict):
        return False
    return all(
        log_path(directory, model, version).is_file()
        for model, numbers in versions.items()
        for version in numbers
    )


def _read_marker(directory: Path) -> dict:
    """Return demo.json's content, or an empty dict when it is missing or unreadable."""
    try:
        data = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marker(directory: Path, options: DemoOptions, **state: object) -> None:
    """Write demo.json atomically, so a crash leaves the old marker or none."""
    data = {"format": STORE_FORMAT, "options": options.to_json(), **state}
    temporary = directory / f".{MARKER}.tmp"
    temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(temporary, directory / MARKER)


def _reject_foreign_store(directory: Path, marker: dict) -> None:
    """Raise DemoError if the folder contains store files but no marker of a demo build."""
    if "format" in marker:
        return
    found = [name for name in _OWNED if (directory / name).exists()]
    if found:
        raise DemoError(
            f"{directory} already contains {', '.join(found)}, which mlmon demo did not write.",
            "Pass a new or empty folder with --dir. mlmon demo never deletes a store it did "
            "not build.",
        )


def _wipe(directory: Path) -> None:
    """Delete what an earlier, unfinished build left; nothing else in the folder."""
    for name in _OWNED:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

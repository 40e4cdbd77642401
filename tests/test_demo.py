"""The demo store: built by the real `mlmon demo` command, read back with MLflow's client.

One reduced store (spx-direction only, predictions through 2007-06, 40 boosting rounds)
is built once for the module by running the CLI; the tests check it against the
`arch` price files, scikit-learn and the registered LightGBM models themselves. The
live-replay test comes last because it rewrites that store's predictions runs (and
checks that a plain build restores them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score

from mlmon.demo.lock import DemoLock
from mlmon.demo.market import feature_columns
from mlmon.demo.store import (
    PREDICTIONS_EXPERIMENT,
    DemoError,
    DemoOptions,
    build_demo,
    local_folder,
    read_prediction_log,
)

pytestmark = pytest.mark.slow

SPX_FEATURES = feature_columns("spx", "ndx")
REDUCED = DemoOptions.reduced()
PREDICTION_COLUMNS = ["timestamp", "prediction", "actual", "score", "model_version", "request_id"]


@dataclass
class BuiltStore:
    directory: Path
    uri: str
    stdout: str
    client: MlflowClient


def _run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.run(
        [sys.executable, "-m", "mlmon", "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltStore]:
    directory = tmp_path_factory.mktemp("demo") / "store"
    result = _run_cli("--no-tui", "--reduced", "--dir", str(directory))
    assert result.returncode == 0, result.stderr[-3000:]
    uri = f"sqlite:///{directory.resolve() / 'mlflow.db'}"
    yield BuiltStore(
        directory, uri, result.stdout, MlflowClient(tracking_uri=uri, registry_uri=uri)
    )


def _spx_next_up() -> pd.Series:
    """Next-day S&P 500 direction straight from the arch price file (the label oracle)."""
    from arch.data import sp500

    close = sp500.load()["Adj Close"]
    up = (close.shift(-1) > close).astype("float64")
    up.index = pd.DatetimeIndex(up.index).astype("datetime64[ns]")
    return up


def _booster(client: MlflowClient, version: str, model: str = "spx-direction") -> lgb.Booster:
    """Load a registered version's LightGBM file directly, without MLflow's loader."""
    source = client.get_model_version(model, version).source
    logged = client.get_logged_model(source.removeprefix("models:/"))
    return lgb.Booster(model_file=str(local_folder(logged.artifact_location) / "model.lgb"))


def _read_batches(client: MlflowClient, run_id: str, target: Path) -> dict[str, pd.DataFrame]:
    paths = [item.path for item in client.list_artifacts(run_id, "predictions")]
    local = Path(client.download_artifacts(run_id, "predictions", str(target)))
    return {Path(path).stem: pd.read_parquet(local / Path(path).name) for path in paths}


def _prediction_runs(client: MlflowClient) -> dict[str, object]:
    experiment = client.get_experiment_by_name(PREDICTIONS_EXPERIMENT)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], "tags.`mlmon.role` = 'predictions'")
    return {run.data.tags["mlmon.version"]: run for run in runs}


def test_cli_prints_the_tracking_uri_last(built: BuiltStore) -> None:
    lines = built.stdout.strip().splitlines()
    assert lines[-1] == built.uri
    assert lines[-1].startswith("sqlite:////")


def test_models_and_aliases(built: BuiltStore) -> None:
    models = {model.name: model for model in built.client.search_registered_models()}
    assert set(models) == {"spx-direction"}
    aliases = {alias: str(version) for alias, version in models["spx-direction"].aliases.items()}
    assert aliases == {"champion": "1", "challenger": "2"}
    for version in ("1", "2"):
        run = built.client.get_run(built.client.get_model_version("spx-direction", version).run_id)
        assert run.data.tags["mlmon.version"] == version
        assert run.data.tags["mlmon.model"] == "spx-direction"


@pytest.mark.parametrize("version", ["1", "2"])
def test_importance_files_match_the_booster(
    built: BuiltStore, version: str, tmp_path: Path
) -> None:
    run_id = built.client.get_model_version("spx-direction", version).run_id
    root = {item.path for item in built.client.list_artifacts(run_id)}
    assert {"feature_importance_gain.json", "feature_importance_split.json"} <= root
    booster = _booster(built.client, version)
    for kind in ("gain", "split"):
        path = built.client.download_artifacts(
            run_id, f"feature_importance_{kind}.json", str(tmp_path)
        )
        logged = json.loads(Path(path).read_text())
        assert set(logged) == set(SPX_FEATURES)
        expected = dict(zip(booster.feature_name(), booster.feature_importance(kind), strict=True))
        for feature in SPX_FEATURES:
            assert logged[feature] == pytest.approx(expected[feature])


def test_training_runs_have_metric_histories(built: BuiltStore) -> None:
    run_id = built.client.get_model_version("spx-direction", "1").run_id
    for key in ("train-binary_logloss", "valid-binary_logloss", "train-auc", "valid-auc"):
        history = built.client.get_metric_history(run_id, key)
        assert sorted(point.step for point in history) == list(range(REDUCED.num_boost_round))
    training_loss = [
        p.value
        for p in sorted(
            built.client.get_metric_history(run_id, "train-binary_logloss"), key=lambda p: p.step
        )
    ]
    assert training_loss[-1] < training_loss[0]
    assert built.client.get_metric_history(run_id, "system/cpu_utilization_percentage")


def test_validation_metrics_match_scikit_learn(built: BuiltStore, tmp_path: Path) -> None:
    run = built.client.get_run(built.client.get_model_version("spx-direction", "1").run_id)
    reference = pd.read_parquet(
        built.client.download_artifacts(run.info.run_id, "reference/train.parquet", str(tmp_path))
    )
    valid = reference[reference["timestamp"] >= pd.Timestamp(run.data.params["valid_from"])]
    booster = _booster(built.client, "1")
    score = booster.predict(valid[SPX_FEATURES])
    assert run.data.metrics["accuracy"] == pytest.approx(
        accuracy_score(valid["actual"], score >= 0.5)
    )
    assert run.data.metrics["roc_auc"] == pytest.approx(roc_auc_score(valid["actual"], score))
    assert run.data.metrics["valid_rows"] == len(valid)


def test_reference_is_the_training_window(built: BuiltStore, tmp_path: Path) -> None:
    run_id = built.client.get_model_version("spx-direction", "2").run_id
    assert [item.path for item in built.client.list_artifacts(run_id, "reference")] == [
        "reference/train.parquet"
    ]
    frame = pd.read_parquet(
        built.client.download_artifacts(run_id, "reference/train.parquet", str(tmp_path))
    )
    assert list(frame.columns) == ["timestamp", *SPX_FEATURES, "actual"]
    assert frame["timestamp"].min().year == 1999
    assert frame["timestamp"].max() == pd.Timestamp("2006-12-29")  # last trading day of 2006
    labels = _spx_next_up().reindex(frame["timestamp"])
    assert np.array_equal(frame["actual"].to_numpy(), labels.to_numpy())


@pytest.mark.parametrize(
    ("version", "first", "last"), [("1", "2005-01", "2007-06"), ("2", "2007-01", "2007-06")]
)
def test_prediction_batches(
    built: BuiltStore, version: str, first: str, last: str, tmp_path: Path
) -> None:
    run = _prediction_runs(built.client)[version]
    assert run.data.tags["mlmon.model"] == "spx-direction"
    assert run.data.tags["mlmon.role"] == "predictions"
    assert run.info.status == "FINISHED"

    batches = _read_batches(built.client, run.info.run_id, tmp_path)
    months = [f"{period}" for period in pd.period_range(first, last, freq="M")]
    assert sorted(batches) == months
    for month, frame in batches.items():
        assert list(frame.columns) == [*PREDICTION_COLUMNS, *SPX_FEATURES]
        assert (frame["timestamp"].dt.strftime("%Y-%m") == month).all()

    frame = pd.concat(batches.values(), ignore_index=True)
    from arch.data import sp500

    trading_days = pd.DatetimeIndex(sp500.load().loc[first:last].index).astype("datetime64[ns]")
    assert list(frame["timestamp"]) == list(trading_days)
    assert frame["request_id"].is_unique
    assert (frame["model_version"] == version).all()
    assert np.array_equal(
        frame["actual"].to_numpy(), _spx_next_up().reindex(frame["timestamp"]).to_numpy()
    )

    booster = _booster(built.client, version)
    np.testing.assert_allclose(frame["score"], booster.predict(frame[SPX_FEATURES]))
    assert np.array_equal(
        frame["prediction"].to_numpy(), (frame["score"] >= 0.5).astype(int).to_numpy()
    )
    assert run.data.metrics["predictions_logged"] == len(frame)


def test_second_build_reuses_the_store(built: BuiltStore) -> None:
    database = built.directory / "mlflow.db"
    modified = database.stat().st_mtime_ns
    runs = {version: run.info.run_id for version, run in _prediction_runs(built.client).items()}

    store = build_demo(built.directory, REDUCED)

    assert store.reused
    assert store.tracking_uri == built.uri
    assert store.prediction_runs == {"spx-direction": runs}
    assert database.stat().st_mtime_ns == modified


def test_cli_errors_name_the_value_and_build_nothing(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mlflow.db").write_bytes(b"someone else's store")
    result = _run_cli("--no-tui", "--dir", str(foreign))
    assert result.returncode == 2
    assert "mlflow.db" in result.stderr
    assert "--dir" in result.stderr
    assert (foreign / "mlflow.db").read_bytes() == b"someone else's store"

    result = _run_cli("--no-tui", "--live", "--speed", "0", "--dir", str(tmp_path / "new"))
    assert result.returncode == 2
    assert "--speed 0.0" in result.stderr
    assert not (tmp_path / "new").exists()


def test_half_built_store_is_rebuilt(tmp_path: Path) -> None:
    options = DemoOptions(models=("ndx-return",), last_month="2005-03", num_boost_round=15)
    directory = tmp_path / "half"
    directory.mkdir()
    # What a build killed during training leaves: its first marker and a partial database.
    (directory / "demo.json").write_text(
        json.dumps({"format": 1, "options": options.to_json(), "trained": False})
    )
    (directory / "mlflow.db").write_bytes(b"not a database")

    store = build_demo(directory, options)

    assert not store.reused
    client = MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)
    aliases = client.get_registered_model("ndx-return").aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"champion": "1"}
    frame = read_prediction_log(directory, "ndx-return", "1").frame
    assert "score" not in frame
    from arch.data import nasdaq

    close = nasdaq.load()["Adj Close"]
    close.index = pd.DatetimeIndex(close.index).astype("datetime64[ns]")
    next_return = (close.shift(-1) / close - 1).reindex(frame["timestamp"])
    np.testing.assert_allclose(frame["actual"], next_return.to_numpy())
    run = client.get_run(client.get_model_version("ndx-return", "1").run_id)
    assert len(client.get_metric_history(run.info.run_id, "valid-rmse")) == 15
    reference = pd.read_parquet(
        client.download_artifacts(run.info.run_id, "reference/train.parquet", str(tmp_path))
    )
    valid = reference[reference["timestamp"] >= pd.Timestamp(run.data.params["valid_from"])]
    predicted = _booster(client, "1", "ndx-return").predict(valid[feature_columns("ndx", "spx")])
    rmse = mean_squared_error(valid["actual"], predicted) ** 0.5
    assert run.data.metrics["rmse"] == pytest.approx(rmse)
    assert build_demo(directory, options).reused


def test_second_demo_on_a_locked_folder_exits_2(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    with DemoLock(busy):
        result = _run_cli("--no-tui", "--reduced", "--dir", str(busy), timeout=120)
        assert result.returncode == 2
        assert f"Another mlmon demo is building {busy.resolve()}." in result.stderr
        assert "--dir" in result.stderr
        assert result.stdout == ""
        # The refused run wrote nothing into the folder.
        assert list(busy.iterdir()) == []
    with DemoLock(busy) as again:
        assert again.held


def test_lock_held_by_another_process_until_it_dies(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from mlmon.demo.lock import DemoLock; "
            f"DemoLock(pathlib.Path({str(folder)!r})).acquire(); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DemoError) as caught:
            DemoLock(folder).acquire()
        assert str(folder.resolve()) in caught.value.title
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # The kernel drops a dead process's lock: no stale lock survives a killed build.
    with DemoLock(folder) as lock:
        assert lock.held
    assert not lock.held


def test_live_replay_appends_days_and_fills_actuals_later(
    built: BuiltStore, tmp_path: Path
) -> None:
    from mlmon.demo.live import LiveReplay

    store = build_demo(built.directory, REDUCED, live_from="2007-06")
    assert not store.reused
    live = _prediction_runs(built.client)
    assert {version: run.info.status for version, run in live.items()} == {
        "1": "RUNNING",
        "2": "RUNNING",
    }
    assert sorted(_read_batches(built.client, live["2"].info.run_id, tmp_path / "before")) == [
        "2007-01",
        "2007-02",
        "2007-03",
        "2007-04",
        "2007-05",
    ]

    replay = LiveReplay(store, "2007-06", seconds_per_day=0.01)
    first, second = replay.step(), replay.step()
    assert (first, second) == (pd.Timestamp("2007-06-01"), pd.Timestamp("2007-06-04"))
    so_far = _read_batches(built.client, live["1"].info.run_id, tmp_path / "during")["2007-06"]
    assert list(so_far["timestamp"]) == [first, second]
    # Day t's actual is the move to day t+1, so it is known one replayed day later.
    assert so_far["actual"].iloc[0] == _spx_next_up()[first]
    assert np.isnan(so_far["actual"].iloc[1])

    replay.start()
    replay.join(60)
    assert not replay.running
    assert replay.error is None

    june = _read_batches(built.client, live["1"].info.run_id, tmp_path / "after")["2007-06"]
    full = read_prediction_log(built.directory, "spx-direction", "1").frame
    expected = full[full["timestamp"] >= pd.Timestamp("2007-06-01")].reset_index(drop=True)
    pd.testing.assert_frame_equal(june.reset_index(drop=True), expected, check_dtype=False)
    finished = _prediction_runs(built.client)
    assert {version: run.info.status for version, run in finished.items()} == {
        "1": "FINISHED",
        "2": "FINISHED",
    }
    assert finished["1"].data.metrics["predictions_logged"] == len(full)

    # A plain build after a replay logs complete predictions runs again.
    restored = build_demo(built.directory, REDUCED)
    assert not restored.reused
    assert restored.prediction_runs["spx-direction"]["1"] != live["1"].info.run_id
    assert build_demo(built.directory, REDUCED).reused

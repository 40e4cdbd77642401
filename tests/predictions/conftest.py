"""Real prediction logs and training runs in an mlflow server started for them.

`prediction_store` writes, once per session and with MLflow's own client:

- `pred-classifier` v1: a LightGBM classifier trained under `mlflow.lightgbm.autolog`,
  so the importance files are autolog's own. Its training features are under
  `reference/`. Its predictions run has one batch per format (Parquet, CSV,
  split-orient JSON, JSON Lines) and an actuals-only batch that arrives late.
- `pred-table`: a predictions run whose only table is written by `mlflow.log_table`.
- `pred-broken`: a predictions run with one good batch and three bad ones, and a
  training run whose gain importance file is corrupt.
- `pred-returns`: a next-day return regressor whose errors grow halfway through.
- `pred-empty`: a version whose run has no files and no predictions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.mlflow_server import start_server

FEATURES = ("momentum", "volatility", "volume", "noise")
BATCH_ROWS = 40
EPOCH = pd.Timestamp(0, tz="UTC")
# The one server and store of the session, shared by every module that imports the
# fixture (pytest makes one fixture instance per importing module).
_SHARED: dict[str, object] = {}


@dataclass
class PredictionStore:
    """What was written, for tests to compare against."""

    uri: str
    classifier_run_id: str = ""
    predictions_run_id: str = ""
    table_run_id: str = ""
    broken_run_id: str = ""
    booster: object = None
    training: pd.DataFrame | None = None
    # The batches as written, in order, before the late actuals arrived.
    batches: list[pd.DataFrame] = field(default_factory=list)
    late_actuals: pd.DataFrame | None = None
    table: pd.DataFrame | None = None
    returns: pd.DataFrame | None = None


def make_features(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    """Features with a known signal: momentum drives the label, noise does not."""
    return pd.DataFrame(
        {
            "momentum": rng.normal(shift, 1.0, rows),
            "volatility": rng.gamma(2.0, 0.5 + shift, rows),
            "volume": rng.normal(10.0, 2.0, rows),
            "noise": rng.normal(0.0, 1.0, rows),
        }
    )


def label_of(features: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    signal = features["momentum"] - 0.3 * features["volatility"] + rng.normal(0, 0.5, len(features))
    return (signal > 0).astype(int).to_numpy()


def prediction_batch(booster: object, rng: np.random.Generator, start: pd.Timestamp, shift: float) -> pd.DataFrame:
    features = make_features(rng, BATCH_ROWS, shift)
    score = booster.predict(features[list(FEATURES)].to_numpy())  # type: ignore[attr-defined]
    batch = pd.DataFrame(
        {
            "timestamp": pd.date_range(start, periods=BATCH_ROWS, freq="12h", tz="UTC"),
            "prediction": (score > 0.5).astype(int),
            "actual": label_of(features, rng),
            "score": score,
            "model_version": "1",
            "request_id": [f"{start:%Y%m}-{i:03d}" for i in range(BATCH_ROWS)],
        }
    )
    return pd.concat([batch, features], axis=1)


def write_batch(batch: pd.DataFrame, path: Path) -> Path:
    """Write a batch in the format of its file extension, as a producer would."""
    if path.suffix == ".parquet":
        batch.to_parquet(path)
    elif path.suffix == ".csv":
        out = batch.copy()
        out["timestamp"] = out["timestamp"].map(lambda t: t.isoformat())
        out.to_csv(path, index=False)
    elif path.suffix == ".json":
        out = batch.copy()
        out["timestamp"] = (out["timestamp"] - EPOCH) // pd.Timedelta(seconds=1)  # epoch seconds
        path.write_text(out.to_json(orient="split", index=False), encoding="utf-8")
    elif path.suffix == ".jsonl":
        out = batch.copy()
        out["timestamp"] = (out["timestamp"] - EPOCH) // pd.Timedelta(milliseconds=1)  # epoch milliseconds
        path.write_text(out.to_json(orient="records", lines=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session", name="prediction_store")
def prediction_store_fixture(
    isolated_environment: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PredictionStore]:
    """A real `mlflow server` of its own holding the content in the module docstring.

    It is not the session's seeded server because these registered models would change
    what other tests list and select there. Test modules outside this folder import
    this fixture; the server starts once however many modules ask for it.
    """
    owner = "store" not in _SHARED
    if owner:
        handle = start_server(tmp_path_factory.mktemp("prediction-server"))
        _SHARED["handle"] = handle
        try:
            _SHARED["store"] = write_prediction_store(handle.uri, tmp_path_factory.mktemp("prediction-files"))
        except BaseException:
            handle.stop()
            raise
    try:
        yield _SHARED["store"]  # type: ignore[misc]
    finally:
        if owner:
            _SHARED["handle"].stop()  # type: ignore[attr-defined]


def write_prediction_store(uri: str, folder: Path, artifact_root: Path | None = None) -> PredictionStore:
    """Write the models and logs; `artifact_root` places a local store's artifacts."""
    import lightgbm as lgb
    import mlflow
    from mlflow.tracking import MlflowClient

    store = PredictionStore(uri=uri)
    rng = np.random.default_rng(7)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        location = artifact_root.as_uri() if artifact_root else None
        experiment = client.create_experiment("pred-tests", artifact_location=location)
        training = make_features(rng, 400)
        labels = label_of(training, rng)
        mlflow.lightgbm.autolog(log_models=False, log_datasets=False, silent=True)
        try:
            with mlflow.start_run(experiment_id=experiment, run_name="train-classifier") as run:
                data = lgb.Dataset(training[list(FEATURES)], label=labels)
                store.booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, data, 30)
                reference = write_batch(training.assign(label=labels), folder / "training.parquet")
                mlflow.log_artifact(str(reference), artifact_path="reference")
        finally:
            mlflow.lightgbm.autolog(disable=True)
        store.classifier_run_id = run.info.run_id
        store.training = training
        client.create_registered_model("pred-classifier")
        client.create_model_version("pred-classifier", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)

        tags = {"mlmon.model": "pred-classifier", "mlmon.version": "1", "mlmon.role": "predictions"}
        predictions = client.create_run(experiment, run_name="predictions-v1", tags=tags)
        store.predictions_run_id = predictions.info.run_id
        for month, suffix in enumerate((".parquet", ".csv", ".json", ".jsonl")):
            start = pd.Timestamp(2024, month + 1, 1)
            batch = prediction_batch(store.booster, rng, start, shift=0.6 * month)
            if month == 3:
                # The newest batch has no actuals yet: they arrive in a later file.
                batch["actual"] = np.nan
            store.batches.append(batch)
            path = write_batch(batch.assign(actual=batch["actual"]), folder / f"2024-{month + 1:02d}{suffix}")
            client.log_artifact(store.predictions_run_id, str(path), artifact_path="predictions")
        newest = store.batches[-1]
        store.late_actuals = pd.DataFrame(
            {
                "timestamp": newest["timestamp"].iloc[:25],
                "request_id": newest["request_id"].iloc[:25],
                "actual": label_of(newest[list(FEATURES)].iloc[:25], rng),
            }
        )
        late = write_batch(store.late_actuals, folder / "2024-05-actuals.parquet")
        client.log_artifact(store.predictions_run_id, str(late), artifact_path="predictions")

        table_tags = {
            "mlmon.model": "pred-table",
            "mlmon.version": "1",
            "mlmon.role": "predictions",
        }
        with mlflow.start_run(experiment_id=experiment, run_name="predictions-table", tags=table_tags) as table_run:
            table = prediction_batch(store.booster, rng, pd.Timestamp(2024, 6, 1), 0.0)
            table["timestamp"] = table["timestamp"].map(lambda t: t.isoformat())
            mlflow.log_table(table, artifact_file="logged/predictions_table.json")
        store.table_run_id = table_run.info.run_id
        store.table = table

        broken_tags = {
            "mlmon.model": "pred-broken",
            "mlmon.version": "1",
            "mlmon.role": "predictions",
        }
        broken = client.create_run(experiment, run_name="predictions-broken", tags=broken_tags)
        store.broken_run_id = broken.info.run_id
        good = write_batch(
            prediction_batch(store.booster, rng, pd.Timestamp(2024, 1, 1), 0.0),
            folder / "a-good.parquet",
        )
        no_prediction = folder / "b-no-prediction.csv"
        no_prediction.write_text("timestamp,score\n2024-02-01T00:00:00Z,0.5\n", encoding="utf-8")
        latin1 = folder / "c-latin1.csv"
        latin1.write_bytes("timestamp,prediction,région\n2024-03-01,1,Zürich\n".encode("latin-1"))
        empty = folder / "d-empty.json"
        empty.write_text(json.dumps({"columns": ["timestamp", "prediction"], "data": []}), encoding="utf-8")
        for path in (good, no_prediction, latin1, empty):
            client.log_artifact(store.broken_run_id, str(path), artifact_path="predictions")
        write_broken_training_run(client, experiment, folder, store)
        write_returns_model(client, experiment, rng, folder, store)
        empty_run = client.create_run(experiment, run_name="train-empty").info.run_id
        client.create_registered_model("pred-empty", description="A version without any data")
        client.create_model_version("pred-empty", f"runs:/{empty_run}/model", run_id=empty_run)
        return store
    finally:
        mlflow.set_tracking_uri(previous_uri)


RETURN_ROWS = 300


def returns_batch(rng: np.random.Generator) -> pd.DataFrame:
    """Daily next-day return forecasts whose errors grow in the second half."""
    actual = rng.normal(0.0005, 0.01, RETURN_ROWS)
    spread = np.where(np.arange(RETURN_ROWS) < RETURN_ROWS // 2, 0.004, 0.02)
    return pd.DataFrame(
        {
            "timestamp": pd.bdate_range("2008-01-01", periods=RETURN_ROWS, tz="UTC"),
            "prediction": 0.5 * actual + rng.normal(0, 1, RETURN_ROWS) * spread,
            "actual": actual,
            "momentum": rng.normal(0, 1, RETURN_ROWS),
        }
    )


def write_returns_model(
    client, experiment: str, rng: np.random.Generator, folder: Path, store: PredictionStore
) -> None:
    """`pred-returns`: a return regressor for the trading extras and the RMSE trend."""
    client.create_registered_model("pred-returns")
    client.create_model_version(
        "pred-returns", f"runs:/{store.classifier_run_id}/model", run_id=store.classifier_run_id
    )
    tags = {"mlmon.model": "pred-returns", "mlmon.version": "1", "mlmon.role": "predictions"}
    run = client.create_run(experiment, run_name="predictions-returns", tags=tags)
    store.returns = returns_batch(rng)
    path = write_batch(store.returns, folder / "returns.parquet")
    client.log_artifact(run.info.run_id, str(path), artifact_path="predictions")


def write_broken_training_run(client, experiment: str, folder: Path, store: PredictionStore) -> None:
    """`pred-broken` v1's source run: a valid split importance file and a corrupt gain file."""
    run = client.create_run(experiment, run_name="train-broken")
    split = folder / "feature_importance_split.json"
    split.write_text(json.dumps({"momentum": 5, "volume": 9, "noise": 1}), encoding="utf-8")
    gain = folder / "broken" / "feature_importance_gain.json"
    gain.parent.mkdir(exist_ok=True)
    gain.write_text('{"momentum": 1.5, "volume": ', encoding="utf-8")
    client.log_artifact(run.info.run_id, str(split))
    client.log_artifact(run.info.run_id, str(gain))
    client.set_terminated(run.info.run_id)
    client.create_registered_model("pred-broken")
    client.create_model_version("pred-broken", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)

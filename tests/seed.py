"""Seed a tracking store with MLflow's own client: experiments, runs, a registered model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

MODEL_NAME = "seed-classifier"
STEPS = 50


@dataclass
class Seeded:
    """Ids and values the seeding wrote, for tests to compare against."""

    experiment_ids: dict[str, str] = field(default_factory=dict)
    run_ids: dict[str, str] = field(default_factory=dict)
    # run name -> metric key -> list of (step, value)
    histories: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    model_name: str = MODEL_NAME


def loss_curve(step: int, scale: float) -> float:
    """A decreasing training loss for seeded runs."""
    return scale * math.exp(-step / 15) + 0.05


def seed_store(tracking_uri: str, artifact_root: Path | None = None) -> Seeded:
    """Write two experiments, three training runs and a model with two versions.

    `artifact_root` sets where a local store keeps artifacts; a server uses its own.
    """
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    seeded = Seeded()

    def location(name: str) -> str | None:
        return (artifact_root / name).as_uri() if artifact_root else None

    training = client.create_experiment("seed-training", artifact_location=location("training"))
    other = client.create_experiment("seed-other", artifact_location=location("other"))
    seeded.experiment_ids = {"seed-training": training, "seed-other": other}

    base_time = 1_700_000_000_000
    for index, (name, scale) in enumerate((("run-a", 1.0), ("run-b", 0.8), ("run-c", 1.2))):
        experiment = training if index < 2 else other
        run = client.create_run(experiment, run_name=name, start_time=base_time)
        run_id = run.info.run_id
        seeded.run_ids[name] = run_id

        loss = [(step, loss_curve(step, scale)) for step in range(STEPS)]
        accuracy = [(step, 0.5 + 0.4 * (1 - math.exp(-step / 10)) * (1 / scale)) for step in range(STEPS)]
        metrics = [Metric("loss", value, base_time + step * 1000, step) for step, value in loss]
        metrics += [Metric("accuracy", value, base_time + step * 1000, step) for step, value in accuracy]
        client.log_batch(run_id, metrics=metrics)
        seeded.histories[name] = {"loss": loss, "accuracy": accuracy}

        params = {"learning_rate": str(0.1 * (index + 1)), "num_leaves": str(31 + index)}
        for key, value in params.items():
            client.log_param(run_id, key, value)
        seeded.params[name] = params
        client.set_tag(run_id, "team", "quant")
        client.set_terminated(run_id, "FINISHED", end_time=base_time + STEPS * 1000)

    client.create_registered_model(MODEL_NAME, description="Seeded classifier for tests")
    for name in ("run-a", "run-b"):
        run_id = seeded.run_ids[name]
        client.create_model_version(MODEL_NAME, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL_NAME, "champion", "1")
    client.set_registered_model_alias(MODEL_NAME, "challenger", "2")
    return seeded

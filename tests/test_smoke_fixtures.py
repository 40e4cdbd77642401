"""The shared fixtures start a real server and seed it as the other tests expect."""

from __future__ import annotations

import httpx
from mlflow.tracking import MlflowClient


def test_server_answers_version(mlflow_server):
    response = httpx.get(f"{mlflow_server.uri}/version", timeout=5)
    assert response.status_code == 200
    assert response.text.strip()[0].isdigit()


def test_seeded_model_has_aliases(mlflow_server):
    client = MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    model = client.get_registered_model(mlflow_server.seeded.model_name)
    assert model.aliases == {"champion": "1", "challenger": "2"}


def test_local_store_seeded(local_store):
    client = MlflowClient(tracking_uri=local_store.uri, registry_uri=local_store.uri)
    history = client.get_metric_history(local_store.seeded.run_ids["run-a"], "loss")
    assert len(history) == 50

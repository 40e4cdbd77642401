"""Prediction logs read from a real mlflow server, local files, and a refusing cache."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytest_asyncio

from mlmon.config import Settings
from mlmon.errors import InputError, SourceError, SourceErrorKind
from mlmon.insights import InsightCollector
from mlmon.sources.mlflow_rest import RestSource
from mlmon.sources.prediction_batches import merge_batches, parse_timestamps
from mlmon.sources.predictions import PredictionLogReader, cache_path
from mlmon.tracking import ArtifactInfo
from tests.predictions.conftest import BATCH_ROWS, FEATURES, write_batch


class CountingSource:
    """Wraps a real source and counts the files downloaded through it."""

    def __init__(self, source: RestSource) -> None:
        self.source = source
        self.downloads: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.source, name)

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        self.downloads.append(path)
        return await self.source.download_artifact(run_id, path, destination)


@pytest_asyncio.fixture(loop_scope="function")
async def rest_source(prediction_store):
    source = RestSource(prediction_store.uri, Settings(tracking_uri=prediction_store.uri))
    yield source
    await source.aclose()


async def test_batches_in_every_format_merge_with_late_actuals(prediction_store, rest_source, tmp_path):
    reader = PredictionLogReader(rest_source, tmp_path / "cache")

    log = await reader.read("pred-classifier", "1")

    assert log.errors == ()
    assert [Path(item.location).name for item in log.files] == [
        "2024-01.parquet",
        "2024-02.csv",
        "2024-03.json",
        "2024-04.jsonl",
        "2024-05-actuals.parquet",
    ]
    expected = pd.concat(prediction_store.batches, ignore_index=True)
    late = prediction_store.late_actuals.set_index("request_id")["actual"]
    expected["actual"] = expected["request_id"].map(late).fillna(expected["actual"])
    assert log.rows == 4 * BATCH_ROWS
    assert list(log.frame["request_id"]) == list(expected["request_id"])
    # ISO text, epoch s, epoch ms and Parquet datetimes all land on the written instants.
    assert (log.frame["timestamp"].to_numpy() == expected["timestamp"].to_numpy()).all()
    np.testing.assert_allclose(log.frame["score"], expected["score"])
    np.testing.assert_array_equal(log.frame["actual"].to_numpy(), expected["actual"].to_numpy(dtype=float))
    # 25 of the newest 40 rows got their actual late; the other 15 are still waiting.
    assert int(log.frame["actual"].isna().sum()) == BATCH_ROWS - 25
    assert log.features == FEATURES


async def test_only_new_or_changed_files_are_downloaded(prediction_store, rest_source, tmp_path):
    from mlflow.tracking import MlflowClient

    counting = CountingSource(rest_source)
    reader = PredictionLogReader(counting, tmp_path / "cache")
    first = await reader.read("pred-classifier", "1")
    assert len(counting.downloads) == 5

    again = await reader.read("pred-classifier", "1")
    assert len(counting.downloads) == 5
    assert again is first

    # A new batch in a separate run of the same version: only that file is fetched.
    client = MlflowClient(tracking_uri=prediction_store.uri)
    extra = prediction_store.batches[0].assign(
        timestamp=prediction_store.batches[0]["timestamp"] + pd.Timedelta(days=365),
        request_id=prediction_store.batches[0]["request_id"] + "-next",
    )
    tags = {"mlmon.model": "pred-classifier", "mlmon.version": "1", "mlmon.role": "predictions"}
    run = client.create_run(client.get_experiment_by_name("pred-tests").experiment_id, tags=tags)
    client.log_artifact(run.info.run_id, str(write_batch(extra, tmp_path / "2025-01.parquet")), "predictions")
    try:
        grown = await reader.read("pred-classifier", "1")
        assert counting.downloads[5:] == ["predictions/2025-01.parquet"]
        assert grown.rows == first.rows + BATCH_ROWS
    finally:
        client.delete_run(run.info.run_id)


async def test_reader_finds_log_table_by_tag(prediction_store, rest_source, tmp_path):
    log = await PredictionLogReader(rest_source, tmp_path / "cache").read("pred-table", "1")

    assert [item.location.split(":", 1)[1] for item in log.files] == ["logged/predictions_table.json"]
    assert log.rows == BATCH_ROWS
    np.testing.assert_allclose(log.frame["score"], prediction_store.table["score"])


async def test_reader_names_bad_batches(prediction_store, rest_source, tmp_path):
    log = await PredictionLogReader(rest_source, tmp_path / "cache").read("pred-broken", "1")

    assert log.rows == BATCH_ROWS
    problems = {Path(item.location).name: item.error for item in log.files}
    assert problems["a-good.parquet"] is None
    assert "missing column 'prediction'" in problems["b-no-prediction.csv"]
    assert "UTF8" in problems["c-latin1.csv"] or "UTF-8" in problems["c-latin1.csv"]
    assert "no rows" in problems["d-empty.json"]
    assert len(log.errors) == 3
    assert all("predictions/" in error for error in log.errors)


async def test_local_glob_rereads_a_file_when_it_changes(prediction_store, tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    write_batch(prediction_store.batches[0], folder / "a.parquet")
    write_batch(prediction_store.batches[1], folder / "b.csv")
    reader = PredictionLogReader(None, tmp_path / "cache")

    first = await reader.read("local-model", None, str(folder / "*"))
    assert first.rows == 2 * BATCH_ROWS
    assert await reader.read("local-model", None, str(folder / "*")) is first

    grown = pd.concat([prediction_store.batches[1], prediction_store.batches[2]], ignore_index=True)
    write_batch(grown, folder / "b.csv")
    os.utime(folder / "b.csv", ns=(1, 10**18))
    second = await reader.read("local-model", None, str(folder / "*"))
    assert second.rows == 3 * BATCH_ROWS


@pytest.mark.parametrize(
    "artifact_path",
    [
        "../escape.csv",
        "predictions/../../escape.csv",
        "/etc/escape.csv",
        "..",
        "C:/escape.csv",
        "a\\..\\..\\x.csv",
    ],
)
def test_cache_path_refuses_paths_leaving_the_cache(tmp_path, artifact_path):
    with pytest.raises(InputError, match="Refusing artifact path"):
        cache_path(tmp_path, "abc123", artifact_path)


def test_cache_path_refuses_a_run_id_with_dots(tmp_path):
    with pytest.raises(InputError, match="run id"):
        cache_path(tmp_path, "..", "predictions/a.csv")
    assert cache_path(tmp_path, "abc123", "predictions/a.csv") == (tmp_path / "abc123/predictions/a.csv").resolve()


class EscapingSource:
    """A tracking source whose listing carries a path that climbs out of the run."""

    uri = "stub://escaping"

    def __init__(self) -> None:
        self.downloads: list[Path] = []

    async def search_experiments(self):
        from mlmon.tracking import Experiment

        return [Experiment("0", "Default")]

    async def search_runs(self, experiment_ids, filter_string="", max_results=1000):
        from mlmon.tracking import Run

        return [
            Run(
                run_id="r1",
                experiment_id="0",
                tags={"mlflow.loggedArtifacts": '[{"path": "../../../x.json", "type": "table"}]'},
            )
        ]

    async def list_artifacts(self, run_id, path=""):
        if path == "predictions":
            return [ArtifactInfo("predictions/../../../../outside.csv", False, 10)]
        return []

    async def download_artifact(self, run_id, path, destination):
        self.downloads.append(destination)
        destination.write_text("timestamp,prediction\n2024-01-01,1\n", encoding="utf-8")
        return destination


async def test_listed_dotdot_paths_never_write_outside_the_cache(tmp_path):
    source = EscapingSource()
    cache = tmp_path / "nested" / "cache"
    log = await PredictionLogReader(source, cache).read("m", "1")

    assert source.downloads == []
    assert log.rows == 0
    assert len(log.errors) == 2
    assert all("Refusing artifact path" in error for error in log.errors)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []


def test_epoch_seconds_milliseconds_and_iso_agree():
    instants = ["2008-09-15T13:30:00Z", "2008-09-16T13:30:00+00:00"]
    iso = parse_timestamps(pd.Series(instants), "x")
    seconds = parse_timestamps(pd.Series([1221485400, 1221571800]), "x")
    millis = parse_timestamps(pd.Series([1221485400000, 1221571800000]), "x")
    assert list(iso) == list(seconds) == list(millis)
    assert str(iso.dt.tz) == "UTC"


def test_merge_late_actual_by_timestamp():
    stamp = pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)
    first = pd.DataFrame({"timestamp": stamp, "prediction": [0.1, 0.2], "actual": [np.nan, np.nan], "score": np.nan})
    late = pd.DataFrame({"timestamp": stamp[1:], "prediction": [np.nan], "actual": [0.5], "score": np.nan})
    merged = merge_batches([first, late])
    assert list(merged["prediction"]) == [0.1, 0.2]
    assert merged["actual"].isna().tolist() == [True, False]
    assert merged["actual"].iloc[1] == 0.5


class FlakySource(CountingSource):
    """A real source whose downloads of `broken_path` fail, and whose searches can fail."""

    def __init__(self, source: RestSource, broken_path: str = "") -> None:
        super().__init__(source)
        self.broken_path = broken_path
        self.searches_fail = False

    async def download_artifact(self, run_id: str, path: str, destination: Path) -> Path:
        if path == self.broken_path:
            raise SourceError(SourceErrorKind.SERVER_ERROR, f"HTTP 503 for {path}.", "Try again later.")
        return await super().download_artifact(run_id, path, destination)

    async def search_runs(self, experiment_ids, filter_string="", max_results=1000):
        if self.searches_fail:
            raise SourceError(SourceErrorKind.UNREACHABLE, "Cannot connect.", "Check the server.")
        return await self.source.search_runs(experiment_ids, filter_string, max_results)


async def test_reader_retries_a_failed_download(prediction_store, rest_source, tmp_path):
    flaky = FlakySource(rest_source, broken_path="predictions/2024-02.csv")
    reader = PredictionLogReader(flaky, tmp_path / "cache")

    first = await reader.read("pred-classifier", "1")
    assert len(first.errors) == 1
    assert "download failed (HTTP 503" in first.errors[0]
    assert first.rows == 3 * BATCH_ROWS

    flaky.broken_path = ""
    second = await reader.read("pred-classifier", "1")
    assert second.errors == ()
    assert second.rows == 4 * BATCH_ROWS
    assert flaky.downloads.count("predictions/2024-02.csv") == 1


async def test_collector_keeps_the_last_log_on_failure(prediction_store, rest_source):
    flaky = FlakySource(rest_source)
    collector = InsightCollector(flaky, Settings(tracking_uri=prediction_store.uri))
    models = await rest_source.search_registered_models()
    model = next(item for item in models if item.name == "pred-classifier")

    good, _ = await collector.collect(model, "1")
    assert good.error == ""
    flaky.searches_fail = True
    failed, features = await collector.collect(model, "1")

    assert "Cannot connect." in failed.error
    assert failed.log is good.log
    assert features.files is not None


async def test_collector_reads_the_configured_glob(prediction_store, tmp_path):
    from mlmon.config import ModelSettings
    from mlmon.tracking import ModelVersion, RegisteredModel

    folder = tmp_path / "spool"
    folder.mkdir()
    write_batch(prediction_store.batches[0], folder / "batch-1.jsonl")
    settings = Settings(models={"local-model": ModelSettings(predictions=str(folder / "*.jsonl"))})
    model = RegisteredModel("local-model", versions=(ModelVersion("local-model", "4"),))

    predictions, features = await InsightCollector(None, settings).collect(model, None)  # type: ignore[arg-type]

    assert predictions.version == "4"
    assert predictions.log.rows == BATCH_ROWS
    assert predictions.error == ""
    assert "has no source run" in features.error

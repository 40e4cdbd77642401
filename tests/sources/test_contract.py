"""One contract for every tracking source, run against a real server and a sqlite store.

Expected values come from what `tests/seed.py` wrote with MLflow's own client, not
from an earlier run of the sources.
"""

from __future__ import annotations

import json
import math

import pytest

from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources.mlflow_local import LocalSource
from mlmon.sources.mlflow_rest import RestSource
from tests.seed import STEPS, loss_curve
from tests.sources.conftest import ARTIFACT_DIR, IMPORTANCE, SPECIAL_KEY


async def test_source_class_matches_uri(source_case):
    expected = RestSource if source_case.kind == "rest" else LocalSource
    assert isinstance(source_case.source, expected)


async def test_server_version_is_a_version_number(source_case):
    version = await source_case.source.server_version()
    assert version.split(".")[0].isdigit()


async def test_experiments_include_the_seeded_ones(source_case):
    experiments = {item.name: item for item in await source_case.source.search_experiments()}
    for name, experiment_id in source_case.seeded.experiment_ids.items():
        assert experiments[name].experiment_id == experiment_id
        assert experiments[name].lifecycle_stage == "active"


async def test_registered_model_has_all_versions_and_aliases(source_case):
    seeded = source_case.seeded
    models = {model.name: model for model in await source_case.source.search_registered_models()}
    model = models[seeded.model_name]
    assert model.description == "Seeded classifier for tests"
    assert model.aliases == {"champion": "1", "challenger": "2"}
    assert [version.version for version in model.versions] == ["2", "1"]
    by_version = {version.version: version for version in model.versions}
    assert by_version["1"].run_id == seeded.run_ids["run-a"]
    assert by_version["2"].run_id == seeded.run_ids["run-b"]
    assert by_version["1"].aliases == ("champion",)
    assert by_version["2"].aliases == ("challenger",)
    assert by_version["1"].source == f"runs:/{seeded.run_ids['run-a']}/model"


async def test_model_name_filter_is_a_substring_match(source_case):
    found = await source_case.source.search_registered_models("classif")
    assert [model.name for model in found] == [source_case.seeded.model_name]
    assert len(found[0].versions) == 2
    assert await source_case.source.search_registered_models("no-such-model-xyz") == []


async def test_get_runs_returns_latest_metrics_params_and_tags(source_case):
    seeded = source_case.seeded
    runs = await source_case.source.get_runs(
        [seeded.run_ids["run-a"], "0" * 32, seeded.run_ids["run-c"]]
    )
    assert [run.run_id for run in runs] == [seeded.run_ids["run-a"], seeded.run_ids["run-c"]]
    run_a = runs[0]
    assert run_a.run_name == "run-a"
    assert run_a.status == "FINISHED"
    assert run_a.experiment_id == seeded.experiment_ids["seed-training"]
    assert run_a.params == seeded.params["run-a"]
    assert run_a.tags["team"] == "quant"
    latest = run_a.metrics["loss"]
    assert latest.step == STEPS - 1
    assert latest.value == pytest.approx(loss_curve(STEPS - 1, 1.0))
    assert latest.timestamp == 1_700_000_000_000 + (STEPS - 1) * 1000


async def test_search_runs_filters_on_the_server(source_case):
    seeded = source_case.seeded
    training = seeded.experiment_ids["seed-training"]
    all_runs = await source_case.source.search_runs([training])
    assert sorted(run.run_name for run in all_runs) == ["run-a", "run-b"]
    matched = await source_case.source.search_runs([training], "params.num_leaves = '32'")
    assert [run.run_id for run in matched] == [seeded.run_ids["run-b"]]
    by_metric = await source_case.source.search_runs([training], "metrics.loss < 0.06")
    # loss_curve(49, 0.8) = 0.8 e^{-49/15} + 0.05 ≈ 0.0805 and run-a's is ≈ 0.088: neither matches.
    assert by_metric == []
    assert len(await source_case.source.search_runs([training], max_results=1)) == 1


async def test_search_runs_rejects_a_bad_filter(source_case):
    with pytest.raises(SourceError) as caught:
        await source_case.source.search_runs(
            [source_case.seeded.experiment_ids["seed-training"]], "metrics.loss <<< 1"
        )
    assert caught.value.kind is SourceErrorKind.BAD_REQUEST
    assert source_case.uri in caught.value.title


async def test_full_history_matches_what_was_logged(source_case):
    seeded = source_case.seeded
    run_ids = [seeded.run_ids["run-a"], seeded.run_ids["run-b"]]
    histories = await source_case.source.metric_histories(run_ids, "loss", max_points=1000)
    for name, run_id in zip(("run-a", "run-b"), run_ids, strict=True):
        got = [(point.step, point.value) for point in histories[run_id]]
        expected = seeded.histories[name]["loss"]
        assert [step for step, _ in got] == [step for step, _ in expected]
        assert [value for _, value in got] == pytest.approx([value for _, value in expected])


async def test_sampled_history_keeps_first_and_last_point(source_case):
    run_id = source_case.seeded.run_ids["run-a"]
    histories = await source_case.source.metric_histories([run_id, "f" * 32], "loss", max_points=10)
    steps = [point.step for point in histories[run_id]]
    assert 2 <= len(steps) <= 12
    assert steps[0] == 0
    assert steps[-1] == STEPS - 1
    assert steps == sorted(steps)
    assert histories["f" * 32] == []


async def test_step_range_returns_only_that_tail(source_case):
    run_id = source_case.seeded.run_ids["run-b"]
    histories = await source_case.source.metric_histories(
        [run_id], "accuracy", max_points=100, start_step=45, end_step=60
    )
    assert [point.step for point in histories[run_id]] == [45, 46, 47, 48, 49]
    expected = dict(source_case.seeded.histories["run-b"]["accuracy"])
    assert [point.value for point in histories[run_id]] == pytest.approx(
        [expected[step] for step in range(45, 50)]
    )


async def test_nan_and_infinity_survive_the_round_trip(source_case):
    run_id = source_case.seeded.run_ids["run-c"]
    history = (await source_case.source.metric_histories([run_id], SPECIAL_KEY, max_points=100))[
        run_id
    ]
    values = [point.value for point in history]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, 1.5]
    run = (await source_case.source.get_runs([run_id]))[0]
    assert run.metrics[SPECIAL_KEY].value == 1.5
    assert run.metrics[SPECIAL_KEY].step == 3


async def test_artifacts_list_one_level_and_download(source_case, tmp_path):
    run_id = source_case.seeded.run_ids["run-c"]
    top = await source_case.source.list_artifacts(run_id)
    assert any(item.path == ARTIFACT_DIR and item.is_dir for item in top)
    level = {
        item.path: item for item in await source_case.source.list_artifacts(run_id, ARTIFACT_DIR)
    }
    assert set(level) == {
        f"{ARTIFACT_DIR}/feature_importance_gain.json",
        f"{ARTIFACT_DIR}/predictions",
    }
    assert level[f"{ARTIFACT_DIR}/predictions"].is_dir
    assert level[f"{ARTIFACT_DIR}/feature_importance_gain.json"].file_size == len(
        json.dumps(IMPORTANCE)
    )

    target = tmp_path / "gain.json"
    path = await source_case.source.download_artifact(
        run_id, f"{ARTIFACT_DIR}/feature_importance_gain.json", target
    )
    assert path == target
    assert json.loads(target.read_text()) == IMPORTANCE
    nested = await source_case.source.download_artifact(
        run_id, f"{ARTIFACT_DIR}/predictions/2008-01.csv", tmp_path / "b.csv"
    )
    assert nested.read_text() == "timestamp,prediction\n1,0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "gain.json"]


async def test_missing_artifact_is_not_found(source_case, tmp_path):
    run_id = source_case.seeded.run_ids["run-c"]
    with pytest.raises(SourceError) as caught:
        await source_case.source.download_artifact(
            run_id, f"{ARTIFACT_DIR}/absent.json", tmp_path / "x.json"
        )
    assert caught.value.kind in (
        SourceErrorKind.NOT_FOUND,
        SourceErrorKind.BAD_REQUEST,
        SourceErrorKind.SERVER_ERROR,
    )
    assert not (tmp_path / "x.json").exists()


async def test_artifact_path_escaping_the_run_is_rejected(source_case, tmp_path):
    with pytest.raises(SourceError) as caught:
        await source_case.source.download_artifact(
            source_case.seeded.run_ids["run-c"], "../../etc/passwd", tmp_path / "p"
        )
    assert caught.value.kind is SourceErrorKind.BAD_REQUEST

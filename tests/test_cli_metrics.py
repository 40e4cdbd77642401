"""`mlmon metrics` on real files of every format, checked against scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

FORMATS = ("csv", "parquet", "json", "jsonl")


def write(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` in the format named by the file extension."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".json":
        # The shape mlflow.log_table writes: split orient without an index.
        document = {"columns": list(frame.columns), "data": frame.astype(object).values.tolist()}
        path.write_text(json.dumps(document))
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def mlmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlmon", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(*args: str) -> dict:
    result = mlmon(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def regression_log() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 0.02, 200)
    actual[5] = 0.0
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=200, freq="h").strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "prediction": actual + rng.normal(0, 0.01, 200),
            "actual": actual,
        }
    )
    frame.loc[10:14, "actual"] = None  # outcomes not known yet
    return frame


@pytest.mark.parametrize("suffix", FORMATS)
def test_regression_metrics_match_sklearn(tmp_path, regression_log, suffix):
    document = run_json("metrics", write(regression_log, tmp_path / f"log.{suffix}"))
    known = regression_log.dropna()
    nonzero = known[known["actual"] != 0]
    assert document["task"] == "regression"
    assert (document["rows"], document["rows_used"]) == (200, 195)
    values = document["metrics"]
    assert values["mae"] == pytest.approx(
        skm.mean_absolute_error(known["actual"], known["prediction"])
    )
    assert values["rmse"] == pytest.approx(
        skm.root_mean_squared_error(known["actual"], known["prediction"])
    )
    assert values["r2"] == pytest.approx(skm.r2_score(known["actual"], known["prediction"]))
    assert values["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(nonzero["actual"], nonzero["prediction"])
    )
    assert document["undefined"] == {}


@pytest.mark.parametrize("suffix", FORMATS)
def test_classification_metrics_match_sklearn(tmp_path, suffix):
    rng = np.random.default_rng(1)
    actual = rng.integers(0, 2, 300)
    score = np.clip(actual * 0.25 + rng.uniform(0, 0.75, 300), 0, 1)
    frame = pd.DataFrame(
        {"prediction": (score > 0.5).astype(int), "actual": actual, "score": score}
    )
    document = run_json("metrics", write(frame, tmp_path / f"log.{suffix}"))
    assert document["task"] == "classification"
    values = document["metrics"]
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(actual, frame["prediction"]))
    assert values["f1"] == pytest.approx(skm.f1_score(actual, frame["prediction"]))
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(actual, score))
    assert values["log_loss"] == pytest.approx(skm.log_loss(actual, score))


def test_trading_hand_cases_and_undefined_as_null(tmp_path):
    frame = pd.DataFrame(
        {"prediction": [1.0] * 6, "actual": [0.5, 1.5, 0.2, 0.1, 0.3, 2.0], "timestamp": range(6)}
    )
    values = run_json("metrics", write(frame, tmp_path / "t.csv"), "--task", "trading")["metrics"]
    assert values["sharpe"] == pytest.approx(15.42, abs=0.005)
    losses = pd.DataFrame({"prediction": [1.0] * 6, "actual": [-0.10, -0.05, -0.122807, 0, 0, 0]})
    values = run_json("metrics", write(losses, tmp_path / "d.parquet"), "--task", "trading")[
        "metrics"
    ]
    assert values["max_drawdown"] == pytest.approx(-0.25, abs=1e-6)

    flat = pd.DataFrame({"prediction": [1.0] * 250, "actual": [0.001] * 250})
    document = run_json("metrics", write(flat, tmp_path / "f.jsonl"), "--task", "trading")
    assert document["metrics"]["sharpe"] is None
    assert "constant" in document["undefined"]["sharpe"]


def test_text_format_prints_a_table(tmp_path, regression_log):
    result = mlmon("metrics", write(regression_log, tmp_path / "log.csv"))
    assert result.returncode == 0, result.stderr
    for word in ("regression metrics", "mae", "direction_accuracy", "195 of 200 rows used"):
        assert word in result.stdout


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_bad_inputs_give_one_clear_line(tmp_path):
    _assert_one_line_error(
        mlmon("metrics", tmp_path / "missing.csv"), "missing.csv", "no such file"
    )
    (tmp_path / "log.xlsx").write_text("x")
    _assert_one_line_error(mlmon("metrics", tmp_path / "log.xlsx"), "log.xlsx", ".parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    _assert_one_line_error(
        mlmon("metrics", tmp_path / "broken.parquet"), "broken.parquet", "Parquet"
    )
    (tmp_path / "empty.csv").write_text("")
    _assert_one_line_error(mlmon("metrics", tmp_path / "empty.csv"), "empty.csv", "empty")
    (tmp_path / "shape.json").write_text(json.dumps({"rows": [1, 2]}))
    _assert_one_line_error(mlmon("metrics", tmp_path / "shape.json"), "shape.json", "split orient")
    (tmp_path / "ragged.json").write_text(
        json.dumps({"columns": ["prediction", "actual"], "data": [[1]]})
    )
    _assert_one_line_error(mlmon("metrics", tmp_path / "ragged.json"), "ragged.json", "row 0")
    write(pd.DataFrame({"yhat": [1.0], "y": [2.0]}), tmp_path / "names.csv")
    _assert_one_line_error(
        mlmon("metrics", tmp_path / "names.csv"), "names.csv", "prediction", "yhat"
    )
    write(pd.DataFrame({"prediction": [1.0], "actual": [2.0]}), tmp_path / "ok.csv")
    _assert_one_line_error(mlmon("metrics", tmp_path / "ok.csv", "--task", "forecast"), "--task")


def test_whole_number_regression_is_detected(tmp_path):
    path = tmp_path / "ints.csv"
    path.write_text("prediction,actual\n100,110\n250,240\n300,330\n120,100\n")
    document = run_json("metrics", path)
    assert document["task"] == "regression"
    actual, prediction = [110, 240, 330, 100], [100, 250, 300, 120]
    assert document["metrics"]["mae"] == pytest.approx(skm.mean_absolute_error(actual, prediction))
    assert document["metrics"]["r2"] == pytest.approx(skm.r2_score(actual, prediction))


def test_numbers_against_text_labels_say_so(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("prediction,actual\n0,yes\n1,no\n1,yes\n")
    document = run_json("metrics", path)
    assert document["task"] == "classification"
    assert document["metrics"]["accuracy"] is None
    assert "no label in common" in document["undefined"]["accuracy"]


def test_metrics_near_float64_limit(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("prediction,actual\n1e308,-1e308\n1e300,1e300\n")
    result = mlmon("metrics", path, "--task", "regression", "--format", "json")
    assert result.returncode == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    expected = stats.pearsonr([1e308, 1e300], [-1e308, 1e300])[0]
    assert document["metrics"]["pearson_r"] == pytest.approx(expected, abs=1e-12)
    assert document["undefined"]["mse"] == "values overflow float64"


def test_option_and_encoding_errors_name_the_fix(tmp_path):
    log = write(pd.DataFrame({"prediction": [0.1, -0.2], "actual": [0.01, 0.02]}), tmp_path / "log.csv")
    for periods in ("-5", "0", "nan"):
        _assert_one_line_error(
            mlmon("metrics", log, "--task", "trading", "--periods-per-year", periods),
            f"--periods-per-year {periods}",
            "252",
        )
    _assert_one_line_error(mlmon("metrics", log, "--risk-free-rate", "inf"), "--risk-free-rate inf")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"prediction,actual\nbuy,sell\n\xe9t\xe9,buy\n")
    _assert_one_line_error(mlmon("metrics", latin1), "latin1.csv is not UTF-8 text", "Re-save it as UTF-8")
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("prediction,prediction,actual\n1,2,3\n")
    _assert_one_line_error(mlmon("metrics", duplicated), "dup.csv", "more than one column named 'prediction'")


def test_unknown_positive_label_names_the_flag(tmp_path):
    log = write(pd.DataFrame({"prediction": [0, 1, 1], "actual": [1, 1, 0]}), tmp_path / "log.csv")
    document = run_json("metrics", log, "--positive-label", "7")
    reason = document["undefined"]["precision"]
    assert "--positive-label" in reason
    assert "7" in reason
    assert "[0, 1]" in reason

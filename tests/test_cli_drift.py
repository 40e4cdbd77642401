"""`mlmon drift` on real files of every format, checked against scipy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.test_cli_metrics import FORMATS, _assert_one_line_error, mlmon, run_json, write


@pytest.fixture(scope="module")
def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 600
    reference = pd.DataFrame(
        {
            "timestamp": np.arange(n),
            "price": rng.normal(100, 5, n),
            "volume": rng.exponential(1000, n),
            "side": rng.choice(["buy", "sell"], n),
        }
    )
    current = pd.DataFrame(
        {
            "timestamp": np.arange(n, 2 * n),
            "price": rng.normal(104, 5, n),  # shifted by 0.8 standard deviations
            "volume": rng.exponential(1000, n),
            "side": rng.choice(["buy", "sell", "hold"], n),
        }
    )
    current.loc[:9, "volume"] = np.nan
    return reference, current


@pytest.mark.parametrize("suffix", FORMATS)
def test_scores_and_verdicts_match_scipy(tmp_path, windows, suffix):
    reference, current = windows
    document = run_json(
        "drift",
        write(reference, tmp_path / f"ref.{suffix}"),
        write(current, tmp_path / f"cur.{suffix}"),
    )
    assert (document["reference_rows"], document["current_rows"]) == (600, 600)
    columns = {entry["column"]: entry for entry in document["columns"]}
    # Bookkeeping columns such as timestamp are skipped unless asked for.
    assert list(columns) == ["price", "volume", "side"]

    price = columns["price"]
    expected = stats.ks_2samp(reference["price"], current["price"])
    assert price["scores"]["ks"] == pytest.approx(expected.statistic)
    assert price["scores"]["ks_p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    normed = stats.wasserstein_distance(reference["price"], current["price"]) / np.std(
        reference["price"]
    )
    assert price["scores"]["wasserstein_normed"] == pytest.approx(normed, rel=1e-9)
    assert price["drifted"] is True
    assert price["severity"] == "critical"

    volume = columns["volume"]
    assert volume["current_missing"] == 10
    expected = stats.ks_2samp(reference["volume"], current["volume"].dropna())
    assert volume["scores"]["ks_p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert volume["drifted"] is False

    side = columns["side"]
    table = [
        [(reference["side"] == v).sum() for v in ("buy", "sell", "hold")],
        [(current["side"] == v).sum() for v in ("buy", "sell", "hold")],
    ]
    chi2 = stats.chi2_contingency(table)
    assert side["kind"] == "categorical"
    assert side["scores"]["chisquare"] == pytest.approx(chi2.statistic)
    assert side["scores"]["chisquare_p_value"] == pytest.approx(chi2.pvalue, rel=1e-9)
    assert side["drifted"] is True
    assert document["dataset_drifted"] is True
    assert document["share_drifted"] == pytest.approx(2 / 3)


def test_mixed_formats_and_column_option(tmp_path, windows):
    reference, current = windows
    document = run_json(
        "drift",
        write(reference, tmp_path / "ref.parquet"),
        write(current, tmp_path / "cur.jsonl"),
        "--column",
        "volume",
        "--column",
        "timestamp",
        "--alpha",
        "0.01",
    )
    assert [entry["column"] for entry in document["columns"]] == ["volume", "timestamp"]
    assert document["alpha"] == 0.01
    assert document["columns"][1]["drifted"] is True  # time moves on


def test_text_format_prints_a_table(tmp_path, windows):
    reference, current = windows
    result = mlmon(
        "drift", write(reference, tmp_path / "r.csv"), write(current, tmp_path / "c.csv")
    )
    assert result.returncode == 0, result.stderr
    for word in ("price", "critical", "DRIFT", "holm"):
        assert word in result.stdout


def test_json_has_no_nan_for_undefined_scores(tmp_path):
    reference = pd.DataFrame({"flat": [1.0] * 50, "gap": [np.nan] * 50})
    current = pd.DataFrame({"flat": [1.0] * 50, "gap": [np.nan] * 50})
    result = mlmon(
        "drift",
        write(reference, tmp_path / "r.csv"),
        write(current, tmp_path / "c.csv"),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert "NaN" not in result.stdout
    columns = {entry["column"]: entry for entry in json.loads(result.stdout)["columns"]}
    assert columns["flat"]["status"] == "constant"
    assert columns["flat"]["scores"]["wasserstein_normed"] is None
    assert columns["gap"]["status"] == "empty"


def test_bad_inputs_give_one_clear_line(tmp_path, windows):
    reference, current = windows
    ref = write(reference, tmp_path / "ref.parquet")
    cur = write(current, tmp_path / "cur.csv")
    _assert_one_line_error(mlmon("drift", ref, tmp_path / "nope.csv"), "nope.csv", "no such file")
    _assert_one_line_error(
        mlmon("drift", ref, cur, "--column", "price", "--column", "vol"), "'vol'"
    )
    other = write(pd.DataFrame({"a": [1.0, 2.0]}), tmp_path / "other.csv")
    _assert_one_line_error(mlmon("drift", ref, other), "share no column")
    (tmp_path / "bad.csv").write_text('price,volume\n1,2\n"unterminated\n')
    _assert_one_line_error(mlmon("drift", ref, tmp_path / "bad.csv"), "bad.csv")
    _assert_one_line_error(mlmon("drift", ref, cur, "--format", "yaml"), "--format")
    _assert_one_line_error(mlmon("drift", ref, cur, "--alpha", "2"), "--alpha")


def test_file_errors_name_the_file_and_the_fix(tmp_path, windows):
    reference, _ = windows
    ref = write(reference, tmp_path / "ref.csv")
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("price,price,side\n1,2,buy\n")
    _assert_one_line_error(mlmon("drift", ref, duplicated), "dup.csv", "more than one column named 'price'")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"price,side\n1,buy\n2,\xe9t\xe9\n")
    _assert_one_line_error(mlmon("drift", ref, latin1), "latin1.csv is not UTF-8 text", "Re-save it as UTF-8")


def test_drift_near_float64_limit(tmp_path):
    import statistics

    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.uniform(1.0, 1.5, 100) * 1e300})
    current = pd.DataFrame({"x": rng.uniform(1.1, 1.6, 100) * 1e300})
    result = mlmon(
        "drift", write(reference, tmp_path / "ref.csv"), write(current, tmp_path / "cur.csv"), "--format", "json"
    )
    assert result.returncode == 0
    assert result.stderr == ""
    (column,) = json.loads(result.stdout)["columns"]
    # pandas writes CSV with full precision, so the files hold the same numbers.
    expected = stats.wasserstein_distance(reference["x"], current["x"]) / statistics.pstdev(reference["x"].tolist())
    assert column["scores"]["wasserstein_normed"] == pytest.approx(expected, rel=1e-9)

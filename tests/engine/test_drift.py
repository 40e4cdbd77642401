"""Column drift verdicts, statuses and the report contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mlmon.engine import Reference, compare
from mlmon.engine.drift import SCORE_NAMES

CONTRACT_KEYS = {
    "reference_rows",
    "current_rows",
    "alpha",
    "correction",
    "share_drifted",
    "dataset_drifted",
    "columns",
}
COLUMN_KEYS = {
    "column",
    "kind",
    "status",
    "message",
    "method",
    "drifted",
    "severity",
    "scores",
    "reference_missing",
    "current_missing",
}


def _by_name(report):
    return {column.column: column for column in report.columns}


def _numpy_psi(reference, current):
    """PSI the plain way: np.quantile edges, a histogram of unsorted data, 0.5/n fill."""
    edges = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
    shares = []
    for values in (reference, current):
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        shares.append(np.where(counts == 0, 0.5 / len(values), counts / len(values)))
    p, q = shares
    return float(np.sum((q - p) * np.log(q / p)))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("sizes", [(500, 800), (20_000, 15_000)])
def test_numeric_scores_match_a_plain_scipy_loop(seed, sizes):
    rng = np.random.default_rng(seed)
    reference = {"a": rng.normal(size=sizes[0]), "b": rng.exponential(size=sizes[0])}
    current = {"a": rng.normal(0.2, 1, sizes[1]), "b": rng.exponential(1.1, size=sizes[1])}
    report = compare(reference, current)
    for name, column in _by_name(report).items():
        ks = stats.ks_2samp(reference[name], current[name])
        wasserstein = stats.wasserstein_distance(reference[name], current[name])
        assert column.kind == "numeric"
        assert column.status == "ok"
        assert column.scores["ks"] == pytest.approx(ks.statistic, abs=1e-12)
        assert column.scores["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
        assert column.scores["wasserstein_normed"] == pytest.approx(
            wasserstein / np.std(reference[name]), rel=1e-9
        )
        expected_psi = _numpy_psi(reference[name], current[name])
        assert column.scores["psi"] == pytest.approx(expected_psi, rel=1e-9)
        assert column.scores["chisquare"] is None


def test_categorical_hand_case():
    reference = {"side": np.array(["a"] * 50 + ["b"] * 50, dtype=object)}
    current = {"side": np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 20, dtype=object)}
    column = compare(reference, current).columns[0]
    assert column.kind == "categorical"
    assert column.method == "chisquare"
    assert column.scores["chisquare"] == pytest.approx(22.22, abs=0.005)
    assert column.scores["chisquare_p_value"] == pytest.approx(1.49e-5, rel=0.01)
    assert column.scores["ks"] is None
    assert column.drifted is True


def test_nan_and_inf_are_dropped_and_counted():
    rng = np.random.default_rng(2)
    reference = rng.normal(size=200)
    current = rng.normal(size=200)
    current[:7] = [np.nan, np.inf, -np.inf, np.nan, np.nan, np.nan, np.nan]
    reference[:2] = np.nan
    column = compare({"x": reference}, {"x": current}).columns[0]
    assert (column.reference_missing, column.current_missing) == (2, 7)
    expected = stats.ks_2samp(reference[2:], current[7:])
    assert column.scores["ks"] == pytest.approx(expected.statistic)


def test_statuses_for_empty_small_constant_and_mismatched_columns():
    rng = np.random.default_rng(3)
    n = 100
    reference = {
        "empty": np.full(n, np.nan),
        "small": np.r_[rng.normal(size=20), np.full(n - 20, np.nan)],
        "flat": np.ones(n),
        "flat_changed": np.ones(n),
        "kind": rng.normal(size=n),
        "gone": rng.normal(size=n),
    }
    current = {
        "empty": rng.normal(size=n),
        "small": rng.normal(size=n),
        "flat": np.ones(n),
        "flat_changed": np.r_[np.ones(n - 10), np.full(10, 2.0)],
        "kind": np.array(["x"] * n, dtype=object),
        "new": rng.normal(size=n),
    }
    columns = _by_name(compare(reference, current))
    assert columns["empty"].status == "empty"
    assert columns["empty"].drifted is None
    assert columns["small"].status == "insufficient_data"
    assert columns["small"].drifted is None
    assert columns["small"].scores["ks"] is not None  # scores still computed
    assert columns["flat"].status == "constant"
    assert columns["flat"].drifted is False
    assert columns["flat_changed"].status == "constant"
    assert columns["flat_changed"].drifted is True
    assert columns["flat_changed"].scores["wasserstein_normed"] is None
    assert columns["kind"].status == "error"
    assert "numeric" in columns["kind"].message
    assert columns["gone"].status == "error"
    assert "current" in columns["gone"].message
    assert columns["new"].status == "error"
    assert "reference" in columns["new"].message


def test_one_bad_column_does_not_abort_the_others():
    rng = np.random.default_rng(4)
    unhashable = np.empty(100, dtype=object)
    unhashable[:] = [[1, 2]] * 100
    reference = {"bad": unhashable, "good": rng.normal(size=100)}
    current = {"bad": unhashable, "good": rng.normal(3, 1, size=100)}
    columns = _by_name(compare(reference, current))
    assert columns["bad"].status == "error"
    assert "TypeError" in columns["bad"].message
    assert columns["good"].status == "ok"
    assert columns["good"].drifted is True


def test_trivial_shift_huge_window_no_drift():
    rng = np.random.default_rng(5)
    n = 400_000
    column = compare({"x": rng.normal(size=n)}, {"x": rng.normal(0.02, 1, n)}).columns[0]
    assert column.scores["ks_p_value"] < 1e-6
    assert column.scores["psi"] < 0.1
    assert column.scores["wasserstein_normed"] < 0.1
    assert column.drifted is False
    assert column.severity == "none"


def test_severity_bands():
    rng = np.random.default_rng(6)
    n = 5000
    reference = {"small": rng.normal(size=n), "large": rng.normal(size=n)}
    current = {"small": rng.normal(0.15, 1, n), "large": rng.normal(1.0, 1, n)}
    columns = _by_name(compare(reference, current))
    assert columns["small"].drifted
    assert columns["small"].severity == "warning"
    assert columns["large"].drifted
    assert columns["large"].severity == "critical"


def test_verdict_uses_holm_step_down():
    rng = np.random.default_rng(7)
    n = 3000
    shifts = [0.0, 0.06, 0.08, 0.1, 0.12, 0.5]
    reference = {f"c{i}": rng.normal(size=n) for i in range(len(shifts))}
    current = {f"c{i}": rng.normal(shift, 1, n) for i, shift in enumerate(shifts)}
    report = compare(reference, current)
    # Holm by its definition: walk the p-values upwards, reject while p_(k) < α / (m − k).
    p_values = {column.column: column.scores["ks_p_value"] for column in report.columns}
    rejected = set()
    for k, (name, p) in enumerate(sorted(p_values.items(), key=lambda item: item[1])):
        if p >= 0.05 / (len(p_values) - k):
            break
        rejected.add(name)
    for column in report.columns:
        material = max(column.scores["psi"], column.scores["wasserstein_normed"]) >= 0.1
        assert column.drifted == (column.column in rejected and material)
    assert report.dataset_drifted == any(column.drifted for column in report.columns)
    judged = [column for column in report.columns if column.drifted is not None]
    assert report.share_drifted == pytest.approx(sum(c.drifted for c in judged) / len(judged))


def test_cached_reference_gives_the_same_report():
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"x": rng.normal(size=3000), "k": rng.choice(["a", "b"], 3000)})
    prepared = Reference(reference)
    for shift in (0.0, 0.3):
        current = pd.DataFrame({"x": rng.normal(shift, 1, 2000), "k": rng.choice(["a", "b"], 2000)})
        assert compare(prepared, current).to_dict() == compare(reference, current).to_dict()


def test_to_dict_follows_the_json_contract():
    rng = np.random.default_rng(9)
    reference = {"x": rng.normal(size=50), "flat": np.zeros(50), "empty": np.full(50, np.nan)}
    current = {"x": rng.normal(size=50), "flat": np.zeros(50), "empty": np.full(50, np.nan)}
    document = compare(reference, current, alpha=0.01).to_dict()
    assert set(document) == CONTRACT_KEYS
    assert document["alpha"] == 0.01
    assert document["correction"] == "holm"
    assert (document["reference_rows"], document["current_rows"]) == (50, 50)
    for column in document["columns"]:
        assert set(column) == COLUMN_KEYS
        assert set(column["scores"]) == set(SCORE_NAMES)
        assert column["severity"] in {"none", "warning", "critical"}
    json.dumps(document, allow_nan=False)  # raises if a NaN slipped through


def test_same_distribution_windows_alarm_at_most_at_alpha():
    """Calibration: 300 unchanged datasets of 4 columns should rarely alarm.

    Holm's correction bounds the chance that any column of an unchanged dataset alarms
    by α = 0.05. With 300 trials the observed rate stays below α + 3 standard errors
    unless the test is miscalibrated. The full study is benchmarks/drift_calibration.py.
    """
    rng = np.random.default_rng(10)
    trials, columns, n = 300, 4, 300
    dataset_alarms = column_alarms = 0
    for _ in range(trials):
        reference = {f"c{i}": rng.normal(size=n) for i in range(columns)}
        current = {f"c{i}": rng.normal(size=n) for i in range(columns)}
        report = compare(reference, current)
        dataset_alarms += report.dataset_drifted
        column_alarms += sum(bool(column.drifted) for column in report.columns)
    bound = 0.05 + 3 * (0.05 * 0.95 / trials) ** 0.5
    assert dataset_alarms / trials <= bound
    assert column_alarms / (trials * columns) <= bound


@pytest.mark.parametrize("magnitude", [1e300, 1e-300])
def test_values_near_the_float64_limits_get_finite_scores(magnitude):
    import statistics
    import warnings

    rng = np.random.default_rng(4)
    reference = rng.uniform(1.0, 1.5, 200) * magnitude
    current = rng.uniform(1.1, 1.6, 200) * magnitude
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        column = compare({"x": reference}, {"x": current}).columns[0]
    # statistics.pstdev works in exact fractions, so it neither overflows nor underflows.
    expected = stats.wasserstein_distance(reference, current) / statistics.pstdev(reference.tolist())
    assert column.scores["wasserstein_normed"] == pytest.approx(expected, rel=1e-9)
    ks = stats.ks_2samp(reference, current)
    assert column.scores["ks"] == pytest.approx(ks.statistic)
    assert column.scores["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-9)
    assert column.scores["psi"] == pytest.approx(_numpy_psi(reference, current), rel=1e-9)
    assert column.drifted is True


def test_full_float64_range_matches_scipy():
    import statistics

    rng = np.random.default_rng(6)
    reference = rng.uniform(-1, 1, 100) * 1.7e308
    current = rng.uniform(-0.9, 1, 100) * 1.79e308
    column = compare({"x": reference}, {"x": current}).columns[0]
    # The distance between the extremes exceeds float64; scipy integrates without it.
    expected = stats.wasserstein_distance(reference, current) / statistics.pstdev(reference.tolist())
    assert column.scores["wasserstein_normed"] == pytest.approx(expected, rel=1e-9)
    assert column.scores["psi"] == pytest.approx(_numpy_psi(reference, current), rel=1e-9)

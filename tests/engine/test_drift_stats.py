"""Drift statistics against scipy and the hand cases of the definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon as scipy_jensenshannon

from mlmon.engine import drift_stats as ds


def _pair(rng, n1, n2, shift=0.0, ties=False):
    a = rng.normal(size=n1)
    b = rng.normal(shift, 1.0, size=n2)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    return np.sort(a), np.sort(b)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("n1", "n2", "shift", "ties"),
    [
        (1, 1, 0.0, False),
        (5, 9, 0.3, False),
        (200, 150, 0.1, True),
        (3000, 3000, 0.0, True),
        (12_000, 20_000, 0.05, False),
        (50_000, 40_000, 0.0, True),
    ],
)
def test_ks_and_wasserstein_match_scipy(seed, n1, n2, shift, ties):
    a, b = _pair(np.random.default_rng(seed), n1, n2, shift, ties)
    ks, wasserstein = ds.ks_wasserstein(a, b)
    expected = stats.ks_2samp(a, b)
    assert ks == pytest.approx(expected.statistic, abs=1e-12)
    assert wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-15)
    assert ds.ks_p_value(ks, a, b) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("reference", "current", "p_value"),
    [([0.0], [1.0], 1.0), ([0.0], [1.0, 2.0], 2 / 3), ([1.0, 2.0], [3.0, 4.0, 5.0, 6.0], 0.1333)],
)
def test_small_sample_p_values_are_exact(reference, current, p_value):
    a, b = np.array(reference), np.array(current)
    ks, _ = ds.ks_wasserstein(a, b)
    assert ds.ks_p_value(ks, a, b) == pytest.approx(p_value, abs=5e-5)


@pytest.mark.parametrize("n", [141, 2_000, 60_000, 100_001, 500_000])
def test_kolmogorov_sf_matches_scipy_across_regions(n):
    # From below 1/n (Ruben–Gambino) through the Pelz–Good and Smirnov regions to the
    # far tail where the p-value is 0.
    grid = np.concatenate([np.geomspace(0.2 / n, 0.6, 24), [1 / n, 2.2**0.5 / n**0.5, 0.9]])
    for x in grid:
        expected = float(stats.kstwo.sf(x, n))
        assert ds.kolmogorov_sf(float(x), float(n)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("n", [20_001, 150_000, 500_000])
def test_vectorised_smirnov_tail_matches_scipy(n):
    for x in np.geomspace((2.2 / n) ** 0.5, 0.3, 4):
        expected = float(special.smirnov(n, x))
        assert ds.smirnov_sf(float(n), float(x)) == pytest.approx(expected, rel=1e-11, abs=1e-300)


def test_quantile_edges_match_numpy():
    rng = np.random.default_rng(3)
    for size in (1, 2, 11, 1001, 5000):
        values = np.sort(rng.normal(size=size))
        expected = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))
        np.testing.assert_array_equal(ds.quantile_edges(values), expected)
    ties = np.sort(rng.integers(0, 3, 1000).astype(float))
    np.testing.assert_array_equal(ds.quantile_edges(ties), [0.0, 1.0, 2.0])


def test_bin_counts_match_a_histogram_of_unsorted_data():
    rng = np.random.default_rng(4)
    values = np.round(rng.normal(size=10_000), 2)
    edges = ds.quantile_edges(np.sort(values))
    expected = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    np.testing.assert_array_equal(ds.bin_counts(np.sort(values), edges), expected)


def test_psi_by_hand_with_half_observation_fill():
    reference = np.array([50, 30, 20])
    current = np.array([40, 60, 0])
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.4, 0.6, 0.5 / 100])
    assert ds.psi(reference, current) == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert ds.psi(reference, reference) == 0.0


def test_jensenshannon_matches_scipy_and_never_nan():
    rng = np.random.default_rng(6)
    for _ in range(20):
        p, q = rng.integers(0, 50, 10), rng.integers(0, 50, 10)
        p[0] += 1
        q[0] += 1
        assert ds.jensenshannon(p, q) == pytest.approx(scipy_jensenshannon(p, q, base=2), abs=1e-12)
    nearly = np.array([1e15, 1.0, 1.0])
    assert ds.jensenshannon(nearly, nearly + np.array([0, 0, 1e-9])) >= 0.0


def test_chisquare_hand_case():
    statistic, p_value = ds.chisquare_contingency(np.array([50, 50, 0]), np.array([40, 40, 20]))
    assert statistic == pytest.approx(22.22, abs=0.005)
    assert p_value == pytest.approx(1.49e-5, rel=0.01)


@pytest.mark.parametrize("categories", [2, 3, 7])
def test_chisquare_matches_scipy_including_yates(categories):
    rng = np.random.default_rng(categories)
    for _ in range(10):
        reference = rng.integers(1, 200, categories)
        current = rng.integers(1, 200, categories)
        expected = stats.chi2_contingency(np.vstack([reference, current]))
        statistic, p_value = ds.chisquare_contingency(reference, current)
        assert statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_chisquare_drops_categories_absent_from_both():
    with_empty = ds.chisquare_contingency(np.array([10, 0, 20]), np.array([15, 0, 5]))
    assert with_empty == ds.chisquare_contingency(np.array([10, 20]), np.array([15, 5]))
    assert ds.chisquare_contingency(np.array([5]), np.array([9])) == (0.0, 1.0)


def test_holm_adjustment_by_hand():
    adjusted = ds.holm_adjust([0.01, 0.04, 0.03, 0.5])
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.5])

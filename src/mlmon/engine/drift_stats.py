"""Two-sample statistics for drift, computed from sorted samples.

Everything here takes sorted float64 arrays free of NaN, so one sort per column serves
the Kolmogorov–Smirnov statistic, the Wasserstein distance and the bin counts of PSI and
Jensen–Shannon. Results equal scipy's (`ks_2samp`, `wasserstein_distance`,
`chi2_contingency`, `jensenshannon`) to rounding; the tests check that.

The common large-sample case imports only `scipy.special`. `scipy.stats`, about three
times slower to import, is loaded only for the exact KS p-value of small samples and
for the rare asymptotic regions that only its own code handles.
"""

from __future__ import annotations

import math

import numpy as np

from mlmon.engine.metricset import magnitude_scale

# ks_2samp's default method is exact while both samples have at most this many rows.
KS_EXACT_MAX_ROWS = 10_000

DECILES = np.linspace(0.1, 0.9, 9)


def sorted_finite(values: np.ndarray) -> np.ndarray:
    """Return the finite values of a float array, sorted.

    Sorting first and slicing is one pass cheaper than masking first: numpy sorts −inf
    first and +inf, then NaN, last, so the finite values form one slice.
    """
    ordered = np.sort(values)
    low = np.searchsorted(ordered, -np.inf, side="right")
    high = np.searchsorted(ordered, np.inf, side="left")
    return ordered[low:high]


def population_std(sorted_values: np.ndarray) -> float:
    """Standard deviation (ddof=0) that stays finite for values near the float64 limit.

    Equal to `np.std` for ordinary data. Beyond 2^±256 the values are divided by a power
    of two first, as squaring 1e300 would overflow and report a spread of inf.
    """
    scale = sorted_scale(sorted_values)
    if scale == 1.0:
        return float(np.std(sorted_values))
    return float(np.std(sorted_values / scale)) * scale


def sorted_scale(*sorted_samples: np.ndarray) -> float:
    """`magnitude_scale` of sorted samples, read from their first and last values only.

    1.0 for ordinary data; a power of two for values near the float64 limit, where a
    Wasserstein distance or a variance would overflow. Divide the samples by it, and
    any spread they are compared with, before computing.
    """
    return magnitude_scale(*(sample[:: max(len(sample) - 1, 1)] for sample in sorted_samples))


def quantile_edges(sorted_values: np.ndarray, quantiles: np.ndarray = DECILES) -> np.ndarray:
    """Bin edges at `quantiles` of a sorted sample, duplicates merged.

    Same arithmetic as `np.quantile(values, quantiles)` (method "linear"), without the
    O(n) partition it would redo on already sorted data.
    """
    scale = sorted_scale(sorted_values)
    if scale != 1.0:
        # b − a below could overflow; powers of two scale the edges exactly.
        return quantile_edges(sorted_values / scale, quantiles) * scale
    n = len(sorted_values)
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    gamma = virtual - previous
    low = previous.astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    a, b = sorted_values[low], sorted_values[high]
    difference = b - a
    edges = np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)
    return np.unique(edges)


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins (−inf, e0), [e0, e1), …, [e_last, inf) of a sorted sample."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate([[0], cuts, [len(sorted_values)]]))


def shares_with_fill(counts: np.ndarray) -> np.ndarray:
    """Shares of each bin, an empty bin counted as half an observation of its window.

    Half an observation is less than any observed share, so filling never reverses
    the direction of a change and ln(q / p) stays finite.
    """
    total = counts.sum()
    shares = counts / total
    return np.where(counts == 0, 0.5 / total, shares)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Population stability index Σ (q − p) ln(q / p) over shared bins."""
    p = shares_with_fill(reference_counts)
    q = shares_with_fill(current_counts)
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Base-2 Jensen–Shannon distance (0 to 1) between two count vectors.

    The divergence is clipped at 0 before the square root: rounding can make it a tiny
    negative number for near-identical inputs, where scipy returns NaN.
    """
    p = reference_counts / reference_counts.sum()
    q = current_counts / current_counts.sum()
    m = (p + q) / 2
    divergence = (_relative_entropy(p, m) + _relative_entropy(q, m)) / 2 / math.log(2)
    return math.sqrt(max(divergence, 0.0))


def _relative_entropy(p: np.ndarray, m: np.ndarray) -> float:
    used = p > 0
    return float(np.sum(p[used] * np.log(p[used] / m[used])))


def ks_wasserstein(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Return (KS statistic, Wasserstein-1 distance) of two sorted samples in O(n) passes.

    Both samples are merged by position (ties put reference values first), then the two
    empirical CDFs are read off a running count. KS is the largest CDF gap at the end of
    each run of equal values; Wasserstein integrates the gap between merged values.
    """
    n1, n2 = len(reference), len(current)
    total = n1 + n2
    index = np.int32 if total < 2**31 - 1 else np.int64
    # Position of each reference value in the merged order: its rank among the reference
    # values plus the count of current values below it. Current values fill the other
    # slots in their own order, which saves a second binary search.
    ref_at: np.ndarray = np.searchsorted(current, reference, side="left").astype(index, copy=False)
    ref_at += np.arange(n1, dtype=index)
    from_reference = np.zeros(total, dtype=bool)
    from_reference[ref_at] = True
    merged = np.empty(total)
    merged[ref_at] = reference
    del ref_at
    merged[~from_reference] = current

    ref_count: np.ndarray = np.cumsum(from_reference, dtype=index)
    del from_reference
    # CDF gap F_ref − F_cur after each merged value; F_cur counts the rest.
    gap = ref_count * (1.0 / n1)
    cur_count: np.ndarray = np.arange(1, total + 1, dtype=index)
    cur_count -= ref_count
    del ref_count
    gap -= cur_count * (1.0 / n2)
    del cur_count
    np.abs(gap, out=gap)

    steps = np.diff(merged)
    # A plain pairwise sum, not np.dot: BLAS threads would fight the column threads.
    wasserstein = float(np.sum(gap[:-1] * steps))
    # Gaps inside a run of equal values are not values of the CDFs; read only run ends.
    run_ends = np.flatnonzero(steps)
    ks = float(gap[-1])
    if len(run_ends):
        ks = max(ks, float(gap[run_ends].max()))
    return ks, wasserstein


def ks_p_value(statistic: float, reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sided p-value of the KS statistic, as `scipy.stats.ks_2samp(method="auto")`.

    Exact for samples of at most 10 000 rows (delegated to scipy); otherwise Smirnov's
    asymptotic distribution with n = round(n1·n2 / (n1 + n2)).
    """
    n1, n2 = len(reference), len(current)
    if max(n1, n2) <= KS_EXACT_MAX_ROWS:
        from scipy.stats import ks_2samp

        return float(ks_2samp(reference, current).pvalue)
    m, n = float(max(n1, n2)), float(min(n1, n2))
    effective = float(np.round(m * n / (m + n)))
    return float(np.clip(kolmogorov_sf(statistic, effective), 0.0, 1.0))


def kolmogorov_sf(x: float, n: float) -> float:
    """Survival function of the two-sided one-sample KS statistic D_n at x.

    Implements the large-n branches of Simard & L'Ecuyer (2011), as scipy's `kstwo.sf`
    does: 0 beyond n·x² ≥ 370, twice the one-sided Smirnov tail from 2.2, and the
    Pelz–Good expansion for n > 100 000 or n·x^1.5 > 1.4. Other regions go to scipy.
    """
    t = n * x
    nx_squared = t * x
    if n > 140 and 1.0 < t < n - 1 and x < 0.5:
        if nx_squared >= 370.0:
            return 0.0
        if nx_squared >= 2.2:
            return 2 * smirnov_sf(n, x)
        if n > 100_000 or n * x**1.5 > 1.4:
            return 1.0 - pelz_good_cdf(n, x)
    from scipy.stats import kstwo

    return float(kstwo.sf(x, n))


# Between these effective sample sizes `smirnov_sf` sums the one-sided Smirnov series
# vectorised in log space; scipy's scalar O(n) loop takes about a second at n = 500 000.
# The two were checked to agree to 1e-12 in this range, and scipy is used outside it.
SMIRNOV_VECTOR_ABOVE = 20_000
SMIRNOV_VECTOR_UP_TO = 1_000_000


def smirnov_sf(n: float, x: float) -> float:
    """P(D+_n ≥ x), the one-sided KS tail, by the exact Smirnov–Birnbaum–Tingey series.

    x·Σ_j C(n, j) (x + j/n)^(j−1) (1 − x − j/n)^(n−j) over j ≤ n(1 − x). Each term is
    taken in logarithms with Stirling's formula, arranged so that the n·log n parts cancel
    on paper rather than in floating point. What remains is of order n·x, so the sum
    keeps about 12 significant digits. Terms below e^−60 of the largest are skipped.
    """
    from scipy.special import smirnov

    if not SMIRNOV_VECTOR_ABOVE < n <= SMIRNOV_VECTOR_UP_TO:
        return float(smirnov(n, x))
    top = math.floor(n * (1 - x))

    def log_terms(j: np.ndarray) -> np.ndarray:
        rest = n - j
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = (
                j * np.log1p(n * x / j)
                - np.log(x + j / n)
                + rest * np.log1p(-n * x / rest)
                + 0.5 * np.log(n / (2 * math.pi * j * rest))
                + _stirling_remainder(np.array([float(n)]))[0]
                - _stirling_remainder(j)
                - _stirling_remainder(rest)
            )
        # j = 0 is C(n, 0)·x^−1·(1 − x)^n, which the Stirling form cannot express.
        return np.where(j == 0, -math.log(x) + n * math.log1p(-x), logs)

    # The log-terms are smooth in j: locate the peak on a coarse grid, then sum every
    # term from one grid step below the region within e^-60 of it to one step above.
    stride = max(1, top // 4096)
    coarse_j = np.arange(0, top + 1, stride, dtype=np.float64)
    coarse = log_terms(coarse_j)
    near = np.flatnonzero(coarse >= np.max(coarse) - 60.0)
    low = max(0, int(coarse_j[near[0]]) - stride)
    high = min(top, int(coarse_j[near[-1]]) + stride)
    logs = log_terms(np.arange(low, high + 1, dtype=np.float64))
    logs = logs[np.isfinite(logs)]
    peak = float(np.max(logs))
    return float(x * math.exp(peak) * np.sum(np.exp(logs - peak)))


def _stirling_remainder(m: np.ndarray) -> np.ndarray:
    """log m! − (m·log m − m + ½·log 2πm) for m ≥ 1 (0 where m < 1, unused there)."""
    from scipy.special import gammaln

    m = np.asarray(m, dtype=np.float64)
    safe = np.maximum(m, 1.0)
    # From m = 100 on, four terms of the asymptotic series are exact to ~1e-22.
    series = 1 / (12 * safe) - 1 / (360 * safe**3) + 1 / (1260 * safe**5) - 1 / (1680 * safe**7)
    small = safe < 100
    if small.any():
        direct = gammaln(safe + 1) - (safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe))
        series = np.where(small, direct, series)
    return np.where(m >= 1, series, 0.0)


_PI2, _PI4, _PI6 = math.pi**2, math.pi**4, math.pi**6
_SQRT2PI = math.sqrt(2 * math.pi)


def pelz_good_cdf(n: float, x: float) -> float:
    """Pelz–Good (1976) approximation of P(D_n ≤ x) for large n.

    The series K0 + K1/√n + K2/n + K3/n^1.5 in z = x√n, each term rewritten with Jacobi
    theta functions so it converges for small z.
    """
    z = math.sqrt(n) * x
    z2, z3, z4, z6 = z * z, z**3, z**4, z**6
    q_log = -_PI2 / 8 / z2
    if q_log < -708:  # exp underflows; the CDF is 0 to double precision
        return 0.0
    q = math.exp(q_log)

    # Coefficients of the odd-m sums, m = 2k − 1, evaluated by Horner's rule in q^8k.
    k1 = (-z2, _PI2 / 4)
    k2 = (6 * z6 + 2 * z4, (2 * z4 - 5 * z2) * _PI2 / 4, _PI4 * (1 - 2 * z2) / 16)
    k3 = (
        -30 * z6 - 90 * z**8,
        _PI2 * (135 * z4 - 96 * z6) / 4,
        _PI4 * (-60 * z2 + 212 * z4) / 16,
        _PI6 * (5 - 30 * z2) / 64,
    )
    terms = np.zeros(4)
    top = math.ceil(16 * z / math.pi)
    for k in range(top, 0, -1):
        m2 = (2 * k - 1) ** 2
        coefficients = np.array(
            [
                1.0,
                k1[0] + k1[1] * m2,
                k2[0] + k2[1] * m2 + k2[2] * m2 * m2,
                k3[0] + k3[1] * m2 + k3[2] * m2 * m2 + k3[3] * m2**3,
            ]
        )
        terms *= q ** (8 * k)
        terms += coefficients
    terms *= q * _SQRT2PI
    terms /= np.array([z, 6 * z4, 72 * z**7, 6480 * z**10])

    # The even sums of K2 and K3 over all integers k.
    q = math.exp(-_PI2 / 2 / z2)
    ks = np.arange(top, 0, -1)
    ks_squared = ks**2
    q_powers = q**ks_squared
    terms[2] += np.sum(ks_squared * q_powers) * _PI2 * _SQRT2PI / (-36 * z3)
    sqrt3z = math.sqrt(3) * z
    k_pi = math.pi * ks
    terms[3] += (
        np.sum((sqrt3z + k_pi) * (sqrt3z - k_pi) * ks_squared * q_powers)
        * _PI2
        * _SQRT2PI
        / (216 * z6)
    )
    terms /= np.power(n, np.arange(4) / 2.0)
    return float(terms.sum())


def chisquare_contingency(
    reference_counts: np.ndarray, current_counts: np.ndarray
) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity on the 2 × K table of category counts.

    Categories absent from both windows are dropped; with one degree of freedom Yates'
    continuity correction applies, as in `scipy.stats.chi2_contingency`. Returns
    (statistic, p-value).
    """
    from scipy.special import chdtrc

    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof == 0:
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if dof == 1:
        difference = expected - table
        table = table + np.sign(difference) * np.minimum(0.5, np.abs(difference))
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(chdtrc(dof, statistic))


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    count = len(p_values)
    order = sorted(range(count), key=lambda i: p_values[i])
    adjusted = [0.0] * count
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted

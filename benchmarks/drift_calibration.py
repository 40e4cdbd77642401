"""How often the drift verdict alarms on unchanged data, and how often it catches a shift.

Each trial draws a reference and a current dataset of five columns (normal, exponential,
Poisson counts with many ties, uniform, and a five-level category) and runs `compare`:

- false alarms: 200 same-distribution pairs at n = 100, 1k, 10k and 100k rows; the
  share of columns and of datasets flagged as drifted (α = 0.05, so Holm's correction
  should keep the dataset rate at or below 5 %);
- detection: a 0.3σ mean shift of the normal column at n = 1k and a 0.2σ shift at
  n = 10k (target ≥ 95 % each);
- materiality: a 0.02σ shift at n = 1M is statistically significant but must not alarm.

    python benchmarks/drift_calibration.py            # about 5 minutes on 2 cores
    python benchmarks/drift_calibration.py --trials 50
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mlmon.engine.drift import compare

ALPHA = 0.05
LEVELS = np.array(["a", "b", "c", "d", "e"], dtype=object)


def dataset(rng: np.random.Generator, rows: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {
        "normal": rng.normal(shift, 1.0, rows),
        "exponential": rng.exponential(1.0, rows),
        "poisson": rng.poisson(3.0, rows).astype(np.float64),
        "uniform": rng.uniform(0, 1, rows),
        "category": LEVELS[rng.choice(5, rows, p=[0.4, 0.25, 0.15, 0.12, 0.08])],
    }


def false_alarms(rng: np.random.Generator, rows: int, trials: int) -> tuple[float, float, float]:
    column_alarms = dataset_alarms = 0
    start = time.perf_counter()
    for _ in range(trials):
        report = compare(dataset(rng, rows), dataset(rng, rows), alpha=ALPHA)
        flags = [bool(column.drifted) for column in report.columns]
        column_alarms += sum(flags)
        dataset_alarms += report.dataset_drifted
    seconds = time.perf_counter() - start
    return column_alarms / (trials * 5), dataset_alarms / trials, seconds


def detection(rng: np.random.Generator, rows: int, shift: float, trials: int) -> float:
    hits = 0
    for _ in range(trials):
        report = compare(dataset(rng, rows), dataset(rng, rows, shift), alpha=ALPHA)
        hits += bool(next(c for c in report.columns if c.column == "normal").drifted)
    return hits / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    options = parser.parse_args()
    rng = np.random.default_rng(2024)
    trials = options.trials
    # Standard error of a rate near α over `trials` draws, to read the table with.
    error = (ALPHA * (1 - ALPHA) / trials) ** 0.5

    print(f"False alarms on same-distribution pairs ({trials} pairs each, α = {ALPHA},", end=" ")
    print(f"standard error ±{error:.3f})")
    print(f"{'rows':>9} {'per column':>11} {'per dataset':>12} {'seconds':>8}")
    for rows in (100, 1_000, 10_000, 100_000):
        per_column, per_dataset, seconds = false_alarms(rng, rows, trials)
        print(f"{rows:>9,} {per_column:>11.3f} {per_dataset:>12.3f} {seconds:>8.1f}")

    print(f"\nDetection of a mean shift in the normal column ({trials} pairs each, target ≥ 0.95)")
    print(f"{'rows':>9} {'shift':>7} {'detected':>9}")
    for rows, shift in ((1_000, 0.3), (10_000, 0.2)):
        print(f"{rows:>9,} {shift:>6.2f}σ {detection(rng, rows, shift, trials):>9.3f}")

    print("\nA trivial shift in a huge window (0.02σ at n = 1M, 5 pairs)")
    print(f"{'pair':>5} {'ks p-value':>11} {'psi':>8} {'wass.':>8} {'drifted':>8}")
    for pair in range(5):
        reference = {"normal": rng.normal(0, 1, 1_000_000)}
        current = {"normal": rng.normal(0.02, 1, 1_000_000)}
        column = compare(reference, current, alpha=ALPHA).columns[0]
        scores = column.scores
        print(
            f"{pair:>5} {scores['ks_p_value']:>11.2e} {scores['psi']:>8.4f} "
            f"{scores['wasserstein_normed']:>8.4f} {column.drifted!s:>8}"
        )


if __name__ == "__main__":
    main()

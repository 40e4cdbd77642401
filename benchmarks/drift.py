"""Benchmark the drift engine against a plain scipy loop, in the same run.

Windows of 100k × 20 and 1M × 20 numeric columns (plus 3 categorical ones) are compared
four ways:

- baseline: a plain loop per column, scipy.stats.ks_2samp + wasserstein_distance + PSI
  from np.quantile edges and a histogram (chi2_contingency for categorical columns);
- mlmon cold: `compare(reference_data, current_data)`, building the `Reference` inside;
- mlmon cached: `compare(prepared_reference, current_data)`;
- floor: sorting every current column once (what any exact KS must pay).

It checks that every score equals the baseline to 1e-9 (relative). It measures the peak
memory of a cold comparison with tracemalloc against the raw size of the two windows.
It also times `mlmon drift ref.parquet cur.parquet --format json` end to end against a
plain script doing the same with pandas and scipy.

    python benchmarks/drift.py            # full run, a few minutes on 2 cores
    python benchmarks/drift.py --quick    # 100k only, no end-to-end
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from mlmon.engine import drift as drift_module
from mlmon.engine import reference as reference_module
from mlmon.engine.drift import compare
from mlmon.engine.reference import Reference

NUMERIC, CATEGORICAL = 20, 3
# Columns 0–3 shift (large, medium, small, trivial); the rest keep their distribution.
SHIFTS = {0: 0.5, 1: 0.2, 2: 0.05, 3: 0.01}


def make_windows(rows: int, seed: int = 0) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for i in range(NUMERIC):
        reference[f"x{i}"] = rng.normal(0, 1, rows)
        current[f"x{i}"] = rng.normal(SHIFTS.get(i, 0.0), 1, rows)
    labels = np.array([f"level-{k}" for k in range(8)], dtype=object)
    for i in range(CATEGORICAL):
        weights = np.linspace(1, 2, 8)
        reference[f"c{i}"] = labels[rng.choice(8, rows, p=weights / weights.sum())]
        drifted = weights[::-1] if i == 0 else weights
        current[f"c{i}"] = labels[rng.choice(8, rows, p=drifted / drifted.sum())]
    return reference, current


def baseline(reference: dict, current: dict) -> dict[str, dict[str, float]]:
    """Compute the scores with the plain per-column loop a data scientist would write."""
    from scipy import stats

    result = {}
    for name, ref in reference.items():
        cur = current[name]
        if ref.dtype == object:
            categories = sorted(set(ref) | set(cur))
            table = [
                [np.count_nonzero(ref == c) for c in categories],
                [np.count_nonzero(cur == c) for c in categories],
            ]
            chi2 = stats.chi2_contingency(table)
            result[name] = {"chisquare": chi2.statistic, "chisquare_p_value": chi2.pvalue}
            continue
        ks = stats.ks_2samp(ref, cur)
        edges = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
        shares = []
        for values in (ref, cur):
            counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
            shares.append(np.where(counts == 0, 0.5 / len(values), counts / len(values)))
        p, q = shares
        result[name] = {
            "ks": ks.statistic,
            "ks_p_value": ks.pvalue,
            "wasserstein_normed": stats.wasserstein_distance(ref, cur) / np.std(ref),
            "psi": float(np.sum((q - p) * np.log(q / p))),
        }
    return result


def worst_difference(report, expected: dict[str, dict[str, float]]) -> float:
    worst = 0.0
    for column in report.columns:
        for score, value in expected[column.column].items():
            ours = column.scores[score]
            scale = max(abs(value), 1e-300)
            worst = max(worst, abs(ours - value) / scale if value else abs(ours))
    return worst


class Timing:
    """Best and median wall time of several runs, plus the last run's result.

    The best run is the figure least disturbed by other work on a shared machine; the
    median shows how large that disturbance was.
    """

    def __init__(self, function, repeats: int) -> None:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            self.result = function()
            times.append(time.perf_counter() - start)
        self.best = min(times)
        self.median = statistics.median(times)


def single_threaded():
    """Make the engine use one thread, for a like-for-like comparison with the loop."""
    drift_module.workers = reference_module.workers = lambda tasks: 1


def all_threads():
    drift_module.workers = reference_module.workers = _original_workers


_original_workers = reference_module.workers


def raw_bytes(window: dict) -> int:
    # Object columns count as 8-byte pointers, as numpy stores them.
    return sum(values.nbytes for values in window.values())


def bench_in_memory(rows: int, repeats: int) -> None:
    reference, current = make_windows(rows)
    shape = f"{rows:,} rows × {NUMERIC} numeric + {CATEGORICAL} categorical columns"
    print(f"\n{shape}")

    start = time.perf_counter()
    expected = baseline(reference, current)
    base = time.perf_counter() - start

    numeric = [name for name, values in current.items() if values.dtype != object]
    floor = Timing(lambda: [np.sort(current[name]) for name in numeric], repeats)
    cold = Timing(lambda: compare(reference, current), repeats)
    prepared = Reference(reference)
    cached = Timing(lambda: compare(prepared, current), repeats)
    single_threaded()
    cold_one = Timing(lambda: compare(reference, current), repeats)
    cached_one = Timing(lambda: compare(prepared, current), repeats)
    all_threads()

    tracemalloc.start()
    compare(reference, current)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    raw = raw_bytes(reference) + raw_bytes(current)

    print(f"  best of {repeats}, median in brackets")
    print(f"  {'baseline scipy loop (1 run)':38s} {base:8.3f} s             1.00×")
    for label, timing in [
        ("mlmon cold, 2 threads", cold),
        ("mlmon cold, 1 thread", cold_one),
        ("mlmon cached reference, 2 threads", cached),
        ("mlmon cached reference, 1 thread", cached_one),
        ("floor: sort current columns once", floor),
    ]:
        spread = f"({timing.median:.3f})"
        speedup = base / timing.best
        print(f"  {label:38s} {timing.best:8.3f} s {spread:>9} {speedup:5.1f}× faster than baseline")
    print(f"  cold / floor: {cold.best / floor.best:.2f}   cached / floor: {cached.best / floor.best:.2f}")
    # The windows were allocated before tracing started, so they add to the traced peak.
    total = raw + peak
    print(f"  peak memory of a cold compare: windows {raw / 2**20:.0f} MiB + working", end=" ")
    print(f"{peak / 2**20:.0f} MiB = {total / raw:.2f}× the windows' raw size (target < 2.5×)")
    difference = max(worst_difference(cold.result, expected), worst_difference(cached.result, expected))
    print(f"  largest relative difference to the baseline, all scores: {difference:.1e} (≤ 1e-9)")
    drifted = [column.column for column in cold.result.columns if column.drifted]
    print(f"  drifted columns: {', '.join(drifted)}")


PLAIN_SCRIPT = """
import json, sys
import numpy as np, pandas as pd
from scipy import stats
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
out = []
for name in ref.columns:
    r, c = ref[name].to_numpy(), cur[name].to_numpy()
    ks = stats.ks_2samp(r, c)
    out.append({"column": name, "ks": ks.statistic, "p": ks.pvalue,
                "w": stats.wasserstein_distance(r, c) / np.std(r)})
print(json.dumps(out))
"""


RSS_PROBE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def max_rss(command: list[str]) -> int:
    """Run `command` once and return its peak resident set size in bytes (Linux).

    A small launcher process runs it: a child forked straight from this process could
    report this process's own, much larger, resident size as its peak.
    """
    probe = subprocess.run([sys.executable, "-c", RSS_PROBE, *command], capture_output=True, text=True, check=True)
    return int(probe.stdout.strip()) * 1024  # ru_maxrss is in KiB on Linux


def bench_end_to_end(rows: int, repeats: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    reference, current = make_windows(rows, seed=1)
    numeric = [f"x{i}" for i in range(NUMERIC)]
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / "ref.parquet", Path(folder) / "cur.parquet"]
        for path, window in zip(paths, (reference, current), strict=True):
            pq.write_table(pa.table({name: window[name] for name in numeric}), path)
        del reference, current
        command = [sys.executable, "-m", "mlmon", "drift", *map(str, paths), "--format", "json"]
        plain = [sys.executable, "-c", PLAIN_SCRIPT, *map(str, paths)]
        startup = [sys.executable, "-c", "pass"]

        def run(arguments):
            def go():
                subprocess.run(arguments, check=True, capture_output=True, env=os.environ)

            return go

        base = Timing(run(plain), 1).best
        ours = Timing(run(command), repeats)
        bare = Timing(run(startup), repeats).best
        peak_rss = max_rss(command)
    raw = 2 * rows * NUMERIC * 8
    print(f"\nEnd to end on two {rows:,} × {NUMERIC} Parquet files (process start to JSON printed)")
    print(f"  best of {repeats}, median in brackets")
    print(f"  {'plain pandas + scipy script (1 run)':38s} {base:8.3f} s             1.00×")
    label = "mlmon drift --format json"
    spread = f"({ours.median:.3f})"
    print(f"  {label:38s} {ours.best:8.3f} s {spread:>9} {base / ours.best:5.1f}× faster (target ≤ 2.0 s)")
    print(f"  {'python -c pass (interpreter start)':38s} {bare:8.3f} s")
    print(f"  peak resident memory of mlmon drift: {peak_rss / 2**20:.0f} MiB", end=" ")
    print(f"= {peak_rss / raw:.2f}× the two files' raw float64 size ({raw / 2**20:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only, no end-to-end run")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    print(f"cpu_count={os.cpu_count()}  numpy {np.__version__}  python {sys.version.split()[0]}")
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f} (other work on the machine slows every figure)")
    bench_in_memory(100_000, options.repeats)
    if options.quick:
        return
    bench_in_memory(1_000_000, options.repeats)
    bench_end_to_end(1_000_000, options.repeats)


if __name__ == "__main__":
    main()

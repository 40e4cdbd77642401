"""Benchmark: mlmon's poller against a naive MlflowClient loop on a loopback server.

The baseline is what a simple monitor does on every refresh: `search_runs`, then a full
`get_metric_history` for each run. mlmon's poller requests histories sampled to the
chart's width on the first load and only for the new tail afterwards.

Measured in one run against one seeded `mlflow server` on 127.0.0.1:
- first load of an overlay chart of 20 runs x 1 metric x 50,000 steps;
- refresh after 100 new steps were logged to each of those runs;
- the requests of one idle poll (nothing new) with 20 and with 200 runs in the chart.

The last line printed is
`first_load_ratio=<x> refresh_ratio=<x> idle_requests_20=<n> idle_requests_200=<n>`.

Usage (from the repository root): python benchmarks/fetch.py [--steps 50000]
It takes about 3 minutes on a 2-core machine, most of it in the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.mlflow_server import start_server  # noqa: E402

from mlmon.config import Settings  # noqa: E402
from mlmon.poller import Poller  # noqa: E402
from mlmon.snapshot import ViewRequest  # noqa: E402
from mlmon.sources.mlflow_rest import RestSource  # noqa: E402

CHART_RUNS = 20
TOTAL_RUNS = 200
NEW_STEPS = 100
CHART_POINTS = 200
MODEL = "bench-model"
KEY = "loss"
BASE_TIME = 1_700_000_000_000


def seed(root: Path, steps: int) -> tuple[str, str, list[str]]:
    """Create 20 runs with `steps` points of `loss` each, in a sqlite store under `root`.

    Runs and the registered model go through MlflowClient; the bulk of the points is
    inserted with sqlite3, since logging a million points through the client would take
    longer than the benchmark itself.
    """
    from mlflow.tracking import MlflowClient

    db = root / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(
        "bench", artifact_location=(root / "artifacts").as_uri()
    )
    run_ids = []
    for index in range(CHART_RUNS):
        run_id = client.create_run(experiment_id, run_name=f"run-{index:02d}").info.run_id
        client.log_metric(
            run_id, KEY, _loss(index, steps - 1), timestamp=BASE_TIME + steps - 1, step=steps - 1
        )
        run_ids.append(run_id)
    client.create_registered_model(MODEL)
    for run_id in run_ids[:2]:
        client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "2")

    with sqlite3.connect(db) as connection:
        rows = (
            (KEY, _loss(index, step), BASE_TIME + step, run_id, step, 0)
            for index, run_id in enumerate(run_ids)
            for step in range(steps - 1)
        )
        connection.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    return uri, experiment_id, run_ids


def _loss(run: int, step: int) -> float:
    return 1.0 / (1 + step / 100) + run / 1000


def naive_refresh(uri: str, experiment_id: str) -> tuple[float, int]:
    """Run the baseline (search the runs, read each full history); return seconds and points."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    started = time.perf_counter()
    points = 0
    for run in client.search_runs([experiment_id], max_results=CHART_RUNS):
        points += len(client.get_metric_history(run.info.run_id, KEY))
    return time.perf_counter() - started, points


async def warm_up(uri: str, source: RestSource, run_id: str) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    client.search_runs([client.get_run(run_id).info.experiment_id], max_results=1)
    await source.search_experiments()
    await source.metric_histories([run_id], KEY, max_points=10, start_step=0, end_step=10)


async def timed_poll(poller: Poller, source: RestSource, view: ViewRequest) -> tuple[float, int]:
    before = source.request_count
    started = time.perf_counter()
    snapshot = await poller.poll(view)
    elapsed = time.perf_counter() - started
    if snapshot.connection.error_title:
        raise RuntimeError(f"poll failed: {snapshot.connection.error_title}")
    return elapsed, source.request_count - before


def log_new_steps(uri: str, run_ids: list[str], first_step: int) -> None:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    for index, run_id in enumerate(run_ids):
        steps = range(first_step, first_step + NEW_STEPS)
        client.log_batch(
            run_id, metrics=[Metric(KEY, _loss(index, s), BASE_TIME + s, s) for s in steps]
        )


def add_small_runs(uri: str, experiment_id: str, count: int) -> list[str]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    run_ids = []
    for index in range(count):
        run_id = client.create_run(experiment_id, run_name=f"small-{index:03d}").info.run_id
        client.log_batch(
            run_id, metrics=[Metric(KEY, 1.0 / (1 + s), BASE_TIME + s, s) for s in range(10)]
        )
        run_ids.append(run_id)
    return run_ids


class RequestLog(logging.Handler):
    """Counts requests by endpoint from httpx's own log lines."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.endpoints: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        url = str(record.args[1]) if isinstance(record.args, tuple) and len(record.args) > 1 else ""
        self.endpoints[url.split("?")[0].rsplit("/mlflow/", 1)[-1]] += 1


async def main(steps: int) -> str:
    with tempfile.TemporaryDirectory(prefix="mlmon-bench-fetch-") as scratch:
        root = Path(scratch)
        print(f"seeding {CHART_RUNS} runs x {steps} steps ...", flush=True)
        backend, experiment_id, run_ids = seed(root, steps)
        handle = start_server(root / "server", backend_uri=backend)
        try:
            return await measure(handle.uri, experiment_id, run_ids, steps)
        finally:
            handle.stop()


async def measure(uri: str, experiment_id: str, run_ids: list[str], steps: int) -> str:
    os.environ["MLMON_CACHE_DIR"] = tempfile.mkdtemp(prefix="mlmon-bench-cache-")
    settings = Settings(tracking_uri=uri, read_timeout=120.0)
    source = RestSource(uri, settings)
    poller = Poller(source, settings)
    view = ViewRequest(
        model_name=MODEL,
        version="1",
        metric_key=KEY,
        overlay_run_ids=tuple(run_ids),
        chart_points=CHART_POINTS,
    )
    requests = RequestLog()
    logging.getLogger("httpx").addHandler(requests)
    logging.getLogger("httpx").setLevel(logging.INFO)
    logging.getLogger("httpx").propagate = False
    try:
        # Warm the server up (its first requests open the store and start workers), so
        # neither side pays for that.
        await warm_up(uri, source, run_ids[0])
        naive_first, points = naive_refresh(uri, experiment_id)
        print(f"baseline first load: {naive_first:.2f} s, {points} points", flush=True)
        ours_first, first_requests = await timed_poll(poller, source, view)
        print(f"mlmon first load:    {ours_first:.2f} s, {first_requests} requests", flush=True)

        requests.endpoints.clear()
        _, idle_20 = await timed_poll(poller, source, view)
        print(
            f"idle poll, {CHART_RUNS} runs: {idle_20} requests {dict(requests.endpoints)}",
            flush=True,
        )

        log_new_steps(uri, run_ids, steps)
        naive_refresh_s, points = naive_refresh(uri, experiment_id)
        print(f"baseline refresh:    {naive_refresh_s:.2f} s, {points} points", flush=True)
        ours_refresh, refresh_requests = await timed_poll(poller, source, view)
        print(f"mlmon refresh:       {ours_refresh:.3f} s, {refresh_requests} requests", flush=True)

        small = add_small_runs(uri, experiment_id, TOTAL_RUNS - CHART_RUNS)
        wide_view = ViewRequest(
            model_name=MODEL,
            version="1",
            metric_key=KEY,
            overlay_run_ids=tuple(run_ids + small),
            chart_points=CHART_POINTS,
        )
        await timed_poll(poller, source, wide_view)
        requests.endpoints.clear()
        _, idle_200 = await timed_poll(poller, source, wide_view)
        print(
            f"idle poll, {TOTAL_RUNS} runs: {idle_200} requests {dict(requests.endpoints)}",
            flush=True,
        )
    finally:
        await source.aclose()

    return (
        f"first_load_ratio={naive_first / ours_first:.1f} "
        f"refresh_ratio={naive_refresh_s / ours_refresh:.1f} "
        f"idle_requests_20={idle_20} idle_requests_200={idle_200}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50_000, help="steps per run (default 50000)")
    arguments = parser.parse_args()
    for name in [key for key in os.environ if key.startswith("MLFLOW_")]:
        del os.environ[name]
    print(asyncio.run(main(arguments.steps)))

"""Metric-history sampling and the poller's tail cache, shared by both sources."""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlmon.tracking import LatestMetric, MetricPoint

if TYPE_CHECKING:
    from mlmon.sources.base import TrackingSource

# Points per run a tail request may return; the server's per-run maximum.
MAX_TAIL_POINTS = 2500
# Runs per whole-history request. On a 2-core machine the server sampled 20 runs of
# 50,000 steps in about 7 s, so 10 runs a call stay well inside the 10 s read timeout.
FRESH_RUNS_PER_REQUEST = 10


def sample_points(points: Sequence[MetricPoint], max_points: int) -> list[MetricPoint]:
    """Keep about `max_points` evenly spaced points, always the first and the last."""
    if max_points < 1 or len(points) <= max_points:
        return list(points)
    if max_points == 1:
        return [points[-1]]
    stride = (len(points) - 1) / (max_points - 1)
    indices = sorted({min(len(points) - 1, math.floor(i * stride + 0.5)) for i in range(max_points)})
    return [points[i] for i in indices]


def thin_by_step(points: Sequence[MetricPoint], max_points: int) -> list[MetricPoint]:
    """Keep at most about `max_points` points spread evenly over the step range.

    Unlike `sample_points`, which spaces by index, this spaces by step, so a dense tail
    appended to a sparse sampled history does not crowd out the older part of the chart.
    The first and last points are always kept.
    """
    if max_points < 2 or len(points) <= max_points:
        return list(points)
    first, last = points[0].step, points[-1].step
    width = (last - first) / (max_points - 1) if last > first else 1.0
    kept: dict[int, MetricPoint] = {}
    for point in points:
        kept.setdefault(int((point.step - first) / width), point)
    result = list(kept.values())
    if result[-1] is not points[-1]:
        result.append(points[-1])
    return result


@dataclass
class _CachedHistory:
    points: list[MetricPoint]
    max_points: int
    # (step, timestamp) of the run's latest value of the key when `points` were fetched.
    latest: tuple[int, int]


class HistoryCache:
    """Sampled metric histories per (run, key), refreshed by fetching only new tails.

    A run's latest value from `runs/search` shows whether its history changed: if its
    step and timestamp match the cached ones, no request is sent. A changed run gets only
    the steps from its last cached step on (inclusive, so a value logged again at that
    step replaces the old one). Runs whose tails start at the same step share one call.
    """

    def __init__(self, max_entries: int = 2000) -> None:
        self._entries: OrderedDict[tuple[str, str], _CachedHistory] = OrderedDict()
        self._max_entries = max_entries

    def clear(self) -> None:
        self._entries.clear()

    async def histories(
        self,
        source: TrackingSource,
        latest: Mapping[str, LatestMetric],
        key: str,
        max_points: int,
    ) -> dict[str, list[MetricPoint]]:
        """Return `key`'s sampled history for each run in `latest` (run id -> latest value)."""
        fresh: list[str] = []
        tails: dict[int, list[str]] = {}
        for run_id, value in latest.items():
            entry = self._entries.get((run_id, key))
            marker = (value.step, value.timestamp)
            if entry is None or entry.max_points != max_points:
                fresh.append(run_id)
            elif entry.latest != marker:
                last_step = entry.points[-1].step if entry.points else 0
                if value.step < last_step:
                    fresh.append(run_id)  # the history was rewritten below the cached points
                else:
                    tails.setdefault(last_step, []).append(run_id)

        if fresh:
            await self._fetch_fresh(source, fresh, latest, key, max_points)

        for start, run_ids in tails.items():
            end = max(latest[run_id].step for run_id in run_ids)
            fetched = await source.metric_histories(
                run_ids, key, max_points=MAX_TAIL_POINTS, start_step=start, end_step=end
            )
            for run_id in run_ids:
                entry = self._entries[(run_id, key)]
                merged = [point for point in entry.points if point.step < start]
                merged += fetched.get(run_id, [])
                if len(merged) > max_points * 3 // 2:
                    merged = thin_by_step(merged, max_points)
                self._store(run_id, key, merged, max_points, latest[run_id])

        result = {}
        for run_id in latest:
            entry = self._entries.get((run_id, key))
            if entry is not None:
                self._entries.move_to_end((run_id, key))
                result[run_id] = list(entry.points)
        return result

    async def _fetch_fresh(
        self,
        source: TrackingSource,
        run_ids: list[str],
        latest: Mapping[str, LatestMetric],
        key: str,
        max_points: int,
    ) -> None:
        """Fetch whole sampled histories in groups, keeping the groups that succeed.

        The server reads every stored point to sample a history, so one call for many long
        runs can outlast the read timeout. Smaller groups each finish sooner, and the ones
        that arrive are cached, so the next poll requests only the rest.
        """
        groups = [
            run_ids[start : start + FRESH_RUNS_PER_REQUEST] for start in range(0, len(run_ids), FRESH_RUNS_PER_REQUEST)
        ]
        results = await asyncio.gather(
            *(source.metric_histories(group, key, max_points=max_points) for group in groups),
            return_exceptions=True,
        )
        failure: BaseException | None = None
        for group, fetched in zip(groups, results, strict=True):
            if isinstance(fetched, BaseException):
                failure = failure or fetched
                continue
            for run_id in group:
                self._store(run_id, key, fetched.get(run_id, []), max_points, latest[run_id])
        if failure is not None:
            raise failure

    def _store(self, run_id: str, key: str, points: list[MetricPoint], max_points: int, value: LatestMetric) -> None:
        self._entries[(run_id, key)] = _CachedHistory(points, max_points, (value.step, value.timestamp))
        self._entries.move_to_end((run_id, key))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

"""Sampling helpers and the history tail cache, with hand-computed expectations."""

from __future__ import annotations

import pytest

from mlmon.errors import SourceError, SourceErrorKind
from mlmon.sources.history import HistoryCache, sample_points, thin_by_step
from mlmon.tracking import LatestMetric, MetricPoint


def _points(steps) -> list[MetricPoint]:
    return [MetricPoint(step=step, timestamp=1000 + step, value=float(step)) for step in steps]


def test_sample_points_spaces_by_index():
    # 10 points to 4: stride (10 - 1) / 3 = 3, so indices 0, 3, 6, 9.
    assert [point.step for point in sample_points(_points(range(10)), 4)] == [0, 3, 6, 9]
    assert [point.step for point in sample_points(_points(range(10)), 1)] == [9]
    assert len(sample_points(_points(range(3)), 10)) == 3


def test_thin_by_step_keeps_old_range_visible():
    # Sparse 0..900 every 100, then a dense tail 901..1000: 110 points thinned to 11.
    points = _points([*range(0, 1000, 100), *range(901, 1001)])
    thinned = [point.step for point in thin_by_step(points, 11)]
    # Bucket width (1000 - 0) / 10 = 100: one point per bucket, the first seen, plus the last.
    assert thinned == [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]


class RecordingSource:
    """Returns histories from a dict and records each metric_histories call."""

    uri = "memory"

    def __init__(self, histories: dict[str, list[MetricPoint]]) -> None:
        self.histories = histories
        self.calls: list[tuple[tuple[str, ...], int | None, int | None]] = []
        self.failing: set[str] = set()

    async def metric_histories(self, run_ids, key, max_points=200, start_step=None, end_step=None):
        self.calls.append((tuple(run_ids), start_step, end_step))
        if self.failing & set(run_ids):
            raise SourceError(SourceErrorKind.TIMED_OUT, "slow", "")
        result = {}
        for run_id in run_ids:
            series = self.histories.get(run_id, [])
            if start_step is not None:
                series = [point for point in series if start_step <= point.step <= end_step]
            result[run_id] = sample_points(series, max_points)
        return result


def _latest(source: RecordingSource, run_id: str) -> LatestMetric:
    last = source.histories[run_id][-1]
    return LatestMetric("loss", last.value, last.timestamp, last.step)


async def test_cache_skips_unchanged_and_fetches_tails():
    source = RecordingSource({"a": _points(range(100)), "b": _points(range(100))})
    cache = HistoryCache()
    latest = {run_id: _latest(source, run_id) for run_id in ("a", "b")}
    first = await cache.histories(source, latest, "loss", 20)
    assert source.calls == [(("a", "b"), None, None)]
    assert first["a"][-1].step == 99

    await cache.histories(source, latest, "loss", 20)
    assert len(source.calls) == 1

    source.histories["a"] = _points(range(105))
    latest["a"] = _latest(source, "a")
    refreshed = await cache.histories(source, latest, "loss", 20)
    assert source.calls[-1] == (("a",), 99, 104)
    assert [point.step for point in refreshed["a"][-6:]] == [99, 100, 101, 102, 103, 104]
    assert refreshed["a"][0].step == 0


async def test_cache_refetches_when_width_or_history_changes():
    source = RecordingSource({"a": _points(range(100))})
    cache = HistoryCache()
    latest = {"a": _latest(source, "a")}
    await cache.histories(source, latest, "loss", 20)
    await cache.histories(source, latest, "loss", 40)
    assert source.calls[-1] == (("a",), None, None)

    # A rerun logged fewer steps than the cache contains: the whole history is read again.
    source.histories["a"] = _points(range(50))
    latest = {"a": _latest(source, "a")}
    result = await cache.histories(source, latest, "loss", 40)
    assert source.calls[-1] == (("a",), None, None)
    assert result["a"][-1].step == 49


async def test_cache_keeps_groups_that_arrived():
    run_ids = [f"r{index:02d}" for index in range(15)]
    source = RecordingSource({run_id: _points(range(10)) for run_id in run_ids})
    source.failing = {"r12"}
    cache = HistoryCache()
    latest = {run_id: _latest(source, run_id) for run_id in run_ids}
    with pytest.raises(SourceError):
        await cache.histories(source, latest, "loss", 20)
    source.failing = set()
    calls_before = len(source.calls)
    result = await cache.histories(source, latest, "loss", 20)
    # Only the group of 5 that timed out is read again.
    assert source.calls[calls_before:] == [(tuple(run_ids[10:]), None, None)]
    assert len(result) == 15

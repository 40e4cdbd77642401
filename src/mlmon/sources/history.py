"""Metric-history helpers shared by the sources and the poller."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlmon.tracking import MetricPoint


def sample_points(points: Sequence[MetricPoint], max_points: int) -> list[MetricPoint]:
    """Keep about `max_points` evenly spaced points, always the first and the last."""
    if max_points < 1 or len(points) <= max_points:
        return list(points)
    if max_points == 1:
        return [points[-1]]
    stride = (len(points) - 1) / (max_points - 1)
    indices = sorted(
        {min(len(points) - 1, math.floor(i * stride + 0.5)) for i in range(max_points)}
    )
    return [points[i] for i in indices]

"""The result type shared by the regression, classification and trading metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MetricSet:
    """Metrics of one task on one window of predictions.

    `values` maps every metric of the task to a float, or to None when the metric is
    undefined on this data; `undefined` then contains the reason. `rows` counts the rows
    given, `rows_used` those that entered the metrics (actual present, values finite).
    `notes` carries facts a reader needs to trust a value, such as how many rows `mape`
    left out because their actual is zero.
    """

    task: str
    values: dict[str, float | None]
    undefined: dict[str, str]
    rows: int
    rows_used: int
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the `mlmon metrics --format json` document (NaN never appears: null)."""
        return {
            "task": self.task,
            "rows": self.rows,
            "rows_used": self.rows_used,
            "metrics": {name: finite_or_none(value) for name, value in self.values.items()},
            "undefined": dict(self.undefined),
            "notes": dict(self.notes),
        }


def finite_or_none(value: float | None) -> float | None:
    """Return `value` as a float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class MetricBuilder:
    """Collects metric values and the reasons for undefined ones, in a fixed order."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.values: dict[str, float | None] = dict.fromkeys(names)
        self.undefined: dict[str, str] = {}
        self.notes: dict[str, str] = {}

    def set(self, name: str, value: float | None, reason: str = "") -> None:
        """Record `value`; a None or non-finite value is recorded as undefined with `reason`."""
        value = finite_or_none(value)
        self.values[name] = value
        if value is None:
            self.undefined[name] = reason or "not finite on this data"
        else:
            self.undefined.pop(name, None)

    def undefine_all(self, reason: str) -> None:
        """Mark every metric undefined, e.g. when no row is usable."""
        for name in self.values:
            self.set(name, None, reason)

    def build(self, task: str, rows: int, rows_used: int) -> MetricSet:
        return MetricSet(
            task, dict(self.values), dict(self.undefined), rows, rows_used, dict(self.notes)
        )


def as_float_array(values: Any) -> np.ndarray:
    """Return `values` as a 1-D float64 array; non-numeric entries become NaN."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False).ravel()
    import pandas as pd

    return pd.to_numeric(pd.Series(array.ravel()), errors="coerce").to_numpy(dtype=np.float64)


def finite_pairs(*arrays: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Keep rows where every array is finite; return (mask, filtered arrays)."""
    mask = np.ones(len(arrays[0]), dtype=bool)
    for array in arrays:
        mask &= np.isfinite(array)
    return mask, tuple(array[mask] for array in arrays)


# Magnitudes outside [2^-256, 2^256] may overflow or underflow once squared and summed
# (2^512 ≈ 1.3e154, so even 1e9 summed squares stay finite).
SAFE_MAGNITUDE_EXPONENT = 256

OVERFLOW = "values overflow float64"


def magnitude_scale(*arrays: np.ndarray) -> float:
    """Return a power of two to divide finite `arrays` by before squaring, or 1.0.

    1.0 while the largest magnitude lies within 2^±256, so ordinary data is computed
    exactly as before. Otherwise the power of two nearest that magnitude: dividing by
    it changes only exponents, so ratios (r2, pearson_r, Sharpe, normed Wasserstein)
    come out unchanged and no intermediate overflows.
    """
    largest = max((float(np.max(np.abs(array))) for array in arrays if len(array)), default=0.0)
    if largest == 0.0 or not math.isfinite(largest):
        return 1.0
    _, exponent = math.frexp(largest)  # largest = m · 2^exponent with 0.5 ≤ m < 1
    if abs(exponent) <= SAFE_MAGNITUDE_EXPONENT:
        return 1.0
    # 2^(exponent − 1) ≤ largest, and 2^1024 itself would overflow.
    return math.ldexp(1.0, exponent - 1)

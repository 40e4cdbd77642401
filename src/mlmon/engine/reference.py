"""The reference window of a drift comparison, prepared once and reused.

Each numeric column is sorted (NaN and ±inf dropped and counted), and its decile bin
edges and bin counts are computed. Each categorical column is counted by category.
Comparing many current windows against one `Reference` repeats none of this work.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlmon.engine import drift_stats as stats

log = logging.getLogger(__name__)


def workers(tasks: int) -> int:
    return max(1, min(tasks, os.cpu_count() or 1))


def column_array(values: Any) -> np.ndarray:
    """Return one column as float64 (numbers, missing as NaN) or object (everything else).

    Booleans, text and anything else become object arrays and are treated as categories.
    """
    array = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if array.dtype.kind in "iuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind != "O":
        return array.astype(object)
    return array


def as_columns(data: Any, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Turn a DataFrame or a mapping of array-likes into numpy columns (see `column_array`)."""
    names = list(columns) if columns is not None else list(data.keys())
    return {name: column_array(data[name]) for name in names}


def row_count(data: Any, names: Sequence[str]) -> int:
    """Return the number of rows of a window without reading a lazily loaded column."""
    rows = getattr(data, "num_rows", None)
    if rows is not None:
        return int(rows)
    return len(data[names[0]]) if names else 0


def categorical_counts(values: np.ndarray) -> tuple[Counter, int]:
    """Count categories by hashing (no sort); return (counts, number of missing values)."""
    counts = Counter(values.tolist())
    missing = 0
    for key in [key for key in counts if key is None or (isinstance(key, float) and key != key)]:
        missing += counts.pop(key)
    return counts, missing


@dataclass
class ReferenceColumn:
    """One reference column's sorted values, bins or category counts, computed once."""

    name: str
    kind: str  # "numeric" or "categorical"
    rows: int  # values present (finite numbers, non-null categories)
    missing: int
    # Empty for categorical columns, as are `edges` and `bin_counts`.
    sorted_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    std: float = 0.0
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    bin_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    categories: Counter = field(default_factory=Counter)
    error: str | None = None  # why the column could not be prepared; compared as "error"

    @property
    def constant(self) -> bool:
        if self.kind == "numeric":
            return self.rows > 0 and self.sorted_values[0] == self.sorted_values[-1]
        return len(self.categories) == 1

    @classmethod
    def build(cls, name: str, values: np.ndarray) -> ReferenceColumn:
        """Prepare one column; a failure is kept on the column instead of raised."""
        try:
            # errstate is per thread (a context variable), so it is set in the worker.
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                return cls._build(name, values)
        except Exception as exc:  # one bad column must not abort the others
            log.exception("preparing reference column %s failed", name)
            kind = "numeric" if values.dtype.kind == "f" else "categorical"
            return cls(name, kind, 0, 0, error=f"{type(exc).__name__}: {exc}")

    @classmethod
    def _build(cls, name: str, values: np.ndarray) -> ReferenceColumn:
        if values.dtype.kind == "f":
            ordered = stats.sorted_finite(values)
            column = cls(name, "numeric", len(ordered), len(values) - len(ordered), ordered)
            if len(ordered):
                column.std = stats.population_std(ordered)
                column.edges = stats.quantile_edges(ordered)
                column.bin_counts = stats.bin_counts(ordered, column.edges)
            return column
        counts, missing = categorical_counts(values)
        return cls(name, "categorical", len(values) - missing, missing, categories=counts)


class Reference:
    """A reference window prepared for repeated drift comparisons.

    `data` is a DataFrame or a mapping of column name to array; only `columns` are kept
    when given. Each column is fetched from `data` inside a worker thread, so a mapping
    that reads columns from disk on access (such as `mlmon.tables.open_columns`) never
    keeps the whole raw window in memory. Numpy releases the GIL while sorting, so the
    threads run in parallel.
    """

    def __init__(self, data: Any, columns: Sequence[str] | None = None) -> None:
        names = list(columns) if columns is not None else list(data.keys())
        self.rows = row_count(data, names)

        def build(name: str) -> ReferenceColumn:
            try:
                values = column_array(data[name])
            except Exception as exc:  # an unreadable column must not abort the others
                log.exception("reading reference column %s failed", name)
                return ReferenceColumn(name, "numeric", 0, 0, error=f"{type(exc).__name__}: {exc}")
            return ReferenceColumn.build(name, values)

        with ThreadPoolExecutor(workers(len(names))) as pool:
            built = pool.map(build, names)
            self.columns: dict[str, ReferenceColumn] = {column.name: column for column in built}

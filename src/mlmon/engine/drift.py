"""Data drift between a reference window and a current window, column by column.

Numeric columns get the two-sample Kolmogorov–Smirnov test, the Wasserstein distance
in units of the reference standard deviation, PSI and the Jensen–Shannon distance on
ten reference-decile bins. Categorical columns get a chi-square test of homogeneity,
PSI and Jensen–Shannon on the categories.

A column drifts when the change is both significant and material. Significant: the test
p-value is below `alpha` after Holm's correction across the columns tested. Material:
PSI or normed Wasserstein ≥ 0.1 for numeric columns, Jensen–Shannon or PSI ≥ 0.1 for
categorical ones. So a trivial shift in a huge window does not alarm.

The dataset drifts when any column does. Holm's correction keeps the chance of that on
unchanged data at most `alpha`.

`Reference` sorts each reference column and computes its bin edges once; comparing
several current windows against it repeats none of that work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlmon.engine import drift_stats as stats
from mlmon.engine.reference import (
    Reference,
    ReferenceColumn,
    categorical_counts,
    column_array,
    row_count,
    workers,
)

log = logging.getLogger(__name__)

# Below this many rows in either window the scores are shown but no verdict is given.
MIN_ROWS = 30
MATERIAL = 0.1  # PSI, normed Wasserstein or Jensen–Shannon at which a change matters
CRITICAL = 0.25  # PSI or normed Wasserstein at which a drifted column is critical
SCORE_NAMES = (
    "ks",
    "ks_p_value",
    "wasserstein_normed",
    "psi",
    "jensenshannon",
    "chisquare",
    "chisquare_p_value",
)


@dataclass(frozen=True)
class ColumnDrift:
    """The drift verdict and scores of one column (one entry of the JSON `columns` list)."""

    column: str
    kind: str
    status: str  # ok, insufficient_data, empty, constant, error
    message: str | None
    method: str
    drifted: bool | None
    severity: str  # none, warning, critical
    scores: dict[str, float | None]
    reference_missing: int
    current_missing: int
    p_value: float | None = None  # the test's raw p-value, before Holm's correction

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "status": self.status,
            "message": self.message,
            "method": self.method,
            "drifted": self.drifted,
            "severity": self.severity,
            "scores": {name: _finite(self.scores.get(name)) for name in SCORE_NAMES},
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
        }


@dataclass(frozen=True)
class DriftReport:
    """Drift of every compared column plus the dataset verdict."""

    reference_rows: int
    current_rows: int
    alpha: float
    columns: list[ColumnDrift]
    correction: str = "holm"

    @property
    def share_drifted(self) -> float:
        judged = [column for column in self.columns if column.drifted is not None]
        return sum(1 for column in judged if column.drifted) / len(judged) if judged else 0.0

    @property
    def dataset_drifted(self) -> bool:
        return any(column.drifted for column in self.columns)

    def to_dict(self) -> dict[str, Any]:
        """Return the `mlmon drift --format json` document."""
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "alpha": self.alpha,
            "correction": self.correction,
            "share_drifted": self.share_drifted,
            "dataset_drifted": self.dataset_drifted,
            "columns": [column.to_dict() for column in self.columns],
        }


def compare(reference: Any, current: Any, columns: Sequence[str] | None = None, alpha: float = 0.05) -> DriftReport:
    """Compare `current` (DataFrame or mapping of column name to array) against `reference`.

    `reference` is a `Reference` (reused across calls) or raw data. Without `columns`,
    every column of either window is reported; one present in only one window gets
    status "error". A column that fails for any reason gets status "error" and a
    message; the others are still compared.
    """
    if not isinstance(reference, Reference):
        reference = Reference(reference, columns)
    present = list(current.keys())
    wanted = list(columns) if columns is not None else list(dict.fromkeys([*reference.columns, *present]))
    current_rows = row_count(current, present)

    def one(name: str) -> ColumnDrift:
        try:
            # Fetched here, in the worker, so a lazily read window loads one column at a time.
            values = column_array(current[name]) if name in present else None
            # errstate is per thread (a context variable), so it is set in the worker.
            # Scores that overflow despite scaling are reported as missing, not warned.
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                return _compare_column(reference.columns.get(name), values, name)
        except Exception as exc:  # one bad column must not abort the others
            log.exception("drift of column %s failed", name)
            return _error(name, "numeric", f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(workers(len(wanted))) as pool:
        results = list(pool.map(one, wanted))
    return DriftReport(reference.rows, current_rows, alpha, _verdicts(results, alpha))


def _compare_column(reference: ReferenceColumn | None, values: np.ndarray | None, name: str) -> ColumnDrift:
    if reference is None:
        return _error(
            name,
            "numeric" if values is not None and values.dtype.kind == "f" else "categorical",
            "column is missing from the reference window",
        )
    if values is None:
        return _error(name, reference.kind, "column is missing from the current window")
    if reference.error:
        return _error(name, reference.kind, f"reference column unusable: {reference.error}")
    current_kind = "numeric" if values.dtype.kind == "f" else "categorical"
    if current_kind != reference.kind:
        return _error(
            name,
            reference.kind,
            f"column is {reference.kind} in the reference but {current_kind} in the current window",
        )
    if reference.kind == "numeric":
        return _numeric(reference, values)
    return _categorical(reference, values)


def _numeric(reference: ReferenceColumn, values: np.ndarray) -> ColumnDrift:
    current = stats.sorted_finite(values)
    missing = len(values) - len(current)
    scores: dict[str, float | None] = dict.fromkeys(SCORE_NAMES)
    base: dict[str, Any] = {
        "column": reference.name,
        "kind": "numeric",
        "method": "ks",
        "scores": scores,
        "reference_missing": reference.missing,
        "current_missing": missing,
    }
    if reference.rows == 0 or len(current) == 0:
        empty = "reference" if reference.rows == 0 else "current"
        return ColumnDrift(
            status="empty",
            message=f"no finite value in the {empty} window",
            drifted=None,
            severity="none",
            **base,
        )

    ks, wasserstein = stats.ks_wasserstein(reference.sorted_values, current)
    p_value = stats.ks_p_value(ks, reference.sorted_values, current)
    scores.update(ks=ks, ks_p_value=p_value)
    if reference.constant:
        # Normed Wasserstein divides by a zero spread; compare "equal to the constant"
        # against "any other value" instead of decile bins.
        value = reference.sorted_values[0]
        other = int(np.count_nonzero(current != value))
        ref_counts = np.array([reference.rows, 0])
        cur_counts = np.array([len(current) - other, other])
        scores.update(
            psi=stats.psi(ref_counts, cur_counts),
            jensenshannon=stats.jensenshannon(ref_counts, cur_counts),
        )
        drifted = other > 0
        message = f"reference is constant ({value:g}); {other} current value(s) differ"
        severity = _severity(scores["psi"], None) if drifted else "none"
        return ColumnDrift(
            status="constant",
            message=message,
            drifted=drifted,
            severity=severity,
            p_value=None,
            **{**base, "method": "constant"},
        )

    unit = stats.sorted_scale(reference.sorted_values, current)
    if unit != 1.0:
        # Near the float64 limit the distance overflows; measure it in units of a power
        # of two instead. The normed score is the same in any unit.
        _, wasserstein = stats.ks_wasserstein(reference.sorted_values / unit, current / unit)
    cur_counts = stats.bin_counts(current, reference.edges)
    scores.update(
        wasserstein_normed=wasserstein / (reference.std / unit),
        psi=stats.psi(reference.bin_counts, cur_counts),
        jensenshannon=stats.jensenshannon(reference.bin_counts, cur_counts),
    )
    return _scored(base, reference.rows, len(current), p_value)


def _categorical(reference: ReferenceColumn, values: np.ndarray) -> ColumnDrift:
    counts, missing = categorical_counts(values)
    current_rows = len(values) - missing
    scores: dict[str, float | None] = dict.fromkeys(SCORE_NAMES)
    base: dict[str, Any] = {
        "column": reference.name,
        "kind": "categorical",
        "method": "chisquare",
        "scores": scores,
        "reference_missing": reference.missing,
        "current_missing": missing,
    }
    if reference.rows == 0 or current_rows == 0:
        empty = "reference" if reference.rows == 0 else "current"
        return ColumnDrift(
            status="empty",
            message=f"no value in the {empty} window",
            drifted=None,
            severity="none",
            **base,
        )

    categories = list(dict.fromkeys([*reference.categories, *counts]))
    ref_counts = np.array([reference.categories.get(name, 0) for name in categories])
    cur_counts = np.array([counts.get(name, 0) for name in categories])
    statistic, p_value = stats.chisquare_contingency(ref_counts, cur_counts)
    scores.update(
        chisquare=statistic,
        chisquare_p_value=p_value,
        psi=stats.psi(ref_counts, cur_counts),
        jensenshannon=stats.jensenshannon(ref_counts, cur_counts),
    )
    if reference.constant:
        (value,) = reference.categories
        other = current_rows - counts.get(value, 0)
        drifted = other > 0
        return ColumnDrift(
            status="constant",
            message=f"reference contains one category ({value!r}); {other} current value(s) differ",
            drifted=drifted,
            severity=_severity(scores["psi"], None) if drifted else "none",
            **{**base, "method": "constant"},
        )
    return _scored(base, reference.rows, current_rows, p_value)


def _scored(base: dict[str, Any], reference_rows: int, current_rows: int, p_value: float) -> ColumnDrift:
    """Build a scored column; `_verdicts` decides `drifted` later, across all columns."""
    if min(reference_rows, current_rows) < MIN_ROWS:
        return ColumnDrift(
            status="insufficient_data",
            drifted=None,
            severity="none",
            message=f"{min(reference_rows, current_rows)} rows in the smaller window; "
            f"a verdict needs at least {MIN_ROWS}",
            **base,
        )
    return ColumnDrift(status="ok", message=None, drifted=False, severity="none", p_value=p_value, **base)


def _verdicts(results: list[ColumnDrift], alpha: float) -> list[ColumnDrift]:
    """Apply Holm's correction across the tested columns and decide each verdict."""
    tested = [i for i, column in enumerate(results) if column.status == "ok" and column.p_value is not None]
    adjusted = stats.holm_adjust([float(results[i].p_value or 0.0) for i in tested])
    final = list(results)
    for i, p_adjusted in zip(tested, adjusted, strict=True):
        column = results[i]
        scores = column.scores
        if column.kind == "numeric":
            material = max(scores["psi"] or 0.0, scores["wasserstein_normed"] or 0.0) >= MATERIAL
        else:
            material = max(scores["psi"] or 0.0, scores["jensenshannon"] or 0.0) >= MATERIAL
        drifted = bool(p_adjusted < alpha and material)
        severity = _severity(scores["psi"], scores["wasserstein_normed"]) if drifted else "none"
        final[i] = ColumnDrift(**{**column.__dict__, "drifted": drifted, "severity": severity})
    return final


def _severity(psi: float | None, wasserstein_normed: float | None) -> str:
    size = max(psi or 0.0, wasserstein_normed or 0.0)
    return "critical" if size >= CRITICAL else "warning"


def _error(name: str, kind: str, message: str) -> ColumnDrift:
    return ColumnDrift(
        column=name,
        kind=kind,
        status="error",
        message=message,
        method="none",
        drifted=None,
        severity="none",
        scores=dict.fromkeys(SCORE_NAMES),
        reference_missing=0,
        current_missing=0,
    )


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None

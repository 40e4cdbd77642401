"""The Features tab's content, computed without any widget.

Inputs are the training run's importance and reference data (`FeaturesState`) and the
prediction log (`PredictionsState`). Drift compares the reference with the newest
`CURRENT_ROWS` predictions through `mlmon.engine.drift`; correlations use every row
with an actual. Kept apart from the widgets so tests can check numbers directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlmon.engine.importance import (
    FeatureRelation,
    Importance,
    correlation_matrix,
    feature_relation,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlmon.engine.drift import ColumnDrift, DriftReport
    from mlmon.insights import FeaturesState, PredictionsState

# Newest predictions compared with the reference: about one year of daily rows.
CURRENT_ROWS = 250
# Features in the correlation view, taken from the top of the chosen importance type.
TOP_CORRELATED = 8
HISTOGRAM_BINS = 12


@dataclass(frozen=True)
class Histogram:
    """Shares of reference and current rows in common bins (left edges as labels)."""

    edges: np.ndarray
    reference: np.ndarray
    current: np.ndarray


@dataclass(eq=False)
class FeaturesView:
    """Importance, drift and relations of every feature, for one state pair."""

    importances: tuple[Importance, ...]
    features: list[str]
    reference: pd.DataFrame | None
    current: pd.DataFrame | None
    log: pd.DataFrame | None
    drift: DriftReport | None = None
    drift_error: str = ""
    _relations: dict[str, FeatureRelation] = field(default_factory=dict)

    @staticmethod
    def build(features: FeaturesState | None, predictions: PredictionsState | None) -> FeaturesView:
        """Collect features from importance files, the reference and the log, and compute drift."""
        files = features.files if features else None
        importances = files.importances if files else ()
        reference = files.reference if files else None
        log = predictions.log.frame if predictions and predictions.log and predictions.log.rows else None
        logged = list(predictions.log.features) if log is not None and predictions and predictions.log else []

        names: list[str] = []
        for importance in importances:
            names.extend(name for name, _ in importance.ranked())
        names.extend(logged)
        features_ = list(dict.fromkeys(names))
        current = log.tail(CURRENT_ROWS) if log is not None else None
        view = FeaturesView(importances, features_, reference, current, log)
        view._compute_drift()
        return view

    def ranked(self, kind: int) -> list[tuple[str, float | None]]:
        """Features ranked by importance type `kind`; features it lacks follow unranked."""
        if not self.importances:
            return [(name, None) for name in self.features]
        ranking: list[tuple[str, float | None]] = list(self.importances[kind % len(self.importances)].ranked())
        listed = {name for name, _ in ranking}
        ranking.extend((name, None) for name in self.features if name not in listed)
        return ranking

    def column_drift(self, feature: str) -> ColumnDrift | None:
        if self.drift is None:
            return None
        return next((column for column in self.drift.columns if column.column == feature), None)

    def relation(self, feature: str) -> FeatureRelation | None:
        """Pearson r of the feature with the actual and with |error| over the whole log."""
        if self.log is None or feature not in self.log:
            return None
        if feature not in self._relations:
            self._relations[feature] = feature_relation(self.log, feature)
        return self._relations[feature]

    def histogram(self, feature: str, bins: int = HISTOGRAM_BINS) -> Histogram | None:
        """Reference and current shares in bins spanning both windows; None if not numeric."""
        import numpy as np
        import pandas as pd

        if (
            self.reference is None
            or self.current is None
            or feature not in self.reference
            or feature not in self.current
        ):
            return None
        ref = pd.to_numeric(self.reference[feature], errors="coerce").to_numpy(dtype="float64")
        cur = pd.to_numeric(self.current[feature], errors="coerce").to_numpy(dtype="float64")
        ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        if len(ref) == 0 or len(cur) == 0:
            return None
        low, high = min(ref.min(), cur.min()), max(ref.max(), cur.max())
        if low == high:
            return None
        edges = np.linspace(low, high, bins + 1)
        ref_counts, _ = np.histogram(ref, edges)
        cur_counts, _ = np.histogram(cur, edges)
        return Histogram(edges, ref_counts / len(ref), cur_counts / len(cur))

    def correlations(self, kind: int, top: int = TOP_CORRELATED) -> pd.DataFrame | None:
        """Pearson correlations among the top features of importance type `kind`."""
        if self.log is None:
            return None
        names = [name for name, _ in self.ranked(kind) if name in self.log][:top]
        if len(names) < 2:
            return None
        return correlation_matrix(self.log, names)

    def _compute_drift(self) -> None:
        if self.reference is None or self.current is None:
            return
        columns = [name for name in self.features if name in self.reference and name in self.current]
        if not columns:
            self.drift_error = "no feature appears in both the reference and the prediction log"
            return
        from mlmon.engine.drift import compare

        try:
            self.drift = compare(self.reference[columns], self.current[columns], columns=columns)
        except Exception as exc:  # the rest of the tab still shows without drift
            self.drift_error = f"drift failed: {exc}"

"""Feature importance files and feature relations, as pure computation.

Readers hand in the text of an importance file; this module turns it into ranked
`Importance` values. Formats understood:

- LightGBM autolog: `feature_importance_split.json`, `feature_importance_gain.json`,
  each a flat `{feature: number}` object.
- XGBoost autolog: `feature_importance_{type}.json` (`weight`, `gain`, `cover`, ...).
  Multi-class linear boosters write a list per feature, one coefficient per class.
  Such a list is reduced to the sum of absolute values, so a feature that pushes any
  class hard ranks high whatever the sign.
- Generic: `feature_importance.json` (flat object, `{"feature": [...], "importance":
  [...]}` columns, or a list of `{"feature", "importance"}` records) and
  `feature_importance.csv` (a feature column and one numeric column per type).

Also here: correlations of features with the actual and the absolute error, which the
Features tab shows beside the importance.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_TYPED_NAME = re.compile(r"^feature_importance_(?P<kind>[A-Za-z0-9_]+)\.json$")
_GENERIC_NAMES = ("feature_importance.json", "feature_importance.csv")
_FEATURE_KEYS = ("feature", "features", "name", "feature_name", "column")
# Importance types shown first when a run has several; others follow by name.
PREFERRED_KINDS = ("gain", "total_gain", "split", "weight", "cover", "importance")


class ImportanceFormatError(ValueError):
    """An importance file whose content is not one of the understood shapes."""


@dataclass(frozen=True)
class Importance:
    """One importance type (gain, split, weight, ...) for every feature of a model.

    `source` is the file it came from. `reduced` is True when list values were summed as
    absolute values.
    """

    kind: str
    source: str
    values: dict[str, float]
    reduced: bool = False

    def ranked(self) -> list[tuple[str, float]]:
        """Return (feature, value) pairs, largest first; NaN values go last."""
        return sorted(self.values.items(), key=lambda item: (math.isnan(item[1]), -item[1], item[0]))

    def rank_of(self, feature: str) -> int | None:
        """Return the 1-based rank of `feature`, or None when the file does not list it."""
        for rank, (name, _) in enumerate(self.ranked(), start=1):
            if name == feature:
                return rank
        return None

    def share_of(self, feature: str) -> float | None:
        """Return the feature's share of the total importance (0..1), if defined."""
        total = sum(abs(value) for value in self.values.values() if not math.isnan(value))
        value = self.values.get(feature)
        if value is None or math.isnan(value) or total == 0:
            return None
        return abs(value) / total


def is_importance_file(name: str) -> bool:
    """Return True if a file name at a run's artifact root is a feature importance file."""
    return name in _GENERIC_NAMES or _TYPED_NAME.match(name) is not None


def parse_importance(name: str, text: str) -> list[Importance]:
    """Parse one importance file's text into one `Importance` per type it holds."""
    if name.endswith(".csv"):
        return _parse_csv(name, text)
    match = _TYPED_NAME.match(name)
    kind = match.group("kind") if match else "importance"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportanceFormatError(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    values, reduced = _values_from_json(name, data)
    return [Importance(kind=kind, source=name, values=values, reduced=reduced)]


def order_kinds(importances: list[Importance]) -> list[Importance]:
    """Sort importance types so gain comes first, then split, then the rest by name."""

    def key(item: Importance) -> tuple[int, str]:
        rank = PREFERRED_KINDS.index(item.kind) if item.kind in PREFERRED_KINDS else len(PREFERRED_KINDS)
        return rank, item.kind

    return sorted(importances, key=key)


def reduce_value(raw: Any) -> tuple[float, bool]:
    """Return a number for one feature's raw value and whether a list was reduced."""
    if isinstance(raw, bool) or raw is None:
        return math.nan, False
    if isinstance(raw, int | float):
        return float(raw), False
    if isinstance(raw, str):
        try:
            return float(raw), False
        except ValueError:
            return math.nan, False
    if isinstance(raw, list):
        total = 0.0
        for item in raw:
            value, _ = reduce_value(item)
            if not math.isnan(value):
                total += abs(value)
        return total, True
    return math.nan, False


def _values_from_json(name: str, data: Any) -> tuple[dict[str, float], bool]:
    pairs: list[tuple[str, Any]]
    if isinstance(data, dict):
        feature_key = next((key for key in _FEATURE_KEYS if key in data), None)
        if feature_key is not None and isinstance(data[feature_key], list):
            value_key = next((key for key in data if key != feature_key and isinstance(data[key], list)), None)
            if value_key is None:
                raise ImportanceFormatError(f"{name} lists features but no importance values")
            pairs = list(zip(data[feature_key], data[value_key], strict=False))
        else:
            pairs = list(data.items())
    elif isinstance(data, list) and all(isinstance(item, dict) for item in data):
        pairs = []
        for item in data:
            feature_key = next((key for key in _FEATURE_KEYS if key in item), None)
            value_key = next((key for key in item if key != feature_key), None)
            if feature_key is None or value_key is None:
                raise ImportanceFormatError(f"{name} has a record without a feature name and a value")
            pairs.append((item[feature_key], item[value_key]))
    else:
        raise ImportanceFormatError(f"{name} is invalid: expected an object or a list of records")

    values: dict[str, float] = {}
    reduced = False
    for feature, raw in pairs:
        value, was_list = reduce_value(raw)
        values[str(feature)] = value
        reduced = reduced or was_list
    if not values:
        raise ImportanceFormatError(f"{name} lists no features")
    return values, reduced


def _parse_csv(name: str, text: str) -> list[Importance]:
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        raise ImportanceFormatError(f"{name} needs a header row and at least one feature row")
    header = [cell.strip() for cell in rows[0]]
    feature_index = next((i for i, cell in enumerate(header) if cell.lower() in _FEATURE_KEYS), 0)
    kinds = [(i, cell) for i, cell in enumerate(header) if i != feature_index]
    if not kinds:
        raise ImportanceFormatError(f"{name} has no importance column besides the feature names")

    result = []
    for index, kind in kinds:
        values = {}
        for row in rows[1:]:
            if len(row) <= max(index, feature_index):
                continue
            values[row[feature_index].strip()] = reduce_value(row[index].strip())[0]
        if values and not all(math.isnan(value) for value in values.values()):
            result.append(Importance(kind=kind or "importance", source=name, values=values))
    if not result:
        raise ImportanceFormatError(f"{name} has no numeric importance column")
    return result


@dataclass(frozen=True)
class FeatureRelation:
    """The Pearson r of one feature with the actual and with the absolute error.

    None where the correlation is undefined: fewer than 3 paired rows or a constant side.
    """

    feature: str
    with_actual: float | None
    with_abs_error: float | None
    rows: int


def pearson(x: pd.Series, y: pd.Series) -> tuple[float | None, int]:
    """Return Pearson r over rows where both are finite, and that row count."""
    import numpy as np

    a = np.asarray(x, dtype="float64")
    b = np.asarray(y, dtype="float64")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None, int(a.size)
    a = a - a.mean()
    b = b - b.mean()
    r = float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))
    return max(-1.0, min(1.0, r)), int(keep.sum())


def feature_relation(frame: pd.DataFrame, feature: str) -> FeatureRelation:
    """Correlate one feature with `actual` and with |prediction − actual|.

    Both need numeric columns; a non-numeric feature gets None for both.
    """
    import pandas as pd

    if feature not in frame or "actual" not in frame:
        return FeatureRelation(feature, None, None, 0)
    values = pd.to_numeric(frame[feature], errors="coerce")
    actual = pd.to_numeric(frame["actual"], errors="coerce")
    abs_error = (pd.to_numeric(frame["prediction"], errors="coerce") - actual).abs()
    with_actual, rows = pearson(values, actual)
    with_error, _ = pearson(values, abs_error)
    return FeatureRelation(feature, with_actual, with_error, rows)


def correlation_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Pearson correlations between numeric features (pairwise complete rows)."""
    import pandas as pd

    numeric = pd.DataFrame({name: pd.to_numeric(frame[name], errors="coerce") for name in features if name in frame})
    return numeric.corr(method="pearson", min_periods=3)

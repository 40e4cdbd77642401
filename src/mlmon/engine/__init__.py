"""Pure computation on numpy/pandas/scipy: metrics, windows and drift.

Nothing here imports Textual or MLflow, and nothing does I/O. Names are re-exported
lazily, so `import mlmon.engine` costs nothing until a name is used; the drift path
then loads numpy and scipy.special only, never pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MetricSet": "mlmon.engine.metricset",
    "regression_metrics": "mlmon.engine.regression",
    "classification_metrics": "mlmon.engine.classification",
    "confusion_matrix": "mlmon.engine.classification",
    "trading_metrics": "mlmon.engine.trading",
    "detect_task": "mlmon.engine.rolling",
    "compute_metrics": "mlmon.engine.rolling",
    "last_rows": "mlmon.engine.rolling",
    "time_window": "mlmon.engine.rolling",
    "window_series": "mlmon.engine.rolling",
    "current_and_previous": "mlmon.engine.rolling",
    "parse_timestamps": "mlmon.engine.rolling",
    "Reference": "mlmon.engine.reference",
    "ColumnDrift": "mlmon.engine.drift",
    "DriftReport": "mlmon.engine.drift",
    "compare": "mlmon.engine.drift",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlmon.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

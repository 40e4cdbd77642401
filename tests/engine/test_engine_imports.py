"""The engine stays free of Textual and MLflow, and the drift path of pandas and scipy.stats."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ENGINE_PROBE = """
import json, pkgutil, importlib, sys
import mlmon.engine
for module in pkgutil.iter_modules(mlmon.engine.__path__):
    importlib.import_module("mlmon.engine." + module.name)
for name in mlmon.engine.__all__:
    getattr(mlmon.engine, name)
loaded = [name for name in sys.modules if name.split(".")[0] in ("textual", "mlflow")]
print(json.dumps(sorted(loaded)))
"""

DRIFT_PROBE = """
import json, sys
from mlmon.tables import read_columns
from mlmon.engine.drift import Reference, compare
report = compare(Reference(read_columns("ref.parquet")), read_columns("cur.parquet"))
assert report.columns[0].drifted and report.columns[0].scores["ks_p_value"] is not None
print(json.dumps([name for name in ("pandas", "scipy.stats") if name in sys.modules]))
"""


def _run(probe: str, cwd) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=cwd
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_engine_skips_textual_and_mlflow(tmp_path):
    assert _run(ENGINE_PROBE, tmp_path) == []


def test_large_drift_skips_pandas_and_stats(tmp_path):
    # Above 10 000 rows the KS p-value is asymptotic and needs only scipy.special.
    rng = np.random.default_rng(0)
    for name, shift in (("ref.parquet", 0.0), ("cur.parquet", 0.3)):
        columns = {"a": rng.normal(shift, 1, 30_000), "b": rng.normal(size=30_000)}
        pq.write_table(pa.table(columns), tmp_path / name)
    assert _run(DRIFT_PROBE, tmp_path) == []

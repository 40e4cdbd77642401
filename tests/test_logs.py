"""An unwritable log file never stops mlmon."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def test_unwritable_log_file_warns_once(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    log_path = blocker / "mlmon.log"
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("prediction,actual\n1.0,1.5\n2.0,2.5\n3.0,2.0\n")
    env = {**os.environ, "MLMON_LOG_FILE": str(log_path)}

    result = subprocess.run(
        [sys.executable, "-m", "mlmon", "metrics", str(predictions), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    # Absolute errors 0.5, 0.5 and 1.0.
    assert json.loads(result.stdout)["metrics"]["mae"] == pytest.approx(2.0 / 3.0)
    assert str(log_path) in result.stderr
    assert "MLMON_LOG_FILE" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("cannot write the log file") == 1

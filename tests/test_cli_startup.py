"""`mlmon --help` stays light, and the stylesheet ships inside the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_HELP_PROBE = """
import json, sys
from mlmon.cli import main
sys.argv = ["mlmon", "--help"]
try:
    main()
except SystemExit:
    pass
heavy = ["mlflow", "pandas", "scipy", "textual", "pyarrow", "numpy"]
print(json.dumps([name for name in heavy if name in sys.modules]))
"""


def test_help_imports_no_heavy_modules():
    result = subprocess.run([sys.executable, "-c", _HELP_PROBE], capture_output=True, text=True, check=True)
    last_line = result.stdout.strip().splitlines()[-1]
    assert json.loads(last_line) == []
    assert "Usage" in result.stdout


def test_help_lists_commands():
    result = subprocess.run([sys.executable, "-m", "mlmon", "--help"], capture_output=True, text=True, check=True)
    for command in ("tui", "demo", "metrics", "drift"):
        assert command in result.stdout


def test_wheel_contains_stylesheet(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("mlmon-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "mlmon/mlmon.tcss" in names
        shipped = archive.read("mlmon/mlmon.tcss").decode()
    assert shipped == (ROOT / "mlmon.tcss").read_text()


def test_bad_tracking_uri_exits_2_with_fix():
    result = subprocess.run(
        [sys.executable, "-m", "mlmon", "--tracking-uri", "ftp://example.invalid/x"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "ftp://example.invalid/x" in result.stderr
    assert "Traceback" not in result.stderr

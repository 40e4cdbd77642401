"""Where the app finds mlmon.tcss: inside the installed package first, else the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlmon.tui import app as app_module

ROOT = Path(__file__).resolve().parents[2]


def test_checkout_stylesheet_in_editable_install() -> None:
    # The editable install has no copy inside src/mlmon, so the top-level file is used.
    assert not (ROOT / "src" / "mlmon" / "mlmon.tcss").exists()
    assert app_module.stylesheet_path() == ROOT / "mlmon.tcss"


def test_packaged_stylesheet_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wheel puts the sheet at mlmon/mlmon.tcss inside the installed package.
    package = tmp_path / "mlmon"
    package.mkdir()
    (package / "mlmon.tcss").write_text("/* packaged */\n")
    monkeypatch.setattr(app_module.resources, "files", lambda name: package)
    assert app_module.stylesheet_path() == package / "mlmon.tcss"

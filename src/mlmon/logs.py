"""Logging to a file: the terminal belongs to the UI."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from mlmon import paths


def setup_logging(level: int = logging.INFO) -> None:
    """Send mlmon's log records to the platform log file, rotating at 5 MB."""
    path = paths.log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("mlmon")
    root.setLevel(level)
    root.addHandler(handler)

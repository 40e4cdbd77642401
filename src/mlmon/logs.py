"""Logging to a file: the terminal belongs to the UI."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from mlmon import paths


def setup_logging(level: int = logging.INFO) -> None:
    """Send mlmon's log records to the platform log file, rotating at 5 MB.

    A log file that cannot be created (a read-only home, a path under a file) must not
    stop the monitor, so mlmon then runs without a log and prints one warning on stderr.
    """
    path = paths.log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        print(
            f"mlmon: cannot write the log file {path} ({exc.strerror or exc}); running without a log. "
            "Set MLMON_LOG_FILE to a writable path to keep one.",
            file=sys.stderr,
        )
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("mlmon")
    root.setLevel(level)
    root.addHandler(handler)

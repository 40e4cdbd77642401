"""Platform directories for mlmon's own files (config, state, cache, log)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs("mlmon", appauthor=False)


def config_file() -> Path:
    """Return the default config file path, overridable with MLMON_CONFIG."""
    override = os.environ.get("MLMON_CONFIG")
    return Path(override) if override else Path(_DIRS.user_config_dir) / "config.toml"


def state_dir() -> Path:
    """Return the directory for alert history and acknowledgements (MLMON_STATE_DIR)."""
    override = os.environ.get("MLMON_STATE_DIR")
    return Path(override) if override else Path(_DIRS.user_state_dir)


def cache_dir() -> Path:
    """Return the directory for downloaded artifacts (MLMON_CACHE_DIR)."""
    override = os.environ.get("MLMON_CACHE_DIR")
    return Path(override) if override else Path(_DIRS.user_cache_dir)


def log_file() -> Path:
    """Return the log file path; the terminal belongs to the UI, so logs go here."""
    override = os.environ.get("MLMON_LOG_FILE")
    return Path(override) if override else Path(_DIRS.user_log_dir) / "mlmon.log"

"""Commands besides the TUI; each module adds its command to the typer app."""

from __future__ import annotations

import importlib

import typer

# Modules that define `register(app)`; listed here so `mlmon --help` shows every command.
COMMAND_MODULES = ("mlmon.commands.demo", "mlmon.commands.metrics", "mlmon.commands.drift")


def register(app: typer.Typer) -> None:
    """Register every available command module on `app`."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)

"""`mlmon metrics PREDICTIONS`: model metrics on a prediction log file."""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

TASK_CHOICES = ("auto", "regression", "classification", "trading")
FORMAT_CHOICES = ("text", "json")


def register(app: typer.Typer) -> None:
    """Add the `metrics` command to `app`."""
    app.command(name="metrics")(metrics)


def metrics(
    predictions: Annotated[
        Path,
        typer.Argument(
            help="Prediction log: .csv, .parquet, .json (split orient) or .jsonl with "
            "columns prediction and actual (optional: score, timestamp).",
            show_default=False,
        ),
    ],
    task: Annotated[str, typer.Option("--task", help="auto, regression, classification or trading.")] = "auto",
    output_format: Annotated[
        str, typer.Option("--format", help="text (a table) or json (one document on stdout).")
    ] = "text",
    positive_label: Annotated[
        str,
        typer.Option("--positive-label", help="Label counted as positive in binary classification."),
    ] = "1",
    periods_per_year: Annotated[
        float,
        typer.Option("--periods-per-year", help="Trading periods per year for the Sharpe ratio."),
    ] = 252.0,
    risk_free_rate: Annotated[
        float,
        typer.Option("--risk-free-rate", help="Risk-free return per period for the Sharpe ratio."),
    ] = 0.0,
) -> None:
    """Compute regression, classification or trading metrics from a prediction log."""
    from mlmon.cli import fail
    from mlmon.errors import ConfigError, InputError

    if task not in TASK_CHOICES:
        fail(ConfigError(f"Unknown --task {task!r}.", f"Use one of {', '.join(TASK_CHOICES)}."))
    if output_format not in FORMAT_CHOICES:
        fail(ConfigError(f"Unknown --format {output_format!r}.", "Use text or json."))
    # The engine checks these too, but its ValueError would reach the user with a fix
    # about the file's columns.
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        fail(
            ConfigError(
                f"--periods-per-year {periods_per_year:g} is not a positive number.",
                "Pass the number of trading periods in a year, e.g. 252 for daily bars or 52 for weekly.",
            )
        )
    if not math.isfinite(risk_free_rate):
        fail(
            ConfigError(
                f"--risk-free-rate {risk_free_rate:g} is not a finite number.",
                "Pass the risk-free return per period as a fraction, e.g. 0.0001.",
            )
        )

    from mlmon.logs import setup_logging

    # Log records go to the log file: without a handler, Python would print warnings
    # and errors from the engine on stderr.
    setup_logging()
    from mlmon.engine.rolling import compute_metrics
    from mlmon.tables import read_table

    try:
        frame = read_table(predictions)
        missing = [name for name in ("prediction", "actual") if name not in frame.columns]
        if missing:
            raise InputError(
                f"{predictions} has no column {' or '.join(missing)}.",
                "A prediction log needs the columns prediction and actual; "
                f"this file has {', '.join(map(str, frame.columns[:20]))}.",
            )
        result = compute_metrics(
            frame,
            task,
            positive_label=_label(positive_label),
            positive_label_name="--positive-label",
            periods_per_year=periods_per_year,
            risk_free_rate=risk_free_rate,
        )
    except InputError as exc:
        fail(exc)
        return
    except (ValueError, TypeError, KeyError) as exc:
        fail(InputError(f"Cannot compute metrics from {predictions}: {exc}.", _task_fix(task)))
        return
    except Exception as exc:  # a bug or an unforeseen file: one line, details in the log
        logging.getLogger(__name__).exception("metrics of %s failed", predictions)
        fail(
            InputError(
                f"Computing metrics from {predictions} failed: {type(exc).__name__}: {exc}.",
                "The mlmon log file has the details.",
            )
        )
        return

    document = result.to_dict()
    if output_format == "json":
        print(json.dumps(document, allow_nan=False))
        return
    _print_table(predictions, document)


def _label(text: str) -> Any:
    """Read --positive-label as a number when it looks like one, so 1 matches 1.0 and True."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _task_fix(task: str) -> str:
    if task == "auto":
        return "Check the prediction and actual columns, or pass --task."
    return f"Check that the prediction and actual columns suit --task {task}."


def _print_table(path: Path, document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=sys.stdout)
    table = Table(
        title=f"{document['task']} metrics for {escape(str(path))}",
        caption=f"{document['rows_used']} of {document['rows']} rows used",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("note")
    for name, value in document["metrics"].items():
        shown = "—" if value is None else f"{value:.6g}"
        note = document["undefined"].get(name) or document["notes"].get(name, "")
        table.add_row(name, shown, escape(note))
    console.print(table)
    for name, note in document["notes"].items():
        if name not in document["metrics"]:
            console.print(f"note: {escape(note)}")

"""`mlmon drift REFERENCE CURRENT`: data drift between two table files.

This path imports neither pandas nor scipy.stats for large files: pyarrow decodes the
files to numpy columns and the engine needs only numpy and scipy.special there.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

FORMAT_CHOICES = ("text", "json")

# Prediction-log bookkeeping columns: they change by construction, so comparing them
# would always report drift. Name one with --column to compare it anyway.
SKIPPED_BY_DEFAULT = ("timestamp", "request_id", "model_version")


def register(app: typer.Typer) -> None:
    """Add the `drift` command to `app`."""
    app.command(name="drift")(drift)


def drift(
    reference: Annotated[
        Path,
        typer.Argument(help="Reference window (e.g. training data) as a table file.", show_default=False),
    ],
    current: Annotated[
        Path,
        typer.Argument(help="Current window (e.g. recent inputs) as a table file.", show_default=False),
    ],
    column: Annotated[
        list[str] | None,
        typer.Option("--column", "-c", help="Compare only this column (repeatable).", show_default=False),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="text (a table) or json (one document on stdout).")
    ] = "text",
    alpha: Annotated[
        float,
        typer.Option("--alpha", help="Significance level after Holm's correction across columns."),
    ] = 0.05,
) -> None:
    """Compare two table files (.csv, .parquet, .json, .jsonl) column by column for drift."""
    from mlmon.cli import fail
    from mlmon.errors import ConfigError, InputError

    if output_format not in FORMAT_CHOICES:
        fail(ConfigError(f"Unknown --format {output_format!r}.", "Use text or json."))
    if not 0 < alpha < 1:
        fail(ConfigError(f"--alpha {alpha} is outside (0, 1).", "Use a level such as 0.05."))

    from mlmon.logs import setup_logging

    # A column that fails is logged with its traceback. Without a handler Python would
    # print that on stderr, so the records go to the log file.
    setup_logging()
    from mlmon.engine.drift import Reference, compare
    from mlmon.tables import open_columns

    wanted = list(dict.fromkeys(column)) if column else None
    try:
        # Parquet columns are read one at a time inside the engine's worker threads.
        reference_columns = open_columns(reference, wanted)
        current_columns = open_columns(current, wanted)
        if wanted is None:
            wanted = [
                name for name in dict.fromkeys([*reference_columns, *current_columns]) if name not in SKIPPED_BY_DEFAULT
            ]
            if not set(reference_columns) & set(current_columns):
                raise InputError(
                    f"{reference} and {current} share no column name.",
                    "Compare files with the same columns, or name them with --column.",
                )
        prepared = Reference(reference_columns, [n for n in wanted if n in reference_columns])
        del reference_columns  # only the sorted copies inside `prepared` are needed
        report = compare(prepared, current_columns, wanted, alpha=alpha)
    except InputError as exc:
        fail(exc)
        return
    except Exception as exc:  # a bug or an unforeseen file: one line, details in the log
        logging.getLogger(__name__).exception("drift of %s against %s failed", current, reference)
        fail(
            InputError(
                f"Comparing {current} with {reference} failed: {type(exc).__name__}: {exc}.",
                "The mlmon log file has the details.",
            )
        )
        return

    document = report.to_dict()
    if output_format == "json":
        print(json.dumps(document, allow_nan=False))
        return
    _print_table(reference, current, document)


def _print_table(reference: Path, current: Path, document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    verdict = "DRIFT" if document["dataset_drifted"] else "no drift"
    # Piped output has no terminal width; 120 columns keeps every score readable.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    table = Table(
        title=f"Drift of {escape(str(current))} ({document['current_rows']} rows) against "
        f"{escape(str(reference))} ({document['reference_rows']} rows)",
        caption=f"{verdict}: {document['share_drifted']:.0%} of judged columns drifted "
        f"(alpha {document['alpha']}, {document['correction']} correction)",
    )
    for name, justify in [
        ("column", "left"),
        ("kind", "left"),
        ("status", "left"),
        ("drifted", "left"),
        ("severity", "left"),
        ("p-value", "right"),
        ("psi", "right"),
        ("wass.", "right"),
        ("js", "right"),
        ("missing", "right"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for entry in document["columns"]:
        scores = entry["scores"]
        p_value = scores["ks_p_value"] if entry["kind"] == "numeric" else scores["chisquare_p_value"]
        drifted = {True: "yes", False: "no", None: "—"}[entry["drifted"]]
        table.add_row(
            escape(entry["column"]),
            entry["kind"],
            entry["status"],
            drifted,
            entry["severity"],
            _number(p_value),
            _number(scores["psi"]),
            _number(scores["wasserstein_normed"]),
            _number(scores["jensenshannon"]),
            f"{entry['reference_missing']}/{entry['current_missing']}",
        )
    console.print(table)
    for entry in document["columns"]:
        if entry["message"]:
            console.print(f"{escape(entry['column'])}: {escape(entry['message'])}")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"

"""Prediction batches as tables: column checks, timestamp parsing and the merge.

Pure pandas, no I/O: `mlmon.sources.predictions` reads the files and hands each one
here. Columns: `timestamp` and `prediction` are required, `actual`, `score`,
`model_version` and `request_id` are optional, every other column is a feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlmon.errors import MlmonError

if TYPE_CHECKING:
    import pandas as pd

KNOWN_COLUMNS = ("timestamp", "prediction", "actual", "score", "model_version", "request_id")
# Epoch numbers above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
_EPOCH_MS_FROM = 1e11


class BatchError(MlmonError):
    """A batch file that cannot be used; the title names the file and the problem."""


def normalize_batch(frame: pd.DataFrame, location: str) -> pd.DataFrame:
    """Check a batch's columns and types; return it with UTC timestamps and float values."""
    import pandas as pd

    if len(frame) == 0:
        raise BatchError(f"{location}: the file has no rows.", "Remove it or log rows into it.")
    frame = frame.rename(columns={column: str(column) for column in frame.columns})
    missing = [column for column in ("timestamp",) if column not in frame]
    if "prediction" not in frame and "actual" not in frame:
        missing.append("prediction")
    if missing:
        raise BatchError(
            f"{location}: missing column {', '.join(repr(name) for name in missing)} "
            f"(has {', '.join(map(repr, frame.columns[:8]))}).",
            "Log timestamp and prediction in every batch (timestamp and actual for late actuals).",
        )

    frame = frame.copy()
    frame["timestamp"] = parse_timestamps(frame["timestamp"], location)
    for column in ("prediction", "actual", "score"):
        if column not in frame:
            frame[column] = float("nan")
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            sample = frame[column][bad].iloc[0]
            raise BatchError(
                f"{location}: invalid value {sample!r} in column {column!r}: not a number.",
                "Log numbers (class labels as integers) in prediction, actual and score.",
            )
        frame[column] = values.astype("float64")
    if "request_id" in frame:
        frame["request_id"] = frame["request_id"].astype("string")
    return frame


def parse_timestamps(column: pd.Series, location: str) -> pd.Series:
    """Parse ISO-8601 strings, datetimes, or epoch seconds / milliseconds to UTC."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.to_datetime(column, utc=True)
    elif pd.api.types.is_numeric_dtype(column):
        numbers = column.astype("float64")
        unit = "ms" if numbers.abs().max() >= _EPOCH_MS_FROM else "s"
        parsed = pd.to_datetime(numbers, unit=unit, utc=True)
    else:
        try:
            parsed = pd.to_datetime(column, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise BatchError(
                f"{location}: cannot read timestamp ({exc}).",
                "Write timestamps as ISO-8601 text or epoch seconds / milliseconds.",
            ) from exc
    if parsed.isna().any():
        raise BatchError(
            f"{location}: {int(parsed.isna().sum())} rows have no timestamp.",
            "Give every row a timestamp.",
        )
    return parsed.astype("datetime64[ns, UTC]")


def merge_batches(batches: list[pd.DataFrame]) -> pd.DataFrame:
    """Merge batches in the order given, applying late actuals, sorted by timestamp.

    Prediction rows that share a `request_id` are one prediction: the first non-null
    value of each column wins except `actual`, where the last non-null value wins, so a
    later batch can correct or fill it. Actuals-only rows (no prediction) fill `actual`
    for the prediction rows with their `request_id`, or their timestamp when they have
    no request id.
    """
    import pandas as pd

    if not batches:
        return pd.DataFrame(
            {
                "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                "prediction": [],
                "actual": [],
                "score": [],
            }
        )
    combined = pd.concat(batches, ignore_index=True, sort=False)
    has_ids = "request_id" in combined
    is_update = combined["prediction"].isna()
    updates = combined[is_update & combined["actual"].notna()]
    rows = combined[~is_update]

    if has_ids:
        with_id = rows[rows["request_id"].notna()]
        if with_id["request_id"].duplicated().any():
            grouped = with_id.groupby("request_id", sort=False, dropna=True)
            merged = grouped.first()
            merged["actual"] = grouped["actual"].last()
            with_id = merged.reset_index()[with_id.columns]
        rows = pd.concat([with_id, rows[rows["request_id"].isna()]], ignore_index=True, sort=False)

    if len(updates):
        rows = rows.copy()
        if has_ids:
            by_id = updates[updates["request_id"].notna()].drop_duplicates("request_id", keep="last")
            fill = rows["request_id"].map(by_id.set_index("request_id")["actual"])
            rows["actual"] = fill.where(fill.notna(), rows["actual"])
            updates = updates[updates["request_id"].isna()]
        by_time = updates.drop_duplicates("timestamp", keep="last").set_index("timestamp")["actual"]
        fill = rows["timestamp"].map(by_time)
        rows["actual"] = fill.where(fill.notna(), rows["actual"]).astype("float64")

    return rows.sort_values("timestamp", kind="stable").reset_index(drop=True)


def feature_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """Return the columns that are model inputs: every column that is not a known one."""
    return tuple(column for column in frame.columns if column not in KNOWN_COLUMNS)

"""Read prediction logs and drift windows from CSV, Parquet, JSON and JSON Lines files.

Two entry points:

- `read_table(path)` returns a pandas DataFrame, for metrics and for anything that needs
  rows (timestamps, joins).
- `read_columns(path, columns)` returns one numpy array per column. For Parquet, CSV
  and JSON Lines it builds no DataFrame and imports no pandas, because pyarrow decodes
  the file straight to numpy. The drift command depends on that speed for large files.
- `open_columns(path, columns)` does the same, but for Parquet it decodes each column
  only when it is looked up.

Formats are chosen by extension: `.csv` (also `.csv.gz`), `.parquet`/`.pq`, `.json`
(split orient, `{"columns": [...], "data": [[...]]}` as `mlflow.log_table` and
`DataFrame.to_json(orient="split")` write it, or a list of records) and `.jsonl`/`.ndjson`.
Every failure raises `InputError` naming the file, the problem and the fix.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlmon.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SUPPORTED = ".csv, .csv.gz, .parquet, .pq, .json (split orient or records), .jsonl, .ndjson"


def table_format(path: Path) -> str:
    """Return "csv", "parquet", "json" or "jsonl" for `path`, or raise InputError."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    raise InputError(
        f"Cannot read {path}: unknown file type {path.suffix or '(no extension)'!r}.",
        f"Use one of {SUPPORTED}.",
    )


def read_table(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a whole table (or only `columns`) into a DataFrame.

    Raises InputError for a missing, unreadable, empty or wrong-shaped file, or when a
    requested column is missing.
    """
    import pandas as pd

    path = Path(path)
    kind = _check_file(path)
    arrow = None if kind == "json" else _read_arrow_or_none(path, kind, columns)
    if arrow is None:
        names, rows = _read_python_rows(path, kind)
        frame = pd.DataFrame(rows, columns=names)
    else:
        frame = arrow.to_pandas()
    _check_columns(path, list(frame.columns), columns)
    if columns is not None:
        frame = frame[list(columns)]
    if len(frame) == 0:
        raise InputError(f"{path} has no rows.", "Pass a file that contains at least one data row.")
    return frame


def read_columns(path: Path, columns: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Read columns as numpy arrays: float64 for numbers (nulls become NaN), object otherwise.

    Booleans come back as object arrays of True/False so that drift treats them as
    categories. The dict keeps the file's column order.
    """

    path = Path(path)
    kind = _check_file(path)
    table = None if kind == "json" else _read_arrow_or_none(path, kind, columns)
    if table is None:
        names, rows = _read_python_rows(path, kind)
        _check_columns(path, names, columns)
        wanted = list(columns) if columns is not None else names
        if not rows:
            raise InputError(f"{path} has no rows.", "Pass a file that contains at least one data row.")
        index = {name: i for i, name in enumerate(names)}
        result: dict[str, np.ndarray] = {}
        for name in wanted:
            values = [row[index[name]] for row in rows]
            result[name] = _list_to_numpy(values)
        return result

    _check_columns(path, table.column_names, columns)
    if table.num_rows == 0:
        raise InputError(f"{path} has no rows.", "Pass a file that contains at least one data row.")
    names = list(columns) if columns is not None else table.column_names
    return {name: _column_to_numpy(table.column(name), path, name) for name in names}


def open_columns(path: Path, columns: Sequence[str] | None = None) -> Mapping[str, np.ndarray]:
    """Return the columns of a table file as a mapping of name to numpy array.

    For Parquet the mapping reads each column from disk when it is looked up and keeps
    nothing, so a caller that handles one column at a time (the drift engine) never keeps
    the whole decoded file in memory. Other formats are read at once, as by `read_columns`. Missing
    files, unknown types, absent columns and empty files raise InputError here, not later.
    """
    path = Path(path)
    if _check_file(path) == "parquet":
        return ParquetColumns(path, columns)
    return read_columns(path, columns)


class ParquetColumns(Mapping[str, "np.ndarray"]):
    """Columns of a Parquet file, each decoded on lookup (see `read_columns` for types)."""

    def __init__(self, path: Path, columns: Sequence[str] | None = None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = path
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"Cannot read {path} as PARQUET: {_first_line(exc)}.", _fix_for("parquet")) from exc
        _check_unique(path, parquet.schema_arrow.names, columns)
        _check_columns(path, parquet.schema_arrow.names, columns)
        self.names: list[str] = list(columns) if columns is not None else parquet.schema_arrow.names
        self.num_rows = parquet.metadata.num_rows
        if self.num_rows == 0:
            raise InputError(f"{path} has no rows.", "Pass a file that contains at least one data row.")

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        table = _read_arrow(self.path, "parquet", [name])
        return _column_to_numpy(table.column(name), self.path, name)

    def __contains__(self, name: object) -> bool:
        # Mapping's default implementation would read the whole column to check membership.
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _column_to_numpy(column: Any, path: Path, name: str) -> np.ndarray:
    """Convert column `name` of `path`, a pyarrow ChunkedArray, to one numpy array.

    See `_arrow_to_numpy` for the types; a type it cannot convert raises InputError.
    """
    import numpy as np
    import pyarrow as pa

    try:
        chunks = [_arrow_to_numpy(chunk) for chunk in column.chunks]
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(
            f"{path}: column {name!r} of type {column.type} is neither numbers nor categories ({_first_line(exc)}).",
            "Leave the column out with --column, or store it as numbers or text.",
        ) from exc
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return np.array([], dtype=object)
    return np.concatenate(chunks)


def _arrow_to_numpy(chunk: Any) -> np.ndarray:
    """Convert one Arrow array to float64 (numbers, NaN for null) or object (the rest).

    Works on the Arrow buffers directly: pyarrow's own `to_numpy` imports pandas on first
    use, which costs more than decoding a large Parquet file.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.types as pat

    kind = chunk.type
    size, offset = len(chunk), chunk.offset
    if pat.is_null(kind):  # a column with no value at all, e.g. an empty CSV column
        return np.full(size, np.nan)
    if pat.is_integer(kind) or pat.is_floating(kind) or pat.is_decimal(kind) or pat.is_temporal(kind):
        if pat.is_temporal(kind):
            # Dates and times as their stored integer (days, seconds, ... in the column's
            # unit); not every temporal type casts to int64, but each views as its width.
            chunk = chunk.view(pa.int32() if kind.bit_width == 32 else pa.int64())
        if not pat.is_float64(chunk.type):
            chunk = chunk.cast(pa.float64())
            offset = chunk.offset
        validity, data = chunk.buffers()[:2]
        values = np.frombuffer(data, dtype=np.float64, count=offset + size)[offset:]
        if chunk.null_count:
            values = values.copy()
            values[~_valid_mask(validity, offset, size)] = np.nan
        return values
    if pat.is_boolean(kind):
        data = chunk.buffers()[1]
        values = np.array([False, True], dtype=object)[_valid_mask(data, offset, size).astype(np.intp)]
        if chunk.null_count:
            values[~_valid_mask(chunk.buffers()[0], offset, size)] = None
        return values

    # Text and anything else: decode each distinct value once through a dictionary.
    encoded = chunk if pat.is_dictionary(kind) else chunk.dictionary_encode()
    indices = encoded.indices.cast(pa.int64())
    validity, data = indices.buffers()[:2]
    codes = np.frombuffer(data, dtype=np.int64, count=indices.offset + size)[indices.offset :]
    categories = np.empty(len(encoded.dictionary) + 1, dtype=object)
    categories[:-1] = encoded.dictionary.to_pylist()
    categories[-1] = None  # code −1 marks a null
    return categories[np.where(_valid_mask(validity, indices.offset, size), codes, -1)]


def _valid_mask(bitmap: Any, offset: int, size: int) -> np.ndarray:
    """Unpack an Arrow bitmap (least significant bit first) to bools; None means all valid."""
    import numpy as np

    if bitmap is None:
        return np.ones(size, dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[offset : offset + size].astype(bool)


def _check_file(path: Path) -> str:
    kind = table_format(path)
    if not path.exists():
        raise InputError(f"Cannot read {path}: no such file.", "Check the path and try again.")
    if path.is_dir():
        raise InputError(f"Cannot read {path}: it is a folder, not a file.", "Name one file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes).", "Pass a file that contains at least one data row.")
    if kind in ("csv", "jsonl") and not path.name.lower().endswith(".gz"):
        with path.open("rb") as handle:
            start = handle.read(2)
        # Spreadsheets and PowerShell write "Unicode" text as UTF-16, which starts with a
        # byte-order mark; pyarrow would report a confusing parse error on it.
        if start in (b"\xff\xfe", b"\xfe\xff"):
            raise _not_utf8(path, "at the start (a UTF-16 byte-order mark)")
    return kind


def _check_columns(path: Path, present: Sequence[str], wanted: Sequence[str] | None) -> None:
    if wanted is None:
        return
    missing = [name for name in wanted if name not in present]
    if missing:
        shown = ", ".join(map(str, list(present)[:20]))
        raise InputError(
            f"{path} has no column {', '.join(map(repr, missing))}.",
            f"Its columns are: {shown}.",
        )


def _read_arrow(path: Path, kind: str, columns: Sequence[str] | None) -> Any:
    """Read a CSV, Parquet or JSON Lines file into a pyarrow Table."""
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            # ParquetFile.read, unlike pq.read_table, does not load the dataset layer,
            # which imports pandas.
            parquet = pq.ParquetFile(path)
            _check_unique(path, parquet.schema_arrow.names, columns)
            if columns is not None:
                _check_columns(path, parquet.schema_arrow.names, columns)
            return parquet.read(columns=list(columns) if columns is not None else None)
        if kind == "csv":
            import pyarrow.csv as pacsv

            if columns is not None:
                # Only the header and first block are parsed here, to name a missing column.
                with pacsv.open_csv(path) as reader:
                    _check_unique(path, reader.schema.names, columns)
                    _check_columns(path, reader.schema.names, columns)
            # An empty field is a missing value, as pandas reads it, also in text columns.
            options = pacsv.ConvertOptions(
                include_columns=list(columns) if columns is not None else None,
                strings_can_be_null=True,
            )
            table = pacsv.read_csv(path, convert_options=options)
            _check_text(path, table, kind)
            return table
        import pyarrow.json as pajson

        table = pajson.read_json(path)
        _check_text(path, table, kind)
        return table
    except InputError:
        raise
    except UnicodeDecodeError as exc:  # pyarrow decodes column names only when asked
        raise _not_utf8(path, "in its header", exc) from exc
    except (pa.ArrowInvalid, pa.ArrowKeyError, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(
            f"Cannot read {path} as {kind.upper()}: {_first_line(exc)}.",
            _fix_for(kind),
        ) from exc


def _check_text(path: Path, table: Any, kind: str) -> None:
    """Raise InputError when a CSV or JSON Lines table contains bytes that are not UTF-8.

    pyarrow types a CSV column with invalid UTF-8 as binary, and leaves invalid text in
    JSON Lines string columns for a later decode to fail on.
    """
    import pyarrow as pa
    import pyarrow.types as pat

    names = table.schema.names  # raises UnicodeDecodeError for a header that is not UTF-8
    _check_unique(path, names, None)
    for name, column in zip(names, table.columns, strict=True):
        if kind == "csv" and (pat.is_binary(column.type) or pat.is_large_binary(column.type)):
            raise _not_utf8(path, f"in column {name!r}")
        if kind == "jsonl" and (pat.is_string(column.type) or pat.is_large_string(column.type)):
            try:
                column.validate(full=True)
            except pa.ArrowInvalid as exc:
                raise _not_utf8(path, f"in column {name!r}") from exc


def _not_utf8(path: Path, where: str, exc: UnicodeDecodeError | None = None) -> InputError:
    detail = f" (byte 0x{exc.object[exc.start]:02x})" if exc is not None else ""
    return InputError(
        f"{path} is not UTF-8 text: it has bytes {where} that are not valid UTF-8{detail}.",
        "Re-save it as UTF-8: 'CSV UTF-8' in a spreadsheet, or iconv -f ITS_ENCODING -t UTF-8 on the command line.",
    )


def _check_unique(path: Path, names: Sequence[str], requested: Sequence[str] | None) -> None:
    """Raise InputError when a column name that will be read occurs more than once."""
    if len(set(names)) == len(names):
        return
    counts = Counter(names)
    relevant = [name for name, count in counts.items() if count > 1 and (requested is None or name in requested)]
    if relevant:
        raise InputError(
            f"{path} has more than one column named {', '.join(map(repr, relevant))}.",
            "Rename or remove the duplicate columns so that every column name is unique.",
        )


def _read_arrow_or_none(path: Path, kind: str, columns: Sequence[str] | None) -> Any:
    """Read with pyarrow, or return None for JSON Lines that pyarrow cannot type.

    pyarrow needs one type per JSON Lines column. It rejects a file where, for example,
    `score` is a number in one row and text in the next, so such files are read row by
    row instead.
    """
    try:
        return _read_arrow(path, kind, columns)
    except InputError as exc:
        if kind == "jsonl" and "changed from" in str(exc.__cause__):
            return None
        raise


def _read_python_rows(path: Path, kind: str) -> tuple[list[str], list[list[Any]]]:
    """Return (column names, rows) of a JSON document or a JSON Lines file."""
    if kind == "json":
        return _read_json_document(path)
    records = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, f"on line {number}", exc) from exc
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"Cannot read {path} as JSONL: {exc.msg} at line {number}.", _fix_for("jsonl")
                ) from exc
            if not isinstance(record, dict):
                raise InputError(f"{path}: line {number} is not a JSON object.", _fix_for("jsonl"))
            records.append(record)
    names = list(dict.fromkeys(key for record in records for key in record))
    return names, [[record.get(name) for name in names] for record in records]


def _read_json_document(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Return (column names, rows) from a split-orient JSON document or a list of records."""
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            raise InputError(
                f"{path} contains several JSON documents, one per line (JSON Lines).",
                "Rename it to .jsonl so mlmon reads it as JSON Lines.",
            ) from exc
        raise InputError(f"Cannot read {path} as JSON: {exc.msg} at line {exc.lineno}.", _fix_for("json")) from exc
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, f"at offset {exc.start}", exc) from exc
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {_first_line(exc)}.", _fix_for("json")) from exc

    if isinstance(document, dict) and "columns" in document and "data" in document:
        names, rows = document["columns"], document["data"]
        if not isinstance(names, list) or not isinstance(rows, list):
            raise InputError(f"{path}: 'columns' and 'data' must be lists.", _fix_for("json"))
        for number, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(names):
                raise InputError(
                    f"{path}: row {number} of 'data' does not contain one value for each of the {len(names)} columns.",
                    _fix_for("json"),
                )
        _check_unique(path, [str(name) for name in names], None)
        return [str(name) for name in names], rows
    if isinstance(document, list) and all(isinstance(record, dict) for record in document):
        names = list(dict.fromkeys(key for record in document for key in record))
        return names, [[record.get(name) for name in names] for record in document]
    raise InputError(
        f"{path} is JSON but neither split orient ({{'columns': [...], 'data': [[...]]}}) nor a list of records.",
        _fix_for("json"),
    )


def _list_to_numpy(values: list[Any]) -> np.ndarray:
    """Turn one JSON column into float64 when every non-null value is a number, else object."""
    import numpy as np

    numbers = all(value is None or (isinstance(value, int | float) and not isinstance(value, bool)) for value in values)
    if numbers:
        return np.array([np.nan if value is None else value for value in values], dtype=np.float64)
    return np.array(values, dtype=object)


def _fix_for(kind: str) -> str:
    return {
        "parquet": "Check that the file is a complete Parquet file (pandas: DataFrame.to_parquet).",
        "csv": "Check that the file is comma-separated, with one header row and the same "
        "number of fields in every row.",
        "jsonl": "Write one JSON object per line (pandas: DataFrame.to_json(orient='records', lines=True)).",
        "json": "Write it in split orient (pandas: DataFrame.to_json(orient='split'); mlflow.log_table does this).",
    }[kind]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__

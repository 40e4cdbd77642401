"""The table reader: every format to the same columns, lazy Parquet, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlmon.engine import compare
from mlmon.errors import InputError
from mlmon.tables import open_columns, read_columns, read_table

FRAME = pd.DataFrame(
    {
        "price": [1.5, None, 3.25, 4.0],
        "count": [1, 2, 3, 4],
        "side": ["buy", None, "sell", "buy"],
        "flag": [True, False, True, True],
    }
)


def _write(path):
    if path.suffix == ".csv":
        FRAME.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        FRAME.to_parquet(path, index=False)
    elif path.suffix == ".json":
        FRAME.to_json(path, orient="split", index=False)
    else:
        FRAME.to_json(path, orient="records", lines=True)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".jsonl"])
def test_every_format_gives_the_same_columns(tmp_path, suffix):
    path = _write(tmp_path / f"t{suffix}")
    for columns in (read_columns(path), dict(open_columns(path))):
        np.testing.assert_array_equal(columns["price"], [1.5, np.nan, 3.25, 4.0])
        assert columns["count"].dtype == np.float64
        assert list(columns["side"]) == ["buy", None, "sell", "buy"]
        assert list(columns["flag"]) == [True, False, True, True]
    frame = read_table(path)
    assert list(frame.columns) == ["price", "count", "side", "flag"]
    assert len(frame) == 4


def test_parquet_columns_are_read_on_lookup(tmp_path):
    path = _write(tmp_path / "t.parquet")
    columns = open_columns(path, ["price", "side"])
    assert columns.num_rows == 4
    assert list(columns) == ["price", "side"]
    with pytest.raises(KeyError):
        columns["count"]


def test_multi_chunk_and_sliced_arrow_columns(tmp_path):
    path = tmp_path / "chunks.parquet"
    table = pa.table({"x": pa.array([1.0, None, 3.0, 4.0, 5.0]), "s": ["a", "b", None, "a", "c"]})
    pq.write_table(table, path, row_group_size=2)  # three row groups, three chunks
    columns = read_columns(path)
    np.testing.assert_array_equal(columns["x"], [1.0, np.nan, 3.0, 4.0, 5.0])
    assert list(columns["s"]) == ["a", "b", None, "a", "c"]


def test_lazy_parquet_drift_equals_eager(tmp_path):
    rng = np.random.default_rng(0)
    for name, shift in (("r.parquet", 0.0), ("c.parquet", 0.4)):
        frame = pd.DataFrame({"a": rng.normal(shift, 1, 500), "b": rng.choice(["x", "y"], 500)})
        frame.to_parquet(tmp_path / name)
    lazy = compare(open_columns(tmp_path / "r.parquet"), open_columns(tmp_path / "c.parquet"))
    eager = compare(read_columns(tmp_path / "r.parquet"), read_columns(tmp_path / "c.parquet"))
    assert lazy.to_dict() == eager.to_dict()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("a.txt", "x", ["unknown file type", ".parquet"]),
        ("b.csv", "", ["empty"]),
        ("c.csv", "price\n", ["no rows"]),
        ("d.parquet", "PAR1 broken", ["Cannot read", "Parquet"]),
        ("e.json", json.dumps({"a": 1}), ["split orient"]),
        ("f.json", '{"a": 1}\n{"a": 2}\n', ["JSON Lines", ".jsonl"]),
        ("g.json", json.dumps({"columns": ["a", "b"], "data": [[1]]}), ["row 0"]),
        ("h.jsonl", "{not json", ["Cannot read", "JSONL"]),
    ],
)
def test_bad_files_raise_input_error(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    for reader in (read_table, read_columns, open_columns):
        with pytest.raises(InputError) as caught:
            reader(path)
        message = str(caught.value)
        assert name in message
        for word in words:
            assert word in message


def test_missing_file_and_missing_column(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_columns(tmp_path / "nope.parquet")
    path = _write(tmp_path / "t.parquet")
    with pytest.raises(InputError, match="no column 'volume'"):
        open_columns(path, ["price", "volume"])
    with pytest.raises(InputError, match="no column 'volume'"):
        read_table(_write(tmp_path / "t.csv"), ["volume"])


def test_empty_date_and_time_columns(tmp_path):
    path = tmp_path / "edge.csv"
    path.write_text("blank,day,stamp\n,2024-01-01,2024-01-01T00:00:00\n,2024-01-03,2024-01-01T00:01:00\n")
    columns = read_columns(path)
    assert np.isnan(columns["blank"]).all()
    # Dates as days since the epoch and timestamps as seconds, the columns' own units.
    np.testing.assert_array_equal(columns["day"], [19723.0, 19725.0])
    np.testing.assert_array_equal(columns["stamp"], [1704067200.0, 1704067260.0])


def test_nested_column_rejected(tmp_path):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"tags": pa.array([[1, 2], [3]] * 20), "x": np.arange(40.0)}), path)
    with pytest.raises(InputError, match="column 'tags' of type list"):
        read_columns(path)
    report = compare(open_columns(path), open_columns(path))
    statuses = {column.column: column.status for column in report.columns}
    assert statuses == {"tags": "error", "x": "ok"}


def test_membership_does_not_read_a_parquet_column(tmp_path):
    path = _write(tmp_path / "t.parquet")
    columns = open_columns(path)
    path.unlink()  # any read from now on would fail
    assert "price" in columns
    assert "volume" not in columns


def test_jsonl_mixed_types_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"score": "high", "x": 1}\n\n{"score": 0.2, "x": 2}\n')
    columns = read_columns(path)
    assert list(columns["score"]) == ["high", 0.2]
    np.testing.assert_array_equal(columns["x"], [1.0, 2.0])
    assert list(read_table(path)["score"]) == ["high", 0.2]


NOT_UTF8 = [
    ("value.csv", b"price,side\n1,buy\n2,\xe9t\xe9\n"),
    ("header.csv", b"pri\xe9ce,side\n1,buy\n"),
    ("utf16.csv", "price,side\n1,buy\n".encode("utf-16")),
    ("value.jsonl", b'{"price": 1, "side": "buy"}\n{"price": 2, "side": "\xe9t\xe9"}\n'),
    ("mixed.jsonl", b'{"side": 1}\n{"side": "\xe9t\xe9"}\n'),
    ("value.json", b'{"columns": ["side"], "data": [["\xe9t\xe9"]]}'),
]


@pytest.mark.parametrize(("name", "content"), NOT_UTF8)
def test_non_utf8_text_named(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    for reader in (read_table, read_columns, open_columns):
        with pytest.raises(InputError) as caught:
            reader(path)
        assert f"{path} is not UTF-8 text" in caught.value.title
        assert "Re-save it as UTF-8" in caught.value.fix


def test_latin1_header_is_caught_when_columns_are_named(tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(b"pri\xe9ce,side\n1,buy\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_columns(path, ["side"])


def _duplicate_files(tmp_path):
    csv = tmp_path / "dup.csv"
    csv.write_text("x,x,y\n1,2,3\n4,5,6\n")
    parquet = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0]), pa.array([3.0])], names=["x", "x", "y"]), parquet)
    split = tmp_path / "dup.json"
    split.write_text(json.dumps({"columns": ["x", "x", "y"], "data": [[1, 2, 3]]}))
    return [csv, parquet, split]


def test_duplicate_column_names_are_named(tmp_path):
    for path in _duplicate_files(tmp_path):
        for reader in (read_table, read_columns, open_columns):
            with pytest.raises(InputError) as caught:
                reader(path)
            assert caught.value.title == f"{path} has more than one column named 'x'."
            assert "unique" in caught.value.fix
        with pytest.raises(InputError, match="more than one column named 'x'"):
            read_columns(path, ["x"])


def test_duplicates_outside_the_requested_columns_are_fine(tmp_path):
    for path in _duplicate_files(tmp_path):
        if path.suffix == ".json":
            continue  # a split document is read whole
        assert read_columns(path, ["y"])["y"][0] == 3.0

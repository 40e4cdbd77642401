"""Importance files in every understood shape, with hand-computed expectations."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from scipy import stats

from mlmon.engine.importance import (
    ImportanceFormatError,
    feature_relation,
    is_importance_file,
    order_kinds,
    parse_importance,
)


def test_lightgbm_flat_object() -> None:
    [gain] = parse_importance("feature_importance_gain.json", json.dumps({"a": 2.5, "b": 10.0, "c": 0}))
    assert gain.kind == "gain"
    assert gain.ranked() == [("b", 10.0), ("a", 2.5), ("c", 0.0)]
    assert gain.rank_of("a") == 2
    assert gain.share_of("b") == pytest.approx(10 / 12.5)
    assert not gain.reduced


def test_xgboost_list_values_are_summed_as_absolute_values() -> None:
    # gblinear multi-class: one coefficient per class.
    text = json.dumps({"f0": [0.5, -1.5, 0.25], "f1": [-0.1, 0.1, 0.0], "f2": 3})
    [weight] = parse_importance("feature_importance_weight.json", text)
    assert weight.kind == "weight"
    assert weight.values == {"f0": 2.25, "f1": pytest.approx(0.2), "f2": 3.0}
    assert weight.reduced
    assert [name for name, _ in weight.ranked()] == ["f2", "f0", "f1"]


def test_generic_json_columns_and_records() -> None:
    [columns] = parse_importance("feature_importance.json", json.dumps({"feature": ["x", "y"], "importance": [1, 3]}))
    assert columns.kind == "importance"
    assert columns.values == {"x": 1.0, "y": 3.0}
    records = json.dumps([{"feature": "x", "importance": 4}, {"feature": "y", "importance": 2}])
    [parsed] = parse_importance("feature_importance.json", records)
    assert parsed.values == {"x": 4.0, "y": 2.0}


def test_generic_csv_with_several_types() -> None:
    text = "feature,gain,split\nx,10.5,3\ny,2.0,7\nz,,1\n"
    gain, split = parse_importance("feature_importance.csv", text)
    assert (gain.kind, split.kind) == ("gain", "split")
    assert gain.values["x"] == 10.5
    assert math.isnan(gain.values["z"])
    assert gain.ranked()[-1][0] == "z", "a missing value ranks last"
    assert split.ranked()[0] == ("y", 7.0)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("feature_importance_gain.json", '{"a": ', "not valid JSON"),
        ("feature_importance_gain.json", "42", "expected an object"),
        ("feature_importance.json", "{}", "lists no features"),
        ("feature_importance.csv", "feature\nx\n", "no importance column"),
        ("feature_importance.csv", "feature,gain\nx,abc\n", "no numeric importance"),
    ],
)
def test_bad_files_raise_a_named_problem(name: str, text: str, problem: str) -> None:
    with pytest.raises(ImportanceFormatError, match=problem) as caught:
        parse_importance(name, text)
    assert name in str(caught.value)


def test_file_names_and_type_order() -> None:
    assert is_importance_file("feature_importance_split.json")
    assert is_importance_file("feature_importance.csv")
    assert not is_importance_file("feature_importance_gain.csv")
    assert not is_importance_file("model/feature_importance_gain.json")
    kinds = [parse_importance(f"feature_importance_{kind}.json", '{"a": 1}')[0] for kind in ("cover", "split", "gain")]
    assert [item.kind for item in order_kinds(kinds)] == ["gain", "split", "cover"]


def test_feature_relation_matches_scipy() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, None],
            "prediction": [1.1, 1.9, 3.5, 3.0, 6.0, 1.0],
            "actual": [1.0, 2.0, 3.0, 4.0, 5.5, None],
        }
    )
    relation = feature_relation(frame, "x")
    known = frame.dropna()
    assert relation.rows == 5
    assert relation.with_actual == pytest.approx(stats.pearsonr(known["x"], known["actual"]).statistic)
    abs_error = (known["prediction"] - known["actual"]).abs()
    assert relation.with_abs_error == pytest.approx(stats.pearsonr(known["x"], abs_error).statistic)
    constant = feature_relation(frame.assign(x=1.0), "x")
    assert constant.with_actual is None
    assert constant.with_abs_error is None

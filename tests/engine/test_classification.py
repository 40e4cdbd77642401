"""Classification metrics against scikit-learn, including undefined ratios."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlmon.engine import classification_metrics, confusion_matrix


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [10, 300, 20_000])
def test_binary_matches_sklearn(seed, size):
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, size)
    actual[:2] = [0, 1]  # both classes present
    score = np.clip(actual * 0.3 + rng.uniform(0, 0.7, size), 0, 1)
    # Rounded scores create ties, which the AUC must count as one half.
    score = np.round(score, 1) if seed == 1 else score
    prediction = (score > 0.5).astype(int)
    values = classification_metrics(prediction, actual, score=score).values
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(actual, prediction))
    for name, function in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ]:
        expected = function(actual, prediction, zero_division=np.nan)
        if np.isnan(expected):
            assert values[name] is None
        else:
            assert values[name] == pytest.approx(expected, rel=1e-12)
    assert values["roc_auc"] == pytest.approx(skm.roc_auc_score(actual, score), rel=1e-12)
    assert values["log_loss"] == pytest.approx(skm.log_loss(actual, score), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("size", [25, 5000])
def test_multiclass_macro_matches_sklearn(seed, size):
    rng = np.random.default_rng(seed)
    actual = rng.choice(["down", "flat", "up"], size)
    prediction = np.where(
        rng.uniform(size=size) < 0.6, actual, rng.choice(["down", "up", "x"], size)
    )
    result = classification_metrics(prediction, actual)
    values = result.values
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(actual, prediction))
    for name, function in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ]:
        expected = function(actual, prediction, average="macro", zero_division=np.nan)
        assert values[name] == pytest.approx(expected, rel=1e-12)
    assert values["roc_auc"] is None
    assert "score" in result.undefined["log_loss"]


def test_no_positive_prediction_makes_precision_undefined_not_zero():
    result = classification_metrics([0, 0, 0, 0], [0, 1, 0, 1])
    assert result.values["precision"] is None
    assert result.undefined["precision"] == "no row was predicted positive"
    assert result.values["recall"] == 0.0
    assert result.values["f1"] == 0.0


def test_no_positive_anywhere_makes_recall_and_f1_undefined():
    result = classification_metrics([0, 0], [0, 0])
    assert result.values["accuracy"] == 1.0
    assert result.values["recall"] is None
    assert result.values["f1"] is None


def test_probability_metrics_need_score_and_both_classes():
    assert classification_metrics([1, 0], [1, 0]).undefined["roc_auc"] == "no score column"
    single = classification_metrics([1, 1], [1, 1], score=[0.9, 0.8])
    assert single.undefined["roc_auc"] == "only one class among the actuals"
    assert single.values["log_loss"] is None


def test_positive_label_option_and_text_labels():
    values = classification_metrics(
        ["up", "down", "up"], ["up", "up", "down"], positive_label="up"
    ).values
    assert values["precision"] == pytest.approx(0.5)
    assert values["recall"] == pytest.approx(0.5)
    missing = classification_metrics(["up", "down"], ["up", "down"])
    assert missing.values["precision"] is None
    assert "positive label 1" in missing.undefined["precision"]


def test_float_and_bool_labels_compare_as_numbers():
    values = classification_metrics([1.0, 0.0, True], [1, 0, 1]).values
    assert values["accuracy"] == 1.0


def test_rows_missing_a_label_are_dropped():
    result = classification_metrics([1, None, 0, 1], [1, 0, None, 0])
    assert result.rows == 4
    assert result.rows_used == 2
    assert result.values["accuracy"] == 0.5


def test_confusion_matrix_matches_sklearn():
    rng = np.random.default_rng(5)
    actual = rng.integers(0, 4, 500)
    prediction = rng.integers(0, 5, 500)
    labels, matrix = confusion_matrix(prediction, actual)
    assert labels == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(matrix, skm.confusion_matrix(actual, prediction, labels=labels))


def test_numeric_vs_text_labels_undefined():
    result = classification_metrics([0, 1, 1, 0], ["yes", "no", "yes", "no"])
    assert all(value is None for value in result.values.values())
    reason = result.undefined["accuracy"]
    assert "['0', '1']" in reason
    assert "['no', 'yes']" in reason
    assert "no label in common" in reason


def test_disjoint_labels_keep_accuracy():
    prediction, actual = [0, 0, 0], [1, 1, 1]
    result = classification_metrics(prediction, actual)
    assert result.values["accuracy"] == skm.accuracy_score(actual, prediction)
    assert "no label in common" in result.notes["accuracy"]


def test_unknown_positive_label_names_the_setting_and_labels():
    result = classification_metrics([0, 1, 1], [1, 1, 0], positive_label=7, positive_label_name="--positive-label")
    reason = result.undefined["precision"]
    assert "--positive-label" in reason
    assert "[0, 1]" in reason
    assert "7" in reason
    assert result.values["accuracy"] == pytest.approx(skm.accuracy_score([1, 1, 0], [0, 1, 1]))

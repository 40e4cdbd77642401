"""Classification metrics: accuracy precision recall f1 roc_auc log_loss.

Binary problems score the positive label (1 unless configured). With more than two
labels, `precision`, `recall` and `f1` are macro averages over the labels seen in either
column. A ratio whose denominator is zero is undefined (None with a reason), never 0;
in a macro average such classes are left out, as scikit-learn does with
`zero_division=np.nan`. `roc_auc` and `log_loss` need the `score` column (probability
of the positive label) and both classes among the actuals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlmon.engine.metricset import MetricBuilder, MetricSet, as_float_array

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")


def normalise_labels(prediction: Any, actual: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (prediction, actual, keep) with comparable label arrays and a mask of usable rows.

    Numbers (and booleans) compare as float64, so 1, 1.0 and True are the same label;
    anything else compares as text.
    """
    import pandas as pd

    predicted = pd.Series(np.asarray(prediction, dtype=object).ravel())
    observed = pd.Series(np.asarray(actual, dtype=object).ravel())
    keep = (predicted.notna() & observed.notna()).to_numpy()
    as_numbers = [pd.to_numeric(series[keep], errors="coerce") for series in (predicted, observed)]
    if all(numbers.notna().all() for numbers in as_numbers):
        converted = [np.full(len(keep), np.nan) for _ in range(2)]
        for target, numbers in zip(converted, as_numbers, strict=True):
            target[keep] = numbers.to_numpy(dtype=np.float64)
        return converted[0], converted[1], keep
    return predicted.astype(str).to_numpy(), observed.astype(str).to_numpy(), keep


def confusion_matrix(prediction: Any, actual: Any) -> tuple[list[Any], np.ndarray]:
    """Return (labels, counts) where counts[i, j] is rows with actual label i predicted as j."""
    predicted, observed, keep = normalise_labels(prediction, actual)
    predicted, observed = predicted[keep], observed[keep]
    labels = np.unique(np.concatenate([observed, predicted]))
    size = len(labels)
    rows = np.searchsorted(labels, observed)
    cols = np.searchsorted(labels, predicted)
    counts = np.bincount(rows * size + cols, minlength=size * size).reshape(size, size)
    return [_plain(label) for label in labels], counts


def classification_metrics(
    prediction: Any,
    actual: Any,
    score: Any = None,
    positive_label: Any = 1,
    positive_label_name: str = "positive_label",
) -> MetricSet:
    """Compute every classification metric, dropping rows that miss a prediction or actual.

    `positive_label_name` is the setting through which users choose the positive label,
    such as a CLI flag. The reason given when that label matches no row names it.
    """
    predicted, observed, keep = normalise_labels(prediction, actual)
    scores = as_float_array(score)[keep] if score is not None else None
    predicted, observed = predicted[keep], observed[keep]
    out = MetricBuilder(CLASSIFICATION_METRICS)
    rows, used = len(keep), int(keep.sum())
    if used == 0:
        out.undefine_all("no row with both a prediction and an actual")
        return out.build("classification", rows, used)

    predicted_labels, observed_labels = np.unique(predicted), np.unique(observed)
    if not np.isin(predicted_labels, observed_labels).any():
        mismatch = (
            f"the prediction labels {_label_list(predicted_labels)} and the actual labels "
            f"{_label_list(observed_labels)} have no label in common"
        )
        if _all_numeric(predicted_labels) != _all_numeric(observed_labels):
            # Numbers against text (0/1 against yes/no) is an encoding mismatch, not a
            # model that is always wrong: no metric means anything.
            out.undefine_all(mismatch + "; write both columns with the same labels")
            return out.build("classification", rows, used)
        out.notes["accuracy"] = mismatch + ", so no prediction can be right"

    out.set("accuracy", float(np.mean(predicted == observed)))
    labels = np.unique(np.concatenate([observed, predicted]))
    if len(labels) > 2:
        _multiclass(out, predicted, observed, labels)
        return out.build("classification", rows, used)

    positive = _coerce_label(positive_label, observed)
    if len(labels) == 2 and positive not in labels:
        reason = (
            f"positive label {_plain(positive_label)!r} is not among the labels "
            f"{_label_list(labels)}; set {positive_label_name} to one of them"
        )
        for name in ("precision", "recall", "f1", "roc_auc", "log_loss"):
            out.set(name, None, reason)
        return out.build("classification", rows, used)

    is_positive = observed == positive
    said_positive = predicted == positive
    tp = int(np.count_nonzero(is_positive & said_positive))
    fp = int(np.count_nonzero(~is_positive & said_positive))
    fn = int(np.count_nonzero(is_positive & ~said_positive))
    out.set("precision", *_ratio(tp, tp + fp, "no row was predicted positive"))
    out.set("recall", *_ratio(tp, tp + fn, "no actual is positive"))
    out.set("f1", *_ratio(2 * tp, 2 * tp + fp + fn, "no positive prediction or actual"))
    _probability_metrics(out, is_positive, scores)
    return out.build("classification", rows, used)


def _multiclass(
    out: MetricBuilder, predicted: np.ndarray, observed: np.ndarray, labels: np.ndarray
) -> None:
    precisions, recalls, f1s = [], [], []
    for label in labels:
        is_label, said_label = observed == label, predicted == label
        tp = np.count_nonzero(is_label & said_label)
        fp = np.count_nonzero(~is_label & said_label)
        fn = np.count_nonzero(is_label & ~said_label)
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
        if 2 * tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    # Every label occurs in one column or the other, so each list has at least one entry
    # unless a label was only ever predicted (precision) or only ever actual (recall).
    out.set(
        "precision", float(np.mean(precisions)) if precisions else None, "no label was predicted"
    )
    out.set("recall", float(np.mean(recalls)) if recalls else None, "no label among the actuals")
    out.set("f1", float(np.mean(f1s)) if f1s else None, "no label predicted or actual")
    reason = f"{len(labels)} labels need one score per label; the log has a single score column"
    out.set("roc_auc", None, reason)
    out.set("log_loss", None, reason)


def _probability_metrics(
    out: MetricBuilder, is_positive: np.ndarray, scores: np.ndarray | None
) -> None:
    if scores is None:
        out.set("roc_auc", None, "no score column")
        out.set("log_loss", None, "no score column")
        return
    finite = np.isfinite(scores)
    y, p = is_positive[finite], scores[finite]
    if len(y) == 0:
        out.set("roc_auc", None, "no finite score")
        out.set("log_loss", None, "no finite score")
        return
    if finite.sum() < len(finite):
        out.notes["score"] = (
            f"{int(len(finite) - finite.sum())} row(s) without a finite score left out"
        )
    positives = int(np.count_nonzero(y))
    if positives == 0 or positives == len(y):
        reason = "only one class among the actuals"
        out.set("roc_auc", None, reason)
        out.set("log_loss", None, reason)
        return
    out.set("roc_auc", roc_auc(y, p))
    if p.min() < 0 or p.max() > 1:
        out.set("log_loss", None, "scores are not probabilities in [0, 1]")
    else:
        out.set("log_loss", log_loss(y, p))


def roc_auc(is_positive: np.ndarray, score: np.ndarray) -> float:
    """Return the area under the ROC curve as the Mann–Whitney statistic (ties count 1/2)."""
    ranks = average_ranks(score)
    positives = int(np.count_nonzero(is_positive))
    negatives = len(score) - positives
    rank_sum = float(ranks[is_positive].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def log_loss(is_positive: np.ndarray, probability: np.ndarray) -> float:
    """Return the mean binary cross-entropy in nats, probabilities clipped to [eps, 1 − eps]."""
    eps = np.finfo(np.float64).eps
    p = np.clip(probability, eps, 1 - eps)
    return float(-np.mean(np.where(is_positive, np.log(p), np.log1p(-p))))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, tied values sharing the mean of their ranks (scipy's rankdata 'average')."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    # A tie group occupying positions start..end-1 (0-based) has mean rank (start + end + 1) / 2.
    group_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def _ratio(numerator: int, denominator: int, reason: str) -> tuple[float | None, str]:
    return (numerator / denominator, "") if denominator else (None, reason)


def _coerce_label(label: Any, like: np.ndarray) -> Any:
    if like.dtype.kind == "f":
        try:
            return float(label)
        except (TypeError, ValueError):
            return label
    return str(label)


def _label_list(labels: np.ndarray, limit: int = 10) -> str:
    """Labels as a short list for a message, e.g. "[0, 1]" or "['no', 'yes']"."""
    plain = [_plain(label) for label in labels[:limit]]
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"{plain}{more}"


def _all_numeric(labels: np.ndarray) -> bool:
    """True when every label is a number (or text that reads as one, e.g. "0")."""
    if labels.dtype.kind == "f":
        return True
    for label in labels:
        try:
            float(label)
        except (TypeError, ValueError):
            return False
    return True


def _plain(label: Any) -> Any:
    """Convert a label to a plain Python value for JSON, so 1.0 becomes 1."""
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return int(label)
    return label.item() if isinstance(label, np.generic) else label

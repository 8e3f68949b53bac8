"""Per-subject classification metrics and their across-subject summary.

Cross-user results are reported per test subject (each subject is one calibration-free user),
then summarised by mean, spread and the worst users, because a benchmark that only reports
the pooled accuracy hides the users for whom the model fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from emgcore.data.labels import REST
from emgcore.report.tables import require_columns

METRICS = ("acc", "act_acc", "bal_acc", "f1")
PER_SUBJECT_COLUMNS = ("subject", "n_windows") + METRICS
STATISTICS = ("mean", "std", "min", "median", "worst10")
WORST_FRACTION = 0.10


def _as_label_array(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer codes, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def subject_scores(y_true, y_pred) -> dict[str, float]:
    """Accuracy, active accuracy, balanced accuracy and macro F1 for one subject's windows.

    Balanced accuracy averages recall over classes present in y_true; macro F1 averages over
    classes present in y_true or y_pred (scikit-learn's defaults). Active accuracy ignores
    rest windows and is NaN when the subject has none.
    """
    y_true = _as_label_array(y_true, "y_true")
    y_pred = _as_label_array(y_pred, "y_pred")
    if y_true.size != y_pred.size:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.size}, {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("cannot score a subject with no windows")
    labels = np.union1d(y_true, y_pred)
    k = labels.size
    true_idx = np.searchsorted(labels, y_true)
    pred_idx = np.searchsorted(labels, y_pred)
    confusion = np.bincount(true_idx * k + pred_idx, minlength=k * k).reshape(k, k)
    hits = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    present = support > 0
    active = y_true != REST
    return {
        "acc": hits.sum() / y_true.size,
        "act_acc": float(np.mean(y_pred[active] == y_true[active])) if active.any() else float("nan"),
        "bal_acc": float(np.mean(hits[present] / support[present])),
        "f1": float(np.mean(2 * hits / (support + predicted))),  # every label has support+predicted > 0
    }


def per_subject_metrics(y_true, y_pred, subjects) -> pd.DataFrame:
    """One row per subject (sorted by id): subject, n_windows, acc, act_acc, bal_acc, f1 in [0, 1]."""
    y_true = _as_label_array(y_true, "y_true")
    y_pred = _as_label_array(y_pred, "y_pred")
    subjects = _as_label_array(subjects, "subjects")
    if not (y_true.size == y_pred.size == subjects.size):
        raise ValueError(f"y_true, y_pred and subjects differ in length: {y_true.size}, {y_pred.size}, {subjects.size}")
    if y_true.size == 0:
        raise ValueError("no windows to score")
    order = np.argsort(subjects, kind="stable")
    ids, starts, counts = np.unique(subjects[order], return_index=True, return_counts=True)
    rows = []
    for sid, start, count in zip(ids, starts, counts):
        idx = order[start : start + count]
        rows.append({"subject": int(sid), "n_windows": int(count), **subject_scores(y_true[idx], y_pred[idx])})
    return pd.DataFrame(rows, columns=list(PER_SUBJECT_COLUMNS))


def _worst_fraction_mean(values: np.ndarray) -> float:
    """Mean of the lowest WORST_FRACTION of values (floor, but at least one value)."""
    k = max(1, int(np.floor(WORST_FRACTION * values.size)))
    return float(np.mean(np.sort(values)[:k]))


def describe(values: np.ndarray) -> dict[str, float]:
    """mean, std (ddof=1; 0 for one value), min, median and worst-decile mean of the non-NaN `values`."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]  # act_acc is NaN for subjects without active windows
    if values.size == 0:
        return {stat: float("nan") for stat in STATISTICS}
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if values.size > 1 else 0.0,
        "min": float(np.min(values)),
        "median": float(np.median(values)),
        "worst10": _worst_fraction_mean(values),
    }


def summarise(per_subject: pd.DataFrame) -> pd.DataFrame:
    """One-row summary across subjects: n_subjects, n_windows and {metric}_{mean,std,min,median,worst10}.

    std uses ddof=1 (0 for a single subject); worst10 is the mean of the lowest 10% of subjects
    (at least one); subjects with NaN for a metric (act_acc without active windows) are skipped.
    """
    if not isinstance(per_subject, pd.DataFrame):
        raise TypeError(f"summarise expects a DataFrame, got {type(per_subject).__name__}")
    require_columns(per_subject, PER_SUBJECT_COLUMNS, "per-subject table")
    if per_subject["subject"].duplicated().any():
        raise ValueError("per-subject table lists a subject more than once")
    row: dict[str, float] = {
        "n_subjects": int(len(per_subject)),
        "n_windows": int(per_subject["n_windows"].sum()),
    }
    for metric in METRICS:
        stats = describe(per_subject[metric].to_numpy(dtype=float))
        row.update({f"{metric}_{stat}": value for stat, value in stats.items()})
    return pd.DataFrame([row])

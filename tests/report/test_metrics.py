"""Per-subject metrics agree with scikit-learn; the summary statistics are right."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from emgcore.report.metrics import per_subject_metrics, summarise


def random_predictions(seed=0, n_subjects=12):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 80, n_subjects)
    subjects = np.repeat(rng.permutation(np.arange(100, 100 + n_subjects)), sizes)
    n = subjects.size
    # each subject sees a random subset of classes so some classes are absent or only predicted
    y_true = rng.integers(0, 5, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, 5, n))
    shuffle = rng.permutation(n)
    return y_true[shuffle], y_pred[shuffle], subjects[shuffle]


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_per_subject_metrics_match_sklearn():
    y_true, y_pred, subjects = random_predictions()
    # one subject whose true labels miss several classes that are still predicted
    extra = np.full(20, 999)
    y_true = np.concatenate([y_true, np.r_[np.zeros(10, int), np.full(10, 2)]])
    y_pred = np.concatenate([y_pred, np.r_[np.zeros(5, int), np.full(5, 4), np.full(5, 2), np.full(5, 1)]])
    subjects = np.concatenate([subjects, extra])
    table = per_subject_metrics(y_true, y_pred, subjects)
    assert list(table.columns) == ["subject", "n_windows", "acc", "act_acc", "bal_acc", "f1"]
    assert list(table["subject"]) == sorted(np.unique(subjects))
    for row in table.itertuples():
        mask = subjects == row.subject
        t, p = y_true[mask], y_pred[mask]
        assert row.n_windows == mask.sum()
        assert row.acc == pytest.approx(accuracy_score(t, p))
        assert row.bal_acc == pytest.approx(balanced_accuracy_score(t, p))
        assert row.f1 == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
        active = t != 0
        assert row.act_acc == pytest.approx(accuracy_score(t[active], p[active]))
    values = table[["acc", "act_acc", "bal_acc", "f1"]].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()


def test_active_accuracy_is_nan_without_active_windows():
    table = per_subject_metrics([0, 0, 1], [0, 1, 1], [5, 5, 6])
    assert np.isnan(table.loc[table.subject == 5, "act_acc"]).all()
    assert table.loc[table.subject == 6, "act_acc"].item() == 1.0


def test_summary_statistics():
    table = pd.DataFrame(
        {
            "subject": np.arange(20),
            "n_windows": np.full(20, 10),
            "acc": np.linspace(0.05, 1.0, 20),
            "act_acc": np.r_[np.nan, np.linspace(0.1, 0.9, 19)],
            "bal_acc": np.linspace(0.05, 1.0, 20)[::-1],
            "f1": np.full(20, 0.5),
        }
    )
    summary = summarise(table)
    assert len(summary) == 1
    s = summary.iloc[0]
    assert s["n_subjects"] == 20 and s["n_windows"] == 200
    assert s["acc_mean"] == pytest.approx(table["acc"].mean())
    assert s["acc_std"] == pytest.approx(table["acc"].std(ddof=1))
    assert s["acc_min"] == pytest.approx(0.05)
    assert s["acc_median"] == pytest.approx(table["acc"].median())
    assert s["acc_worst10"] == pytest.approx(np.mean([0.05, 0.10]))  # lowest 2 of 20
    assert s["bal_acc_worst10"] == pytest.approx(np.mean([0.05, 0.10]))
    assert s["act_acc_mean"] == pytest.approx(np.nanmean(table["act_acc"]))  # NaN subject skipped
    assert s["f1_std"] == pytest.approx(0.0)
    for metric in ("acc", "act_acc", "bal_acc", "f1"):
        for stat in ("mean", "std", "min", "median", "worst10"):
            assert f"{metric}_{stat}" in summary.columns


def test_summary_of_few_subjects():
    s = summarise(per_subject_metrics([1, 2, 1], [1, 2, 2], [3, 3, 3])).iloc[0]
    assert s["n_subjects"] == 1 and s["acc_std"] == 0.0
    assert s["acc_worst10"] == pytest.approx(2 / 3)  # at least one subject
    s5 = summarise(per_subject_metrics(np.r_[0, 0, 0, 0, 1], np.r_[0, 1, 1, 1, 1], np.arange(5))).iloc[0]
    assert s5["acc_worst10"] == 0.0  # lowest single subject of five


def test_bad_input_raises():
    with pytest.raises(ValueError, match="differ in length"):
        per_subject_metrics([0, 1], [0], [0, 0])
    with pytest.raises(ValueError, match="no windows"):
        per_subject_metrics([], [], [])
    with pytest.raises(ValueError, match="integer"):
        per_subject_metrics([0.5], [0], [0])
    with pytest.raises(ValueError, match="one-dimensional"):
        per_subject_metrics([[0]], [[0]], [[0]])
    with pytest.raises(ValueError, match="lacks columns"):
        summarise(pd.DataFrame({"subject": [1], "acc": [0.5]}))


def test_subject_scores_of_pooled_windows():
    from emgcore.report.metrics import subject_scores

    scores = subject_scores([0, 1, 2, 2], [0, 1, 2, 1])
    assert scores["acc"] == 0.75 and scores["act_acc"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="differ in length"):
        subject_scores([0, 1], [0])

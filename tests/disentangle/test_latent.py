"""Latent-code classifiers, the gesture / subject-identification protocols and measure comparisons."""

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.disentangle.latent import (
    CLASSIFIERS,
    TABLE_COLUMNS,
    evaluate_latents,
    fit_predict,
    identification_folds,
    load_latents,
    results_rows,
    summarise_latents,
)
from emgcore.disentangle.stats import (
    RESULT_COLUMNS,
    TWO_MEASURES_NOTE,
    compare_measures,
)
from emgcore.disentangle.train import LATENT_KEYS
from emgcore.report.aggregate import KEY_COLUMNS, REQUIRED_METRICS, aggregate_summaries
from emgcore.report.stats import holm
from tests.helpers.settings import classifier_params

torch.set_num_threads(1)

N_GESTURES, TRAIN_SUBJECTS, TEST_SUBJECTS, PER_CELL = 4, 6, 4, 10
PARAMS = classifier_params()  # config.yaml's
FAST = classifier_params(**{name: {"epochs": 5} for name in ("ann", "cnn", "lstm")}, rf={"n_estimators": 20})
KNN = PARAMS["knn"]


def _split(subjects, rng):
    """p = gesture one-hot + noise (no subject information), s = subject one-hot + noise (no gesture)."""
    gesture = np.repeat(np.tile(np.arange(N_GESTURES), len(subjects)), PER_CELL)
    subject = np.repeat(np.repeat(subjects, N_GESTURES), PER_CELL)
    p = 3.0 * np.eye(8)[gesture] + rng.normal(0.0, 0.5, (gesture.size, 8))
    s = 3.0 * np.eye(12)[subject] + rng.normal(0.0, 0.5, (gesture.size, 12))
    return p, s, gesture, subject


@pytest.fixture(scope="module")
def latents():
    rng = np.random.default_rng(0)
    train = _split(np.arange(TRAIN_SUBJECTS), rng)
    test = _split(np.arange(TRAIN_SUBJECTS, TRAIN_SUBJECTS + TEST_SUBJECTS), rng)
    return dict(zip(LATENT_KEYS, train + test))


@pytest.fixture(scope="module")
def table(latents):
    return evaluate_latents(latents, ("knn", "ann"), PARAMS, seed=0)


def _mean_acc(table, classifier, code, task):
    rows = table[(table.classifier == classifier) & (table.code == code) & (table.task == task)]
    assert len(rows) == TEST_SUBJECTS
    return rows["acc"].mean(), rows["chance"].iloc[0]


@pytest.mark.parametrize("classifier", ["knn", "ann"])
def test_pattern_codes_carry_gesture_and_subject_codes_carry_identity(table, classifier):
    gesture_from_p, chance_g = _mean_acc(table, classifier, "p", "gesture")
    gesture_from_s, _ = _mean_acc(table, classifier, "s", "gesture")
    subject_from_s, chance_s = _mean_acc(table, classifier, "s", "subject")
    subject_from_p, _ = _mean_acc(table, classifier, "p", "subject")
    assert chance_g == pytest.approx(1 / N_GESTURES) and chance_s == pytest.approx(1 / TEST_SUBJECTS)
    assert gesture_from_p > 0.9 and subject_from_s > 0.9
    assert gesture_from_s < chance_g + 0.15 and subject_from_p < chance_s + 0.15


def test_every_classifier_runs_end_to_end_with_sensible_shapes(latents):
    table = evaluate_latents(latents, CLASSIFIERS, FAST, seed=1)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert len(table) == len(CLASSIFIERS) * 2 * 3 * TEST_SUBJECTS  # codes x tasks x subjects
    n_test = latents["p_test"].shape[0]
    for _, group in table.groupby(["classifier", "code", "task"]):
        assert group["n_windows"].sum() == n_test  # every test window scored exactly once
        assert sorted(group["subject"]) == list(range(TRAIN_SUBJECTS, TRAIN_SUBJECTS + TEST_SUBJECTS))
    for column in ("acc", "bal_acc", "f1"):
        assert table[column].between(0, 1).all()
    assert (table["seed"] == 1).all()
    # even briefly trained, every classifier reads the gesture from p better than from s
    summary = summarise_latents(table).set_index(["classifier", "code", "task"])
    for name in CLASSIFIERS:
        assert summary.loc[(name, "p", "gesture"), "acc_mean"] > summary.loc[(name, "s", "gesture"), "acc_mean"]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_fit_predict_is_deterministic_and_keeps_label_codes(latents, name):
    X, y = latents["p_train"], latents["gesture_train"] * 10 + 7  # arbitrary integer codes
    params = FAST[name]
    first = fit_predict(name, X, y, latents["p_test"], seed=3, **params)
    second = fit_predict(name, X, y, latents["p_test"], seed=3, **params)
    assert first.shape == (latents["p_test"].shape[0],)
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) <= set(np.unique(y))


def test_fit_predict_rejects_bad_input(latents):
    X, y = latents["p_train"], latents["gesture_train"]
    with pytest.raises(ValueError, match="unknown classifier"):
        fit_predict("xgb", X, y, X)
    with pytest.raises(ValueError, match="no parameters"):
        fit_predict("knn", X, y, X, epochs=3, **KNN)
    with pytest.raises(ValueError, match=r"needs the parameters \['n_neighbors'\]"):
        fit_predict("knn", X, y, X)
    with pytest.raises(ValueError, match="code dims"):
        fit_predict("knn", X, y, X[:, :3], **KNN)
    with pytest.raises(ValueError, match="at least 2 classes"):
        fit_predict("knn", X, np.zeros(len(y), dtype=int), X, **KNN)
    with pytest.raises(ValueError, match="entries"):
        fit_predict("knn", X, y[:-1], X, **KNN)


def test_identification_folds_split_every_subject_gesture_stratum_in_half():
    subject = np.repeat([0, 1, 2], 9)
    gesture = np.tile(np.repeat([0, 1, 2], 3), 3)
    folds = identification_folds(subject, gesture, seed=0)
    for sid in range(3):
        for gid in range(3):
            cell = folds[(subject == sid) & (gesture == gid)]
            assert abs(int(cell.sum()) * 2 - cell.size) == 1  # sizes 2 and 1 in the two folds
    assert abs(int(folds.sum()) * 2 - folds.size) <= 1  # the extra windows alternate between folds
    np.testing.assert_array_equal(folds, identification_folds(subject, gesture, seed=0))


def test_identification_folds_keep_each_trial_in_one_fold():
    subject = np.repeat([0, 1], 12)
    gesture = np.tile(np.repeat([0, 1], 6), 2)
    trial = np.tile(np.repeat([0, 1, 2], 2), 4)  # three 2-window trials per (subject, gesture)
    trial[(subject == 1) & (gesture == 1)] = 5  # one stratum recorded as a single trial
    folds = identification_folds(subject, gesture, seed=0, trial=trial)
    for sid in (0, 1):
        for gid in (0, 1):
            cell = (subject == sid) & (gesture == gid)
            if sid == 1 and gid == 1:  # single trial: its windows are dealt, 3 and 3
                assert folds[cell].sum() == 3
                continue
            for tid in np.unique(trial[cell]):
                assert np.unique(folds[cell & (trial == tid)]).size == 1  # a trial never straddles folds
            assert np.unique(folds[cell]).size == 2  # but both folds get trials of every stratum


def test_identity_tied_to_one_gesture_is_not_identity_across_gestures():
    """p whose subject offsets differ per gesture: told apart within a gesture, not across gestures."""
    rng = np.random.default_rng(1)
    lat = {}
    for split, subjects in (("train", np.arange(3)), ("test", np.arange(3, 6))):
        gesture = np.repeat(np.tile(np.arange(N_GESTURES), len(subjects)), 2 * PER_CELL)
        subject = np.repeat(np.repeat(subjects, N_GESTURES), 2 * PER_CELL)
        trial = np.tile(np.repeat([0, 1], PER_CELL), len(subjects) * N_GESTURES)
        offset = rng.normal(0.0, 1.0, (6, N_GESTURES, 8))[subject, gesture]  # new per (subject, gesture)
        lat[f"p_{split}"] = 6.0 * np.eye(8)[gesture] + offset + rng.normal(0.0, 0.1, (gesture.size, 8))
        lat[f"s_{split}"] = 3.0 * np.eye(12)[subject] + rng.normal(0.0, 0.5, (gesture.size, 12))
        lat[f"gesture_{split}"], lat[f"subject_{split}"], lat[f"trial_{split}"] = gesture, subject, trial
    summary = summarise_latents(evaluate_latents(lat, ("knn",), PARAMS, seed=0)).set_index(["code", "task"])
    chance = 1 / 3
    assert summary.loc[("p", "gesture"), "acc_mean"] > 0.9
    assert summary.loc[("p", "subject_within"), "acc_mean"] > 0.9  # the same gesture in another trial
    assert summary.loc[("p", "subject"), "acc_mean"] < chance + 0.15  # nothing that holds across gestures
    assert summary.loc[("s", "subject"), "acc_mean"] > 0.9 and summary.loc[("s", "subject_within"), "acc_mean"] > 0.9
    one_gesture = {k: (v[lat["gesture_test"] == 0] if k.endswith("_test") else v) for k, v in lat.items()}
    with pytest.raises(ValueError, match="at least 2 gestures"):
        evaluate_latents(one_gesture, ("knn",), PARAMS, seed=0, tasks=("subject",))


def test_npz_path_and_dict_give_the_same_table(latents, tmp_path):
    path = tmp_path / "latents.npz"
    np.savez(path, **latents)
    a = evaluate_latents(latents, ("knn",), PARAMS, seed=0, tasks=("gesture",))
    b = evaluate_latents(path, ("knn",), PARAMS, seed=0, tasks=("gesture",))
    pd.testing.assert_frame_equal(a, b)


def test_load_latents_reports_bad_archives(latents):
    with pytest.raises(ValueError, match="lack arrays"):
        load_latents({k: v for k, v in latents.items() if k != "s_test"})
    broken = dict(latents, gesture_test=latents["gesture_test"][:-1])
    with pytest.raises(ValueError, match="gesture_test"):
        load_latents(broken)
    with pytest.raises(ValueError, match="code size"):
        load_latents(dict(latents, p_test=latents["p_test"][:, :5]))
    with pytest.raises(FileNotFoundError):
        load_latents("/nonexistent/latents.npz")
    one_subject = dict(latents, subject_test=np.zeros_like(latents["subject_test"]))
    with pytest.raises(ValueError, match="at least 2 held-out subjects"):
        evaluate_latents(one_subject, ("knn",), PARAMS, seed=0)


def test_summarise_latents_matches_the_per_subject_table(table):
    summary = summarise_latents(table)
    assert len(summary) == 2 * 2 * 3
    row = summary[(summary.classifier == "knn") & (summary.code == "s") & (summary.task == "subject")].iloc[0]
    rows = table[(table.classifier == "knn") & (table.code == "s") & (table.task == "subject")]
    assert row["acc_mean"] == pytest.approx(rows["acc"].mean())
    assert row["acc_std"] == pytest.approx(rows["acc"].std(ddof=1))
    assert row["n_subjects"] == TEST_SUBJECTS and row["chance"] == pytest.approx(1 / TEST_SUBJECTS)


def test_results_rows_fit_results_csv(table, tmp_path):
    rows = results_rows(table, dataset="hyser", measure="rms", held_out=[6, 7, 8, 9])
    assert list(rows.columns[: len(KEY_COLUMNS) - 1]) == KEY_COLUMNS[:-1]
    assert set(REQUIRED_METRICS) <= set(rows.columns)
    assert len(rows) == 2 * 2  # knn, ann x p, s; gesture task only
    assert set(rows["model"]) == {"disentangle_knn", "disentangle_ann"}
    assert set(rows["code"]) == {"p", "s"} and (rows["measure"] == "rms").all() and (rows["dataset"] == "hyser").all()
    assert rows["train_variant"].isna().all() and rows["eval_variant"].isna().all()  # no windowing variant applies
    assert (rows["loss"] == "disentangle").all() and (rows["norm"] == "nonorm").all()
    assert (rows["held_out"] == "6+7+8+9").all()
    knn_p = rows[(rows.model == "disentangle_knn") & (rows.code == "p")].iloc[0]
    gesture = table[(table.classifier == "knn") & (table.code == "p") & (table.task == "gesture")]
    assert knn_p["acc_mean"] == pytest.approx(gesture["acc"].mean())
    # the report rule's aggregation accepts them as summary files
    paths = []
    for i, (_, row) in enumerate(rows.iterrows()):
        paths.append(tmp_path / f"summary_{i}.csv")
        row.to_frame().T.to_csv(paths[-1], index=False)
    aggregated = aggregate_summaries(paths)
    assert len(aggregated) == len(rows)
    with pytest.raises(ValueError, match="must be non-empty"):
        results_rows(table, dataset="hy ser", measure="rms", held_out=1)


# --------------------------------------------------------------------------- measure comparison
def _measure_table(scores: dict[str, np.ndarray], classifier="knn"):
    frames = [
        pd.DataFrame({"classifier": classifier, "subject": np.arange(len(v)), "measure": m, "accuracy": v})
        for m, v in scores.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_clearly_best_measure_gives_small_p_values_and_positive_effect():
    rng = np.random.default_rng(1)
    base = rng.uniform(0.4, 0.6, 12)
    table = _measure_table(
        {"raw": base, "rms": base + rng.uniform(0.1, 0.2, 12), "mav": base + rng.normal(0, 0.02, 12)}
    )
    result = compare_measures(table)
    assert list(result.columns) == ["classifier", *RESULT_COLUMNS]
    friedman = result[result.test == "friedman"].iloc[0]
    assert friedman["p_value"] < 0.01 and friedman["n_blocks"] == 12
    expected = compare_friedman_directly(table)
    assert friedman["statistic"] == pytest.approx(expected)
    assert friedman["effect_size"] == pytest.approx(expected / (12 * 2))  # Kendall's W
    pairs = result[result.test == "wilcoxon"].set_index(["measure_a", "measure_b"])
    assert list(pairs.index) == [("raw", "rms"), ("raw", "mav"), ("rms", "mav")]
    assert pairs.loc[("raw", "rms"), "p_holm"] < 0.01 and pairs.loc[("raw", "rms"), "effect_size"] == 1.0
    assert pairs.loc[("rms", "mav"), "effect_size"] == -1.0
    np.testing.assert_allclose(pairs["p_holm"], holm(pairs["p_value"].to_numpy()))
    assert (pairs["p_holm"] >= pairs["p_value"]).all()
    assert pairs.loc[("raw", "mav"), "p_holm"] > pairs.loc[("raw", "rms"), "p_holm"]


def compare_friedman_directly(table):
    from scipy.stats import friedmanchisquare

    wide = table.pivot(index="subject", columns="measure", values="accuracy")
    return friedmanchisquare(wide["raw"], wide["rms"], wide["mav"]).statistic


def test_identical_measures_give_p_one():
    values = np.linspace(0.3, 0.9, 10)
    result = compare_measures(_measure_table({"a": values, "b": values.copy(), "c": values.copy()}))
    assert (result["p_value"] == 1.0).all() and (result["p_holm"] == 1.0).all()
    assert (result["effect_size"] == 0.0).all()


def test_holm_is_applied_per_classifier_and_across_friedman_tests():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.4, 0.6, 10)
    strong = _measure_table({"a": base, "b": base + 0.1 + rng.uniform(0, 0.05, 10), "c": base + 0.2}, "knn")
    weak = _measure_table({"a": base, "b": base + rng.normal(0, 0.05, 10), "c": base + rng.normal(0, 0.05, 10)}, "svm")
    result = compare_measures(pd.concat([strong, weak], ignore_index=True))
    friedman = result[result.test == "friedman"]
    np.testing.assert_allclose(friedman["p_holm"], holm(friedman["p_value"].to_numpy()))
    for _, group in result[result.test == "wilcoxon"].groupby("classifier"):
        np.testing.assert_allclose(group["p_holm"], holm(group["p_value"].to_numpy()))
    assert friedman.set_index("classifier").loc["knn", "p_value"] < 0.01


def test_two_measures_use_wilcoxon_only_and_say_so():
    base = np.linspace(0.3, 0.8, 10)
    result = compare_measures(_measure_table({"a": base, "b": base + 0.05}), by=())
    assert list(result["test"]) == ["wilcoxon"]
    assert result.iloc[0]["note"] == TWO_MEASURES_NOTE
    assert result.iloc[0]["p_value"] < 0.01 and result.iloc[0]["effect_size"] == 1.0


def test_unpaired_or_duplicated_blocks_are_rejected():
    base = np.linspace(0.3, 0.8, 6)
    table = _measure_table({"a": base, "b": base, "c": base})
    with pytest.raises(ValueError, match="unpaired"):
        compare_measures(table.drop(index=table.index[-1]))
    with pytest.raises(ValueError, match="more than once"):
        compare_measures(pd.concat([table, table.iloc[:1]], ignore_index=True))
    with pytest.raises(ValueError, match="NaN"):
        compare_measures(table.assign(accuracy=table["accuracy"].where(table.index != 0)))
    with pytest.raises(ValueError, match="lack columns"):
        compare_measures(table, value="bal_acc")
    with pytest.raises(ValueError, match="at least 2 measures"):
        compare_measures(table[table.measure == "a"])


def test_collect_latent_summaries_keeps_each_runs_keys_and_plots(table, tmp_path):
    from emgcore.disentangle.latent import collect_latent_summaries, with_run_keys
    from emgcore.report.plots import plot_latent_summary

    summary = summarise_latents(table)
    paths = []
    for dataset, measure, held in (("hyser", "rms", "4_5"), ("epn", "wl", "7_8")):
        paths.append(tmp_path / f"{dataset}_{measure}.csv")
        with_run_keys(summary, dataset, measure, held).to_csv(paths[-1], index=False)
    collected = collect_latent_summaries(paths)
    assert list(collected.columns[:3]) == ["dataset", "measure", "held_out"]
    assert len(collected) == 2 * len(summary)
    epn = collected[collected.dataset == "epn"]
    assert set(epn.measure) == {"wl"} and set(epn.held_out) == {"7_8"}
    pd.testing.assert_frame_equal(
        epn.drop(columns=["dataset", "measure", "held_out"]).reset_index(drop=True), summary, check_dtype=False
    )
    figure = plot_latent_summary(collected, tmp_path / "latent_summary.png")
    assert figure.stat().st_size > 10_000
    summary.to_csv(tmp_path / "unkeyed.csv", index=False)
    with pytest.raises(ValueError, match=r"unkeyed.csv: lacks columns \['dataset', 'measure', 'held_out'\]"):
        collect_latent_summaries([tmp_path / "unkeyed.csv"])
    with pytest.raises(ValueError, match="no latent summaries"):
        collect_latent_summaries([])

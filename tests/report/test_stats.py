"""Paired Wilcoxon tests against a reference, rank-biserial effect size and Holm correction."""

import numpy as np
import pandas as pd
import pytest

from emgcore.report.stats import RESULT_COLUMNS, holm, rank_biserial, wilcoxon_vs_reference


def table(values, subjects=None):
    subjects = np.arange(len(values)) if subjects is None else subjects
    return pd.DataFrame({"subject": subjects, "n_windows": 40, "bal_acc": values})


def test_clearly_better_method_is_significant_with_large_positive_effect():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.7, 20)
    better = base + rng.uniform(0.05, 0.15, 20)
    worse = base - rng.uniform(0.0, 0.2, 20)
    worse[:2] = base[:2] + 0.01  # a couple of subjects go the other way
    result = wilcoxon_vs_reference(
        {"base": table(base), "better": table(better), "worse": table(worse)}, reference="base"
    )
    assert list(result.columns) == list(RESULT_COLUMNS)
    assert list(result["comparison"]) == ["better", "worse"]
    better_row, worse_row = result.iloc[0], result.iloc[1]
    assert better_row["n_subjects"] == 20
    assert better_row["p_value"] < 0.05 and better_row["effect_size"] > 0.9
    assert better_row["mean_diff"] == pytest.approx(np.mean(better - base))
    assert worse_row["effect_size"] < -0.5 and worse_row["mean_diff"] < 0
    assert (result["p_holm"] >= result["p_value"]).all()


def test_identical_tables_give_p_one_and_no_effect():
    values = np.linspace(0.2, 0.9, 8)
    result = wilcoxon_vs_reference({"a": table(values), "b": table(values.copy())}, reference="a")
    row = result.iloc[0]
    assert row["p_value"] == 1.0 and row["p_holm"] == 1.0
    assert row["effect_size"] == 0.0 and row["mean_diff"] == 0.0 and row["statistic"] == 0.0


def test_effect_size_matches_hand_computation_on_five_subjects():
    ref = np.array([0.50, 0.40, 0.60, 0.30, 0.55])
    diffs = np.array([0.10, 0.20, -0.05, 0.30, 0.15])
    # |d| ranks: 0.05->1, 0.10->2, 0.15->3, 0.20->4, 0.30->5; R+ = 2+4+5+3 = 14, R- = 1
    result = wilcoxon_vs_reference({"ref": table(ref), "new": table(ref + diffs)}, reference="ref")
    row = result.iloc[0]
    assert row["effect_size"] == pytest.approx((14 - 1) / 15)
    assert row["statistic"] == pytest.approx(1.0)  # SciPy's two-sided statistic: min(R+, R-)
    assert row["p_value"] == pytest.approx(2 * 2 / 2**5)  # exact: P(R- <= 1) = 2/32, two-sided
    assert row["median_diff"] == pytest.approx(0.15)
    assert rank_biserial(-diffs) == pytest.approx(-13 / 15)


def test_pairs_by_subject_not_by_row_order_and_drops_nan():
    ref = table([0.1, 0.2, 0.3, 0.4, 0.5], subjects=[1, 2, 3, 4, 5])
    # same subjects shuffled, plus one the reference lacks and one NaN; every shared one +0.1
    cmp = table([0.6, 0.3, 0.9, np.nan, 0.4, 0.2], subjects=[5, 2, 7, 4, 3, 1])
    row = wilcoxon_vs_reference({"ref": ref, "cmp": cmp}, reference="ref").iloc[0]
    assert row["n_subjects"] == 4
    assert row["mean_diff"] == pytest.approx(0.1)
    assert row["effect_size"] == 1.0


def test_holm_matches_hand_computation():
    p = np.array([0.04, 0.01, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 -> 4*0.01=0.04, 3*0.03=0.09, 2*0.04=0.08->0.09 (monotone), 1*0.2
    np.testing.assert_allclose(holm(p), [0.09, 0.04, 0.09, 0.20])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1
    assert holm([]).size == 0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])


def test_extra_key_columns_per_label():
    values = np.linspace(0.2, 0.9, 6)
    tables = {"ref": table(values), "a": table(values + 0.05), "b": table(values - 0.05)}
    extra = {"a": {"experiment": "loss", "norm": "none"}, "b": {"experiment": "loss"}}
    result = wilcoxon_vs_reference(tables, "ref", extra=extra)
    assert list(result.columns[:4]) == ["comparison", "reference", "experiment", "norm"]
    assert list(result["experiment"]) == ["loss", "loss"]
    assert result.loc[0, "norm"] == "none" and pd.isna(result.loc[1, "norm"])


def test_bad_input_errors_name_labels():
    tables = {"ref": table([0.1, 0.2, 0.3], subjects=[1, 2, 3]), "other": table([0.1, 0.2, 0.3], subjects=[3, 8, 9])}
    with pytest.raises(ValueError, match=r"'other' and reference 'ref' share 1 test subject"):
        wilcoxon_vs_reference(tables, "ref")
    with pytest.raises(ValueError, match="reference 'missing'"):
        wilcoxon_vs_reference(tables, "missing")
    with pytest.raises(ValueError, match=r"'other' lacks columns \['f1'\]"):
        wilcoxon_vs_reference({"ref": tables["ref"].assign(f1=0.5), "other": tables["other"]}, "ref", metric="f1")
    with pytest.raises(ValueError, match="besides the reference"):
        wilcoxon_vs_reference({"ref": tables["ref"]}, "ref")
    with pytest.raises(ValueError, match="'ref' lists subjects more than once"):
        wilcoxon_vs_reference({"ref": table([0.1, 0.2], subjects=[1, 1]), "other": tables["other"]}, "ref")

"""Paired significance tests between methods over the same test subjects.

Cross-user results are per-subject tables (`emgcore.report.metrics.per_subject_metrics`), so two methods
evaluated on the same users give paired samples. `wilcoxon_vs_reference` compares every method with
one reference by a two-sided Wilcoxon signed-rank test on the per-subject differences
(comparison - reference), reports the matched-pairs rank-biserial correlation as effect size and
Holm-corrects the p-values across the comparisons of one call.

Conventions (all metrics of this benchmark are "higher is better"):

* Pairs are formed by an inner join on `subject`; subjects whose metric is NaN in either table
  (e.g. `act_acc` for a user without active windows) are dropped before testing.
* Differences are rounded to `DIFF_DECIMALS` decimals so floating-point noise neither creates
  spurious non-zero differences nor breaks ties between equal differences.
* `zero_method="wilcox"`: zero differences (subjects on which both methods score the same) are
  discarded, the standard Wilcoxon test; the rank-biserial effect uses the same ranks, so the
  statistic and the effect size agree. `method="auto"` lets SciPy pick the exact null
  distribution for small samples without ties or zeros and the normal approximation otherwise.
* If every difference is zero there is nothing to rank: p_value is 1.0, statistic 0 and the
  effect size 0 (no evidence of any difference), instead of SciPy's NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as sstats

DIFF_DECIMALS = 12
ZERO_METHOD = "wilcox"
RESULT_COLUMNS = (
    "comparison",
    "reference",
    "metric",
    "n_subjects",
    "mean_diff",
    "median_diff",
    "statistic",
    "p_value",
    "effect_size",
    "p_holm",
)


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as given), controlling the family-wise error."""
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"holm expects a one-dimensional array of p-values, got shape {p.shape}")
    if p.size == 0:
        return p.copy()
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"holm expects p-values in [0, 1], got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]  # (m - i) * p_(i) for the i-th smallest (0-based)
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m, dtype=float)
    adjusted[order] = adjusted_sorted
    return adjusted


def rank_biserial(differences) -> float:
    """Matched-pairs rank-biserial correlation (R+ - R-) / (R+ + R-) over non-zero differences.

    Ranks are of |difference| with ties averaged; the value lies in [-1, 1], +1 when every non-zero
    difference is positive. Zero differences are dropped (as with zero_method="wilcox"); all-zero
    input gives 0.
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 1 or not np.all(np.isfinite(d)):
        raise ValueError("rank_biserial expects a one-dimensional array of finite differences")
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    ranks = sstats.rankdata(np.abs(d))
    positive, negative = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((positive - negative) / (positive + negative))


def _subject_metric(table: pd.DataFrame, label: str, metric: str) -> pd.Series:
    """The table's metric indexed by subject; raises naming the label on a malformed table."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"per-subject table {label!r} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in ("subject", metric) if c not in table.columns]
    if missing:
        raise ValueError(f"per-subject table {label!r} lacks columns {missing}; has {list(table.columns)}")
    duplicated = table["subject"][table["subject"].duplicated()].unique()
    if duplicated.size:
        raise ValueError(f"per-subject table {label!r} lists subjects more than once: {duplicated[:10].tolist()}")
    try:
        values = pd.to_numeric(table[metric], errors="raise").astype(float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"column {metric!r} of per-subject table {label!r} is not numeric: {err}") from None
    return pd.Series(values.to_numpy(), index=table["subject"].to_numpy(), name=label)


def _paired_differences(reference: pd.Series, comparison: pd.Series) -> np.ndarray:
    """comparison - reference over subjects present (and non-NaN) in both, sorted by subject."""
    joined = pd.concat([reference.rename("ref"), comparison.rename("cmp")], axis=1, join="inner").dropna()
    joined = joined.sort_index()
    if len(joined) < 2:
        raise ValueError(
            f"{comparison.name!r} and reference {reference.name!r} share {len(joined)} test subject(s) "
            "with a value; a paired test needs at least 2"
        )
    return np.round(joined["cmp"].to_numpy() - joined["ref"].to_numpy(), DIFF_DECIMALS)


def _wilcoxon(d: np.ndarray) -> tuple[float, float]:
    """(statistic, two-sided p) of the signed-rank test on differences d; (0, 1) if all are zero."""
    if not np.any(d != 0):
        return 0.0, 1.0
    result = sstats.wilcoxon(d, zero_method=ZERO_METHOD, alternative="two-sided", method="auto")
    return float(result.statistic), float(result.pvalue)


def wilcoxon_vs_reference(
    tables: Mapping[str, pd.DataFrame],
    reference: str,
    metric: str = "bal_acc",
    extra: Mapping[str, dict] | None = None,
) -> pd.DataFrame:
    """Wilcoxon signed-rank test of every label against `reference` on paired per-subject `metric`.

    `tables` maps a label (run, loss, model ...) to its per-subject table (columns `subject` and
    `metric`). One row per label other than the reference, in the mapping's order, with columns
    comparison, reference, [keys of `extra`], metric, n_subjects, mean_diff, median_diff,
    statistic, p_value, effect_size, p_holm. Differences are comparison - reference, so positive
    mean_diff / effect_size mean the comparison scores higher. `extra[label]` adds key columns
    (e.g. experiment, eval_variant, norm) to that label's row; labels not in `extra` get NaN there.
    n_subjects counts every paired subject, including those with a zero difference that the test
    itself discards.
    See the module docstring for zero handling and the all-zero convention.
    """
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("wilcoxon_vs_reference needs a non-empty mapping label -> per-subject table")
    if reference not in tables:
        raise ValueError(f"reference {reference!r} is not among the tables {list(tables)}")
    labels = [label for label in tables if label != reference]
    if not labels:
        raise ValueError(f"wilcoxon_vs_reference needs at least one label besides the reference {reference!r}")
    extra = {} if extra is None else dict(extra)
    unknown = [label for label in extra if label not in tables]
    if unknown:
        raise ValueError(f"extra names labels that have no table: {unknown}")
    extra_keys: list[str] = []
    for label, keys in extra.items():
        if not isinstance(keys, Mapping):
            raise TypeError(f"extra[{label!r}] must be a dict of key columns, got {type(keys).__name__}")
        for key in keys:
            if key in RESULT_COLUMNS:
                raise ValueError(f"extra[{label!r}] key {key!r} clashes with a result column")
            if key not in extra_keys:
                extra_keys.append(key)

    ref_values = _subject_metric(tables[reference], reference, metric)
    rows = []
    for label in labels:
        d = _paired_differences(ref_values, _subject_metric(tables[label], label, metric))
        statistic, p_value = _wilcoxon(d)
        row = {"comparison": label, "reference": reference}
        row.update({key: extra.get(label, {}).get(key, np.nan) for key in extra_keys})
        row.update(
            {
                "metric": metric,
                "n_subjects": int(d.size),
                "mean_diff": float(np.mean(d)),
                "median_diff": float(np.median(d)),
                "statistic": statistic,
                "p_value": p_value,
                "effect_size": rank_biserial(d),
            }
        )
        rows.append(row)
    result = pd.DataFrame(rows)
    result["p_holm"] = holm(result["p_value"].to_numpy())
    columns = ["comparison", "reference", *extra_keys, *RESULT_COLUMNS[2:]]
    return result[columns]

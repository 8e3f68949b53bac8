"""Which input measure gives the best latent codes? Friedman and pairwise Wilcoxon tests over blocks.

The disentangling models are trained on several input measures (e.g. raw HD-sEMG maps, RMS, other
features); each measure's codes are classified per held-out subject. The same subjects (blocks)
are scored under every measure, so the measures are compared by paired, rank-based tests per
classifier (or other `by` keys):

* ``friedman``: one omnibus Friedman test across all k >= 3 measures (`scipy.stats.friedmanchisquare`)
  with Kendall's W = chi2 / (n (k - 1)) as effect size (0 no agreement, 1 the same ranking of the
  measures on every block). Its ``p_holm`` is Holm-corrected across the by-groups (one omnibus
  test per classifier). If every block scores all measures the same there is nothing to rank:
  statistic 0, p 1, W 0.
* ``wilcoxon``: two-sided Wilcoxon signed-rank tests for every pair of measures (a, b) on the
  per-block differences b - a, rounded and with zero differences discarded as in `emgcore.report.stats`;
  the effect size is the matched-pairs rank-biserial correlation (positive: b scores higher).
  ``p_holm`` is Holm-corrected across the pairs of the by-group. Pairs are reported whatever the
  Friedman result; read them as post-hoc tests when the omnibus test rejects. With exactly two
  measures the Friedman test is undefined, so only their Wilcoxon test is reported and ``note``
  says so.

Blocks must be paired: every block has exactly one finite value for every measure within a
by-group, otherwise a ValueError names the offending blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as sstats

from emgcore.report.stats import DIFF_DECIMALS, ZERO_METHOD, holm, rank_biserial

RESULT_COLUMNS = (
    "test",
    "measure_a",
    "measure_b",
    "n_blocks",
    "mean_a",
    "mean_b",
    "statistic",
    "p_value",
    "p_holm",
    "effect_size",
    "note",
)
TWO_MEASURES_NOTE = "2 measures: Friedman needs >= 3, Wilcoxon signed-rank only"
MIN_BLOCKS = 2


def _wilcoxon(d: np.ndarray) -> tuple[float, float]:
    """(statistic, two-sided p) of the signed-rank test on differences d; (0, 1) if all are zero."""
    if not np.any(d != 0):
        return 0.0, 1.0
    result = sstats.wilcoxon(d, zero_method=ZERO_METHOD, alternative="two-sided", method="auto")
    return float(result.statistic), float(result.pvalue)


def _friedman(matrix: np.ndarray) -> tuple[float, float, float]:
    """(chi2, p, Kendall's W) for a blocks x measures matrix; (0, 1, 0) when every block is all ties."""
    n, k = matrix.shape
    if np.all(matrix == matrix[:, :1]):
        return 0.0, 1.0, 0.0
    result = sstats.friedmanchisquare(*matrix.T)
    statistic = float(result.statistic)
    return statistic, float(result.pvalue), statistic / (n * (k - 1))


def _paired_matrix(group: pd.DataFrame, value: str, block: str, measure: str, where: str) -> pd.DataFrame:
    """Blocks x measures table of `value` (measures in order of appearance); raises when unpaired."""
    duplicated = group.duplicated([block, measure], keep=False)
    if duplicated.any():
        pairs = group.loc[duplicated, [block, measure]].drop_duplicates().values.tolist()[:10]
        raise ValueError(f"{where}: (block, measure) pairs occur more than once: {pairs}")
    measures = list(pd.unique(group[measure]))
    matrix = group.pivot(index=block, columns=measure, values=value)[measures]
    unpaired = matrix.index[matrix.isna().any(axis=1)]
    if len(unpaired):
        details = {b: [m for m in measures if pd.isna(matrix.loc[b, m])] for b in unpaired[:10]}
        raise ValueError(
            f"{where}: blocks are unpaired; {len(unpaired)} block(s) lack a finite {value!r} "
            f"for some measures (block: missing measures) {details}"
        )
    return matrix.sort_index()


def _compare_group(matrix: pd.DataFrame, where: str) -> list[dict]:
    measures = list(matrix.columns)
    k, n = len(measures), len(matrix)
    if k < 2:
        raise ValueError(f"{where}: need at least 2 measures to compare, got {measures}")
    if n < MIN_BLOCKS:
        raise ValueError(f"{where}: need at least {MIN_BLOCKS} paired blocks, got {n}")
    values = matrix.to_numpy(dtype=float)
    means = values.mean(axis=0)
    rows = []
    if k >= 3:
        statistic, p_value, w = _friedman(values)
        rows.append(
            {
                "test": "friedman",
                "measure_a": "",
                "measure_b": "",
                "n_blocks": n,
                "mean_a": np.nan,
                "mean_b": np.nan,
                "statistic": statistic,
                "p_value": p_value,
                "p_holm": np.nan,
                "effect_size": w,
                "note": f"{k} measures",
            }
        )
    pairwise = []
    for i, j in combinations(range(k), 2):
        d = np.round(values[:, j] - values[:, i], DIFF_DECIMALS)
        statistic, p_value = _wilcoxon(d)
        pairwise.append(
            {
                "test": "wilcoxon",
                "measure_a": str(measures[i]),
                "measure_b": str(measures[j]),
                "n_blocks": n,
                "mean_a": float(means[i]),
                "mean_b": float(means[j]),
                "statistic": statistic,
                "p_value": p_value,
                "p_holm": np.nan,
                "effect_size": rank_biserial(d),
                "note": "" if k >= 3 else TWO_MEASURES_NOTE,
            }
        )
    for row, adjusted in zip(pairwise, holm([r["p_value"] for r in pairwise])):
        row["p_holm"] = float(adjusted)
    return rows + pairwise


def compare_measures(
    accuracies: pd.DataFrame,
    value: str = "accuracy",
    block: str = "subject",
    group: str = "measure",
    by: Sequence[str] | str = ("classifier",),
) -> pd.DataFrame:
    """Friedman test across measures and Holm-corrected pairwise Wilcoxon tests, per `by` group.

    `accuracies` has one row per (by keys, block, measure) with the score in column `value`.
    Returns the by-key columns followed by `RESULT_COLUMNS`: per by-group a ``friedman`` row (when
    there are >= 3 measures) and one ``wilcoxon`` row per pair of measures in order of first
    appearance. See the module docstring for statistics, effect sizes and the Holm families.
    """
    if not isinstance(accuracies, pd.DataFrame):
        raise TypeError(f"accuracies must be a DataFrame, got {type(accuracies).__name__}")
    by = (by,) if isinstance(by, str) else tuple(by)
    needed = [value, block, group, *by]
    if len(set(needed)) != len(needed):
        raise ValueError(f"value, block, group and by must name different columns, got {needed}")
    clashes = [k for k in by if k in RESULT_COLUMNS]
    if clashes:
        raise ValueError(f"by keys {clashes} clash with result columns")
    missing = [c for c in needed if c not in accuracies.columns]
    if missing:
        raise ValueError(f"accuracies lack columns {missing}; has {list(accuracies.columns)}")
    if accuracies.empty:
        raise ValueError("accuracies has no rows")
    try:
        table = accuracies.assign(**{value: pd.to_numeric(accuracies[value], errors="raise").astype(float)})
    except (TypeError, ValueError) as err:
        raise ValueError(f"column {value!r} is not numeric: {err}") from None
    if not np.all(np.isfinite(table[value].to_numpy())):
        bad = table.loc[~np.isfinite(table[value].to_numpy()), [*by, block, group]].values.tolist()[:10]
        raise ValueError(f"{value!r} has NaN or infinite values (blocks would be unpaired) at {bad}")

    groups = table.groupby(list(by), sort=False) if by else [((), table)]
    rows = []
    for keys, part in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        where = ", ".join(f"{k}={v!r}" for k, v in zip(by, keys)) or "all rows"
        matrix = _paired_matrix(part, value, block, group, where)
        for row in _compare_group(matrix, where):
            rows.append({**dict(zip(by, keys)), **row})
    result = pd.DataFrame(rows, columns=[*by, *RESULT_COLUMNS])
    omnibus = result["test"] == "friedman"
    if omnibus.any():
        result.loc[omnibus, "p_holm"] = holm(result.loc[omnibus, "p_value"].to_numpy())
    return result

"""The feature grid (cross_feats) at a glance: groups x models table, heatmap, per-group distributions.

Every cell is over the same test users: a subject's balanced accuracy is first averaged over the
seeds of a (group, model), then the mean, std, median and worst-decile mean are taken across
subjects, the project's headline numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.report.metrics import describe
from emgcore.report.plots import _save_figure, draw_metric_distributions, plt
from emgcore.report.summary import CHANCE
from emgcore.report.tables import require_columns

GRID_KEYS = ("feature_group", "model", "train_variant", "eval_variant", "norm", "tau")
TABLE_COLUMNS = GRID_KEYS + (
    "n_subjects",
    "n_seeds",
    "bal_acc_mean",
    "bal_acc_std",
    "bal_acc_median",
    "bal_acc_worst10",
)


def grid_per_subject(tables: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Per-subject rows of the grid's runs, balanced accuracy averaged over seeds: one row per
    (group, model, train variant, evaluation, subject)."""
    frames = [t for t in tables]
    if not frames:
        raise ValueError("no per-subject table of a feature-grid run")
    table = pd.concat(frames, ignore_index=True)
    require_columns(table, GRID_KEYS + ("seed", "subject", "bal_acc"), "feature-grid per-subject table")
    if table["feature_group"].isna().any() or (table["feature_group"].astype(str) == "").any():
        raise ValueError("a per-subject table without feature_group is not a run of the feature grid")
    table = table.assign(tau=table["tau"].fillna(-1.0))  # NaN (no normalisation) would drop out of groupby
    keys = list(GRID_KEYS) + ["subject"]
    out = table.groupby(keys, sort=False).agg(bal_acc=("bal_acc", "mean"), n_seeds=("seed", "nunique")).reset_index()
    return out.assign(tau=out["tau"].replace(-1.0, math.nan))


def grid_table(per_subject: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, model, train variant, evaluation): subjects, seeds and the per-subject
    balanced accuracy statistics (from :func:`grid_per_subject`)."""
    filled = per_subject.assign(tau=per_subject["tau"].fillna(-1.0))
    rows = []
    for keys, part in filled.groupby(list(GRID_KEYS), sort=False):
        stats = describe(part["bal_acc"].to_numpy(dtype=float))
        rows.append(
            dict(
                zip(GRID_KEYS, keys),
                n_subjects=int(part["subject"].nunique()),
                n_seeds=int(part["n_seeds"].max()),
                **{f"bal_acc_{k}": stats[k] for k in ("mean", "std", "median", "worst10")},
            )
        )
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    return table.assign(tau=table["tau"].replace(-1.0, math.nan))


def _cells(table: pd.DataFrame, value: str, groups: Sequence[str], models: Sequence[str]) -> pd.DataFrame:
    grid = table.pivot_table(index="feature_group", columns="model", values=value, aggfunc="first")
    return grid.reindex(index=list(groups), columns=list(models))


def plot_grid_heatmap(
    table: pd.DataFrame, groups: Sequence[str], models: Sequence[str], title: str, out_path: str | Path
) -> Path:
    """Groups (rows, in `groups` order) x models (columns): mean per-subject balanced accuracy as
    colour, ``mean ± std`` written in each cell; `table` holds one evaluation of :func:`grid_table`."""
    if table.duplicated(["feature_group", "model"]).any():
        raise ValueError("the heatmap takes one evaluation and one training variant: (group, model) repeats")
    mean = _cells(table, "bal_acc_mean", groups, models)
    std = _cells(table, "bal_acc_std", groups, models)
    fig, ax = plt.subplots(figsize=(2.2 + 1.3 * len(models), 1.2 + 0.45 * len(groups)))
    image = ax.imshow(mean.to_numpy(dtype=float), cmap="viridis", vmin=CHANCE, vmax=1.0, aspect="auto")
    for i in range(len(groups)):
        for j in range(len(models)):
            m, s = mean.iat[i, j], std.iat[i, j]
            if np.isfinite(m):
                colour = "white" if m < CHANCE + 0.55 * (1 - CHANCE) else "black"
                ax.text(j, i, f"{m:.2f}\n±{s:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(models)), models, fontsize=8)
    ax.set_yticks(range(len(groups)), groups, fontsize=8)
    ax.set_xlabel("model")
    ax.set_ylabel("feature group")
    ax.set_title(title, fontsize=9, loc="left")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="mean per-subject balanced accuracy")
    return _save_figure(fig, out_path)


def plot_group_distributions(
    per_subject: pd.DataFrame, models: Sequence[str], title: str, out_path: str | Path
) -> Path:
    """One panel per model: per-subject balanced accuracy of every feature group, sorted by median
    (best on top); `per_subject` holds one evaluation of :func:`grid_per_subject`."""
    present = [m for m in models if (per_subject["model"] == m).any()]
    if not present:
        raise ValueError(f"no per-subject rows for the models {list(models)}")
    n_groups = per_subject["feature_group"].nunique()
    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 1.2 + 0.42 * n_groups), squeeze=False)
    for ax, model in zip(axes[0], present):
        rows = per_subject[per_subject["model"] == model]
        tables = {str(g): part for g, part in rows.groupby("feature_group", sort=False)}
        draw_metric_distributions(ax, tables, "bal_acc")
        ax.set_title(model, fontsize=9)
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=9, x=0.01, ha="left")
    return _save_figure(fig, out_path)

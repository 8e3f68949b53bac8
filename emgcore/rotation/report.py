"""The rotation experiment's report: the per-method table, rows for results/results.csv, and two figures.

A *method* is one trained arm (model x training augmentation, e.g. ``mhcnn-roll``) under one
test-time method and stream order (``mhcnn-none / align (interleaved)``). The table gives, per
method, test set and applied shift, the mean, std and worst-decile mean of per-subject balanced
accuracy, and the mean of the *rotated* people (``|offset| >= rotated_threshold`` electrodes, their
estimated armband offset against the training population) and of the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.report.metrics import describe, summarise
from emgcore.report.plots import _save_figure, plt
from emgcore.report.summary import CHANCE
from emgcore.report.tables import require_columns
from emgcore.rotation.evaluation import NO_ORDER

#: what tells two evaluations of the table apart
GROUP_KEYS = [
    "arm",
    "model",
    "augment",
    "train_variant",
    "seed",
    "test_set",
    "rotation_method",
    "stream_order",
    "applied_shift",
]
TABLE_COLUMNS = (*GROUP_KEYS, "subject", "offset", "bal_acc")


def read_rotation_tables(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The per-arm per-subject tables of the experiment as one table."""
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise ValueError("no rotation table to report")
    table = pd.concat(frames, ignore_index=True)
    require_columns(table, TABLE_COLUMNS, "rotation per-subject table")
    dup = table.duplicated([*GROUP_KEYS, "subject"])
    if dup.any():
        raise ValueError(f"rotation tables list {int(dup.sum())} (evaluation, subject) pairs twice")
    return table


def method_label(arm: str, rotation_method: str, stream_order: str) -> str:
    """``mhcnn-roll / plain`` or ``mhcnn-none / align (interleaved)``."""
    return f"{arm} / {rotation_method}" + ("" if stream_order == NO_ORDER else f" ({stream_order})")


def rotation_table(table: pd.DataFrame, rotated_threshold: float) -> pd.DataFrame:
    """One row per evaluation: n, mean, std, worst-decile mean, and the rotated / aligned subgroups' n and mean."""
    rows = []
    for keys, part in table.groupby(GROUP_KEYS, sort=True):
        stats = describe(part["bal_acc"].to_numpy())
        rotated = part["offset"].abs() >= rotated_threshold
        row = dict(zip(GROUP_KEYS, keys))
        row.update(
            method=method_label(row["arm"], row["rotation_method"], row["stream_order"]),
            n_subjects=int(len(part)),
            bal_acc_mean=stats["mean"],
            bal_acc_std=stats["std"],
            bal_acc_worst10=stats["worst10"],
            n_rotated=int(rotated.sum()),
            bal_acc_rotated_mean=float(part.loc[rotated, "bal_acc"].mean()) if rotated.any() else np.nan,
            bal_acc_aligned_mean=float(part.loc[~rotated, "bal_acc"].mean()) if (~rotated).any() else np.nan,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def rotation_results_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluation in the layout of results.csv (loss ``rotation``; the arm's augmentation,
    the test set, test-time method, stream order and applied shift in columns of their own)."""
    rows = []
    for keys, part in table.groupby(GROUP_KEYS, sort=True):
        key = dict(zip(GROUP_KEYS, keys))
        shift = f"{key['applied_shift']:g}"
        row = {
            "run": f"{key['arm']}-{key['rotation_method']}-{key['stream_order']}-{key['test_set']}-k{shift}",
            "model": key["model"],
            "loss": "rotation",
            "feature_group": np.nan,
            "train_variant": key["train_variant"],
            "seed": int(key["seed"]),
            "eval_variant": key["train_variant"],
            "norm": "norm" if key["rotation_method"] in ("norm", "align_norm") else "nonorm",
            "augment": key["augment"],
            "test_set": key["test_set"],
            "rotation_method": key["rotation_method"],
            "stream_order": key["stream_order"],
            "applied_shift": key["applied_shift"],
            "tau": part["tau"].iloc[0],
        }
        summary = summarise(part)
        rows.append({**row, **summary.iloc[0].to_dict()})
    table = pd.DataFrame(rows)
    return table.astype({"n_subjects": int, "n_windows": int})  # counts, not the summary row's floats


def _evaluations(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    return sorted(
        table[["arm", "rotation_method", "stream_order"]].drop_duplicates().itertuples(index=False, name=None)
    )


def plot_offset_vs_accuracy(table: pd.DataFrame, test_set: str, out_path: str | Path) -> Path:
    """Each person's estimated armband offset (x) against their balanced accuracy (y) on `test_set` as
    recorded (applied shift 0): one row of panels per arm, one panel per test-time method and order."""
    part = table[(table["test_set"] == test_set) & (table["applied_shift"] == 0)]
    if part.empty:
        raise ValueError(f"no unrotated evaluation on test set {test_set!r} to plot")
    arms = sorted(part["arm"].unique())
    methods = sorted(part[["rotation_method", "stream_order"]].drop_duplicates().itertuples(index=False, name=None))
    height = 2.4 * len(arms) + 0.6
    fig, axes = plt.subplots(
        len(arms), len(methods), figsize=(2.6 * len(methods), height), squeeze=False, sharex=True, sharey=True
    )
    for row, arm in enumerate(arms):
        for col, (method, order) in enumerate(methods):
            ax = axes[row, col]
            cell = part[(part["arm"] == arm) & (part["rotation_method"] == method) & (part["stream_order"] == order)]
            ax.scatter(cell["offset"], cell["bal_acc"], s=12, alpha=0.8)
            ax.axhline(CHANCE, color="grey", linestyle=":", linewidth=0.8)
            if len(cell):
                stats = f"{cell['bal_acc'].mean():.2f} ± {cell['bal_acc'].std():.2f}"
                ax.set_title(f"{method_label(arm, method, order)}\n{stats}", fontsize=7)
            ax.set_ylim(0.0, 1.0)
            ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("estimated offset (electrodes)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("balanced accuracy", fontsize=8)
    fig.suptitle(f"{test_set}: armband offset against per-subject accuracy", fontsize=9, y=1 - 0.1 / height)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / height))
    return _save_figure(fig, out_path)


def plot_shift_curve(table: pd.DataFrame, test_set: str, out_path: str | Path) -> Path:
    """Mean per-subject balanced accuracy (± std shaded) against the applied rotation k, one line per method."""
    part = table[table["test_set"] == test_set]
    if part["applied_shift"].nunique() < 2:
        raise ValueError(f"test set {test_set!r} was evaluated at fewer than two applied shifts")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for arm, method, order in _evaluations(part):
        cell = part[(part["arm"] == arm) & (part["rotation_method"] == method) & (part["stream_order"] == order)]
        stats = cell.groupby("applied_shift")["bal_acc"].agg(["mean", "std"]).sort_index()
        line = ax.plot(stats.index, stats["mean"], marker="o", markersize=3, label=method_label(arm, method, order))[0]
        ax.fill_between(
            stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=line.get_color(), alpha=0.08
        )
    ax.axhline(CHANCE, color="grey", linestyle=":", label="chance")
    ax.set_xlabel("applied rotation k (electrodes)")
    ax.set_ylabel("mean per-subject balanced accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    ax.set_title(f"{test_set}: every person rotated by k electrodes", fontsize=9, loc="left")
    return _save_figure(fig, out_path)

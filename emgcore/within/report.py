"""The within-user sweep's report: rows for results/results.csv, accuracy against N, and each test
user's within-user against cross-user balanced accuracy.

The cross-user reference is MHCNN/base trained on the same variant (its per-subject table on the
same test users, without normalisation), so every comparison is over the same people.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.report.metrics import METRICS, describe
from emgcore.report.plots import _save_figure, plt
from emgcore.report.summary import CHANCE
from emgcore.report.tables import require_columns

TABLE_COLUMNS = ("subject", "split", "in_cross_training", "model", "ft", "n_train_reps", "variant", "bal_acc")
ROW_KEYS = ("model", "ft", "n_train_reps", "split", "variant")


def read_within_tables(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The chunk tables of one sweep as one table (``ft`` '' for the models that are not fine-tuned)."""
    frames = [pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in paths]
    if not frames:
        raise ValueError("no within-user table to report")
    table = pd.concat(frames, ignore_index=True)
    require_columns(table, TABLE_COLUMNS, "within-user table")
    table["ft"] = table["ft"].fillna("").astype(str)
    dup = table.duplicated(["subject", "model", "ft", "n_train_reps", "variant"])
    if dup.any():
        raise ValueError(f"within-user tables list {int(dup.sum())} (subject, model, N) twice: chunks overlap")
    return table


def model_label(model: str, ft: str) -> str:
    """``mhcnn-ft``, ``mhcnn-noft``, ``lda`` ...: how a within-user model is named in rows and figures."""
    return f"{model}-{ft}" if ft else model


def within_results_rows(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One row per (model, ft, N, split, variant) in the layout of results.csv: loss ``within``, the
    variant as training and test variant, no normalisation, N, ft and split in columns of their own."""
    rows = []
    for (model, ft, n, split, variant), part in table.groupby(list(ROW_KEYS), sort=True):
        row = {
            "run": f"within-{model_label(model, ft)}-n{n}-{variant}-{split}-s{seed}",
            "model": model,
            "loss": "within",
            "feature_group": np.nan,
            "train_variant": variant,
            "seed": int(seed),
            "eval_variant": variant,
            "norm": "nonorm",
            "n_subjects": int(part["subject"].nunique()),
            "tau": np.nan,
        }
        for metric in METRICS:
            if metric in part.columns:
                row.update({f"{metric}_{k}": v for k, v in describe(part[metric].to_numpy(dtype=float)).items()})
        row.update(
            variant=variant,
            ft=ft,
            n_train_reps=int(n),
            split=split,
            in_cross_training=bool(part["in_cross_training"].all()),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def cross_reference(cross: pd.DataFrame, variant: str) -> pd.Series:
    """Per-subject balanced accuracy of the cross-user model on `variant` without normalisation."""
    rows = cross[(cross["eval_variant"] == variant) & (cross["norm"] == "nonorm")]
    if rows.empty:
        raise ValueError(f"the cross-user per-subject table has no {variant}/nonorm evaluation")
    return rows.set_index("subject")["bal_acc"]


def plot_accuracy_vs_n(table: pd.DataFrame, cross: pd.Series, title: str, out_path: str | Path) -> Path:
    """Mean per-subject balanced accuracy of the test users against N, one line per model (± std
    shaded), with the cross-user model on the same users as a dashed line."""
    test = table[table["split"] == "test"]
    if test.empty:
        raise ValueError("no test-split subject in the within-user table")
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for (model, ft), part in test.groupby(["model", "ft"], sort=True):
        stats = part.groupby("n_train_reps")["bal_acc"].agg(["mean", "std"]).sort_index()
        line = ax.plot(stats.index, stats["mean"], marker="o", label=model_label(model, ft))[0]
        ax.fill_between(
            stats.index,
            stats["mean"] - stats["std"].fillna(0),
            stats["mean"] + stats["std"].fillna(0),
            color=line.get_color(),
            alpha=0.12,
        )
    shared = cross.reindex(sorted(test["subject"].unique())).dropna()
    ax.axhline(shared.mean(), color="black", linestyle="--", label=f"cross-user MHCNN ({len(shared)} users)")
    ax.axhline(CHANCE, color="grey", linestyle=":", label="chance")
    ax.set_xlabel("training repetitions per gesture (N)")
    ax.set_ylabel("mean per-subject balanced accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=9, loc="left")
    return _save_figure(fig, out_path)


def plot_within_vs_cross(table: pd.DataFrame, cross: pd.Series, title: str, out_path: str | Path) -> Path:
    """One panel per model at the largest N: each test user's within-user (y) against cross-user (x)
    balanced accuracy, with the identity line and the Spearman correlation."""
    test = table[table["split"] == "test"]
    models = sorted({(m, f) for m, f in zip(test["model"], test["ft"])})
    if not models:
        raise ValueError("no test-split subject in the within-user table")
    fig, axes = plt.subplots(1, len(models), figsize=(3.4 * len(models), 3.6), squeeze=False)
    for ax, (model, ft) in zip(axes[0], models):
        part = test[(test["model"] == model) & (test["ft"] == ft)]
        n = int(part["n_train_reps"].max())
        own = part[part["n_train_reps"] == n].set_index("subject")["bal_acc"]
        both = pd.concat([cross.rename("cross"), own.rename("within")], axis=1, join="inner")
        ax.scatter(both["cross"], both["within"], s=14, alpha=0.7)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
        rho = both["cross"].rank().corr(both["within"].rank()) if len(both) > 2 else np.nan
        ax.set_title(f"{model_label(model, ft)}, N={n}: Spearman {rho:.2f}", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("cross-user balanced accuracy")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("within-user balanced accuracy")
    fig.suptitle(title, fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return _save_figure(fig, out_path)


def order_tag(ordering: str, order_seed) -> str:
    """``worst``, ``best`` or ``random<seed>`` (emgcore.layout.IncrementalRun.order_tag)."""
    return ordering if ordering != "random" else f"random{int(order_seed)}"


def incremental_cells(per_subject: pd.DataFrame) -> pd.DataFrame:
    """One row per (ordering tag, K used, R): mean, std and worst-decile mean of the test users'
    balanced accuracy (the incremental runs' per-subject tables)."""
    require_columns(
        per_subject, ("ordering", "order_seed", "n_users", "n_reps", "subject", "bal_acc"), "incremental table"
    )
    table = per_subject.assign(
        tag=[order_tag(o, s) for o, s in zip(per_subject["ordering"], per_subject["order_seed"])]
    )
    rows = []
    for (tag, k, r), part in table.groupby(["tag", "n_users", "n_reps"], sort=True):
        stats = describe(part["bal_acc"].to_numpy(dtype=float))
        rows.append(
            dict(
                order=tag,
                n_users=int(k),
                n_reps=int(r),
                n_subjects=int(part["subject"].nunique()),
                **{f"bal_acc_{key}": stats[key] for key in ("mean", "std", "worst10")},
            )
        )
    return pd.DataFrame(rows)


def plot_incremental_heatmap(cells: pd.DataFrame, tag: str, out_path: str | Path) -> Path:
    """Users (rows) x repetitions (columns) of one ordering: the mean per-subject balanced accuracy
    (left) and its std across test users (right)."""
    part = cells[cells["order"] == tag]
    if part.empty:
        raise ValueError(f"no incremental run with ordering {tag!r}")
    fig, axes = plt.subplots(
        1, 2, figsize=(2.0 + 1.3 * part["n_reps"].nunique() * 2, 1.6 + 0.45 * part["n_users"].nunique())
    )
    for ax, value, cmap, vmin, vmax in (
        (axes[0], "bal_acc_mean", "viridis", CHANCE, 1.0),
        (axes[1], "bal_acc_std", "magma_r", 0.0, None),
    ):
        grid = part.pivot_table(index="n_users", columns="n_reps", values=value).sort_index()
        image = ax.imshow(grid.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", origin="lower")
        values = grid.to_numpy(dtype=float)
        light_below = 0.6 if value == "bal_acc_mean" else -np.inf  # white text on dark cells
        dark_above = np.inf if value == "bal_acc_mean" else 0.6 * np.nanmax(values)
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                colour = "white" if v < light_below or v > dark_above else "black"
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks(range(grid.shape[1]), grid.columns)
        ax.set_yticks(range(grid.shape[0]), grid.index)
        ax.set_xlabel("repetitions per gesture (R)")
        ax.set_ylabel("training users (K)")
        ax.set_title(("mean" if value == "bal_acc_mean" else "std") + " of per-subject balanced accuracy", fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    fig.suptitle(f"Incremental training, {tag} users first", fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return _save_figure(fig, out_path)


def plot_incremental_curve(cells: pd.DataFrame, out_path: str | Path) -> Path:
    """Mean per-subject balanced accuracy against K at the largest R, one line per ordering (± std)."""
    if cells.empty:
        raise ValueError("no incremental run to plot")
    top = cells[cells["n_reps"] == cells["n_reps"].max()]
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for tag, part in top.groupby("order", sort=True):
        part = part.sort_values("n_users")
        line = ax.plot(part["n_users"], part["bal_acc_mean"], marker="o", label=tag)[0]
        ax.fill_between(
            part["n_users"],
            part["bal_acc_mean"] - part["bal_acc_std"],
            part["bal_acc_mean"] + part["bal_acc_std"],
            color=line.get_color(),
            alpha=0.12,
        )
    ax.axhline(CHANCE, color="grey", linestyle=":", label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training users (K)")
    ax.set_ylabel("mean per-subject balanced accuracy")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(
        f"Incremental training at R = {int(top['n_reps'].iloc[0])} repetitions per gesture", fontsize=9, loc="left"
    )
    return _save_figure(fig, out_path)

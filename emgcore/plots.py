"""Figures for the benchmark: per-subject accuracy of a run and its training curves.

Uses matplotlib's Agg backend so figures render on headless machines; every figure is saved to
a temp file in the target folder and moved into place with os.replace.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from emgcore.io import write_atomic  # noqa: E402

PER_SUBJECT_REQUIRED = ("subject", "bal_acc", "act_acc")
TRAIN_LOG_REQUIRED = ("epoch", "train_loss", "val_loss", "train_acc", "val_acc")
MAX_SUBJECT_TICKS = 40


def _require_columns(frame: pd.DataFrame, required, what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{what} has no rows")


def _save_figure(fig, out_path: str | Path) -> Path:
    """Save `fig` atomically to out_path (format from its extension) and close it."""
    out_path = Path(out_path)
    suffix = out_path.suffix
    if not suffix:
        raise ValueError(f"figure path {out_path} needs an extension (.png, .pdf, .svg)")
    try:
        write_atomic(out_path, lambda tmp: fig.savefig(tmp, format=suffix.lstrip(".").lower(), dpi=150,
                                                      bbox_inches="tight"))
    finally:
        plt.close(fig)
    return out_path


def plot_per_subject(per_subject: pd.DataFrame, title: str, out_path: str | Path) -> Path:
    """Plot balanced and active accuracy per subject (sorted by balanced accuracy) with their means."""
    _require_columns(per_subject, PER_SUBJECT_REQUIRED, "per-subject table")
    ordered = per_subject.sort_values(["bal_acc", "subject"], kind="stable").reset_index(drop=True)
    rank = np.arange(len(ordered))
    fig, ax = plt.subplots(figsize=(max(6.0, min(16.0, 0.25 * len(ordered))), 4.0))
    series = (("bal_acc", "balanced accuracy", "tab:blue", "o"),
              ("act_acc", "active accuracy", "tab:orange", "s"))
    for column, label, colour, marker in series:
        values = ordered[column].to_numpy(dtype=float)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        ax.plot(rank, values, linestyle="none", marker=marker, markersize=3, color=colour,
                label=f"{label} (mean {mean:.3f})")
        if np.isfinite(mean):
            ax.axhline(mean, color=colour, linestyle="--", linewidth=1)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlim(-0.5, len(ordered) - 0.5)
    ax.set_ylabel("fraction correct")
    if len(ordered) <= MAX_SUBJECT_TICKS:
        ax.set_xticks(rank)
        ax.set_xticklabels(ordered["subject"].astype(int).astype(str), rotation=90, fontsize=7)
        ax.set_xlabel("subject (sorted by balanced accuracy)")
    else:
        ax.set_xlabel(f"{len(ordered)} subjects, sorted by balanced accuracy")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save_figure(fig, out_path)


def plot_training_curves(train_log_csv: str | Path, out_path: str | Path) -> Path:
    """Plot train/validation loss and accuracy per epoch from train_log.csv, marking the best epoch."""
    train_log_csv = Path(train_log_csv)
    if not train_log_csv.is_file():
        raise FileNotFoundError(f"no training log at {train_log_csv}")
    log = pd.read_csv(train_log_csv)
    _require_columns(log, TRAIN_LOG_REQUIRED, f"training log {train_log_csv}")
    best_epoch = int(log.loc[log["val_loss"].idxmin(), "epoch"]) if log["val_loss"].notna().any() else None
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for ax, kind, ylabel in ((loss_ax, "loss", "loss"), (acc_ax, "acc", "accuracy")):
        ax.plot(log["epoch"], log[f"train_{kind}"], marker="o", markersize=3, label="train")
        ax.plot(log["epoch"], log[f"val_{kind}"], marker="o", markersize=3, label="validation")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch {best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    acc_ax.set_ylim(0.0, 1.0)
    fig.suptitle(train_log_csv.parent.name or "training")
    return _save_figure(fig, out_path)


def _run_label(per_subject_csv: Path) -> str:
    """'{run} | {eval_variant}_{norm}' from results/cross/{run}/per_subject_{eval_variant}_{norm}.csv."""
    stem = per_subject_csv.stem
    evaluation = stem[len("per_subject_"):] if stem.startswith("per_subject_") else stem
    return f"{per_subject_csv.parent.name} | {evaluation}"


def plot_run_distributions(per_subject_csvs, out_path: str | Path, metric: str = "bal_acc") -> Path:
    """Box-and-points plot of one per-subject metric for every run/evaluation CSV, means marked.

    Shows the spread over users that a single mean hides; one row per CSV, labelled by run folder
    and evaluation (eval variant and normalisation) taken from the file name.
    """
    paths = [Path(p) for p in ([per_subject_csvs] if isinstance(per_subject_csvs, (str, Path))
                               else per_subject_csvs)]
    if not paths:
        raise ValueError("plot_run_distributions needs at least one per-subject CSV")
    groups, labels = [], []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"no per-subject table at {path}")
        table = pd.read_csv(path)
        _require_columns(table, ("subject", metric), f"per-subject table {path}")
        groups.append(table[metric].astype(float).dropna().to_numpy())
        labels.append(_run_label(path))
    positions = np.arange(len(groups))
    jitter = np.random.default_rng(0)  # fixed jitter: identical figure on every run
    fig, ax = plt.subplots(figsize=(8.0, 1.0 + 0.45 * len(groups)))
    ax.boxplot(groups, positions=positions, orientation="horizontal", showfliers=False,
               widths=0.6, tick_labels=labels)
    for pos, values in zip(positions, groups):
        ax.scatter(values, pos + jitter.uniform(-0.2, 0.2, values.size), s=6, alpha=0.5,
                   color="tab:blue")
    means = [float(np.mean(v)) if v.size else np.nan for v in groups]
    ax.scatter(means, positions, marker="D", color="tab:red", zorder=5, label="mean over subjects")
    ax.invert_yaxis()  # first CSV on top
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(f"per-subject {metric}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return _save_figure(fig, out_path)

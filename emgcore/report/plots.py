"""Figures for the benchmark: per-subject accuracy of a run, training curves, distributions, the tau sweep.

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
from emgcore.report.tables import require_columns  # noqa: E402

PER_SUBJECT_REQUIRED = ("subject", "bal_acc", "act_acc")
TRAIN_LOG_REQUIRED = ("epoch", "train_loss", "val_loss", "train_acc", "val_acc")
MAX_SUBJECT_TICKS = 40


def _save_figure(fig, out_path: str | Path) -> Path:
    """Save `fig` atomically to out_path (format from its extension) and close it."""
    out_path = Path(out_path)
    suffix = out_path.suffix
    if not suffix:
        raise ValueError(f"figure path {out_path} needs an extension (.png, .pdf, .svg)")
    try:
        write_atomic(
            out_path, lambda tmp: fig.savefig(tmp, format=suffix.lstrip(".").lower(), dpi=150, bbox_inches="tight")
        )
    finally:
        plt.close(fig)
    return out_path


def _draw_per_subject(ax, per_subject: pd.DataFrame, title: str) -> None:
    """Balanced and active accuracy per subject on `ax`, sorted by balanced accuracy, means dashed."""
    require_columns(per_subject, PER_SUBJECT_REQUIRED, "per-subject table")
    ordered = per_subject.sort_values(["bal_acc", "subject"], kind="stable").reset_index(drop=True)
    rank = np.arange(len(ordered))
    series = (("bal_acc", "balanced accuracy", "tab:blue", "o"), ("act_acc", "active accuracy", "tab:orange", "s"))
    for column, label, colour, marker in series:
        values = ordered[column].to_numpy(dtype=float)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        ax.plot(
            rank,
            values,
            linestyle="none",
            marker=marker,
            markersize=3,
            color=colour,
            label=f"{label} (mean {mean:.3f})",
        )
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
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", fontsize=7)


def plot_run_evaluations(per_subject: pd.DataFrame, title: str, out_path: str | Path, columns: int = 4) -> Path:
    """One panel of per-subject accuracy per evaluation of a run (rows of `per_subject` grouped by
    `evaluation`, in their order): how evenly the run does on each test variant and normalisation."""
    require_columns(per_subject, (*PER_SUBJECT_REQUIRED, "evaluation"), "per-subject table of a run")
    labels = list(pd.unique(per_subject["evaluation"]))
    columns = min(columns, len(labels))
    rows = -(-len(labels) // columns)
    width = max(5.0, min(9.0, 0.25 * per_subject.groupby("evaluation").size().max()))
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 3.6 * rows), squeeze=False)
    for ax, label in zip(axes.flat, labels):
        _draw_per_subject(ax, per_subject[per_subject["evaluation"] == label], label)
    for ax in list(axes.flat)[len(labels) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, out_path)


def plot_training_curves(train_log_csv: str | Path, out_path: str | Path) -> Path:
    """Plot train/validation loss and accuracy per epoch from train_log.csv, marking the best epoch."""
    train_log_csv = Path(train_log_csv)
    if not train_log_csv.is_file():
        raise FileNotFoundError(f"no training log at {train_log_csv}")
    log = pd.read_csv(train_log_csv)
    require_columns(log, TRAIN_LOG_REQUIRED, f"training log {train_log_csv}")
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


DISTRIBUTION_KINDS = ("box", "violin")
TAU_INF_DECADES = 1.0  # tau = inf is drawn this many decades right of the largest finite tau


def _metric_groups(tables, metric: str) -> dict[str, np.ndarray]:
    """Finite per-subject `metric` values per label; raises naming the label on a bad table."""
    if not hasattr(tables, "items") or not tables:
        raise ValueError("need a non-empty mapping label -> per-subject table")
    groups = {}
    for label, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"per-subject table {label!r} must be a pandas DataFrame, got {type(table).__name__}")
        require_columns(table, ("subject", metric), f"per-subject table {label!r}")
        values = pd.to_numeric(table[metric], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"per-subject table {label!r} has no finite {metric!r} values")
        groups[str(label)] = values
    return groups


def order_by_median(tables, metric: str = "bal_acc") -> list[str]:
    """Labels of `tables` sorted best first: by median per-subject `metric`, then mean, then given order.

    NaN values (e.g. act_acc of a user without active windows) are ignored.
    """
    groups = _metric_groups(tables, metric)
    keyed = [(-float(np.median(v)), -float(np.mean(v)), i, label) for i, (label, v) in enumerate(groups.items())]
    return [label for *_, label in sorted(keyed)]


def plot_metric_distributions(
    tables, out_path: str | Path, metric: str = "bal_acc", title: str = "", kind: str = "box", order=None
) -> Path:
    """One box (or violin) per label of its per-subject `metric`, best median on top, subjects as points.

    `tables` maps a label (model, loss, run ...) to a per-subject table. Every subject is a
    jittered point (fixed seed, so the figure is reproducible), the mean is a red diamond, the
    x axis spans [0, 1] and tick labels carry the number of subjects. `order` (every label of
    `tables` once, first on top) replaces the best-median-first order of `order_by_median`.
    """
    n_labels = len(tables) if hasattr(tables, "__len__") else 0
    fig, ax = plt.subplots(figsize=(8.0, 1.0 + 0.5 * n_labels))
    draw_metric_distributions(ax, tables, metric, kind, order)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return _save_figure(fig, out_path)


def draw_metric_distributions(ax, tables, metric: str = "bal_acc", kind: str = "box", order=None) -> list[str]:
    """Draw :func:`plot_metric_distributions`' boxes on `ax`; returns the labels top to bottom."""
    if kind not in DISTRIBUTION_KINDS:
        raise ValueError(f"kind must be one of {DISTRIBUTION_KINDS}, got {kind!r}")
    groups = _metric_groups(tables, metric)
    if order is None:
        order = order_by_median(tables, metric)
    else:
        order = [str(label) for label in ([order] if isinstance(order, str) else order)]
        if len(order) != len(groups) or set(order) != set(groups):
            raise ValueError(f"order must list every label once: got {order}, labels are {list(groups)}")
    values = [groups[label] for label in order]
    positions = np.arange(len(order))
    tick_labels = [f"{label} (n={v.size})" for label, v in zip(order, values)]
    if kind == "box":
        ax.boxplot(
            values, positions=positions, orientation="horizontal", showfliers=False, widths=0.6, tick_labels=tick_labels
        )
    else:
        parts = ax.violinplot(
            values, positions=positions, orientation="horizontal", widths=0.8, showextrema=False, showmedians=True
        )
        for body in parts["bodies"]:
            body.set_alpha(0.3)
        ax.set_yticks(positions, tick_labels)
    jitter = np.random.default_rng(0)
    for pos, v in zip(positions, values):
        ax.scatter(
            v, pos + jitter.uniform(-0.2, 0.2, v.size), s=8, alpha=0.5, color="tab:blue", clip_on=False, zorder=3
        )
    ax.scatter(
        [float(np.mean(v)) for v in values],
        positions,
        marker="D",
        color="tab:red",
        zorder=5,
        clip_on=False,
        label="mean over subjects",
    )
    ax.set_ylim(len(order) - 0.5, -0.5)  # first of `order` (by default the best median) on top
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(f"per-subject {metric}")
    ax.grid(axis="x", alpha=0.3)
    return order


def _tau_table(table: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, str]:
    """Checked copy of a tau-sweep table with numeric tau, and the name of its grouping column."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"tau sweep table must be a pandas DataFrame, got {type(table).__name__}")
    group = "run" if "run" in table.columns else "label"
    if group not in table.columns:
        raise ValueError(f"tau sweep table needs a 'run' or 'label' column; has {list(table.columns)}")
    require_columns(table, ("tau", group, f"{metric}_mean", f"{metric}_std"), "tau sweep table")
    out = table.copy()
    try:
        out["tau"] = out["tau"].astype(float)  # parses "inf" and "nan" text too, on pandas 2 and 3
    except (TypeError, ValueError) as err:
        raise ValueError(f"column 'tau' of the tau sweep table is not numeric: {err}") from None
    for column in (f"{metric}_mean", f"{metric}_std"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    tau = out["tau"].to_numpy()
    bad = (tau == -np.inf) | (np.isfinite(tau) & (tau <= 0))
    if bad.any():
        raise ValueError(f"tau must be > 0, inf, or NaN (no normalisation); got {sorted(set(tau[bad]))}")
    if not (~np.isnan(tau)).any():
        raise ValueError("tau sweep table has no rows with a tau value (only NaN baselines)")
    key = out[[group]].assign(tau=out["tau"].fillna(-1.0))  # NaN rows count as one key per group
    duplicated = key.duplicated()
    if duplicated.any():
        first = out.loc[duplicated].iloc[0]
        raise ValueError(f"tau sweep table has more than one row for {group} {first[group]!r}, tau {first['tau']}")
    return out, group


def plot_tau_sweep(table: pd.DataFrame, out_path: str | Path, metric: str = "bal_acc") -> Path:
    """Mean ± std of `metric` against the normalisation time constant tau, one line per run/label.

    Columns: tau, run (or, without a run column, label), {metric}_mean, {metric}_std. The x axis
    is logarithmic over the finite taus; tau = inf (statistics never forget) is drawn one decade
    right of the largest finite tau with the tick label "inf", joined by a dotted segment across a
    grey axis break. Convention for baselines: a row whose tau is NaN is that run's
    no-normalisation ("nonorm") result and is drawn as a dashed horizontal line (± std band) in
    the run's colour; a label with only a NaN row (e.g. "nonorm") is a baseline of its own.
    """
    data, group = _tau_table(table, metric)
    mean_col, std_col = f"{metric}_mean", f"{metric}_std"
    finite = data["tau"].to_numpy()[np.isfinite(data["tau"].to_numpy())]
    x_inf = float(finite.max()) * 10.0**TAU_INF_DECADES if finite.size else 1.0
    has_inf = bool(np.isinf(data["tau"]).any())
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    ax.set_xscale("log")
    for i, name in enumerate(pd.unique(data[group])):
        rows = data[data[group] == name]
        colour = colours(i % 10)
        swept = rows[rows["tau"].notna()].sort_values("tau")
        baseline = rows[rows["tau"].isna()]
        if not swept.empty:
            x = np.where(np.isinf(swept["tau"]), x_inf, swept["tau"]).astype(float)
            y, err = swept[mean_col].to_numpy(), swept[std_col].to_numpy()
            is_inf = np.isinf(swept["tau"].to_numpy())
            ax.errorbar(
                x[~is_inf],
                y[~is_inf],
                yerr=np.nan_to_num(err[~is_inf]),
                marker="o",
                markersize=4,
                capsize=3,
                color=colour,
                label=str(name),
            )
            if is_inf.any():
                ax.errorbar(
                    x[is_inf],
                    y[is_inf],
                    yerr=np.nan_to_num(err[is_inf]),
                    marker="o",
                    markersize=4,
                    capsize=3,
                    color=colour,
                    linestyle="none",
                    label=None if (~is_inf).any() else str(name),
                )
                if (~is_inf).any():
                    ax.plot([x[~is_inf][-1], x_inf], [y[~is_inf][-1], y[is_inf][0]], linestyle=":", color=colour)
        for _, row in baseline.iterrows():
            mean, std = float(row[mean_col]), float(row[std_col])
            ax.axhline(mean, linestyle="--", color=colour, linewidth=1, label=f"{name} (no normalisation)")
            if np.isfinite(std) and std > 0:
                ax.axhspan(mean - std, mean + std, color=colour, alpha=0.08, linewidth=0)
    ticks = sorted(set(finite.tolist()))
    tick_labels = [f"{t:g}" for t in ticks]
    if has_inf:
        if finite.size:
            ax.axvline(float(np.sqrt(finite.max() * x_inf)), color="grey", linestyle=":", linewidth=1)
        ticks.append(x_inf)
        tick_labels.append("inf")
    ax.set_xticks(ticks, tick_labels)
    ax.minorticks_off()
    ax.set_xlabel("normalisation time constant tau")
    ax.set_ylabel(f"{metric} (mean ± std)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return _save_figure(fig, out_path)


LATENT_TASK_TITLES = {
    "gesture": "gesture (train: other people)",
    "subject": "subject identity across gestures",
    "subject_within": "subject identity within a gesture",
}


def plot_latent_summary(summary: pd.DataFrame, out_path: str | Path, metric: str = "bal_acc_mean") -> Path:
    """What the pattern (p) and subject (s) codes carry: one panel per dataset x task.

    `summary` is `emgcore.disentangle.latent.collect_latent_summaries` output. In each panel every
    (measure, classifier) is a point per code, the bar is their mean and the dashed line chance.
    """
    require_columns(summary, ("dataset", "measure", "classifier", "code", "task", "chance", metric), "latent summary")
    datasets = list(dict.fromkeys(summary["dataset"]))
    tasks = [t for t in LATENT_TASK_TITLES if t in set(summary["task"])]
    codes = sorted(set(summary["code"]))
    fig, axes = plt.subplots(
        len(datasets), len(tasks), figsize=(3.2 * len(tasks), 2.6 * len(datasets)), squeeze=False, sharey=True
    )
    jitter = np.random.default_rng(0)
    for r, ds in enumerate(datasets):
        for c, task in enumerate(tasks):
            ax = axes[r, c]
            part = summary[(summary["dataset"] == ds) & (summary["task"] == task)]
            for x, code in enumerate(codes):
                values = part.loc[part["code"] == code, metric].to_numpy(float)
                if values.size:
                    ax.bar(x, values.mean(), width=0.6, color=("tab:blue", "tab:orange")[x % 2], alpha=0.5)
                    ax.scatter(x + jitter.uniform(-0.15, 0.15, values.size), values, s=10, color="k", zorder=3)
            if not part.empty:
                ax.axhline(float(part["chance"].mean()), ls="--", color="gray", lw=1, label="chance")
            ax.set_xticks(range(len(codes)), [f"{code} code" for code in codes])
            ax.set_ylim(0.0, 1.05)
            ax.set_title(f"{ds}: {LATENT_TASK_TITLES[task]}", fontsize=9)
            if c == 0:
                ax.set_ylabel(metric.replace("_mean", "") + " (mean over held-out)")
    axes[0, -1].legend(loc="upper right", fontsize=7, frameon=False)
    fig.tight_layout()
    return _save_figure(fig, out_path)

"""The results at a glance: a heatmap of every cross-user run and a short table printed after a run.

Both read `results/results.csv`. The heatmap has one row per run (model/loss on its training
variant) and one column per evaluation (test variant x norm); each cell holds the mean per-subject
balanced accuracy with the standard deviation across subjects under it. The table lists, per run,
the mean, std and worst-decile mean of per-subject balanced accuracy on the raw (and the
threshold-segmented) test windows without normalisation, against the chance level.

    python -m emgcore.report.summary results/results.csv      # the table (what `make run` prints)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.data.labels import N_CLASSES
from emgcore.layout import NORM_MODES
from emgcore.preprocess.segmentation import VARIANTS
from emgcore.report.plots import _save_figure, plt
from emgcore.report.tables import require_columns

#: chance level of balanced accuracy over the five classes (noGesture + four gestures)
CHANCE = 1.0 / N_CLASSES
SUMMARY_COLUMNS = ("run", "model", "loss", "train_variant", "eval_variant", "norm", "bal_acc_mean", "bal_acc_std")


def cross_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The cross-user rows of results.csv (every row with a training variant: not the disentangling
    ones), without the feature grid's runs (a model on eleven feature groups; they have their own
    heatmap, emgcore.report.feature_grid), without the within-user, incremental and rotation rows."""
    require_columns(results, SUMMARY_COLUMNS, "results table")
    rows = results[results["train_variant"].notna() & results["eval_variant"].notna()]
    if "feature_group" in rows.columns:
        rows = rows[rows["feature_group"].isna() | (rows["feature_group"].astype(str) == "")]
    rows = rows[rows["loss"] != "within"]  # per-subject models: their own figures (emgcore.within.report)
    if "n_users" in rows.columns:  # the incremental sweep's runs (K users x R repetitions): their heatmaps
        rows = rows[rows["n_users"].isna()]
    rows = rows[rows["loss"] != "rotation"]  # the rotation experiment's arms: results/rotation.csv and its figures
    if rows.empty:
        raise ValueError("results table has no cross-user rows (all rows lack train_variant/eval_variant)")
    return rows


def run_label(model: str, loss: str, train_variant: str) -> str:
    """How a run is named in the summary: ``mhcnn / cvar on standard`` (model / loss on its training windows)."""
    return f"{model} / {loss} on {train_variant}"


def _labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with a ``label`` column: each row's :func:`run_label`."""
    return rows.assign(
        label=[run_label(m, lo, v) for m, lo, v in zip(rows["model"], rows["loss"], rows["train_variant"])]
    )


def summary_grid(results: pd.DataFrame, value: str = "bal_acc_mean") -> pd.DataFrame:
    """Runs x evaluations (``<eval_variant> / <norm>``) of `value`; rows sorted best first on raw/nonorm."""
    rows = _labelled(cross_rows(results)).assign(evaluation=lambda t: t["eval_variant"] + " / " + t["norm"])
    grid = rows.pivot_table(index="label", columns="evaluation", values=value, aggfunc="mean")
    known = [f"{v} / {n}" for v in VARIANTS for n in NORM_MODES]
    columns = sorted(grid.columns, key=lambda c: known.index(c) if c in known else len(known))
    order = grid[columns[0]].sort_values(ascending=False, na_position="last", kind="stable").index
    return grid.loc[order, columns]


def plot_summary_heatmap(results: pd.DataFrame, out_path: str | Path, chance: float = CHANCE) -> Path:
    """Heatmap of mean per-subject balanced accuracy (std in each cell) for every run and evaluation."""
    mean = summary_grid(results, "bal_acc_mean")
    std = summary_grid(results, "bal_acc_std").reindex(index=mean.index, columns=mean.columns)
    n_rows, n_cols = mean.shape
    fig, ax = plt.subplots(figsize=(2.0 + 1.15 * n_cols, 1.2 + 0.42 * n_rows))
    image = ax.imshow(mean.to_numpy(dtype=float), cmap="viridis", vmin=chance, vmax=1.0, aspect="auto")
    for i in range(n_rows):
        for j in range(n_cols):
            m, s = mean.iat[i, j], std.iat[i, j]
            if np.isfinite(m):
                colour = "white" if m < chance + 0.55 * (1 - chance) else "black"
                ax.text(j, i, f"{m:.2f}\n±{s:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(n_cols), mean.columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows), mean.index, fontsize=8)
    ax.set_xlabel("test windows / normalisation")
    ax.set_title(
        f"Mean per-subject balanced accuracy (± std over test users); chance {chance:.2f}", fontsize=9, loc="left"
    )
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="balanced accuracy")
    return _save_figure(fig, out_path)


def summary_table(results: pd.DataFrame, eval_variants: Sequence[str] = ("raw", "standard")) -> pd.DataFrame:
    """Per run, for each of `eval_variants` without normalisation: mean, std and worst-decile mean of
    per-subject balanced accuracy across the test users, best first on the first variant."""
    rows = cross_rows(results)
    require_columns(rows, ("bal_acc_worst10", "n_subjects"), "results table")
    rows = _labelled(rows[rows["norm"] == "nonorm"])
    table = None
    for variant in eval_variants:
        part = rows[rows["eval_variant"] == variant].set_index("label")
        if part.empty:
            continue
        stats = part[["bal_acc_mean", "bal_acc_std", "bal_acc_worst10"]]
        stats.columns = [f"{variant} mean", f"{variant} std", f"{variant} worst10%"]
        if table is None:
            table = part[["n_subjects"]].rename(columns={"n_subjects": "subjects"}).join(stats)
        else:
            table = table.join(stats, how="outer")
    if table is None:
        raise ValueError(f"results table has no nonorm row on {list(eval_variants)}")
    first = table.columns[1]
    return table.sort_values(first, ascending=False, na_position="last").rename_axis("run").reset_index()


def format_table(table: pd.DataFrame, chance: float = CHANCE) -> str:
    """The summary table as text, with the chance level."""
    lines = [
        "Per-subject balanced accuracy across test users (no normalisation), on the raw and the "
        f"threshold-segmented (standard) test windows; chance {chance:.2f}",
        table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emgcore.report.summary", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results/results.csv")
    args = parser.parse_args(argv)
    path = Path(args.results)
    if not path.is_file():
        print(f"{path}: no results table; run `snakemake --cores all` first", file=sys.stderr)
        return 2
    print(format_table(summary_table(pd.read_csv(path))))
    folder = path.parent
    print(
        f"\nEvery run and evaluation: {folder / 'figures' / 'summary_bal_acc.png'}; "
        f"tables and figures with captions: {folder / 'report.html'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

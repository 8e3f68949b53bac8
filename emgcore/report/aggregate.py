"""results/results.csv: one row per run and evaluation, built from the per-run summary files."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

import pandas as pd

from emgcore.layout import evaluation_label

#: leading columns of results.csv, in this order; metric columns follow
#: (feature_group: the hand-crafted feature group of a feature-grid run, empty for every other run)
KEY_COLUMNS = ["run", "model", "loss", "feature_group", "train_variant", "seed", "eval_variant", "norm", "n_subjects"]
#: what tells two rows of one run apart: the evaluation variant and norm, or (disentangling) the latent code
ROW_KEYS = ["run", "eval_variant", "norm", "code"]
REQUIRED_METRICS = [
    "acc_mean",
    "acc_std",
    "act_acc_mean",
    "act_acc_std",
    "bal_acc_mean",
    "bal_acc_std",
    "f1_mean",
    "f1_std",
]


def aggregate_summaries(paths: Iterable[str | Path], keep: Collection[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Concatenate summary CSVs (one row per evaluation) into the results table, sorted by run and evaluation.

    With `keep`, a set of (run, evaluation label) pairs (`emgcore.layout.evaluation_label`), only
    those rows of the runs it names are kept (a run's summary also holds its tau sweep); rows of
    other runs (the disentangling and within-user rows) are always kept.
    """
    kept_runs = {run for run, _ in keep} if keep is not None else set()
    frames = []
    for path in paths:
        df = pd.read_csv(path)
        if keep is not None and "eval_variant" in df.columns and df["eval_variant"].notna().any():
            labels = [evaluation_label(v, n, t) for v, n, t in zip(df["eval_variant"], df["norm"], df["tau"])]
            df = df[[(run, label) in keep or run not in kept_runs for run, label in zip(df["run"], labels)]]
        missing = [c for c in KEY_COLUMNS + REQUIRED_METRICS if c not in df.columns]
        if missing:
            raise ValueError(f"{path}: summary lacks columns {missing}")
        frames.append(df)
    if not frames:
        raise ValueError("no summary files to aggregate")
    table = pd.concat(frames, ignore_index=True)
    if table.empty:
        raise ValueError("no summary row to aggregate (none of the evaluations asked for)")
    metrics = [c for c in table.columns if c not in KEY_COLUMNS]
    table = table[KEY_COLUMNS + metrics]
    keys = [k for k in ROW_KEYS if k in table.columns]
    dup = table.duplicated(keys)
    if dup.any():
        raise ValueError(f"duplicate rows for {table.loc[dup, keys].values.tolist()}")
    return table.sort_values(keys, ignore_index=True)

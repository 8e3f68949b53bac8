"""Every evaluation of one cross-user run in one pass: one model load, one read of the test users.

A run is evaluated on several test variants, raw (``nonorm``) and through RunningNorm (``norm``,
at the configured time constant and at each point of the tau sweep). The test users' int8
signals are read from the store once and shared by every window index; the model is loaded
once. The result is one long per-subject table (one row per evaluation and subject) and its
summary (one row per evaluation), both carrying the run's identity, so nothing downstream
needs the file name to know what a row is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emgcore import layout
from emgcore.cross.running_norm import NormalizedWindowDataset
from emgcore.cross.runs import model_view, run_features
from emgcore.cross.training import load_model, predict
from emgcore.data.store import load_signal, store_filename
from emgcore.features.datasets import FeatureCache
from emgcore.layout import NORM_MODES, CrossRun
from emgcore.models import model_spec
from emgcore.preprocess.population import resolve_population
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.preprocess.window_index import WindowIndex, load_window_index
from emgcore.report.metrics import per_subject_metrics, summarise


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: a test variant, raw (``nonorm``) or RunningNorm (``norm``) with time constant `tau`."""

    eval_variant: str
    norm: str
    tau: float = math.nan

    def __post_init__(self) -> None:
        if self.norm not in NORM_MODES:
            raise ValueError(f"unknown norm {self.norm!r}; expected one of {NORM_MODES}")
        if self.norm == "norm" and not self.tau >= 1:
            raise ValueError(f"a normalised evaluation needs tau >= 1 sample (or inf), got {self.tau}")
        if self.norm == "nonorm" and not math.isnan(self.tau):
            raise ValueError("an evaluation without normalisation has no tau")

    @classmethod
    def parse(cls, label: str) -> Evaluation:
        """From :attr:`label` (`emgcore.layout.evaluation_label`): ``raw/nonorm`` or ``raw/norm/2000``."""
        return cls(*layout.parse_evaluation(label))

    @property
    def label(self) -> str:
        return layout.evaluation_label(self.eval_variant, self.norm, self.tau)


def evaluate_run(
    run_dir: str | Path,
    store_dir: str | Path,
    test_indexes: Mapping[str, str | Path | WindowIndex],
    evaluations: Sequence[Evaluation],
    batch_size: int,
    prior_count: int,
    population=None,
    feature_cache: FeatureCache | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-subject table, summary) of every evaluation of the run in `run_dir`.

    With `feature_cache` (a feature model), the features of the test windows without
    normalisation are computed once for every run that shares the cache.

    `test_indexes` maps each test variant used by `evaluations` to its window index.
    Normalised evaluations need the training population's statistics (`population`: a path from
    ``save_population_stats`` or a ``(mean, std)`` pair) and RunningNorm's `prior_count`. Both
    tables lead with the run's identity (``run.json``) and the evaluation's keys.
    """
    if not evaluations:
        raise ValueError("no evaluations to run")
    labels = [e.label for e in evaluations]
    if len(set(labels)) != len(labels):
        raise ValueError(f"evaluations listed twice: {sorted({x for x in labels if labels.count(x) > 1})}")
    missing = sorted({e.eval_variant for e in evaluations} - set(test_indexes))
    if missing:
        raise ValueError(f"no test window index given for variants {missing}")
    run_dir = Path(run_dir)
    identity = CrossRun.from_info(layout.read_run_info(run_dir)).as_dict()
    model_path = run_dir / layout.MODEL_FILE
    model = load_model(model_path)
    model_name = getattr(model, "model_name", None) or model_spec(model)["name"]
    features = run_features(model_path)
    indexes = {v: load_window_index(test_indexes[v]) for v in dict.fromkeys(e.eval_variant for e in evaluations)}
    for variant, index in indexes.items():
        if len(index) == 0:
            raise ValueError(f"{test_indexes[variant]}: window index is empty; nothing to evaluate")
    subjects = sorted({int(s) for index in indexes.values() for s in index.subjects()})
    signals = {s: load_signal(Path(store_dir) / store_filename(s)) for s in subjects}  # each store read once
    prior = resolve_population(population) if any(e.norm == "norm" for e in evaluations) else None
    tables, summaries = [], []
    for evaluation in evaluations:
        index = indexes[evaluation.eval_variant]
        if evaluation.norm == "norm":
            dataset = NormalizedWindowDataset(index, signals, *prior, tau=evaluation.tau, prior_count=prior_count)
        else:
            dataset = WindowDataset(index, signals)
        view = model_view(dataset, model_name, features)
        if feature_cache is not None and evaluation.norm == "nonorm":
            view = feature_cache.view(f"{test_indexes[evaluation.eval_variant]}", view)
        y_true, y_pred, subject = predict(model, make_loader(view, batch_size, shuffle=False, seed=0))
        per_subject = per_subject_metrics(y_true, y_pred, subject)
        keys = {**identity, "eval_variant": evaluation.eval_variant, "norm": evaluation.norm, "tau": evaluation.tau}
        tables.append(lead_with(per_subject, keys))
        summaries.append(lead_with(summarise(per_subject), keys))
    return pd.concat(tables, ignore_index=True), pd.concat(summaries, ignore_index=True)


def lead_with(table: pd.DataFrame, keys: Mapping) -> pd.DataFrame:
    """`table` with `keys` inserted as its leading columns (an evaluation's identity), in place."""
    for i, (key, value) in enumerate(keys.items()):
        table.insert(i, key, value)
    return table


def write_run_evaluation(
    run_dir: str | Path,
    store_dir: str | Path,
    test_indexes: Mapping[str, str | Path],
    evaluations: Sequence[Evaluation],
    batch_size: int,
    prior_count: int,
    population,
    per_subject_out: str | Path,
    summary_out: str | Path,
    figure_out: str | Path,
    feature_cache: FeatureCache | None = None,
) -> pd.DataFrame:
    """:func:`evaluate_run`, then its two tables (atomically) and the per-subject figure; returns the summary."""
    from emgcore.io import write_csv_atomic
    from emgcore.report.plots import plot_run_evaluations
    from emgcore.report.tables import evaluation_labels

    per_subject, summary = evaluate_run(
        run_dir, store_dir, test_indexes, evaluations, batch_size, prior_count, population, feature_cache
    )
    write_csv_atomic(per_subject, per_subject_out)
    write_csv_atomic(summary, summary_out)
    labelled = per_subject.assign(evaluation=evaluation_labels(per_subject))
    plot_run_evaluations(labelled, f"{summary.run.iloc[0]}: per-subject accuracy", figure_out)
    return summary

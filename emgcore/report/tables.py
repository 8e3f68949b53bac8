"""Table helpers: the check every function taking a pandas table starts with (the columns it needs, and
rows), and picking the evaluations out of a run's per-subject table or summary (emgcore.cross.evaluation)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from emgcore.layout import evaluation_label, parse_evaluation


def require_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    """Raise ValueError naming `what` if `frame` lacks any of `required` or has no rows."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{what} has no rows")


def evaluation_labels(table: pd.DataFrame) -> list[str]:
    """The evaluation label (`emgcore.layout.evaluation_label`) of every row of a run's table."""
    require_columns(table, ("eval_variant", "norm", "tau"), "table of evaluations")
    return [evaluation_label(v, n, t) for v, n, t in zip(table["eval_variant"], table["norm"], table["tau"])]


def select(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The rows of one evaluation (`emgcore.layout.evaluation_label`, e.g. ``raw/norm/2000``) of a
    per-subject table or summary written by `emgcore.cross.evaluation.evaluate_run`."""
    eval_variant, norm, tau = parse_evaluation(label)
    rows = table[(table["eval_variant"] == eval_variant) & (table["norm"] == norm)]
    if norm == "norm":
        rows = rows[np.isclose(rows["tau"].astype(float), tau)]  # inf equals inf here
    return rows

"""User orderings and training sets of the incremental sweep (K training users x R repetitions).

A ranking gives each training user a score (its within-user balanced accuracy). ``worst`` takes the
K lowest-scoring users, ``best`` the K highest, ties broken by the lower user id in both; ``random``
takes the first K of a shuffle of the users drawn with a given seed. The selection is the first K
entries of the sorted order itself, so growing K only adds users. (An earlier snapshot indexed the
users with the ranks, argsort(argsort(score)), instead of with the order, argsort(score): that picks
the users *at the positions* the worst users would occupy, a different set.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore.data.labels import USED_CLASSES
from emgcore.data.store import read_reps, store_filename
from emgcore.preprocess.window_index import WindowIndex
from emgcore.settings import fit_to_data
from emgcore.within.repetitions import SWEEP_BLOCKS, first_repetitions

ORDERINGS = ("worst", "best", "random")


def ranking_scores(
    ranking: pd.DataFrame | pd.Series | Mapping[int, float], subject: str = "subject", score: str = "bal_acc"
) -> pd.Series:
    """The ranking as a float Series indexed by user id (sorted), checked: one finite score per user.

    Accepts a table with columns `subject` and `score`, a Series indexed by user, or a mapping.
    """
    if isinstance(ranking, pd.DataFrame):
        missing = [c for c in (subject, score) if c not in ranking.columns]
        if missing:
            raise ValueError(f"ranking table lacks columns {missing} (has {list(ranking.columns)})")
        users, values = ranking[subject].to_numpy(), ranking[score].to_numpy()
    elif isinstance(ranking, pd.Series):
        users, values = ranking.index.to_numpy(), ranking.to_numpy()
    elif isinstance(ranking, Mapping):
        users, values = np.asarray(list(ranking.keys())), np.asarray(list(ranking.values()))
    else:
        raise TypeError(f"ranking must be a DataFrame, Series or mapping, got {type(ranking).__name__}")
    if len(users) == 0:
        raise ValueError("ranking is empty: no training users to order")
    if not all(float(u) == int(u) for u in users):
        raise ValueError(f"ranking user ids must be integers, got {list(users[:5])}")
    users = np.asarray(users).astype(np.int64)
    values = np.asarray(values, dtype=np.float64)
    repeated = np.unique(users[pd.Series(users).duplicated().to_numpy()])
    if repeated.size:
        raise ValueError(f"ranking lists users more than once: {repeated[:10].tolist()}")
    bad = users[~np.isfinite(values)]
    if bad.size:
        raise ValueError(f"ranking has no finite {score!r} for users {bad[:10].tolist()}")
    return pd.Series(values, index=pd.Index(users, name=subject), name=score).sort_index()


def user_order(ranking, ordering: str, seed: int | None = None) -> list[int]:
    """Every ranked user in the order of `ordering`; `seed` is required by 'random' and refused otherwise."""
    scores = ranking_scores(ranking)
    users, values = scores.index.to_numpy(), scores.to_numpy()  # users ascending
    if ordering not in ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}; expected one of {ORDERINGS}")
    if ordering == "random":
        if seed is None or isinstance(seed, bool) or int(seed) != seed:
            raise ValueError(f"ordering 'random' needs an integer seed, got {seed!r}")
        return users[np.random.default_rng(int(seed)).permutation(users.size)].tolist()
    if seed is not None:
        raise ValueError(f"ordering {ordering!r} is deterministic and takes no seed (got {seed!r})")
    key = values if ordering == "worst" else -values
    order = np.lexsort((users, key))  # by score, then by the lower user id
    return users[order].tolist()


@dataclass(frozen=True)
class UserSelection:
    """The first `k_used` users of an ordering (`k_configured` asked; `adapted` records a clip)."""

    ordering: str
    seed: int | None
    users: tuple[int, ...]
    k_configured: int
    k_used: int
    adapted: dict | None = None


def select_users(ranking, ordering: str, k: int, seed: int | None = None) -> UserSelection:
    """Exactly the first K users of `ordering` (see :func:`user_order`); K above the number of ranked
    users is clipped to it, with a SettingAdapted warning and the record in ``adapted``."""
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"K (training users) must be a positive integer, got {k!r}")
    order = user_order(ranking, ordering, seed)
    used, adapted = fit_to_data("incremental K (training users)", int(k), len(order), 1, "ranked training users")
    return UserSelection(ordering, seed, tuple(order[:used]), int(k), int(used), adapted)


def incremental_index(
    index: WindowIndex,
    store_dir: str | Path,
    users: Iterable[int],
    n_reps: int,
    blocks=SWEEP_BLOCKS,
    gestures=USED_CLASSES,
) -> tuple[WindowIndex, dict[int, dict]]:
    """The windows of `index` (all training windows) that belong to the first `n_reps` repetitions
    per gesture of each of `users` (read from their reps tables in `store_dir`).

    Filtering the full training index keeps its variant, geometry and rest threshold. Returns the
    index and {user: clipping record} for the users that have fewer than `n_reps` repetitions.
    """
    users = [int(u) for u in users]
    if not users:
        raise ValueError("no users selected for the incremental training index")
    if len(set(users)) != len(users):
        raise ValueError(f"users listed more than once: {sorted(u for u in set(users) if users.count(u) > 1)}")
    absent = sorted(set(users) - set(index.subjects().tolist()))
    if absent:
        raise ValueError(f"users {absent[:10]} have no windows in the training index (not training users?)")
    if np.any(np.diff(index.subject) < 0):
        raise ValueError("the training index is not sorted by subject (build it with build_window_index)")
    keep = np.zeros(len(index), dtype=bool)
    adapted = {}
    for user in users:
        path = Path(store_dir) / store_filename(user)
        first = first_repetitions(read_reps(path), n_reps, blocks, gestures, where=f"subject {user}")
        if first.adapted:
            adapted[user] = first.adapted
        lo, hi = np.searchsorted(index.subject, user, "left"), np.searchsorted(index.subject, user, "right")
        keep[lo:hi] = np.isin(index.rep[lo:hi], first.rows)
    subset = WindowIndex(
        index.subject[keep], index.rep[keep], index.start[keep], index.label[keep], index.window, index.stride
    )
    return subset, adapted


def within_ranking(table: pd.DataFrame, model: str, n_train_reps: int, split: str = "train") -> pd.Series:
    """Each `split` user's within-user balanced accuracy of `model` (e.g. ``mhcnn-noft``) at
    ``N = n_train_reps``, from the within sweep's per-subject table: what orders the users."""
    from emgcore.within.fit import WithinModel

    spec = WithinModel.parse(model)
    ft = table["ft"].fillna("").astype(str) if "ft" in table.columns else pd.Series("", index=table.index)
    rows = table[
        (table["model"] == spec.model)
        & (ft == spec.ft)
        & (table["n_train_reps"] == n_train_reps)
        & (table["split"] == split)
    ]
    if rows.empty:
        raise ValueError(f"the within-user tables hold no {split} user for {spec.name} at N={n_train_reps}")
    return ranking_scores(rows[["subject", "bal_acc"]])


def train_incremental_run(
    run,
    ranking,
    store_dir: str | Path,
    train_index: WindowIndex,
    val_index,
    test_index,
    out_dir: str | Path,
    training,
    batch_size: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the cross-user MHCNN of one :class:`emgcore.layout.IncrementalRun` (its K users of the
    ordering, their first R repetitions per gesture) into `out_dir` and evaluate it on the test users
    without normalisation; returns (per-subject table, summary), both with the run's keys: ``run``
    (its name), ordering, order_seed, n_users (K used), n_reps (R asked) and the selected users in run.json."""
    import json

    from emgcore import layout
    from emgcore.cross.evaluation import Evaluation, evaluate_run
    from emgcore.cross.runs import train_cross_run
    from emgcore.io import write_text_atomic

    selection = select_users(ranking, run.ordering, run.k, run.order_seed)
    index, clipped = incremental_index(train_index, store_dir, selection.users, run.r)
    out_dir = Path(out_dir)
    cross = layout.CrossRun("mhcnn", "base", run.variant, run.seed)
    train_cross_run(cross, store_dir, index, val_index, out_dir, training, progress=False)
    info = json.loads((out_dir / layout.RUN_INFO).read_text())
    info["incremental"] = {
        "run": run.name,
        "ordering": run.ordering,
        "order_seed": run.order_seed,
        "k": run.k,
        "k_used": selection.k_used,
        "r": run.r,
        "users": [int(u) for u in selection.users],
        "n_windows": len(index),
        "adapted": {
            **({"k": selection.adapted} if selection.adapted else {}),
            **{str(u): a for u, a in clipped.items()},
        },
    }
    write_text_atomic(out_dir / layout.RUN_INFO, json.dumps(info, indent=1))
    per_subject, summary = evaluate_run(
        out_dir, store_dir, {run.variant: test_index}, [Evaluation(run.variant, "nonorm")], batch_size, 0
    )
    keys = dict(run=run.name, ordering=run.ordering, order_seed=run.order_seed, n_users=selection.k_used, n_reps=run.r)
    return per_subject.assign(**keys), summary.assign(**keys)

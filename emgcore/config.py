"""Config helpers shared by the Snakefile and the scripts: splits, run names, training settings."""

from __future__ import annotations

import re
from collections.abc import Mapping

from emgcore.splits import EPN612_SPLITS, check_splits

#: users of the built-in datasets (training users, testing users)
SYNTHETIC_USERS = {"demo": (20, 20), "epn612": (306, 306)}
CIIL_USERS = (21, 11)  # ElectrodeShift people as training users, MinimalTrainingData as testing users
EPN612_VAL_FRACTION = 26 / 306  # EPN-612: 26 of its 306 testing users validate

_RUN = re.compile(r"^(?P<model>[a-z0-9_]+)-(?P<loss>[a-z0-9]+)-(?P<train_variant>[a-z]+)-s(?P<seed>\d+)$")


def proportional_splits(n_train_users: int, n_test_users: int) -> dict[str, tuple[int, int]]:
    """EPN-612's proportions for another size: all training users train, ~8.5% of testing users validate."""
    n_val = max(1, round(n_test_users * EPN612_VAL_FRACTION))
    if n_test_users - n_val < 1:
        raise ValueError(f"need at least 2 testing users for a val and a test split, got {n_test_users}")
    return {
        "train": (1, n_train_users),
        "val": (n_train_users + 1, n_train_users + n_val),
        "test": (n_train_users + n_val + 1, n_train_users + n_test_users),
    }


def resolve_splits(config: Mapping) -> dict[str, tuple[int, int]]:
    """The configured splits, or the dataset's default ones when `splits` is left out."""
    splits = config.get("splits")
    if splits:
        splits = {k: tuple(v) for k, v in splits.items()}
    elif config["dataset"] == "epn612":
        splits = dict(EPN612_SPLITS)
    elif config["dataset"] == "synthetic":
        syn = config.get("synthetic") or {}
        n_train, n_test = SYNTHETIC_USERS[syn.get("preset", "demo")]
        splits = proportional_splits(syn.get("n_train_users", n_train), syn.get("n_test_users", n_test))
    else:
        splits = proportional_splits(*CIIL_USERS)
    try:
        check_splits(splits)
    except ValueError as e:
        raise ValueError(f"config: {e}") from None
    return splits


def run_name(model: str, loss: str, train_variant: str, seed: int) -> str:
    """Folder name of a cross-user run, e.g. `mhcnn-base-raw-s0`."""
    return f"{model}-{loss}-{train_variant}-s{int(seed)}"


def parse_run_name(run: str) -> dict:
    """Inverse of `run_name`: {'model', 'loss', 'train_variant', 'seed'}."""
    m = _RUN.match(run)
    if not m:
        raise ValueError(f"run name {run!r} is not <model>-<loss>-<train_variant>-s<seed>")
    parts = m.groupdict()
    parts["seed"] = int(parts["seed"])
    return parts

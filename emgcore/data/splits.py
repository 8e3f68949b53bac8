"""Fixed user splits: 1-based global user numbers (training users first) -> 0-based subject ids.

Never shuffled. EMG-EPN-612 trains on users 1-306, validates on 307-332 and tests on 333-612;
a dataset of another size gets the same proportions, computed from its manifest (how many
training and testing users it has), unless the config gives ranges of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

SPLIT_NAMES = ("train", "val", "test")
#: EMG-EPN-612: users 1-306 train, 307-332 validation, 333-612 test; never shuffled
EPN612_SPLITS = {"train": (1, 306), "val": (307, 332), "test": (333, 612)}
EPN612_VAL_FRACTION = 26 / 306  # EPN-612: 26 of its 306 testing users validate


def split_subjects(splits: Mapping[str, Iterable[int]], split: str, available: Iterable[int]) -> list[int]:
    """Subject ids of `split` among `available`, in increasing order."""
    if split not in splits:
        raise KeyError(f"unknown split {split!r}; configured splits are {sorted(splits)}")
    first, last = splits[split]
    return sorted(s for s in available if first - 1 <= s <= last - 1)


def check_splits(splits: Mapping[str, Iterable[int]]) -> None:
    """Raise ValueError if a range is reversed or two splits overlap."""
    ranges = []
    for name, (first, last) in splits.items():
        if first < 1 or last < first:
            raise ValueError(f"splits.{name}: expected [first, last] with 1 <= first <= last, got {[first, last]}")
        ranges.append((first, last, name))
    ranges.sort()
    for (a0, a1, an), (b0, b1, bn) in zip(ranges, ranges[1:]):
        if b0 <= a1:
            raise ValueError(f"splits.{an} {[a0, a1]} and splits.{bn} {[b0, b1]} overlap")


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


def users_per_group(manifest: pd.DataFrame) -> tuple[int, int]:
    """(training users, testing users) of an ingested dataset, as its subject ids count them.

    Subject ids are ``number - 1`` for training users and ``n_train + number - 1`` for testing
    users, with n_train the highest training number, so the highest number of each group counts.
    """
    counts = []
    for group in ("training", "testing"):
        numbers = manifest.loc[manifest["group"] == group, "number"]
        counts.append(int(numbers.max()) if len(numbers) else 0)
    return counts[0], counts[1]


def resolve_splits(splits: Mapping | None, manifest: pd.DataFrame | None = None) -> dict[str, tuple[int, int]]:
    """The configured ranges, checked; or, when `splits` is None, EPN-612's proportions for the
    numbers of training and testing users in `manifest`."""
    if splits:
        resolved = {k: tuple(v) for k, v in splits.items()}
    else:
        if manifest is None:
            raise ValueError("splits: null needs the dataset's manifest to count its users")
        resolved = proportional_splits(*users_per_group(manifest))
    try:
        check_splits(resolved)
    except ValueError as e:
        raise ValueError(f"config: {e}") from None
    return resolved

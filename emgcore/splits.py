"""Fixed user splits: 1-based global user numbers (training users first) -> 0-based subject ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SPLIT_NAMES = ("train", "val", "test")
#: EMG-EPN-612: users 1-306 train, 307-332 validation, 333-612 test; never shuffled
EPN612_SPLITS = {"train": (1, 306), "val": (307, 332), "test": (333, 612)}


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

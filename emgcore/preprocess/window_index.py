"""Window indexes: every window of a split and variant as small integer arrays into the int8 store.

A window index is a set of arrays (subject, rep, start, label) that point into the per-user int8
signals; windows themselves are cut lazily by ``emgcore.preprocess.window_dataset.WindowDataset``.
See docs/architecture.md ("Window index") for the on-disk contract, and
``emgcore.preprocess.segmentation`` for what each variant keeps of a repetition.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgcore.data.labels import PINCH
from emgcore.io import write_atomic
from emgcore.preprocess.segmentation import (
    RepFilter,
    check_geometry,
    check_variant,
    rest_keep_mask,
    selected_reps,
    window_repetition,
)

INDEX_ARRAYS = {"subject": np.int32, "rep": np.int32, "start": np.int64, "label": np.int8}
INDEX_SCALARS = ("window", "stride")


# --------------------------------------------------------------------------------------------
# Window index
# --------------------------------------------------------------------------------------------


@dataclass
class WindowIndex:
    """Windows as integer arrays into per-user signals, sorted by (subject, rep, start).

    ``start`` is the absolute first sample in the user's signal; ``rep`` the row in the user's
    reps table; ``window``/``stride`` the geometry used to build it.
    """

    subject: np.ndarray
    rep: np.ndarray
    start: np.ndarray
    label: np.ndarray
    window: int
    stride: int

    def __post_init__(self) -> None:
        for name, dtype in INDEX_ARRAYS.items():
            array = np.asarray(getattr(self, name))
            if array.ndim != 1:
                raise ValueError(f"WindowIndex.{name} must be 1-D, got shape {array.shape}")
            if array.size and not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"WindowIndex.{name} must hold integers, got {array.dtype}")
            setattr(self, name, array.astype(dtype, copy=False))
        lengths = {name: getattr(self, name).shape[0] for name in INDEX_ARRAYS}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"WindowIndex arrays must have equal lengths, got {lengths}")
        self.window, self.stride = int(self.window), int(self.stride)
        check_geometry(self.window, self.stride)

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def subjects(self) -> np.ndarray:
        """Sorted unique subject ids present in the index."""
        return np.unique(self.subject)


def _concatenate(chunks: list[np.ndarray], dtype) -> np.ndarray:
    """Concatenate per-repetition chunks (or return an empty array of ``dtype``)."""
    return np.concatenate(chunks).astype(dtype, copy=False) if chunks else np.empty(0, dtype)


def _user_windows(
    recording,
    variant: str,
    window: int,
    stride: int,
    rest_subsample: int,
    threshold: float | None,
    rep_filter: RepFilter | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rep rows (int32), absolute starts (int64) and labels (int8) of one user's windows."""
    signal, rows, offsets, lengths, labels = selected_reps(recording, rep_filter)
    rep_chunks, start_chunks, label_chunks = [], [], []
    for row, offset, length, label in zip(rows, offsets, lengths, labels):
        if label == PINCH:
            continue
        x = signal[offset : offset + length]
        starts, window_labels = window_repetition(x, label, variant, window, stride, threshold)
        keep = rest_keep_mask(window_labels, rest_subsample)
        if not keep.all():
            starts, window_labels = starts[keep], window_labels[keep]
        if starts.size == 0:
            continue
        rep_chunks.append(np.full(starts.shape[0], row, dtype=np.int32))
        start_chunks.append(starts + offset)
        label_chunks.append(window_labels)
    return (
        _concatenate(rep_chunks, np.int32),
        _concatenate(start_chunks, np.int64),
        _concatenate(label_chunks, np.int8),
    )


@dataclass
class _WindowRuns:
    """One user's windows compressed to arithmetic runs (same rep and label, constant step).

    Windows come in long regular stretches (stride ``S``, or ``rest_subsample * S`` for rest), so
    a handful of runs per repetition replaces ~17 bytes per window while the index is collected.
    """

    rep: np.ndarray  # int32, rep row of the run
    first: np.ndarray  # int64, start of the run's first window
    step: np.ndarray  # int64, distance between consecutive starts (0 for single windows)
    count: np.ndarray  # int64, windows in the run
    label: np.ndarray  # int8

    @classmethod
    def encode(cls, rep: np.ndarray, start: np.ndarray, label: np.ndarray) -> _WindowRuns:
        """Split ordered windows into runs (same rep and label) with equal start differences."""
        n = start.shape[0]
        is_head = np.ones(n, dtype=bool)
        if n > 1:
            diff = np.diff(start)
            same_group = (rep[1:] == rep[:-1]) & (label[1:] == label[:-1])
            steady = np.ones(n - 1, dtype=bool)
            steady[1:] = diff[1:] == diff[:-1]  # window i keeps the step of windows i-2 -> i-1
            is_head[1:] = ~(same_group & steady)
        heads = np.flatnonzero(is_head)
        count = np.diff(np.append(heads, n)).astype(np.int64)
        second = np.minimum(heads + 1, max(n - 1, 0))
        step = np.where(count > 1, start[second] - start[heads], 0) if n else np.empty(0, np.int64)
        return cls(rep[heads], start[heads], step.astype(np.int64), count, label[heads])

    def total(self) -> int:
        return int(self.count.sum())

    def expand_into(self, rep: np.ndarray, start: np.ndarray, label: np.ndarray) -> None:
        """Write the windows back into the given slices (of length :meth:`total`)."""
        run_of_window = np.repeat(np.arange(self.count.shape[0]), self.count)
        run_begin = np.concatenate(([0], np.cumsum(self.count)[:-1]))
        position = np.arange(run_of_window.shape[0], dtype=np.int64) - run_begin[run_of_window]
        start[:] = self.first[run_of_window] + position * self.step[run_of_window]
        rep[:] = self.rep[run_of_window]
        label[:] = self.label[run_of_window]


def build_window_index(
    recordings: Iterable,
    variant: str,
    window: int,
    stride: int,
    rest_subsample: int,
    threshold: float | None = None,
    rep_filter: RepFilter | None = None,
) -> WindowIndex:
    """Window index of ``variant`` over the given users, in recording order.

    ``recordings`` yields ``UserRecording``-like objects (``subject``, ``signal``, ``reps``) and
    may be a generator that loads one user at a time. ``rep_filter`` maps a user's reps DataFrame
    to a boolean mask of repetitions to window (default: all). Pinch repetitions are skipped and
    rest windows subsampled ``rest_subsample``:1 per repetition. Subjects may come in any order
    (the result is sorted) but each only once. Users' windows are held as arithmetic runs until
    the end, so peak memory is about the final index (17 bytes per window).
    """
    check_variant(variant, threshold)
    check_geometry(window, stride)
    if int(rest_subsample) < 1:
        raise ValueError(f"rest_subsample must be a positive integer, got {rest_subsample}")
    runs_of: dict[int, _WindowRuns] = {}
    for recording in recordings:
        subject = int(recording.subject)
        if subject in runs_of:
            raise ValueError(f"subject {subject} appears twice in the recordings")
        user_windows = _user_windows(recording, variant, window, stride, rest_subsample, threshold, rep_filter)
        runs_of[subject] = _WindowRuns.encode(*user_windows)
    subjects = sorted(runs_of)
    totals = [runs_of[s].total() for s in subjects]
    n = int(sum(totals))
    index = WindowIndex(
        subject=np.repeat(np.asarray(subjects, dtype=np.int32), np.asarray(totals, np.int64)),
        rep=np.empty(n, dtype=np.int32),
        start=np.empty(n, dtype=np.int64),
        label=np.empty(n, dtype=np.int8),
        window=window,
        stride=stride,
    )
    lo = 0
    for subject, total in zip(subjects, totals):
        hi = lo + total
        runs_of.pop(subject).expand_into(index.rep[lo:hi], index.start[lo:hi], index.label[lo:hi])
        lo = hi
    return index


# --------------------------------------------------------------------------------------------
# Persistence
# --------------------------------------------------------------------------------------------


def save_window_index(path: str | os.PathLike, index: WindowIndex) -> None:
    """Write ``index`` to an uncompressed ``.npz`` at ``path`` atomically (temp file + rename)."""
    arrays = {name: getattr(index, name) for name in INDEX_ARRAYS}
    arrays.update(window=np.int64(index.window), stride=np.int64(index.stride))
    write_atomic(path, lambda tmp: np.savez(tmp, **arrays))


def load_window_index(path: str | os.PathLike | WindowIndex) -> WindowIndex:
    """Read a window index written by :func:`save_window_index`, validating arrays and dtypes; an index
    already in memory (e.g. the incremental sweep's subset) is returned as it is."""
    if isinstance(path, WindowIndex):
        return path
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"window index {path} does not exist")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ValueError(f"window index {path} is not a readable .npz file: {error}") from error
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise ValueError(f"window index {path} is a single .npy array, expected an .npz archive")
    with npz:
        missing = [n for n in (*INDEX_ARRAYS, *INDEX_SCALARS) if n not in npz.files]
        if missing:
            raise ValueError(f"window index {path} lacks arrays {missing}")
        try:
            arrays = {name: npz[name] for name in (*INDEX_ARRAYS, *INDEX_SCALARS)}
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise ValueError(f"window index {path} has an unreadable array: {error}") from error
    for name in INDEX_SCALARS:
        if arrays[name].shape != () or not np.issubdtype(arrays[name].dtype, np.integer):
            raise ValueError(f"window index {path}: '{name}' must be an integer scalar")
    for name in INDEX_ARRAYS:
        if arrays[name].size and not np.issubdtype(arrays[name].dtype, np.integer):
            raise ValueError(f"window index {path}: '{name}' must hold integers, got {arrays[name].dtype}")
    label = arrays["label"]
    if label.size and (label.min() < 0 or label.max() >= PINCH):
        raise ValueError(f"window index {path}: 'label' must be in 0..{PINCH - 1}")
    scalars = {name: int(arrays[name]) for name in INDEX_SCALARS}
    try:
        return WindowIndex(**{name: arrays[name] for name in INDEX_ARRAYS}, **scalars)
    except ValueError as error:
        raise ValueError(f"window index {path}: {error}") from error

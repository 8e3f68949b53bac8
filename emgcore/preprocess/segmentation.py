"""Segmentation of one repetition for the four windowing variants, and the standard variant's rest threshold.

Variants, applied per repetition (signal slice ``x`` of shape (L, C), label ``y``):

* ``raw``: windows over the whole repetition, all labelled ``y``.
* ``segmented``: active repetitions are cut to the energy segment of their strongest channel
  (:func:`energy_segment`); windows lie entirely inside it.
* ``relabeled``: same segment, but windows cover the whole repetition and a window is labelled
  ``y`` only if at least half of its samples lie in the segment, else rest (0).
* ``standard``: active repetitions are cut where the stride-1 moving mean absolute value exceeds
  a rest threshold (:func:`rest_threshold`, :func:`threshold_segment`).

Rest repetitions (label 0) always stay whole; pinch repetitions (label 5) are never windowed.
Rest-labelled windows are subsampled ``rest_subsample``:1 within each repetition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from emgcore.data.labels import GESTURES, PINCH, REST

if TYPE_CHECKING:
    import pandas as pd

VARIANTS = ("raw", "segmented", "relabeled", "standard")
MAX_LABEL = len(GESTURES) - 1  # label codes in the store are 0..5 (pinch is stored, never windowed)
SMOOTHING_LENGTH = 5  # moving-average length for the energy envelope of "segmented"/"relabeled"
ENERGY_LEVEL = 0.25  # normalised-envelope level that delimits the energy segment
THRESHOLD_STDS = 3.0  # rest threshold = mean + THRESHOLD_STDS * std of rest-window MAV

RepFilter = Callable[["pd.DataFrame"], np.ndarray]  # reps table -> boolean mask of rows to keep


# --------------------------------------------------------------------------------------------
# Segmentation of one repetition
# --------------------------------------------------------------------------------------------


def _check_repetition(x: np.ndarray) -> np.ndarray:
    """Return ``x`` as a 2-D array (samples, channels) or raise naming what was expected."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"repetition signal must be 2-D (samples, channels), got shape {x.shape}")
    return x


def check_geometry(window: int, stride: int) -> None:
    if int(window) < 1 or int(stride) < 1:
        raise ValueError(f"window and stride must be positive integers, got {window}, {stride}")


def check_variant(variant: str, threshold: float | None) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown windowing variant {variant!r}; expected one of {VARIANTS}")
    if variant == "standard" and threshold is None:
        raise ValueError("variant 'standard' needs a rest threshold (see rest_threshold)")


def _check_label(label: int) -> int:
    label = int(label)
    if not 0 <= label <= MAX_LABEL:
        raise ValueError(f"repetition label must be in 0..{MAX_LABEL}, got {label}")
    return label


def centered_moving_average(values: np.ndarray, length: int = SMOOTHING_LENGTH) -> np.ndarray:
    """Centred moving average of odd ``length``, same length as ``values``.

    At the edges the window is truncated to the samples that exist and the average is taken over
    those only (no zero padding), so the envelope is not pulled down at the repetition borders.
    """
    if length < 1 or length % 2 == 0:
        raise ValueError(f"moving-average length must be a positive odd integer, got {length}")
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    half = length // 2
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    idx = np.arange(n)
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, n)
    return (cumulative[hi] - cumulative[lo]) / (hi - lo)


def energy_segment(x: np.ndarray, window: int, stride: int) -> tuple[int, int]:
    """Bounds [start, stop) of the active part of one repetition from its strongest channel.

    The channel with the largest sum of squares is squared, smoothed (centred moving average of 5,
    see :func:`centered_moving_average`), min-max normalised, and the span from the first to the
    last sample above 0.25 is kept. Falls back to the whole repetition (0, L) when nothing passes
    (e.g. a flat signal) or the span is at most ``window + stride`` samples.
    """
    x = _check_repetition(x)
    length = x.shape[0]
    if length == 0 or x.shape[1] == 0:
        return 0, length
    xf = x.astype(np.float64)
    squared = xf * xf
    channel = int(np.argmax(squared.sum(axis=0)))  # ties -> lowest channel index
    envelope = centered_moving_average(squared[:, channel])
    low, high = envelope.min(), envelope.max()
    if not high > low:
        return 0, length
    above = np.flatnonzero((envelope - low) / (high - low) > ENERGY_LEVEL)
    if above.size == 0:
        return 0, length
    start, stop = int(above[0]), int(above[-1]) + 1
    if stop - start <= window + stride:
        return 0, length
    return start, stop


def _window_mav_cumsum(x: np.ndarray) -> np.ndarray:
    """Cumulative sum (leading 0) of the per-sample sum of |x| over channels; exact for ints."""
    per_sample = np.abs(x.astype(np.float64)).sum(axis=1)
    return np.concatenate(([0.0], np.cumsum(per_sample)))


def threshold_segment(x: np.ndarray, window: int, stride: int, threshold: float) -> tuple[int, int]:
    """Bounds [start, stop) where the stride-1 windowed mean absolute value exceeds ``threshold``.

    Keeps from the start of the first window above the threshold to the end of the last one.
    Falls back to the whole repetition (0, L) when no window is above or the span is at most
    ``2 * window + stride`` samples.
    """
    x = _check_repetition(x)
    length = x.shape[0]
    if length < window or x.shape[1] == 0:
        return 0, length
    cumulative = _window_mav_cumsum(x)
    mav = (cumulative[window:] - cumulative[:-window]) / (window * x.shape[1])
    above = np.flatnonzero(mav > threshold)
    if above.size == 0:
        return 0, length
    start, stop = int(above[0]), int(above[-1]) + window
    if stop - start <= 2 * window + stride:
        return 0, length
    return start, stop


def segment_bounds(
    x: np.ndarray,
    label: int,
    variant: str,
    window: int,
    stride: int,
    threshold: float | None = None,
) -> tuple[int, int]:
    """Bounds [start, stop) (relative to the repetition) of the part that ``variant`` keeps.

    ``raw`` and rest repetitions keep everything; ``segmented``/``relabeled`` use
    :func:`energy_segment`; ``standard`` uses :func:`threshold_segment` and needs ``threshold``.
    """
    x = _check_repetition(x)
    check_geometry(window, stride)
    label = _check_label(label)
    check_variant(variant, threshold)
    if variant == "raw" or label == REST:
        return 0, x.shape[0]
    if variant in ("segmented", "relabeled"):
        return energy_segment(x, window, stride)
    return threshold_segment(x, window, stride, float(threshold))


# --------------------------------------------------------------------------------------------
# Windows of one repetition
# --------------------------------------------------------------------------------------------


def window_starts(length: int, window: int, stride: int, offset: int = 0) -> np.ndarray:
    """Starts (int64) of the windows lying entirely in ``[offset, offset + length)``."""
    if length < window:
        return np.empty(0, dtype=np.int64)
    return np.arange(offset, offset + length - window + 1, stride, dtype=np.int64)


def relabel_windows(starts: np.ndarray, label: int, segment: tuple[int, int], window: int) -> np.ndarray:
    """Label (int8) a window ``label`` if at least half its samples lie in ``segment``, else 0."""
    seg_start, seg_stop = segment
    overlap = np.minimum(starts + window, seg_stop) - np.maximum(starts, seg_start)
    inside = 2 * np.maximum(overlap, 0) >= window
    return np.where(inside, np.int8(label), np.int8(REST)).astype(np.int8)


def window_repetition(
    x: np.ndarray,
    label: int,
    variant: str,
    window: int,
    stride: int,
    threshold: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Window starts (int64, relative to the repetition) and labels (int8) of one repetition.

    Applies the variant's segmentation and, for ``relabeled``, the half-overlap relabeling rule
    (:func:`relabel_windows`). Rest windows are NOT subsampled here (see :func:`rest_keep_mask`).
    Pinch repetitions, and repetitions or segments shorter than a window, give no windows.
    """
    x = _check_repetition(x)
    label = _check_label(label)
    check_variant(variant, threshold)
    if label == PINCH:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int8)
    start, stop = segment_bounds(x, label, variant, window, stride, threshold)
    if variant == "relabeled":
        starts = window_starts(x.shape[0], window, stride)
        return starts, relabel_windows(starts, label, (start, stop), window)
    starts = window_starts(stop - start, window, stride, offset=start)
    return starts, np.full(starts.shape[0], label, dtype=np.int8)


def rest_keep_mask(labels: np.ndarray, rest_subsample: int) -> np.ndarray:
    """Boolean mask keeping every active window and rest windows 0, n, 2n, ... (n = rest_subsample).

    Rest windows are counted in order within the given labels (one repetition), so the choice is
    deterministic and independent of other repetitions.
    """
    if int(rest_subsample) < 1:
        raise ValueError(f"rest_subsample must be a positive integer, got {rest_subsample}")
    labels = np.asarray(labels)
    keep = labels != REST
    rest_positions = np.flatnonzero(~keep)
    keep[rest_positions[:: int(rest_subsample)]] = True
    return keep


# --------------------------------------------------------------------------------------------
# Per-user repetition tables
# --------------------------------------------------------------------------------------------


def _user_name(recording) -> str:
    return f"subject {getattr(recording, 'subject', '?')} ({getattr(recording, 'user', '?')})"


def selected_reps(recording, rep_filter: RepFilter | None):
    """Row numbers, offsets, lengths and labels of the repetitions to window, validated."""
    reps = recording.reps
    missing = [c for c in ("offset", "length", "label") if c not in reps.columns]
    if missing:
        raise ValueError(f"reps table of {_user_name(recording)} lacks columns {missing}")
    signal = np.asarray(recording.signal)
    if signal.ndim != 2:
        raise ValueError(f"signal of {_user_name(recording)} must be 2-D (samples, channels), got {signal.shape}")
    rows = np.arange(len(reps), dtype=np.int64)
    if rep_filter is not None:
        mask = np.asarray(rep_filter(reps), dtype=bool)
        if mask.shape != (len(reps),):
            raise ValueError(
                f"rep_filter returned shape {mask.shape} for {_user_name(recording)}; "
                f"expected a boolean mask of shape ({len(reps)},)"
            )
        rows = rows[mask]
    offsets = reps["offset"].to_numpy(dtype=np.int64)[rows]
    lengths = reps["length"].to_numpy(dtype=np.int64)[rows]
    labels = reps["label"].to_numpy(dtype=np.int64)[rows]
    if rows.size:
        if offsets.min() < 0 or lengths.min() < 0 or (offsets + lengths).max() > signal.shape[0]:
            raise ValueError(
                f"reps of {_user_name(recording)} point outside its signal of "
                f"{signal.shape[0]} samples (offset/length out of range)"
            )
        if labels.min() < 0 or labels.max() > MAX_LABEL:
            raise ValueError(f"reps/label of {_user_name(recording)} must be in 0..{MAX_LABEL}")
    return signal, rows, offsets, lengths, labels


# --------------------------------------------------------------------------------------------
# Rest threshold of the "standard" variant
# --------------------------------------------------------------------------------------------


def rest_window_mav(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Mean absolute value over all channels and samples of each window of ``x`` at ``stride``."""
    x = _check_repetition(x)
    starts = window_starts(x.shape[0], window, stride)
    if starts.size == 0 or x.shape[1] == 0:
        return np.empty(0, dtype=np.float64)
    cumulative = _window_mav_cumsum(x)
    return (cumulative[starts + window] - cumulative[starts]) / (window * x.shape[1])


def rest_threshold(
    recordings: Iterable,
    window: int,
    stride: int,
    rep_filter: RepFilter | None = None,
) -> float:
    """Mean + 3 std (population std, ddof=0) of the MAV of all rest windows of the given users.

    Pass training users only. Windows are taken at ``stride`` over whole rest repetitions (no
    subsampling); statistics are merged user by user (Chan et al.), so memory stays per-user.
    """
    check_geometry(window, stride)
    count, mean, m2 = 0, 0.0, 0.0
    for recording in recordings:
        signal, _, offsets, lengths, labels = selected_reps(recording, rep_filter)
        values = [
            rest_window_mav(signal[o : o + n], window, stride) for o, n, y in zip(offsets, lengths, labels) if y == REST
        ]
        values = np.concatenate(values) if values else np.empty(0)
        if values.size == 0:
            continue
        n_b, mean_b = values.size, float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        total = count + n_b
        delta = mean_b - mean
        mean += delta * n_b / total
        m2 += m2_b + delta * delta * count * n_b / total
        count = total
    if count == 0:
        raise ValueError(
            f"no rest (label {REST}) windows of {window} samples in the given recordings; "
            "cannot compute the rest threshold"
        )
    return mean + THRESHOLD_STDS * float(np.sqrt(m2 / count))

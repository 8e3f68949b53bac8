"""One trial format for both data sets the disentangling measures run on (Hyser and EPN-612 layout).

A `Trial` is one gesture execution: float32 signal (T, C), the 0-based subject, the session and
the gesture as a 0-based index into the configured gesture subset. A `GridSpec` says where the C
channels lie on the electrode surface, so spatial measures can find neighbours: Hyser's 256
channels on a 16 x 16 grid (`emgcore.data.hyser.default_grid_map`, config-overridable), the Myo's
8 channels on a 1 x 8 ring (channel 8 neighbours channel 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgcore.data.hyser import HYSER_CHANNELS, default_grid_map, iter_hyser_trials
from emgcore.data.labels import GESTURES, N_CHANNELS
from emgcore.data.store import iter_store

#: EPN-612 gestures used by default: fist, waveIn, waveOut, open (rest 0 and pinch 5 excluded)
EPN_DEFAULT_GESTURES = (1, 2, 3, 4)


def gesture_names(dataset: str, gestures: Sequence[int]) -> list[str]:
    """Names of a configured gesture subset, in Trial.gesture order: EPN-612 label names (fist, ...)
    for ``epn``; for ``hyser`` the dataset's own 1-based gesture number (its label files carry no names)."""
    if dataset == "epn":
        return [GESTURES[int(g)] for g in gestures]
    if dataset == "hyser":
        return [f"Hyser gesture {int(g)}" for g in gestures]
    raise ValueError(f"unknown disentangling dataset {dataset!r}; expected epn or hyser")


@dataclass
class Trial:
    """One gesture execution: 0-based subject, session (1-based), 0-based gesture index in the
    subset, float32 signal (T, C), sampling rate in Hz."""

    subject: int
    session: int
    gesture: int
    signal: np.ndarray
    fs: float


@dataclass
class GridSpec:
    """Electrode layout: grid `shape` (H, W); `channel_map` (H, W) of channel indices, -1 = no
    electrode; `ring` = the last column neighbours the first (armband)."""

    shape: tuple[int, int]
    channel_map: np.ndarray
    ring: bool = False

    def __post_init__(self) -> None:
        self.shape = tuple(int(s) for s in self.shape)
        self.channel_map = np.asarray(self.channel_map)
        if len(self.shape) != 2 or min(self.shape) < 1:
            raise ValueError(f"GridSpec.shape must be two positive ints (H, W), got {self.shape}")
        if self.channel_map.shape != self.shape:
            raise ValueError(f"GridSpec.channel_map has shape {self.channel_map.shape}, expected {self.shape}")
        if not np.issubdtype(self.channel_map.dtype, np.integer):
            raise ValueError(f"GridSpec.channel_map must hold integers, got dtype {self.channel_map.dtype}")
        self.channel_map = self.channel_map.astype(np.int64)
        used = self.channel_map[self.channel_map >= 0]
        if (self.channel_map < -1).any():
            raise ValueError("GridSpec.channel_map entries must be channel indices >= 0 or -1 (empty)")
        if len(np.unique(used)) != len(used):
            raise ValueError("GridSpec.channel_map places some channel in more than one cell")

    @property
    def n_channels(self) -> int:
        """Number of channels placed on the grid (largest index + 1)."""
        used = self.channel_map[self.channel_map >= 0]
        return int(used.max()) + 1 if len(used) else 0

    def check_channels(self, n_channels: int, where: str = "grid") -> None:
        """Raise ValueError unless every channel index on the grid is < n_channels."""
        if self.n_channels > n_channels:
            raise ValueError(f"{where}: channel_map refers to channel {self.n_channels - 1}, signals have {n_channels}")


def hyser_grid(grid_map=None) -> GridSpec:
    """Hyser's 16 x 16 grid spec; `grid_map` (config) replaces `default_grid_map()` when given."""
    gmap = default_grid_map() if grid_map is None else np.asarray(grid_map)
    if gmap.ndim != 2:
        raise ValueError(f"hyser grid_map must be a 2-D array of channel indices, got shape {gmap.shape}")
    spec = GridSpec(shape=gmap.shape, channel_map=gmap, ring=False)
    spec.check_channels(HYSER_CHANNELS, "hyser grid_map")
    return spec


def _gesture_index(gestures: Sequence[int], what: str) -> dict[int, int]:
    ids = [int(g) for g in gestures]
    if not ids or len(set(ids)) != len(ids):
        raise ValueError(f"{what}: gestures must be a non-empty list of distinct ids, got {ids}")
    return {g: i for i, g in enumerate(ids)}


def hyser_trials(
    root: str | Path,
    subjects: Iterable[int] | None,
    gestures: Sequence[int],
    task: str = "dynamic",
    kind: str = "preprocess",
    sessions: Iterable[int] = (1, 2),
    grid_map=None,
) -> tuple[list[Trial], GridSpec]:
    """Hyser trials of the gesture subset (1-based ids; Trial.gesture = position in `gestures`)."""
    index = _gesture_index(gestures, "hyser_trials")
    grid = hyser_grid(grid_map)
    trials = [
        Trial(t.subject, t.session, index[t.gesture], t.signal, t.fs)
        for t in iter_hyser_trials(root, subjects, sessions=sessions, task=task, kind=kind, gestures=list(index))
    ]
    return trials, grid


def epn_grid() -> GridSpec:
    """The Myo armband: 8 channels on a 1 x 8 ring."""
    return GridSpec(shape=(1, N_CHANNELS), channel_map=np.arange(N_CHANNELS)[None, :], ring=True)


def epn_trials(
    store_dir: str | Path, subjects: Iterable[int], gestures: Sequence[int] = EPN_DEFAULT_GESTURES
) -> tuple[list[Trial], GridSpec]:
    """One Trial per repetition of `gestures` (label codes, see `emgcore.data.labels`) in the store.

    session = block + 1 (trainingSamples -> 1, testingSamples -> 2); signal = the whole
    repetition's int8 samples as float32 (raw ADC units); fs from the store (200 Hz).
    """
    index = _gesture_index(gestures, "epn_trials")
    bad = [g for g in index if not 0 <= g < len(GESTURES)]
    if bad:
        names = ", ".join(GESTURES)
        raise ValueError(f"epn_trials: gesture codes must be in 0..{len(GESTURES) - 1} ({names}), got {bad}")
    trials: list[Trial] = []
    for rec in iter_store(store_dir, subjects):
        labels = rec.reps["label"].to_numpy()
        blocks = rec.reps["block"].to_numpy()
        for row in np.flatnonzero(np.isin(labels, list(index))):
            trials.append(
                Trial(
                    subject=int(rec.subject),
                    session=int(blocks[row]) + 1,
                    gesture=index[int(labels[row])],
                    signal=rec.repetition(int(row)).astype(np.float32),
                    fs=float(rec.fs),
                )
            )
    return trials, epn_grid()

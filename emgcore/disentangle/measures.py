"""Input measures for the disentangling model: one image per analysis window, laid out on the electrode grid.

Each trial (``signal`` float32 (T, C) at ``fs`` Hz) is cut into analysis windows: the first
``discard_s`` seconds are dropped (the movement onset), then windows of ``L = round(window_s * fs)``
samples start every ``S = max(1, round(L * (1 - overlap)))`` samples. With ``D = round(discard_s *
fs)`` a trial of T samples gives ``n = (T - D - L) // S + 1`` windows (0 when ``T - D < L``); the
study's defaults (0.25 s windows, 50 % overlap, 0.25 s discarded) give L=512, S=256, D=512 at
Hyser's 2048 Hz and L=50, S=25, D=50 at the Myo's 200 Hz.

A *measure* maps each window to M values per electrode (M "planes"); electrode ``c`` lands at the
grid cell ``(h, w)`` where ``grid.channel_map[h, w] == c``, so a window becomes an (M, H, W) image
with empty cells (``channel_map == -1``) set to 0. ``MEASURES``:

``raw``       the window resampled to ``n_points`` values per channel by mean-pooling over
              ``n_points`` contiguous, (nearly) equal segments: a boxcar low-pass then decimation,
              so no aliasing and no ringing (``scipy.signal.resample`` assumes a periodic window
              and rings at its edges). Raw EMG is zero-mean, so these values are small and noisy:
              that is the point of the baseline.
``envelope``  moving RMS over ``envelope_s`` seconds, ``sqrt(mean_{k..k+K-1} x^2)``, sampled at
              ``n_points`` evenly spaced positions from the first to the last full average.
``stft``      STFT magnitude (Hann frames of ``nperseg`` samples, half overlap, no boundary
              padding) averaged over the window's frames, DC bin dropped, the remaining bins
              averaged into ``n_freq`` contiguous bands of (nearly) equal width.
``rms``       ``sqrt(mean x^2)`` (1 plane).
``wl``        waveform length ``sum_k |x[k+1] - x[k]|`` (1 plane).
``td``        time-domain features (``td_features``, Hudgins' MAV, ZC, SSC, WL by default) with
              libemg's definitions, computed natively by ``emgcore.features.window_features``;
              one plane per feature.
``stft_td``   the ``stft`` planes followed by the ``td`` planes.

libemg's SSC default threshold 0.0 also counts samples with an equal neighbour; the ``td``
measure passes the smallest positive float32 instead, so SSC counts strict local extrema whatever
the signal's unit (volts, millivolts or ADC counts). Amplitude measures are in the signal's units;
``MeasureScaler`` (fitted on training windows only) standardises each plane before the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal as sps

from emgcore.features.extraction import resolve_features, window_features
from emgcore.io import write_atomic

if TYPE_CHECKING:  # the recordings module is only needed for type hints
    from emgcore.disentangle.recordings import GridSpec, Trial

MEASURES = ("raw", "envelope", "stft", "rms", "wl", "td", "stft_td")
TD_FEATURES = ("MAV", "ZC", "SSC", "WL")
#: SSC threshold of the td measure: strictly positive, so equal neighbours are not slope changes.
SSC_THRESHOLD = float(np.finfo(np.float32).tiny)
#: samples (windows x channels x length) per measure computation: bounds the float64 copies and
#: the STFT to tens of MB (32 Hyser windows of 256 channels x 512 samples at a time)
CHUNK_SAMPLES = 2**22
STD_FLOOR = 1e-12  # planes with a smaller spread are centred but not scaled
DATASET_KEYS = ("X", "gesture", "subject", "session", "trial", "measure", "grid_shape", "ring", "cell_mask", "planes")


@dataclass(frozen=True)
class MeasureParams:
    """Shape parameters of the measures (defaults give 8 raw/envelope points and 8 STFT bands)."""

    n_points: int = 8
    envelope_s: float = 0.05
    n_freq: int = 8
    stft_nperseg: int | None = None  # None: max(2 * n_freq, window // 4) samples
    td_features: tuple[str, ...] = TD_FEATURES
    td_params: dict | None = None  # extra feature parameters (libemg names), e.g. {"WAMP_threshold": 0.01}

    def __post_init__(self) -> None:
        problems = []
        if int(self.n_points) != self.n_points or self.n_points < 1:
            problems.append(f"n_points must be an integer >= 1 (got {self.n_points})")
        if not self.envelope_s > 0:
            problems.append(f"envelope_s must be > 0 (got {self.envelope_s})")
        if int(self.n_freq) != self.n_freq or self.n_freq < 1:
            problems.append(f"n_freq must be an integer >= 1 (got {self.n_freq})")
        if self.stft_nperseg is not None and (int(self.stft_nperseg) != self.stft_nperseg or self.stft_nperseg < 2):
            problems.append(f"stft_nperseg must be None or an integer >= 2 (got {self.stft_nperseg})")
        if problems:
            raise ValueError("invalid MeasureParams: " + "; ".join(problems))
        if isinstance(self.td_features, str) or not len(self.td_features):
            raise ValueError(
                f"td_features must be a non-empty sequence of feature names, got {self.td_features!r}"
            )  # names are checked when used
        object.__setattr__(self, "td_features", tuple(str(f) for f in self.td_features))


# ---------------------------------------------------------------------------------------------
# windowing


def window_geometry(
    fs: float, window_s: float = 0.25, overlap: float = 0.5, discard_s: float = 0.25
) -> tuple[int, int, int]:
    """(window length L, stride S, discarded samples D) in samples for sampling rate ``fs``."""
    if not fs > 0:
        raise ValueError(f"fs must be > 0 (got {fs})")
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0 (got {window_s})")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1) (got {overlap})")
    if discard_s < 0:
        raise ValueError(f"discard_s must be >= 0 (got {discard_s})")
    length = round(window_s * fs)
    if length < 3:
        raise ValueError(f"a window of {window_s} s at {fs} Hz has {length} samples; need >= 3")
    stride = max(1, round(length * (1 - overlap)))
    return length, stride, round(discard_s * fs)


def window_starts(
    n_samples: int, fs: float, window_s: float = 0.25, overlap: float = 0.5, discard_s: float = 0.25
) -> np.ndarray:
    """First sample of every window of a trial of ``n_samples`` samples (int64, possibly empty)."""
    length, stride, discard = window_geometry(fs, window_s, overlap, discard_s)
    usable = int(n_samples) - discard
    if usable < length:
        return np.empty(0, np.int64)
    return discard + stride * np.arange((usable - length) // stride + 1, dtype=np.int64)


def cut_windows(signal: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Windows (N, C, L) float32 of a (T, C) signal at the given starts."""
    view = np.lib.stride_tricks.sliding_window_view(signal, length, axis=0)  # (T-L+1, C, L)
    return np.ascontiguousarray(view[starts], dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# measures of a block of windows (N, C, L) -> (N, M, C)


def _segment_edges(length: int, parts: int) -> np.ndarray:
    return np.linspace(0, length, parts + 1).round().astype(np.int64)


def _segment_means(x: np.ndarray, parts: int) -> np.ndarray:
    """Means of ``parts`` contiguous segments along the last axis: (..., L) -> (..., parts)."""
    edges = _segment_edges(x.shape[-1], parts)
    sums = np.add.reduceat(x, edges[:-1], axis=-1)
    return sums / np.diff(edges)


def stft_nperseg(length: int, params: MeasureParams) -> int:
    """STFT frame length for windows of ``length`` samples (checked against the band count)."""
    nperseg = params.stft_nperseg or max(2 * params.n_freq, length // 4)
    if nperseg > length:
        raise ValueError(f"stft frame of {nperseg} samples is longer than the {length}-sample window")
    if nperseg // 2 < params.n_freq:
        raise ValueError(
            f"stft frames of {nperseg} samples give {nperseg // 2} non-DC bins, fewer than n_freq={params.n_freq}"
        )
    return nperseg


def plane_names(measure: str, length: int, fs: float, params: MeasureParams) -> tuple[str, ...]:
    """Names of a measure's planes, in order (e.g. 'raw_t3', 'stft_128-256Hz', 'MAV')."""
    if measure in ("raw", "envelope"):
        return tuple(f"{measure}_t{i}" for i in range(params.n_points))
    if measure in ("rms", "wl"):
        return (measure,)
    if measure == "td":
        return tuple(resolve_features(list(params.td_features)))
    if measure == "stft":
        nperseg = stft_nperseg(length, params)
        bins = np.arange(1, nperseg // 2 + 1)
        edges = _segment_edges(len(bins), params.n_freq)
        step = fs / nperseg
        return tuple(
            f"stft_{bins[a] * step - step / 2:.0f}-{bins[b - 1] * step + step / 2:.0f}Hz" for a, b in pairwise(edges)
        )
    if measure == "stft_td":
        return plane_names("stft", length, fs, params) + plane_names("td", length, fs, params)
    raise ValueError(f"unknown measure {measure!r}; choose one of {MEASURES}")


def measure_values(windows: np.ndarray, measure: str, fs: float, params: MeasureParams | None = None) -> np.ndarray:
    """The measure of each window: (N, C, L) -> float32 (N, M, C)."""
    params = params or MeasureParams()
    windows = np.asarray(windows, dtype=np.float32)
    if windows.ndim != 3:
        raise ValueError(f"windows must be (N, C, L), got shape {windows.shape}")
    n, channels, length = windows.shape
    x = windows.astype(np.float64)
    if measure == "raw":
        if length < params.n_points:
            raise ValueError(f"cannot pool {length} samples into n_points={params.n_points}")
        out = _segment_means(x, params.n_points)
    elif measure == "envelope":
        k = max(1, round(params.envelope_s * fs))
        if k > length:
            raise ValueError(f"envelope of {k} samples is longer than the {length}-sample window")
        cs = np.concatenate([np.zeros((n, channels, 1)), np.cumsum(x * x, axis=-1)], axis=-1)
        moving = np.sqrt(np.maximum((cs[..., k:] - cs[..., :-k]) / k, 0.0))  # (N, C, L-k+1)
        at = np.linspace(0, length - k, params.n_points).round().astype(np.int64)
        out = moving[..., at]
    elif measure == "stft":
        nperseg = stft_nperseg(length, params)
        _, _, z = sps.stft(
            x, fs=fs, window="hann", nperseg=nperseg, noverlap=nperseg // 2, boundary=None, padded=False, axis=-1
        )  # (N, C, F, frames)
        magnitude = np.abs(z).mean(axis=-1)[..., 1:]  # drop DC
        out = _segment_means(magnitude, params.n_freq)
    elif measure == "rms":
        out = np.sqrt((x * x).mean(axis=-1, keepdims=True))
    elif measure == "wl":
        out = np.abs(np.diff(x, axis=-1)).sum(axis=-1, keepdims=True)
    elif measure == "td":
        feature_params = {"SSC_threshold": SSC_THRESHOLD, **(params.td_params or {})}
        feats = window_features(windows, list(params.td_features), feature_params).numpy()  # (N, F*C)
        return feats.reshape(n, -1, channels).astype(np.float32)  # feature-major, as libemg
    elif measure == "stft_td":
        return np.concatenate(
            [measure_values(windows, "stft", fs, params), measure_values(windows, "td", fs, params)], axis=1
        )
    else:
        raise ValueError(f"unknown measure {measure!r}; choose one of {MEASURES}")
    return np.swapaxes(out, 1, 2).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# grid layout


def check_grid(grid: GridSpec, n_channels: int | None = None) -> np.ndarray:
    """The grid's channel map as int64 (H, W) after checking it; bad maps raise ValueError."""
    cmap = np.asarray(grid.channel_map)
    shape = tuple(int(s) for s in grid.shape)
    if cmap.ndim != 2 or cmap.shape != shape:
        raise ValueError(f"channel_map must have the grid's shape {shape}, got {cmap.shape}")
    if cmap.size and not np.issubdtype(cmap.dtype, np.integer):
        raise ValueError(f"channel_map must hold integers, got {cmap.dtype}")
    cmap = cmap.astype(np.int64)
    used = cmap[cmap >= 0]
    if (cmap < -1).any():
        raise ValueError("channel_map entries must be channel indices >= 0 or -1 for an empty cell")
    if used.size == 0:
        raise ValueError("channel_map places no channel on the grid")
    if len(np.unique(used)) != used.size:
        raise ValueError("channel_map places a channel on more than one cell")
    if n_channels is not None and used.max() >= n_channels:
        raise ValueError(f"channel_map refers to channel {used.max()} but the signal has {n_channels} channels")
    return cmap


def to_grid(values: np.ndarray, channel_map: np.ndarray) -> np.ndarray:
    """Per-channel values (N, M, C) as images (N, M, H, W): cell (h, w) takes channel map[h, w]."""
    n, m, _ = values.shape
    h, w = channel_map.shape
    flat = channel_map.ravel()
    occupied = flat >= 0
    images = np.zeros((n, m, h * w), np.float32)
    images[:, :, occupied] = values[:, :, flat[occupied]]
    return images.reshape(n, m, h, w)


# ---------------------------------------------------------------------------------------------
# dataset


def _as_1d_int(name: str, array, n: int) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got {array.dtype}")
    return array.astype(np.int64)


@dataclass
class MeasureDataset:
    """Measure images of analysis windows with their labels.

    ``X`` float32 (N, M, H, W); ``gesture`` (0-based), ``subject``, ``session`` and ``trial``
    (index of the source trial in the list given to `build_measure_dataset`, -1 if unknown) int64
    (N,); ``cell_mask`` bool (H, W) marks grid cells holding an electrode (empty cells of X are 0);
    ``ring`` says the grid's W axis wraps around (armband); ``planes`` names the M planes.
    """

    X: np.ndarray
    gesture: np.ndarray
    subject: np.ndarray
    session: np.ndarray
    measure: str
    grid_shape: tuple[int, int]
    ring: bool = False
    cell_mask: np.ndarray | None = None
    trial: np.ndarray | None = None
    planes: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        X = np.asarray(self.X)
        if X.ndim != 4:
            raise ValueError(f"X must be (N, M, H, W), got shape {X.shape}")
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        n, m, h, w = self.X.shape
        self.grid_shape = (int(self.grid_shape[0]), int(self.grid_shape[1]))
        if self.grid_shape != (h, w):
            raise ValueError(f"grid_shape {self.grid_shape} does not match X of shape {X.shape}")
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}; choose one of {MEASURES}")
        self.gesture = _as_1d_int("gesture", self.gesture, n)
        self.subject = _as_1d_int("subject", self.subject, n)
        self.session = _as_1d_int("session", self.session, n)
        self.trial = np.full(n, -1, np.int64) if self.trial is None else _as_1d_int("trial", self.trial, n)
        if (self.gesture < 0).any():
            raise ValueError("gesture labels must be 0-based (>= 0)")
        mask = np.ones((h, w), bool) if self.cell_mask is None else np.asarray(self.cell_mask)
        if mask.shape != (h, w) or mask.dtype != bool:
            raise ValueError(f"cell_mask must be a bool ({h}, {w}) array, got {mask.dtype} {mask.shape}")
        if not mask.any():
            raise ValueError("cell_mask marks no occupied cell")
        self.cell_mask = mask
        self.ring = bool(self.ring)
        self.planes = (
            tuple(f"plane{i}" for i in range(m)) if self.planes is None else tuple(str(p) for p in self.planes)
        )
        if len(self.planes) != m:
            raise ValueError(f"{len(self.planes)} plane names for {m} planes")
        if not np.isfinite(self.X).all():
            raise ValueError("X holds non-finite values")
        if n and (self.X[:, :, ~mask] != 0).any():
            raise ValueError("X has non-zero values in empty grid cells")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_planes(self) -> int:
        """Number of planes M (values per electrode)."""
        return int(self.X.shape[1])

    def subset(self, index) -> MeasureDataset:
        """The windows selected by a boolean mask or an integer index array."""
        index = np.asarray(index)
        if index.dtype == bool and index.shape != (len(self),):
            raise ValueError(f"boolean index must have shape ({len(self)},), got {index.shape}")
        return replace(
            self,
            X=self.X[index],
            gesture=self.gesture[index],
            subject=self.subject[index],
            session=self.session[index],
            trial=self.trial[index],
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset atomically as .npz (arrays plus measure, grid, ring, plane names)."""

        def write(tmp):
            with open(tmp, "wb") as fh:  # a handle, so numpy does not append '.npz'
                np.savez(
                    fh,
                    X=self.X,
                    gesture=self.gesture,
                    subject=self.subject,
                    session=self.session,
                    trial=self.trial,
                    measure=np.array(self.measure),
                    grid_shape=np.array(self.grid_shape, np.int64),
                    ring=np.array(self.ring),
                    cell_mask=self.cell_mask,
                    planes=np.array(self.planes, dtype=str),
                )

        return write_atomic(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MeasureDataset:
        """Read a file written by `save`; missing keys or inconsistent arrays raise ValueError."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no measure dataset at {path}")
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in DATASET_KEYS if k not in data.files]
            if missing:
                raise ValueError(f"{path} is not a measure dataset (missing {missing})")
            try:
                return cls(
                    X=data["X"],
                    gesture=data["gesture"],
                    subject=data["subject"],
                    session=data["session"],
                    trial=data["trial"],
                    measure=str(data["measure"]),
                    grid_shape=tuple(int(v) for v in data["grid_shape"]),
                    ring=bool(data["ring"]),
                    cell_mask=data["cell_mask"],
                    planes=tuple(str(p) for p in data["planes"]),
                )
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from err


def build_measure_dataset(
    trials: Sequence[Trial],
    grid: GridSpec,
    measure: str,
    window_s: float = 0.25,
    overlap: float = 0.5,
    discard_s: float = 0.25,
    params: MeasureParams | None = None,
) -> MeasureDataset:
    """Measure images of every analysis window of ``trials`` (all at one sampling rate).

    Windows are taken trial by trial in the given order (see the module docstring for the
    windowing). A trial too short for a single window contributes none; no window at all raises.
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of {MEASURES}")
    params = params or MeasureParams()
    trials = list(trials)
    if not trials:
        raise ValueError("no trials given")
    fs_all = {float(t.fs) for t in trials}
    if len(fs_all) != 1:
        raise ValueError(f"all trials must share one sampling rate, got {sorted(fs_all)} Hz")
    fs = fs_all.pop()
    channels = {np.asarray(t.signal).shape[1:] for t in trials}
    if len(channels) != 1 or len(next(iter(channels))) != 1:
        raise ValueError(f"every trial signal must be (T, C) with one C, got trailing shapes {channels}")
    cmap = check_grid(grid, next(iter(channels))[0])
    length, _, _ = window_geometry(fs, window_s, overlap, discard_s)
    names = plane_names(measure, length, fs, params)

    images, labels = [], []
    for i, trial in enumerate(trials):
        sig = np.asarray(trial.signal, dtype=np.float32)
        if not np.isfinite(sig).all():
            raise ValueError(
                f"trial {i} (subject {trial.subject}, session {trial.session}, gesture "
                f"{trial.gesture}) holds non-finite samples"
            )
        if int(trial.gesture) < 0:
            raise ValueError(f"trial {i}: gesture must be 0-based, got {trial.gesture}")
        starts = window_starts(sig.shape[0], fs, window_s, overlap, discard_s)
        chunk = max(1, CHUNK_SAMPLES // (sig.shape[1] * length))
        for lo in range(0, len(starts), chunk):
            windows = cut_windows(sig, starts[lo : lo + chunk], length)
            images.append(to_grid(measure_values(windows, measure, fs, params), cmap))
        labels.append(np.repeat([[int(trial.gesture), int(trial.subject), int(trial.session), i]], len(starts), axis=0))
    if not images:
        raise ValueError(
            f"no trial is long enough for one window ({discard_s} s discarded + {window_s} s window at {fs} Hz)"
        )
    labels = np.concatenate(labels).astype(np.int64)
    if len(names) != images[0].shape[1]:  # multi-valued libemg features (e.g. AR) give extra planes
        names = tuple(f"{measure}_{i}" for i in range(images[0].shape[1]))
    return MeasureDataset(
        X=np.concatenate(images),
        gesture=labels[:, 0],
        subject=labels[:, 1],
        session=labels[:, 2],
        trial=labels[:, 3],
        measure=measure,
        grid_shape=cmap.shape,
        ring=bool(grid.ring),
        cell_mask=cmap >= 0,
        planes=names,
    )


# ---------------------------------------------------------------------------------------------
# standardisation


class MeasureScaler:
    """Per-plane standardisation fitted on training images: ``(x - mean_m) / std_m`` on occupied cells.

    Statistics are taken over windows and occupied cells only (empty cells stay 0), in float64.
    Planes whose std is below ``STD_FLOOR`` keep std 1. ``state_dict()`` holds plain lists so it
    can travel inside a ``torch.save`` checkpoint loaded with ``weights_only=True``.
    """

    def __init__(self, mean=None, std=None, cell_mask=None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        self.cell_mask = None if cell_mask is None else np.asarray(cell_mask, dtype=bool)
        if (self.mean is None) != (self.std is None) or (self.mean is None) != (self.cell_mask is None):
            raise ValueError("MeasureScaler needs mean, std and cell_mask together, or none of them")
        if self.mean is not None:
            if self.mean.ndim != 1 or self.mean.shape != self.std.shape or self.cell_mask.ndim != 2:
                raise ValueError(
                    f"mean/std must be equal 1-D arrays and cell_mask 2-D; got "
                    f"{self.mean.shape}, {self.std.shape}, {self.cell_mask.shape}"
                )
            if not (self.std > 0).all():
                raise ValueError("std must be positive")

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    def fit(self, X: np.ndarray, cell_mask: np.ndarray | None = None) -> MeasureScaler:
        """Fit per-plane mean/std on training images X (N, M, H, W)."""
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[0] == 0:
            raise ValueError(f"fit needs a non-empty (N, M, H, W) array, got shape {X.shape}")
        mask = np.ones(X.shape[2:], bool) if cell_mask is None else np.asarray(cell_mask, bool)
        if mask.shape != X.shape[2:]:
            raise ValueError(f"cell_mask {mask.shape} does not match the grid {X.shape[2:]}")
        values = X[:, :, mask].astype(np.float64)  # (N, M, cells)
        mean = values.mean(axis=(0, 2))
        std = values.std(axis=(0, 2))
        std[std < STD_FLOOR] = 1.0
        self.mean, self.std, self.cell_mask = mean.astype(np.float32), std.astype(np.float32), mask
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardised float32 copy of X (N, M, H, W); empty cells stay 0."""
        if not self.fitted:
            raise ValueError("MeasureScaler is not fitted")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 4 or X.shape[1] != len(self.mean) or X.shape[2:] != self.cell_mask.shape:
            raise ValueError(
                f"X of shape {X.shape} does not match the scaler's {len(self.mean)} "
                f"planes on a {self.cell_mask.shape} grid"
            )
        out = (X - self.mean[:, None, None]) / self.std[:, None, None]
        out[:, :, ~self.cell_mask] = 0.0
        return out

    def state_dict(self) -> dict:
        if not self.fitted:
            raise ValueError("MeasureScaler is not fitted")
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "cell_mask": self.cell_mask.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> MeasureScaler:
        return cls(state["mean"], state["std"], state["cell_mask"])

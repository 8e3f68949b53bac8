"""Hand-crafted EMG features through libemg's FeatureExtractor, per window or per sub-window.

Windows arrive as ``(N, C, W)`` arrays in raw int8 ADC units (what ``WindowDataset`` yields) and
are handed to libemg as float32 in those same units, so amplitude features (MAV, WL, RMS, ...)
are in ADC units and any threshold passed in ``params`` is too. Notes on libemg's definitions:

* ``ZC`` counts strict sign flips between consecutive samples (``diff(sign(x)) == +-2``), with no
  amplitude threshold; a crossing that passes through an exact 0 sample is not counted.
* ``SSC`` counts samples with ``(x[k]-x[k-1]) * (x[k]-x[k+1]) >= SSC_threshold``. libemg's
  default threshold 0.0 also counts every sample with an equal neighbour, which int8 data has
  plenty of, so ``DEFAULT_PARAMS`` sets 1.0 (ADC units squared): with integer samples that
  counts exactly the strict local extrema, Hudgins' slope sign change.
* Threshold defaults such as ``WAMP_threshold=2e-3`` are meant for volts; in ADC units pass a
  threshold explicitly. Frequency features get the Myo's 200 Hz (libemg assumes 1000 Hz).

libemg lays the output out feature-major: column ``j`` is feature ``j // C`` of channel
``j % C`` for single-valued features (multi-valued ones such as AR take several blocks).
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from emgcore.io import write_atomic

#: Hudgins' time-domain set (libemg group 'HTD'): the default hand-crafted features.
DEFAULT_FEATURES = ("MAV", "ZC", "SSC", "WL")
#: Myo armband sampling rate (Hz), given to libemg's frequency features instead of their 1000 Hz.
SAMPLING_RATE = 200
FS_FEATURES = ("MDF", "MNF", "SM", "DFTR", "WENG", "WV", "WWL", "WENT")
#: libemg keyword arguments (``{FEATURE}_{param}``) used unless a caller passes its own.
DEFAULT_PARAMS: dict[str, object] = {
    "SSC_threshold": 1.0, **{f"{feature}_fs": SAMPLING_RATE for feature in FS_FEATURES},
}
N_SUBWINDOWS = 4
MODES = ("window", "subwindow")
DEFAULT_CHUNK = 65536
TABLE_KEYS = ("X", "y", "subjects", "features", "params", "mode")
STD_FLOOR = 1e-6  # features with a smaller spread are left unscaled (std set to 1)

_EXTRACTOR = None


def _extractor():
    """The shared libemg FeatureExtractor (imported lazily: libemg pulls in heavy modules)."""
    global _EXTRACTOR
    if _EXTRACTOR is None:
        from libemg.feature_extractor import FeatureExtractor

        _EXTRACTOR = FeatureExtractor()
    return _EXTRACTOR


def resolve_features(features: str | Sequence[str] | None = None) -> list[str]:
    """Feature names to extract: a libemg group ('HTD'), one feature name, or a list of names.

    None gives ``DEFAULT_FEATURES``. Unknown names raise ValueError (libemg itself would skip
    them silently and return fewer columns).
    """
    extractor = _extractor()
    if features is None:
        features = DEFAULT_FEATURES
    if isinstance(features, str):
        groups = extractor.get_feature_groups()
        features = groups[features] if features in groups else [features]
    names = [str(f) for f in features]
    if not names:
        raise ValueError("the feature list is empty")
    known = extractor.get_feature_list()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown libemg features {unknown}; known features: {', '.join(known)}; "
            f"groups: {', '.join(extractor.get_feature_groups())}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate features in {names}")
    return names


def resolve_params(params: Mapping[str, object] | None = None) -> dict[str, object]:
    """libemg feature parameters (``{FEATURE}_{name}``), checked and typed: ``DEFAULT_PARAMS`` if None.

    Each key must be a keyword of that libemg feature (unknown ones raise instead of being
    ignored); values are converted to the type of libemg's default, because libemg asserts
    ``type(x) == float`` / ``int`` (so 1 -> 1.0 for thresholds, 200.0 -> 200 for orders).
    A given mapping replaces the defaults; use ``{**DEFAULT_PARAMS, key: value}`` to change one.
    """
    params = DEFAULT_PARAMS if params is None else params
    extractor = _extractor()
    known = extractor.get_feature_list()
    out: dict[str, object] = {}
    for key, value in params.items():
        key = str(key)
        feature = key.partition("_")[0]
        if feature not in known:
            raise ValueError(f"libemg parameter {key!r} does not start with a known feature name")
        keywords = inspect.signature(getattr(extractor, f"get{feature}feat")).parameters
        if key not in keywords or key == "windows":
            options = [k for k in keywords if k != "windows"] or "none"
            raise ValueError(f"libemg feature {feature} has no parameter {key!r}; its parameters: {options}")
        value = value.item() if isinstance(value, np.generic) else value
        default = keywords[key].default
        if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(default, int) and isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"libemg parameter {key} must be an integer, got {value}")
            value = int(value)
        out[key] = value
    return out


def _as_windows(windows) -> np.ndarray:
    """``windows`` (array or tensor, (N, C, W)) as float32 numpy in raw units; bad shapes raise."""
    if isinstance(windows, torch.Tensor):
        windows = windows.detach().cpu().numpy()
    windows = np.asarray(windows)
    if windows.ndim != 3:
        raise ValueError(f"windows must be a (N, channels, samples) array, got shape {windows.shape}")
    if not (np.issubdtype(windows.dtype, np.integer) or np.issubdtype(windows.dtype, np.floating)):
        raise ValueError(f"windows must hold numbers, got dtype {windows.dtype}")
    if windows.shape[2] < 3:
        raise ValueError(f"windows need at least 3 samples for libemg features, got {windows.shape[2]}")
    return np.ascontiguousarray(windows, dtype=np.float32)


def _extract(windows: np.ndarray, names: list[str], params: dict) -> np.ndarray:
    """libemg features of float32 windows (N, C, L) as float32 (N, D); non-finite values raise.

    libemg is called once per feature with only that feature's parameters: its own filter
    matches parameter names by substring, so e.g. 'WWL_fs' would be passed to WL and crash.
    The blocks are concatenated in order, which is exactly libemg's own layout.
    """
    n = windows.shape[0]
    if n == 0:
        probe = _extract(np.zeros((1,) + windows.shape[1:], np.float32), names, params)
        return np.empty((0, probe.shape[1]), np.float32)
    extractor = _extractor()
    blocks = []
    for name in names:
        own = {k: v for k, v in params.items() if k.partition("_")[0] == name}
        block = extractor.extract_features([name], windows, feature_dic=own, array=True)
        block = np.asarray(block, dtype=np.float32).reshape(n, -1)
        if not np.isfinite(block).all():
            raise ValueError(
                f"libemg feature {name} returned non-finite values (e.g. a statistic of a "
                f"constant window); choose other features"
            )
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


def window_features(windows, features=None, params: Mapping | None = None) -> np.ndarray:
    """One feature vector per window: float32 (N, D), D = C * len(features) for scalar features."""
    return _extract(_as_windows(windows), resolve_features(features), resolve_params(params))


def subwindow_features(
    windows, features=None, n_sub: int = N_SUBWINDOWS, params: Mapping | None = None
) -> np.ndarray:
    """Features of ``n_sub`` consecutive equal sub-windows of each window: float32 (N, n_sub, D).

    A 40-sample window with n_sub=4 gives four 10-sample slices, so each window becomes a short
    sequence of feature vectors for the sequence models (LSTM_HCF, CNN_HCF).
    """
    windows = _as_windows(windows)
    n, channels, length = windows.shape
    if n_sub < 1 or length % n_sub:
        raise ValueError(f"window of {length} samples cannot be split into n_sub={n_sub} equal parts")
    sub = length // n_sub
    if sub < 3:
        raise ValueError(f"sub-windows of {sub} samples are too short for libemg features (need 3)")
    pieces = windows.reshape(n, channels, n_sub, sub).transpose(0, 2, 1, 3).reshape(n * n_sub, channels, sub)
    feats = _extract(np.ascontiguousarray(pieces), resolve_features(features), resolve_params(params))
    return feats.reshape(n, n_sub, -1)


def compute_feature_table(
    dataset: Dataset,
    features=None,
    mode: str = "window",
    chunk: int = DEFAULT_CHUNK,
    params: Mapping | None = None,
    n_sub: int = N_SUBWINDOWS,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of every window of ``dataset`` in order: (X float32, y int64, subjects int64).

    ``dataset`` is any dataset whose ``__getitems__`` returns ``(x (B, C, W), y, subject)``
    (e.g. ``WindowDataset``); windows are cut ``chunk`` at a time so memory stays bounded.
    X is (N, D) for mode 'window' and (N, n_sub, D) for 'subwindow'.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if not hasattr(dataset, "__getitems__"):
        raise TypeError(f"{type(dataset).__name__} has no __getitems__ returning (x, y, subject) batches")
    names, params = resolve_features(features), resolve_params(params)

    def featurise(x):
        if mode == "window":
            return window_features(x, names, params)
        return subwindow_features(x, names, n_sub, params)

    total = len(dataset)
    X = y = subjects = None
    bar = tqdm(total=total, desc=f"features ({mode})", unit="win", disable=not progress)
    for lo in range(0, total, chunk):
        hi = min(lo + chunk, total)
        xb, yb, sb = dataset.__getitems__(np.arange(lo, hi))
        fb = featurise(xb)
        if X is None:
            X = np.empty((total,) + fb.shape[1:], np.float32)
            y, subjects = np.empty(total, np.int64), np.empty(total, np.int64)
        X[lo:hi] = fb
        y[lo:hi] = np.asarray(yb, dtype=np.int64)
        subjects[lo:hi] = np.asarray(sb, dtype=np.int64)
        bar.update(hi - lo)
    bar.close()
    if X is None:  # empty dataset: take the feature width from one blank window
        window = int(getattr(dataset, "window", 40))
        channels = int(getattr(dataset, "channels", 8))
        X = featurise(np.zeros((0, channels, window), np.float32))
        y, subjects = np.empty(0, np.int64), np.empty(0, np.int64)
    return X, y, subjects


def _check_table(X: np.ndarray, y: np.ndarray, subjects: np.ndarray, where: str) -> None:
    if X.ndim not in (2, 3):
        raise ValueError(f"{where}: X must be (N, D) or (N, n_sub, D), got shape {X.shape}")
    if y.ndim != 1 or subjects.ndim != 1 or not len(X) == len(y) == len(subjects):
        raise ValueError(
            f"{where}: X, y, subjects must have the same length N (y, subjects 1-D); got "
            f"{X.shape}, {y.shape}, {subjects.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: X holds non-finite values")


def save_feature_table(
    path: str | os.PathLike,
    X: np.ndarray,
    y: np.ndarray,
    subjects: np.ndarray,
    features=None,
    params: Mapping | None = None,
) -> Path:
    """Write a feature table atomically as .npz with its feature names and libemg parameters."""
    X = np.asarray(X, dtype=np.float32)
    y, subjects = np.asarray(y, dtype=np.int64), np.asarray(subjects, dtype=np.int64)
    _check_table(X, y, subjects, str(path))
    names, params = resolve_features(features), resolve_params(params)
    mode = "window" if X.ndim == 2 else "subwindow"

    def write(tmp):
        with open(tmp, "wb") as fh:  # a file handle, so numpy does not append '.npz'
            np.savez(fh, X=X, y=y, subjects=subjects, features=np.array(names),
                     params=np.array(json.dumps(params, sort_keys=True)), mode=np.array(mode))

    return write_atomic(path, write)


def load_feature_table(path: str | os.PathLike) -> dict:
    """Read a table from `save_feature_table`: {'X', 'y', 'subjects', 'features', 'params', 'mode'}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no feature table at {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in TABLE_KEYS if k not in data.files]
        if missing:
            raise ValueError(f"{path} is not a feature table (missing {missing})")
        table = {
            "X": data["X"].astype(np.float32, copy=False),
            "y": data["y"].astype(np.int64, copy=False),
            "subjects": data["subjects"].astype(np.int64, copy=False),
            "features": [str(f) for f in data["features"]],
            "params": json.loads(str(data["params"])),
            "mode": str(data["mode"]),
        }
    _check_table(table["X"], table["y"], table["subjects"], str(path))
    if table["mode"] not in MODES or (table["X"].ndim == 2) != (table["mode"] == "window"):
        raise ValueError(f"{path}: mode {table['mode']!r} does not match X of shape {table['X'].shape}")
    return table


class FeatureDataset(Dataset):
    """In-memory dataset of feature vectors; batches are ``(X float32, y int64, subject int64)``.

    ``__getitems__`` returns a whole batch, so ``emgcore.windows.make_loader`` and the training
    loop use it exactly like a ``WindowDataset``.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, subjects: np.ndarray):
        X = np.ascontiguousarray(X, dtype=np.float32)
        y, subjects = np.asarray(y, dtype=np.int64), np.asarray(subjects, dtype=np.int64)
        _check_table(X, y, subjects, "FeatureDataset")
        self.X, self.y, self.subjects = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(subjects)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "FeatureDataset":
        """Dataset over a table written by `save_feature_table`."""
        table = load_feature_table(path)
        return cls(table["X"], table["y"], table["subjects"])

    @property
    def n_features(self) -> int:
        """Width D of one feature vector (the last axis of X)."""
        return int(self.X.shape[-1])

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __getitem__(self, i: int):
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"item {i} out of range for a dataset of {len(self)} items")
        return self.X[i], self.y[i], self.subjects[i]

    def __getitems__(self, indices: Sequence[int]):
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        return self.X[idx], self.y[idx], self.subjects[idx]


class FeatureScaler:
    """Per-feature standardisation fitted on training features (statistics over all but the last axis).

    Features whose std is below ``STD_FLOOR`` (e.g. a count that never changes) keep std 1 so
    they are centred but not blown up. The HCF models take ``mean``/``std`` as buffers.
    """

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None):
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        if (self.mean is None) != (self.std is None):
            raise ValueError("FeatureScaler needs both mean and std, or neither")
        if self.mean is not None and (self.mean.shape != self.std.shape or self.mean.ndim != 1):
            raise ValueError(f"mean and std must be equal 1-D arrays, got {self.mean.shape}, {self.std.shape}")
        if self.std is not None and not (self.std > 0).all():
            raise ValueError("std must be positive")

    def fit(self, X: np.ndarray) -> "FeatureScaler":
        """Fit mean/std per feature on X (N, D) or (N, S, D), in float64 for accuracy."""
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"fit needs a non-empty (N, ..., D) array, got shape {X.shape}")
        flat = X.reshape(-1, X.shape[-1]).astype(np.float64)
        mean, std = flat.mean(axis=0), flat.std(axis=0)
        std[std < STD_FLOOR] = 1.0
        self.mean, self.std = mean.astype(np.float32), std.astype(np.float32)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(X - mean) / std as float32; raises if not fitted or the width differs."""
        if self.mean is None:
            raise ValueError("FeatureScaler is not fitted")
        X = np.asarray(X, dtype=np.float32)
        if X.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"X has {X.shape[-1]} features, the scaler was fitted on {self.mean.shape[0]}")
        return (X - self.mean) / self.std


class FeatureWindowDataset(Dataset):
    """Hand-crafted features computed per batch from any window dataset (raw or RunningNorm).

    Wraps a dataset whose ``__getitems__`` gives ``(x (B, C, W), y, subject)`` and returns
    ``(features, y, subject)``: (B, D) for ``mode='window'`` or (B, n_sub, D) for ``'subwindow'``.
    Features are never stored for every window, so memory stays that of the int8 windows.
    """

    def __init__(self, windows: Dataset, features=None, mode: str = "window", params=None,
                 n_sub: int = N_SUBWINDOWS):
        if mode not in ("window", "subwindow"):
            raise ValueError(f"mode must be 'window' or 'subwindow', got {mode!r}")
        self.windows = windows
        self.features = resolve_features(features)
        self.params = resolve_params(params)
        self.mode = mode
        self.n_sub = n_sub

    def __len__(self) -> int:
        return len(self.windows)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = x.numpy()
        if self.mode == "window":
            return torch.from_numpy(window_features(x, self.features, self.params))
        return torch.from_numpy(subwindow_features(x, self.features, self.n_sub, self.params))

    def __getitems__(self, indices):
        x, y, subject = self.windows.__getitems__(indices)
        return self._features(x), y, subject

    def __getitem__(self, i: int):
        x, y, subject = self.__getitems__([int(i)])
        return x[0], y[0], subject[0]

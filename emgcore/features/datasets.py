"""Feature views of window datasets for the hand-crafted-feature models, and their standardisation."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from emgcore.features.extraction import (
    MODES,
    N_SUBWINDOWS,
    resolve_features,
    resolve_params,
    subwindow_features,
    window_features,
)

STD_FLOOR = 1e-6  # features with a smaller spread are left unscaled (std set to 1)


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

    def fit(self, X: np.ndarray) -> FeatureScaler:
        """Fit mean/std per feature on X (N, D) or (N, S, D), in float64 for accuracy."""
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"fit needs a non-empty (N, ..., D) array, got shape {X.shape}")
        flat = X.reshape(-1, X.shape[-1])
        mean = flat.mean(axis=0, dtype=np.float64)  # accumulated in float64, without a float64 copy
        std = np.sqrt(np.mean(np.square(flat - mean.astype(flat.dtype), dtype=np.float64), axis=0, dtype=np.float64))
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
    Features are never stored for every window, so memory stays that of the int8 windows; they are
    computed natively (:mod:`emgcore.features.native`) on ``device``, the training device.
    """

    def __init__(
        self, windows: Dataset, features, mode: str = "window", params=None, n_sub: int = N_SUBWINDOWS, device=None
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.windows = windows
        self.features = resolve_features(features)
        self.params = resolve_params(params)
        self.mode = mode
        self.n_sub = n_sub
        self.device = device  # where the features are computed (the training device; None: where x is)

    def __len__(self) -> int:
        return len(self.windows)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "window":
            return window_features(x, self.features, self.params, self.device)
        return subwindow_features(x, self.features, self.n_sub, self.params, self.device)

    def __getitems__(self, indices):
        x, y, subject = self.windows.__getitems__(indices)
        return self._features(x), y, subject

    def __getitem__(self, i: int):
        x, y, subject = self.__getitems__([int(i)])
        return x[0], y[0], subject[0]


class FeatureTable(Dataset):
    """The features of every window of a :class:`FeatureWindowDataset`, computed once and held in
    memory (on the device they were computed on): what several models, and every epoch, reuse.

    Same interface as the dataset it was computed from (``__getitems__`` -> ``(features, y,
    subject)``; ``features``, ``params``, ``mode`` attributes); the values are identical.
    """

    def __init__(self, values: torch.Tensor, y: torch.Tensor, subject: torch.Tensor, source: FeatureWindowDataset):
        if not (len(values) == len(y) == len(subject)):
            raise ValueError(f"FeatureTable: {len(values)} feature rows for {len(y)} labels, {len(subject)} subjects")
        self.values, self.y, self.subject = values, y, subject
        self.features, self.params, self.mode, self.n_sub = source.features, source.params, source.mode, source.n_sub

    @classmethod
    def compute(cls, view: FeatureWindowDataset, chunk: int = 8192) -> FeatureTable:
        """Features of every window of `view`, in order, `chunk` windows at a time."""
        if len(view) == 0:
            raise ValueError("FeatureTable: the dataset has no window")
        parts = [view.__getitems__(list(range(i, min(i + chunk, len(view))))) for i in range(0, len(view), chunk)]
        return cls(*(torch.cat([p[k] for p in parts]) for k in range(3)), source=view)

    @staticmethod
    def nbytes(view: FeatureWindowDataset) -> int:
        """Bytes the table of `view` would take (float32 features), from one window's features."""
        return len(view) * int(view.__getitems__([0])[0].numel()) * 4

    def __len__(self) -> int:
        return len(self.values)

    def __getitems__(self, indices):
        idx = torch.as_tensor(indices, dtype=torch.long)
        return self.values[idx.to(self.values.device)], self.y[idx], self.subject[idx]

    def __getitem__(self, i: int):
        x, y, subject = self.__getitems__([int(i)])
        return x[0], y[0], subject[0]


class FeatureCache:
    """Feature tables shared by every model of one job: a split's features are computed once and
    kept when they fit in `budget_bytes` (together with the tables already kept), else each batch
    computes them on the fly. Keyed by the caller's name for the windows (e.g. the index path) and
    the feature view's names, parameters and mode."""

    def __init__(self, budget_bytes: int):
        if budget_bytes < 0:
            raise ValueError(f"FeatureCache: budget must be >= 0 bytes, got {budget_bytes}")
        self.budget = int(budget_bytes)
        self.used = 0
        self.tables: dict[tuple, FeatureTable] = {}
        self.on_the_fly: set[tuple] = set()

    def view(self, key: str, view):
        """`view`'s cached table (computed now when it fits), or `view` itself (features on the fly);
        views that are not feature views pass through."""
        if not isinstance(view, FeatureWindowDataset):
            return view
        full_key = (str(key), tuple(view.features), tuple(sorted(view.params.items())), view.mode, view.n_sub)
        if full_key in self.tables:
            return self.tables[full_key]
        if full_key not in self.on_the_fly:
            size = FeatureTable.nbytes(view)
            if self.used + size <= self.budget:
                self.tables[full_key] = FeatureTable.compute(view)
                self.used += size
                return self.tables[full_key]
            self.on_the_fly.add(full_key)
        return view

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

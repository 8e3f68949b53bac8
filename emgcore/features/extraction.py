"""Hand-crafted EMG features of window batches, per window or per sub-window, computed natively.

The pipeline's entry to :mod:`emgcore.features.native` (libemg 2.0.3's definitions, batched in
torch on the CPU or the training device). Windows arrive as ``(N, C, W)`` int8 ADC units (what
``WindowDataset`` yields), so amplitude features (MAV, WL, RMS, ...) are in ADC units and so is
every threshold given in ``params``. libemg's defaults are meant for volts and 1000 Hz; the
pipeline's values (config.yaml ``training.feature_params``) adapt them to the Myo:

* ``SSC_threshold: 1.0`` (ADC units squared). libemg's 0.0 also counts every sample with an equal
  neighbour, which int8 data has plenty of; with integer samples 1.0 counts exactly the strict
  local extrema, Hudgins' slope sign change.
* ``*_fs: 200``: the Myo's sampling rate for DFTR and the wavelet features.

The output is feature-major as in libemg: column ``j`` of a block of scalar features is feature
``j // C`` of channel ``j % C`` (``native.feature_names`` names every column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from emgcore.features import native

N_SUBWINDOWS = 4
MODES = ("window", "subwindow")


def resolve_features(features: str | Sequence[str]) -> list[str]:
    """Feature names: a group ('HTD'), one feature name, or a list of names and groups; unknown
    names raise ValueError listing the supported ones."""
    names = native.resolve_names(features)
    if not isinstance(features, str) and len(set(features)) != len(list(features)):
        raise ValueError(f"duplicate features in {list(features)}")
    return names


def resolve_params(params: Mapping[str, object] | None) -> dict[str, float]:
    """Feature parameters (``{FEATURE}_{name}``) checked against the supported ones; None is none."""
    params = {str(k): v for k, v in (params or {}).items()}
    native.resolve_params(native.FEATURES, params)  # unknown keys and non-numbers raise, naming the key
    return params


def window_features(windows, features, params: Mapping | None = None, device=None) -> torch.Tensor:
    """One feature vector per window of (N, C, W) int8 or float windows (array or tensor; bad shapes,
    NaN and unknown names raise): float32 (N, D) on `device` (default: the windows' device)."""
    return _finite(native.extract(windows, features, params, device=device))


def subwindow_features(
    windows, features, n_sub: int = N_SUBWINDOWS, params: Mapping | None = None, device=None
) -> torch.Tensor:
    """Features of ``n_sub`` consecutive equal sub-windows of each window: float32 (N, n_sub, D).

    A 40-sample window with n_sub=4 gives four 10-sample slices, so each window becomes a short
    sequence of feature vectors for the sequence models (LSTM_HCF, CNN_HCF).
    """
    return _finite(native.extract(windows, features, params, device=device, subwindows=n_sub))


def _finite(features: torch.Tensor) -> torch.Tensor:
    """`features`, or ValueError when a value is NaN or infinite (e.g. COR of a constant window):
    a model must not train on them silently."""
    if not bool(torch.isfinite(features).all()):
        raise ValueError(
            "features returned non-finite values (e.g. a statistic of a constant window); choose other features"
        )
    return features

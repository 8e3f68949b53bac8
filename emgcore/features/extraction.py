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

Constant channels: a few statistics are undefined on a window (or sub-window) whose channel never
changes, which int8 rest data has (a 10-sample sub-window of zeros): libemg gives MFL = log10(0)
= -inf, COR = 0/0, WENT = 0 log 0 and the TDPSD logs NaN. A model cannot train on them, so the
pipeline sets every such value to ``FLAT_FILL`` (0.0): for integer samples the least activity
that is not flat already has MFL = log10(1) = 0, a flat channel correlates with nothing (COR 0)
and has zero entropy (WENT 0). ``flat_fill=None`` raises instead; ``native.extract`` and the
command line keep libemg's values.

The output is feature-major as in libemg: column ``j`` of a block of scalar features is feature
``j // C`` of channel ``j % C`` (``native.feature_names`` names every column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from emgcore.features import native

N_SUBWINDOWS = 4
MODES = ("window", "subwindow")
FLAT_FILL = 0.0  # what the statistics undefined on a constant channel become (module docstring)


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


def window_features(
    windows, features, params: Mapping | None = None, device=None, flat_fill: float | None = FLAT_FILL
) -> torch.Tensor:
    """One feature vector per window of (N, C, W) int8 or float windows (array or tensor; bad shapes,
    NaN and unknown names raise): float32 (N, D) on `device` (default: the windows' device); values
    undefined on a constant channel become `flat_fill` (None: ValueError)."""
    return _finite(native.extract(windows, features, params, device=device), flat_fill)


def subwindow_features(
    windows,
    features,
    n_sub: int = N_SUBWINDOWS,
    params: Mapping | None = None,
    device=None,
    flat_fill: float | None = FLAT_FILL,
) -> torch.Tensor:
    """Features of ``n_sub`` consecutive equal sub-windows of each window: float32 (N, n_sub, D).

    A 40-sample window with n_sub=4 gives four 10-sample slices, so each window becomes a short
    sequence of feature vectors for the sequence models (LSTM_HCF, CNN_HCF).
    """
    return _finite(native.extract(windows, features, params, device=device, subwindows=n_sub), flat_fill)


def _finite(features: torch.Tensor, flat_fill: float | None) -> torch.Tensor:
    """`features` with non-finite values (a statistic of a constant channel) set to `flat_fill`, or
    ValueError when `flat_fill` is None: a model must not train on them silently."""
    finite = torch.isfinite(features)
    if bool(finite.all()):
        return features
    if flat_fill is None:
        raise ValueError(
            "features returned non-finite values (e.g. a statistic of a constant window); choose other features"
        )
    return torch.where(finite, features, torch.as_tensor(float(flat_fill), dtype=features.dtype))

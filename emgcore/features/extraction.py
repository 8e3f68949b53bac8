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
from collections.abc import Mapping, Sequence

import numpy as np
import torch

#: Hudgins' time-domain set (libemg group 'HTD'): the default hand-crafted features.
DEFAULT_FEATURES = ("MAV", "ZC", "SSC", "WL")
#: Myo armband sampling rate (Hz), given to libemg's frequency features instead of their 1000 Hz.
SAMPLING_RATE = 200
FS_FEATURES = ("MDF", "MNF", "SM", "DFTR", "WENG", "WV", "WWL", "WENT")
#: libemg keyword arguments (``{FEATURE}_{param}``) used unless a caller passes its own.
DEFAULT_PARAMS: dict[str, object] = {
    "SSC_threshold": 1.0,
    **{f"{feature}_fs": SAMPLING_RATE for feature in FS_FEATURES},
}
N_SUBWINDOWS = 4
MODES = ("window", "subwindow")

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


def subwindow_features(windows, features=None, n_sub: int = N_SUBWINDOWS, params: Mapping | None = None) -> np.ndarray:
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

"""The parity rule between emgcore.features.native and libemg 2.0.3, and where the test data live.

Used by tests/features/test_native_reference.py (against the committed reference vectors) and
tests/features/test_native_live_parity.py (against libemg itself).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from emgcore.features import native

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "features" / "data" / "reference_vectors.npz"  # scripts/make_feature_reference.py

GROUP_NAMES = ["WENG", "RMS", "HTD", "DFTR", "ITD", "LS4", "TDAR", "COMB", "MSWT", "TDPSD", "LS9"]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
COUNTS = ("ZC", "SSC", "WAMP")
RTOL = {"float32": 1e-4, "float64": 1e-9}
LOG_FLOOR = math.log(1e-10)


def ciil_dir() -> Path:
    """The CIIL Myo recordings: $EMG_CIIL_DIR, else <repo>/../shared/data/ciil."""
    return Path(os.environ.get("EMG_CIIL_DIR") or REPO.parent / "shared" / "data" / "ciil")


def ciil_files(root: Path | None = None) -> list[Path]:
    """Every CIIL recording (CSV, one row per sample, 8 int8 columns) under ``root``, sorted."""
    return sorted((root or ciil_dir()).glob("**/*.csv"))


def split_subwindows(windows: np.ndarray, s: int = 4) -> np.ndarray:
    """(N, C, W) -> (N, S, C, W/S): the S consecutive sub-windows of each window."""
    n, c, w = windows.shape
    return windows.reshape(n, c, s, w // s).transpose(0, 2, 1, 3)


def block_slices(names, n_channels: int = 8, params=None, libemg_compat: bool = False) -> list[tuple[str, slice]]:
    """[(feature, slice of columns)] of a native output."""
    out, col = [], 0
    for feat, kw in native.resolve_params(names, params, libemg_compat=libemg_compat).items():
        n = native.n_columns([feat], n_channels, dict(kw))
        out.append((feat, slice(col, col + n)))
        col += n
    return out


def constant_channels(windows: np.ndarray) -> np.ndarray:
    """(..., C) bool: channel constant over the window (windows (..., C, W))."""
    return (windows == windows[..., :1]).all(-1)


def compare_block(
    feat: str, out: np.ndarray, ref: np.ndarray, dtype: str, windows: np.ndarray | None = None, n_channels: int = 8
) -> float:
    """Assert native ``out`` matches libemg's ``ref`` for one feature block; returns the error.

    Rule: NaN / +inf / -inf at exactly the same places; counts (ZC SSC WAMP) exactly equal;
    other finite values |out - ref| <= rtol * max(|ref|, 1) (COR: rtol * |ref|, its values are
    ~1/ISD), rtol = 1e-4 (float32) or 1e-9 (float64).  Documented exceptions on *constant*
    channels (``windows`` given), where libemg's value is pywt's rounding noise:
    WWL of the approximation band (band 0) must be exactly log(1e-10) natively, and WENT in
    float64 is only held to 1e-7.
    """
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert out.shape == ref.shape, (feat, out.shape, ref.shape)
    skip = np.zeros(ref.shape, dtype=bool)
    rtol = np.full(ref.shape, RTOL[dtype])
    if windows is not None and feat in ("WWL", "WENT"):
        const = constant_channels(windows)  # (..., C)
        nb = ref.shape[-1] // n_channels
        const_cols = np.concatenate([const] * nb, axis=-1)  # band-major columns
        if feat == "WWL":
            band0 = np.zeros(ref.shape[-1], dtype=bool)
            band0[:n_channels] = True
            skip = const_cols & band0
            floor = np.float64(np.float32(LOG_FLOOR)) if dtype == "float32" else LOG_FLOOR
            np.testing.assert_array_equal(out[skip], floor)
        elif dtype == "float64":
            rtol = np.where(const_cols, 1e-7, rtol)
    for kind, fn in (("nan", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        mism = (fn(out) != fn(ref)) & ~skip
        assert not mism.any(), f"{feat}: {kind} pattern differs at {np.argwhere(mism)[:5].tolist()}"
    fin = np.isfinite(ref) & ~skip
    if feat in COUNTS:
        np.testing.assert_array_equal(out[fin], ref[fin], err_msg=f"{feat}: counts differ")
        return 0.0
    scale = np.abs(ref) if feat == "COR" else np.maximum(np.abs(ref), 1.0)
    err = np.zeros(ref.shape)
    err[fin] = np.abs(out[fin] - ref[fin]) / scale[fin]
    bad = err > rtol
    assert not bad.any(), (
        f"{feat} ({dtype}): error {err.max():.3e} > tolerance at {np.argwhere(bad)[:5].tolist()}: "
        f"native {out[bad][:3]}, libemg {ref[bad][:3]}"
    )
    return float(err.max()) if err.size else 0.0

"""Build tests/features/data/reference_vectors.npz: libemg 2.0.3's output for real CIIL Myo windows and edge cases.

Run from the repository root with the project's environment (libemg 2.0.3 installed)::

    .venv/bin/python scripts/make_feature_reference.py [--ciil DIR] [--out FILE.npz]

The file is read by tests/features/test_native_reference.py (which needs no libemg); the default
``--out`` overwrites it (written to a temporary file next to it, then renamed into place).

Inputs (stored as int8, shape (N, 8, 40)):

* ``N_REAL`` real windows, each 40 consecutive samples (200 ms at 200 Hz) of one CIIL recording
  (``--ciil``, default ``$EMG_CIIL_DIR`` or ``<repo>/../shared/data/ciil``: CSV, one row per sample,
  8 int8 columns), taken from the middle of recordings spread over both datasets, all 32 people and
  all five classes;
* edge cases (``edge_windows``): all zeros, constants (5, 127, -128, -1), saturated square wave
  (127/-128), one spike per channel, +-1 alternation, a crossing through 0 (1, 0, -1, 0, ...), a
  linear ramp (COR = inf), a mixed window (every channel a different case) and a clipped real
  window.

Outputs (float64), computed by libemg on ``windows.astype(np.float64)`` (libemg on int8 arrays
overflows, see emgcore/features/native.py) with libemg's default parameters:

* ``win/<FEATURE>``: ``FeatureExtractor.extract_features([FEATURE], windows)[FEATURE]`` for every
  feature of the eleven groups, shape (N, k*8); ``AR9`` is ``getARfeat(windows, AR_order=9)``
  (libemg has no AR9 feature: its COMB group silently skips it, see emgcore/features/native.py).
* ``sub/<FEATURE>``: the same on the 4 x 10-sample sub-windows of the windows ``sub_index`` (the
  first ``N_SUB_REAL`` real windows and every edge case), shape (len(sub_index), 4, k*8).  Every
  feature works on 10 samples in libemg (AR9 of 10 samples is ill-conditioned but defined).

Groups are stored once per feature (the file stays small); ``groups`` (JSON) lists the eleven
groups as libemg defines them and the test assembles each group from its features, in order.
``build`` checks, while building, that the assembled group equals libemg's
``extract_features(group)`` output (for COMB: libemg's 24 columns, i.e. without AR9).
``nonfinite`` (JSON) lists where outputs are NaN / inf.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

N_REAL = 16  # real windows (windowed outputs)
N_SUB_REAL = 2  # of which this many also get sub-windowed outputs (all edge cases do)
WINDOW = 40
SUBWINDOWS = 4
REPO = Path(__file__).resolve().parents[1]
CIIL = Path(os.environ.get("EMG_CIIL_DIR") or REPO.parent / "shared" / "data" / "ciil")
OUT = REPO / "tests" / "features" / "data" / "reference_vectors.npz"

GROUP_ORDER = ("WENG", "RMS", "HTD", "DFTR", "ITD", "LS4", "TDAR", "COMB", "MSWT", "TDPSD", "LS9")
SINGLE_GROUPS = {"WENG": ("WENG",), "RMS": ("RMS",)}


def libemg_groups() -> dict[str, list[str]]:
    from libemg.feature_extractor import FeatureExtractor

    groups = FeatureExtractor().get_feature_groups()
    out = {}
    for g in GROUP_ORDER:
        out[g] = list(SINGLE_GROUPS[g]) if g in SINGLE_GROUPS else list(groups[g])
    return out


def real_windows(root: Path = CIIL, n: int = N_REAL) -> tuple[np.ndarray, list[str]]:
    """n windows (n, 8, 40) int8 from recordings spread over people, datasets and classes."""
    files = sorted(str(p) for p in Path(root).glob("**/*.csv"))
    if not files:
        raise FileNotFoundError(f"no CIIL CSV files under {root}")
    picks = [files[int(i)] for i in np.linspace(0, len(files) - 1, n)]
    out, names = [], []
    for path in picks:
        x = np.loadtxt(path, delimiter=",", dtype=np.int64)
        if x.ndim != 2 or x.shape[1] != 8 or x.min() < -128 or x.max() > 127:
            raise ValueError(f"{path}: expected (samples, 8) int8 values")
        start = max(0, len(x) // 2 - WINDOW // 2)
        out.append(np.ascontiguousarray(x[start : start + WINDOW].T.astype(np.int8)))
        names.append(os.path.relpath(path, root) + f"[{start}:{start + WINDOW}]")
    return np.stack(out), names


def edge_windows(real: np.ndarray) -> tuple[np.ndarray, list[str]]:
    c, w = 8, WINDOW
    t = np.arange(w)
    cases = {}
    cases["zeros"] = np.zeros((c, w))
    for v in (5, 127, -128, -1):
        cases[f"constant_{v}"] = np.full((c, w), v)
    cases["saturated_square"] = np.tile(np.where(t % 2 == 0, 127, -128), (c, 1))
    spike = np.zeros((c, w))
    for ch in range(c):
        spike[ch, (5 * ch + 3) % w] = 127 if ch % 2 == 0 else -128
    cases["spike"] = spike
    cases["alternating_pm1"] = np.tile(np.where(t % 2 == 0, 1, -1), (c, 1))
    cases["zero_crossing_via_0"] = np.tile(np.array([1, 0, -1, 0])[t % 4], (c, 1))
    cases["ramp"] = np.tile(t - 20, (c, 1))
    mixed = np.stack(
        [
            cases["zeros"][0],
            cases["constant_5"][0],
            cases["constant_127"][0],
            cases["constant_-128"][0],
            spike[0],
            cases["alternating_pm1"][0],
            cases["saturated_square"][0],
            cases["ramp"][0],
        ]
    )
    cases["mixed"] = mixed
    cases["clipped_real"] = np.clip(real[0].astype(np.int64) * 4, -128, 127)
    names = list(cases)
    return np.stack([cases[k] for k in names]).astype(np.int8), names


def libemg_feature(fe, feature: str, windows64: np.ndarray) -> np.ndarray:
    if feature == "AR9":
        return np.asarray(fe.getARfeat(windows64, AR_order=9), dtype=np.float64)
    return np.asarray(fe.extract_features([feature], windows64)[feature], dtype=np.float64)


def split_subwindows(windows: np.ndarray, s: int = SUBWINDOWS) -> np.ndarray:
    n, c, w = windows.shape
    return windows.reshape(n, c, s, w // s).transpose(0, 2, 1, 3).reshape(n * s, c, w // s)


def build(root: Path = CIIL) -> dict[str, np.ndarray]:
    from libemg.feature_extractor import FeatureExtractor

    fe = FeatureExtractor()
    groups = libemg_groups()
    real, real_names = real_windows(root)
    edge, edge_names = edge_windows(real)
    windows = np.ascontiguousarray(np.concatenate([real, edge]))
    names = real_names + edge_names
    sub_idx = list(range(N_SUB_REAL)) + list(range(len(real), len(windows)))
    features = []
    for g in GROUP_ORDER:
        for f in groups[g]:
            if f not in features:
                features.append(f)
    out: dict[str, np.ndarray] = {"windows": windows, "sub_index": np.asarray(sub_idx)}
    w64 = np.ascontiguousarray(windows, dtype=np.float64)  # numpy's sums depend on the layout
    s64 = np.ascontiguousarray(split_subwindows(w64[sub_idx]))
    nonfinite = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in features:
            win = libemg_feature(fe, f, w64)
            sub = libemg_feature(fe, f, s64).reshape(len(sub_idx), SUBWINDOWS, -1)
            out[f"win/{f}"], out[f"sub/{f}"] = win, sub
            for key, arr, rows in (("win", win, list(range(len(windows)))), ("sub", sub, sub_idx)):
                bad = ~np.isfinite(arr)
                if bad.any():
                    where = sorted({names[rows[i]] for i in np.argwhere(bad)[:, 0]})
                    kinds = sorted({"nan" if np.isnan(v) else ("inf" if v > 0 else "-inf") for v in arr[bad]})
                    nonfinite[f"{key}/{f}"] = {"values": kinds, "windows": where}
        # the assembled groups are exactly libemg's group output
        for g in GROUP_ORDER:
            lib = fe.extract_features(groups[g], w64)
            lib = np.hstack([lib[k] for k in lib])
            feats = [f for f in groups[g] if f != "AR9"]  # libemg skips AR9
            ours = np.hstack([out[f"win/{f}"] for f in feats])
            if not np.array_equal(lib, ours, equal_nan=True):
                raise AssertionError(f"group {g}: assembled features differ from libemg's output")
    import libemg

    meta = {
        "libemg_version": getattr(libemg, "__version__", "2.0.3"),
        "numpy_version": np.__version__,
        "groups": groups,
        "features": features,
        "window_names": names,
        "n_real": len(real),
        "subwindows": SUBWINDOWS,
        "params": "libemg defaults (SSC_threshold=0.0, WAMP_threshold=2e-3, AR_order=4, "
        "*_fs=1000); AR9 = getARfeat(AR_order=9)",
        "nonfinite": nonfinite,
    }
    out["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return out


def write_atomic(path: Path, data: dict[str, np.ndarray]) -> None:
    """np.savez_compressed to a temporary file in path's folder, renamed into place when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ciil", type=Path, default=CIIL, help=f"CIIL recordings (default {CIIL})")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output .npz (default {OUT})")
    args = ap.parse_args(argv)
    data = build(args.ciil)
    write_atomic(args.out, data)
    meta = json.loads(bytes(data["meta"]).decode())
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1024:.1f} KiB): "
        f"{len(data['windows'])} windows, {len(data['sub_index'])} sub-windowed, "
        f"{len(meta['features'])} features"
    )
    for k, v in meta["nonfinite"].items():
        print(f"  non-finite {k}: {v['values']} in {', '.join(v['windows'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

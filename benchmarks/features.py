"""Throughput of the native hand-crafted features (emgcore.features.native) against libemg 2.0.3, per group.

    python benchmarks/features.py                                   # 200k windows, 2 threads
    python benchmarks/features.py --windows 50000 --libemg-windows 2000 --json benchmarks/out/features.json
    python benchmarks/features.py --no-libemg                       # native (and GPU) figures only
    python benchmarks/features.py --no-libemg --no-kernels          # the torch paths without numba

Windows are 8 x 40 int8 windows cut from the real CIIL Myo recordings (``--ciil``, default
``$EMG_CIIL_DIR`` or ``<repo>/../shared/data/ciil``), evenly strided over every recording and
shuffled, so amplitudes are real.  Every group of ``native.GROUPS`` is timed windowed and
sub-windowed (each window cut into 4 x 10 samples: native ``subwindows=4``; libemg on the
(4N, 8, 10) sub-windows); rates are windows (not sub-windows) per second.

* native CPU: ``native.extract`` on all ``--windows`` windows, float32, ``--threads`` threads
  (default 2), after a warm-up, best of ``--repeat`` runs; the rate per CPU-second of the process
  is printed too (what one core sustains: on a shared machine the wall rate can fall below
  threads x that);
* native GPU (only when CUDA is available): the same from an int8 tensor already on the device,
  timed between two ``torch.cuda.synchronize()``;
* libemg (optional: skipped when not installed or with ``--no-libemg``): one run of
  ``FeatureExtractor.extract_features`` on the first ``--libemg-windows`` windows only (default
  5000: libemg's LS and some others loop in Python over windows and channels), timed from the
  int8 array (its conversion to float64 -- libemg on int8 overflows -- and the sub-window cut
  included), after a warm-up on 50 windows.  COMB for libemg is its own group (WL SSC LD: it skips
  AR9) plus ``getARfeat(AR_order=9)``, i.e. the same work as native COMB.

Ratio = native CPU wall rate / libemg rate.  libemg's vectorised groups (RMS, HTD, TDAR, ...) run
2-10x faster per window on 5000 windows than on 100k (the arrays stay in cache), so the ratios and
libemg's full-scale hours favour libemg; raise ``--libemg-windows`` for the large-batch rate.
The full-scale estimate extrapolates the rates to one EPN-612 training split at stride 2 (30.6 M
windows, BENCHMARKS.md): hours per group and for every group together.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from emgcore.features import native  # noqa: E402 (needs the sys.path insert above: run as a script)

CIIL = Path(os.environ.get("EMG_CIIL_DIR") or REPO.parent / "shared" / "data" / "ciil")
EPN612_TRAIN_WINDOWS = 30_600_000  # raw training windows at stride 2 (BENCHMARKS.md)
WINDOW, CHANNELS, SUBWINDOWS = 40, 8, 4
MODES = {"win": None, "sub": SUBWINDOWS}


def load_windows(n: int, root: Path = CIIL) -> np.ndarray:
    """(n, 8, 40) int8 windows strided evenly over every CIIL recording, shuffled (seed 0)."""
    files = sorted(root.glob("**/*.csv"))
    if not files:
        raise SystemExit(f"no CIIL recordings (*.csv) under {root} (set --ciil or EMG_CIIL_DIR)")
    recs = []
    for path in files:
        vals = np.array(path.read_text().replace("\n", ",").strip(",").split(","), dtype=np.int16)
        recs.append(vals.reshape(-1, CHANNELS).astype(np.int8))
    total = sum(max(0, len(r) - WINDOW) for r in recs)
    stride = max(1, total // n)
    wins = [np.lib.stride_tricks.sliding_window_view(r, WINDOW, axis=0)[::stride] for r in recs if len(r) >= WINDOW]
    x = np.concatenate(wins)  # (M, 8, 40)
    x = x[np.random.default_rng(0).permutation(len(x))[:n]]
    if len(x) < n:
        x = np.concatenate([x] * (n // len(x) + 1))[:n]
    return np.ascontiguousarray(x)


def time_native(x, group: str, sub: int | None, repeat: int, threads: int) -> tuple[float, float]:
    """(windows per wall-clock second, windows per CPU-second of this process), best of ``repeat``."""
    native.extract(x[:2000], group, subwindows=sub, threads=threads)  # warm-up (constant matrices, pool)
    wall = cpu = math.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        native.extract(x, group, subwindows=sub, threads=threads)
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return len(x) / wall, len(x) / cpu


def time_gpu(xg: torch.Tensor, group: str, sub: int | None, repeat: int) -> float:
    """Windows per second on the GPU, from an int8 tensor already there, best of ``repeat``."""
    native.extract(xg[:2000], group, subwindows=sub)
    torch.cuda.synchronize()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        native.extract(xg, group, subwindows=sub)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return len(xg) / best


def libemg_group(fe, group: str, w64: np.ndarray) -> None:
    feats = list(native.GROUPS[group])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fe.extract_features([f for f in feats if f != "AR9"], w64, array=True)
        if "AR9" in feats:
            fe.getARfeat(w64, AR_order=9)


def time_libemg(fe, x, group: str, sub: int | None) -> float:
    """Windows per second of one libemg run on ``x``, from int8 (float64 conversion and sub-window cut included)."""
    libemg_group(fe, group, np.ascontiguousarray(x[:50], dtype=np.float64))  # numba / import warm-up
    t0 = time.perf_counter()
    w64 = x.astype(np.float64)  # libemg needs floats (int8 overflows): part of its cost
    if sub:
        n, c, w = w64.shape
        w64 = np.ascontiguousarray(w64.reshape(n, c, sub, w // sub).transpose(0, 2, 1, 3).reshape(n * sub, c, w // sub))
    libemg_group(fe, group, w64)
    return len(x) / (time.perf_counter() - t0)


def load_libemg(disabled: bool):
    if disabled:
        return None, "disabled (--no-libemg)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import libemg
            from libemg.feature_extractor import FeatureExtractor
    except ImportError as exc:
        return None, f"not installed ({exc})"
    return FeatureExtractor(), getattr(libemg, "__version__", "2.0.3")


def hours(rate: float | None, n: int = EPN612_TRAIN_WINDOWS) -> float | None:
    return None if not rate else n / rate / 3600


def _fmt(v: float | None, spec: str, width: int) -> str:
    return f"{'-':>{width}s}" if v is None else f"{v:{width}{spec}}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=200_000, help="windows for native (default 200000)")
    ap.add_argument("--libemg-windows", type=int, default=5_000, help="windows for libemg (default 5000)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for native on CPU (default 2)")
    ap.add_argument("--repeat", type=int, default=3, help="native runs per figure, best kept (default 3)")
    ap.add_argument("--groups", default=",".join(native.GROUPS), help="comma-separated groups (default all)")
    ap.add_argument("--ciil", type=Path, default=CIIL, help=f"CIIL recordings (default {CIIL})")
    ap.add_argument("--no-libemg", action="store_true", help="native figures only")
    ap.add_argument("--no-gpu", action="store_true", help="skip the GPU figures even when CUDA is available")
    ap.add_argument(
        "--no-kernels", action="store_true", help="native torch paths only (native.USE_KERNELS = False: no numba)"
    )
    ap.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures to OUT (JSON)")
    args = ap.parse_args(argv)
    groups = args.groups.split(",")
    unknown = [g for g in groups if g not in native.GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; groups: {', '.join(native.GROUPS)}")
    torch.set_num_threads(args.threads)
    native.USE_KERNELS = not args.no_kernels

    t_start = time.perf_counter()
    x = load_windows(args.windows, args.ciil)
    t_load = time.perf_counter() - t_start
    fe, libemg_info = load_libemg(args.no_libemg)
    n_lib = min(args.libemg_windows, len(x))
    gpu = torch.cuda.is_available() and not args.no_gpu
    xg = torch.from_numpy(x).cuda() if gpu else None
    gpu_name = torch.cuda.get_device_name(0) if gpu else None

    print(f"native features benchmark -- {time.strftime('%Y-%m-%d %H:%M')}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; torch {torch.__version__}, {args.threads} threads, numpy {np.__version__}; "
        f"GPU: {gpu_name or 'none'}; libemg: {libemg_info}"
    )
    print(
        f"data: {len(x)} windows 8 x 40 int8 from the CIIL recordings (|x| mean "
        f"{np.abs(x.astype(np.float32)).mean():.1f} ADC), loaded in {t_load:.1f} s"
    )
    print(
        f"native: float32, all {len(x)} windows, best of {args.repeat}, numba kernels "
        f"{'off' if args.no_kernels else 'on'}; libemg: one run on the first {n_lib} "
        "windows (from int8, float64 conversion and sub-window cut included)"
    )
    print("rates in windows per second (sub: 4 x 10-sample sub-windows per window); ratio = native / libemg")
    print()

    results: dict[str, dict] = {}
    cell = f"{'native':>8s} {'/CPU-s':>8s} {'libemg':>7s} {'ratio':>5s}" + (f" {'GPU':>9s}" if gpu else "")
    head = f"{'group':6s} {'cols':>4s} | {cell} | {cell}"
    width = len(cell)
    print(f"{'':11s} | {'windowed':^{width}s} | {'sub-windowed 4 x 10':^{width}s}")
    print(head)
    print("-" * len(head))
    for group in groups:
        res = {"columns": native.n_columns(group, CHANNELS)}
        row = [f"{group:6s} {res['columns']:4d}"]
        for mode, sub in MODES.items():
            nat, per_cpu = time_native(x, group, sub, args.repeat, args.threads)
            lib = time_libemg(fe, x[:n_lib], group, sub) if fe is not None else None
            g = time_gpu(xg, group, sub, args.repeat) if gpu else None
            ratio = nat / lib if lib else None
            res[mode] = {"native": nat, "native_per_cpu_s": per_cpu, "libemg": lib, "ratio": ratio, "gpu": g}
            txt = f"{nat:8.0f} {per_cpu:8.0f} {_fmt(lib, '.0f', 7)} {_fmt(ratio, '.0f', 4)}{'x' if ratio else ' '}"
            row.append(txt + (f" {g:9.0f}" if gpu else ""))
        results[group] = res
        print(" | ".join(row), flush=True)

    n_full = EPN612_TRAIN_WINDOWS
    print()
    print(f"full-scale estimate: one EPN-612 training split at stride 2 ({n_full / 1e6:.1f} M windows), hours")
    cols = ["native", "libemg"] + (["gpu"] if gpu else [])
    cell = " ".join(f"{c:>8s}" for c in cols)
    print(f"{'group':6s} | {'windowed':^{len(cell)}s} | {'sub-windowed':^{len(cell)}s}")
    print(f"{'':6s} | {cell} | {cell}")
    total = {mode: dict.fromkeys(cols, 0.0) for mode in MODES}
    for group in groups:
        row = [f"{group:6s}"]
        for mode in MODES:
            hs = [hours(results[group][mode][c]) for c in cols]
            for c, h in zip(cols, hs):
                total[mode][c] = None if h is None or total[mode][c] is None else total[mode][c] + h
            row.append(" ".join(_fmt(h, ".2f", 8) for h in hs))
        print(" | ".join(row))
    print(" | ".join([f"{'all':6s}"] + [" ".join(_fmt(total[m][c], ".2f", 8) for c in cols) for m in MODES]))
    elapsed = time.perf_counter() - t_start
    print()
    print(f"load average at end {os.getloadavg()[0]:.2f}; total {elapsed:.0f} s")

    if args.json:
        doc = {
            "meta": {
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "cpus": os.cpu_count(),
                "threads": args.threads,
                "kernels": not args.no_kernels,
                "torch": torch.__version__,
                "numpy": np.__version__,
                "gpu": gpu_name,
                "libemg": libemg_info,
                "windows": len(x),
                "libemg_windows": n_lib if fe is not None else 0,
                "subwindows": SUBWINDOWS,
                "units": "windows per second",
                "seconds": elapsed,
            },
            "groups": results,
            "full_scale": {
                "windows": n_full,
                "hours": {
                    "per_group": {g: {m: {c: hours(results[g][m][c]) for c in cols} for m in MODES} for g in groups},
                    "all_groups": total,
                },
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(f".tmp-{os.getpid()}-{args.json.name}")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

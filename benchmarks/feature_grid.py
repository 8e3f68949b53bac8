"""Stored feature tables against features on the fly, per epoch at thesis scale (the cross_feats grid).

    python benchmarks/feature_grid.py                         # every group, both modes, 2 threads
    python benchmarks/feature_grid.py --groups LS9 MSWT --table-gib 4 --json benchmarks/out/feature_grid.json

The feature-grid models (lda, mlp windowed; lstm_hcf, cnn_hcf on 4 sub-windows of 10 samples)
read hand-crafted features of every training window. Two ways to serve them:

* **on the fly**: each shuffled training batch of 512 int8 windows gets its features computed
  natively on the training device (``emgcore.features.native``), every epoch;
* **stored**: one pass computes the features of every (group, split, variant) into a float32
  table on disk (``.npy``, one row per window of the index), and each epoch reads shuffled
  512-row batches back from it (``numpy`` memmap).

Measured here for every group and mode, from windows cut from the real CIIL recordings:
on-the-fly rate (512-window batches, ``--threads``), stored read rate with the table's pages in
the page cache (warm) and after ``posix_fadvise(DONTNEED)`` (cold: from the disk), on a table of
``--table-gib`` GiB written with the row width of that group; the model's own step time is
printed for scale (MLP / CNN_HCF forward + backward on the same batches). Everything is
extrapolated to one EPN-612 training epoch (30.6 M windows at stride 2) and to the disk the
grid's tables would take (train split, one variant).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.features import EPN612_TRAIN_WINDOWS, SUBWINDOWS, load_windows  # noqa: E402
from emgcore.features import native  # noqa: E402
from emgcore.models import build_model  # noqa: E402

PARAMS = {"SSC_threshold": 1.0, "DFTR_fs": 200, "WENG_fs": 200, "WV_fs": 200, "WWL_fs": 200, "WENT_fs": 200}
BATCH = 512
MODES = {"win": None, "sub": SUBWINDOWS}


def on_the_fly_rate(windows: np.ndarray, group: str, subwindows, threads: int, batches: int) -> float:
    """Windows/s of native features on shuffled 512-window batches (int8 tensor in, float32 out)."""
    x = torch.from_numpy(windows)
    rng = np.random.default_rng(0)
    native.extract(x[:BATCH], group, PARAMS, subwindows=subwindows, threads=threads)  # warm-up
    t0 = time.perf_counter()
    for _ in range(batches):
        idx = torch.from_numpy(rng.integers(0, len(x), BATCH))
        native.extract(x[idx], group, PARAMS, subwindows=subwindows, threads=threads)
    return batches * BATCH / (time.perf_counter() - t0)


def write_table(path: Path, rows: int, width: int) -> None:
    """A float32 (rows, width) .npy of random values written in chunks (as a table job would)."""
    table = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))
    rng = np.random.default_rng(0)
    for i in range(0, rows, 1 << 18):
        n = min(1 << 18, rows - i)
        table[i : i + n] = rng.standard_normal((n, width), dtype=np.float32)
    table.flush()
    del table


def drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_rate(path: Path, batches: int) -> float:
    """Windows/s of shuffled 512-row batches from the memmapped table (sorted indices per batch)."""
    table = np.load(path, mmap_mode="r")
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(batches):
        idx = np.sort(rng.integers(0, len(table), BATCH))
        np.ascontiguousarray(table[idx])
    return batches * BATCH / (time.perf_counter() - t0)


def model_rate(model_name: str, shape: tuple[int, ...], batches: int) -> float:
    """Windows/s of one training step (forward, backward, Adam) of an HCF model on feature batches."""
    n_features = shape[-1]
    kwargs = dict(n_features=n_features, feature_mean=np.zeros(n_features), feature_std=np.ones(n_features))
    if len(shape) == 2:
        kwargs["n_subwindows"] = shape[0]
    model = build_model(model_name, **kwargs)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.randn(BATCH, *shape), torch.randint(0, 5, (BATCH,))
    t0 = time.perf_counter()
    for _ in range(batches):
        opt.zero_grad()
        out = model(x)
        logits = out[0] if isinstance(out, tuple) else out
        torch.nn.functional.cross_entropy(logits, y).backward()
        opt.step()
    return batches * BATCH / (time.perf_counter() - t0)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=list(native.GROUPS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=50_000, help="CIIL windows to draw batches from")
    ap.add_argument("--batches", type=int, default=100, help="512-window batches timed per measurement")
    ap.add_argument("--table-gib", type=float, default=2.0, help="size of the stored table timed per group")
    ap.add_argument("--tmp", default=None, help="folder for the tables (default: the system temp dir)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    windows = load_windows(args.windows)
    rows_out, total = [], {"win": 0.0, "sub": 0.0}
    print(f"per EPN-612 training epoch ({EPN612_TRAIN_WINDOWS / 1e6:.1f} M windows), {args.threads} threads")
    header = f"{'group':6} {'mode':4} {'cols':>5} {'table GB':>9} {'fly w/s':>9} {'fly s':>7} "
    header += f"{'warm w/s':>9} {'warm s':>7} {'cold w/s':>9} {'cold s':>7} {'model w/s':>9} {'model s':>7}"
    print(header)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for group in args.groups:
            for mode, sub in MODES.items():
                shape = tuple(native.extract(windows[:2], group, PARAMS, subwindows=sub).shape[1:])
                width = int(np.prod(shape))
                fly = on_the_fly_rate(windows, group, sub, args.threads, args.batches)
                path = Path(tmp) / f"{group}_{mode}.npy"
                rows = int(args.table_gib * 2**30 / (4 * width))
                write_table(path, rows, width)
                warm_read = read_rate(path, 3)  # pages touched once
                warm = read_rate(path, args.batches * 4)
                drop_cache(path)
                cold = read_rate(path, args.batches)
                path.unlink()
                step = model_rate("mlp" if sub is None else "cnn_hcf", shape, 20)
                del warm_read
                gb = EPN612_TRAIN_WINDOWS * width * 4 / 1e9
                total[mode] += gb
                row = dict(
                    group=group,
                    mode=mode,
                    columns=width,
                    table_gb=gb,
                    on_the_fly_windows_per_s=fly,
                    stored_warm_windows_per_s=warm,
                    stored_cold_windows_per_s=cold,
                    model_step_windows_per_s=step,
                )
                rows_out.append(row)
                e = EPN612_TRAIN_WINDOWS
                print(
                    f"{group:6} {mode:4} {width:5d} {gb:9.1f} {fly:9.0f} {e / fly:7.0f} {warm:9.0f} {e / warm:7.0f} "
                    f"{cold:9.0f} {e / cold:7.0f} {step:9.0f} {e / step:7.0f}",
                    flush=True,
                )
    print(f"tables of every group, train split, one variant: {total['win']:.0f} GB windowed, {total['sub']:.0f} GB sub")
    out = dict(threads=args.threads, epoch_windows=EPN612_TRAIN_WINDOWS, rows=rows_out, total_gb=total)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

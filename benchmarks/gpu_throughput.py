"""MHCNN training throughput with the windows kept on the GPU, at full EPN-612 scale.

    python benchmarks/gpu_throughput.py                     # 612 users, 30.6 M windows, on cuda
    python benchmarks/gpu_throughput.py --bf16 --compile    # bf16 autocast and torch.compile
    python benchmarks/gpu_throughput.py --device cpu --users 4 --batches 20   # smoke run, no GPU

The data are synthetic and full-sized: every user gets ``--samples`` random int8 samples x 8
channels (300 repetitions x ~1000 samples: 612 users make 1.47 GB, like EPN-612's signals) and
50,000 windows of 40 samples at random distinct starts on the stride-2 grid (612 x 50,000 =
30.6 M, the raw-variant training index at stride 2). Throughput does not depend on the signal
values, and this takes seconds instead of the hours of writing and ingesting 612 users' JSON.
`--users` scales signals and windows down. The signals and window index go to the device once
through `emgcore.preprocess.device_batches.DeviceWindowBatches`; each batch is cut there by one gather.

Each step is the pipeline's own: `emgcore.cross.training._train_one_epoch` (MHCNN forward,
cross-entropy, backward, Adam; loss and accuracy are summed on the device and read back every
`CHECK_EVERY` batches, as in every training job), with the model, Adam and batch size of
`benchmarks/throughput.py`, and
deterministic algorithms on (warn only) as `train_model` runs (`--no-deterministic` to compare).
After `--warmup` untimed batches (compilation included) `--batches` steps are timed between two
`torch.cuda.synchronize()`; seconds per epoch are extrapolated from that rate to 30.6 M windows.
Drawing an epoch's order (a CPU randperm copied to the device) is timed apart and added.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks import throughput as tp  # noqa: E402 (needs the sys.path insert above: run as a script)

EPN612_USERS, EPN612_TRAIN_WINDOWS = 612, 30_600_000  # raw training windows at stride 2 (BENCHMARKS.md)
SAMPLES_PER_USER = 300 * 1000  # 300 repetitions of ~1000 samples (5 s at 200 Hz)
CHANNELS, N_CLASSES = 8, 5


class RandomSignals(Mapping):
    """subject -> (samples, 8) random int8 signal, generated on access (seeded per subject)."""

    def __init__(self, users: int, samples: int, seed: int):
        self.users, self.samples, self.seed = users, samples, seed

    def __getitem__(self, subject: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, subject])
        return rng.integers(-128, 128, size=(self.samples, CHANNELS), dtype=np.int8)

    def __iter__(self):
        return iter(range(self.users))

    def __len__(self) -> int:
        return self.users


def synthetic_dataset(users: int, samples: int, windows_per_user: int, seed: int):
    """A WindowDataset of ``users`` random signals, each with ``windows_per_user`` distinct sorted starts."""
    from emgcore.preprocess.window_dataset import WindowDataset
    from emgcore.preprocess.window_index import WindowIndex

    grid = (samples - tp.WINDOW) // tp.STRIDE + 1  # window starts on the stride grid
    if windows_per_user > grid:
        raise SystemExit(f"--samples {samples} holds only {grid} windows at stride {tp.STRIDE}")
    rng = np.random.default_rng(seed)
    starts = np.concatenate(
        [np.sort(rng.choice(grid, windows_per_user, replace=False)) * tp.STRIDE for _ in range(users)]
    )
    n = users * windows_per_user
    subject = np.repeat(np.arange(users, dtype=np.int32), windows_per_user)
    label = rng.integers(0, N_CLASSES, size=n, dtype=np.int8)
    index = WindowIndex(subject, np.zeros(n, np.int32), starts, label, tp.WINDOW, tp.STRIDE)
    return WindowDataset(index, RandomSignals(users, samples, seed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--users", type=int, default=EPN612_USERS)
    ap.add_argument("--samples", type=int, default=SAMPLES_PER_USER, help="int8 samples per user")
    ap.add_argument("--batch-size", type=int, default=tp.BATCH_SIZE)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--batches", type=int, default=2000)
    ap.add_argument("--bf16", action="store_true", help="torch.autocast(dtype=bfloat16) around the steps")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.users < 1 or a.batches < 1 or a.warmup < 0:
        raise SystemExit("--users and --batches must be >= 1, --warmup >= 0")

    import torch

    from emgcore.cross.training import _train_one_epoch, cross_entropy_loss
    from emgcore.preprocess.device_batches import DeviceWindowBatches

    device = torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit(
            f"CUDA is not available (torch {torch.__version__}); run with --device cpu for a smoke run on the CPU"
        )
    torch.set_num_threads(a.threads)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    dataset = synthetic_dataset(a.users, a.samples, round(EPN612_TRAIN_WINDOWS / EPN612_USERS), a.seed)
    build_s = time.perf_counter() - t0
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    batches = DeviceWindowBatches(dataset, a.batch_size, device=device, seed=a.seed, drop_last=True)
    sync()
    to_device_s = time.perf_counter() - t0
    n = len(dataset)
    if a.warmup + a.batches > len(batches):
        raise SystemExit(f"one epoch has {len(batches)} batches, fewer than --warmup + --batches")
    signal_mb = dataset.signal.nbytes / 1e6
    print(
        f"{a.users} users, {n:,} windows (built in {build_s:.1f} s); on {device}: int8 signals "
        f"{signal_mb:,.0f} MB + index {batches.nbytes / 1e6 - signal_mb:,.0f} MB, copied in "
        f"{to_device_s:.1f} s",
        flush=True,
    )

    t0 = time.perf_counter()
    batches.order(0).to(device)
    sync()
    shuffle_s = time.perf_counter() - t0

    model, optimizer = tp.new_model(device)
    net = torch.compile(model) if a.compile else model
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if a.bf16 else nullcontext()
    torch.use_deterministic_algorithms(a.deterministic, warn_only=True)
    stream = iter(batches)

    def train(count: int) -> tuple[float, int]:
        """``count`` training steps on the next batches of ``stream``: (seconds, windows)."""
        sync()
        start = time.perf_counter()
        with autocast:
            _, _, seen, _ = _train_one_epoch(
                net, itertools.islice(stream, count), optimizer, cross_entropy_loss, device, count, False, 1
            )
        sync()
        return time.perf_counter() - start, seen

    warm_s, _ = train(a.warmup) if a.warmup else (0.0, 0)
    seconds, seen = train(a.batches)
    rate = seen / seconds
    epoch_s = EPN612_TRAIN_WINDOWS / rate + shuffle_s * EPN612_TRAIN_WINDOWS / n
    peak = torch.cuda.max_memory_allocated(device) if cuda else None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    flags = (
        ", ".join(
            f
            for f, on in (("bf16 autocast", a.bf16), ("torch.compile", a.compile), ("deterministic", a.deterministic))
            if on
        )
        or "fp32"
    )
    name = torch.cuda.get_device_name(device) if cuda else f"CPU, {a.threads} threads"
    print(
        f"MHCNN training step (forward, cross-entropy, backward, Adam), batch {a.batch_size}, {flags}; "
        f"{name}, torch {torch.__version__}"
    )
    print(f"  warm-up {a.warmup} batches: {warm_s:.1f} s; timed {a.batches} batches: {seconds:.2f} s")
    print(f"  {rate:,.0f} windows/s ({1e3 * seconds / a.batches:.2f} ms per batch)")
    print(f"  drawing one epoch's order of {n:,} windows: {shuffle_s:.2f} s")
    print(f"  full EPN-612 epoch ({EPN612_TRAIN_WINDOWS / 1e6:.1f} M windows), extrapolated: {epoch_s:,.1f} s")
    gpu_memory = f"{peak / 2**30:.2f} GiB" if cuda else "n/a on CPU"
    print(f"  peak GPU memory (max_memory_allocated): {gpu_memory}; peak host RSS {rss / 2**30:.2f} GiB")
    print(
        json.dumps(
            {
                "device": name,
                "torch": torch.__version__,
                "users": a.users,
                "windows": n,
                "batch_size": a.batch_size,
                "bf16": a.bf16,
                "compile": a.compile,
                "deterministic": a.deterministic,
                "warmup": a.warmup,
                "batches": a.batches,
                "seconds": seconds,
                "windows_per_s": rate,
                "shuffle_s": shuffle_s,
                "epoch_s_extrapolated": epoch_s,
                "device_data_bytes": batches.nbytes,
                "peak_gpu_bytes": peak,
                "peak_rss_bytes": rss,
                "build_s": build_s,
                "to_device_s": to_device_s,
            }
        )
    )


if __name__ == "__main__":
    main()

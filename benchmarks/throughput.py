"""MHCNN training throughput on CPU: lazy int8 windows vs a materialised float32 tensor.

    python benchmarks/throughput.py                       # 12 users, 2 threads, batch 512
    python benchmarks/throughput.py --users 24 --batches 200 --repeats 5

N synthetic users in the EPN-612 layout are written and ingested (benchmarks/preprocess.py's
stages; skipped when ``--workdir`` already holds a store), and the raw-variant training windows
at stride 2 are indexed. The same windows then feed the same MHCNN training step
(``emgcore.cross.training._train_one_epoch``: forward, cross-entropy, backward, Adam), batch 512,
``torch.set_num_threads(2)``, from three sources:

* ``lazy``:         ``WindowDataset`` (int8 signals + integer index) through ``make_loader``
                    (shuffled), i.e. what every training job of the pipeline uses;
* ``tensor``:       all windows materialised once as a float32 tensor ``(N, 8, 40)``; each batch is
                    one fancy-indexing gather ``X[perm[i:i + 512]]`` (TensorDataset-like slicing, the
                    fastest way to feed a materialised tensor);
* ``tensor-dl``:    the same tensor through ``DataLoader(TensorDataset(X, y, s), shuffle=True)``
                    with default collation, as most research code does it.

Each source gets its own model (same seed) and optimiser; after ``--warmup`` untimed batches each,
``--batches`` training steps are timed one by one (next batch + step), the sources taking turns
batch by batch (rotating order), so load from other processes falls on all of them alike; this is
repeated ``--repeats`` times with fresh models, and windows/s is the batch size over the median
batch time (the mean-based rate is printed too). The data feed alone (no model) is timed the same
way. GPU throughput is not measured here (no GPU on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import preprocess as pre  # noqa: E402 (needs the sys.path insert above: run as a script)

WINDOW, STRIDE, REST_SUBSAMPLE = 40, 2, 4
BATCH_SIZE, LR = 512, 1e-4  # every timed training step: batch size and Adam learning rate


def new_model(device="cpu"):
    """A fresh MHCNN in train mode (weights from seed 0) on ``device`` and its Adam: what each feed trains."""
    import torch

    from emgcore.models.mhcnn import MHCNN

    torch.manual_seed(0)
    model = MHCNN().train().to(device)
    return model, torch.optim.Adam(model.parameters(), lr=LR)


class TensorBatches:
    """Batches ``(X[i], y[i], s[i])`` of a materialised tensor in a seeded random order."""

    def __init__(self, x, y, s, batch_size: int, seed: int = 0):
        import torch

        self.x, self.y, self.s, self.batch_size = x, y, s, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.y) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        import torch

        perm = torch.randperm(len(self.y), generator=self.generator)
        for lo in range(0, len(perm), self.batch_size):
            i = perm[lo : lo + self.batch_size]
            yield self.x[i], self.y[i], self.s[i]


def prepare(work: Path, users: int, seed: int) -> None:
    if not (work / "manifest.csv").exists():
        work.mkdir(parents=True, exist_ok=True)
        for stage in ("generate", "ingest"):  # each in a process of its own (see --stage)
            t0 = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--stage",
                    stage,
                    "--workdir",
                    str(work),
                    "--users",
                    str(users),
                    "--seed",
                    str(seed),
                ],
                check=True,
            )
            print(f"{stage} {users} users: {time.perf_counter() - t0:.1f} s", flush=True)
        import shutil

        shutil.rmtree(work / "raw")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=12)
    ap.add_argument("--workdir", type=Path, default=REPO / "benchmarks/out/throughput")
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stage", choices=["generate", "ingest"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stage == "generate":
        return pre.stage_generate(a.workdir, a.users, a.seed)
    if a.stage == "ingest":
        return pre.stage_ingest(a.workdir, 2)

    prepare(a.workdir, a.users, a.seed)
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from emgcore.data.store import iter_store
    from emgcore.preprocess.window_dataset import WindowDataset, make_loader
    from emgcore.preprocess.window_index import build_window_index

    torch.set_num_threads(a.threads)
    train = pre._splits(a.workdir)["train"]
    index = build_window_index(iter_store(a.workdir / "store", train), "raw", WINDOW, STRIDE, REST_SUBSAMPLE)
    lazy = WindowDataset.from_store(index, a.workdir / "store")
    x, y, s = lazy.__getitems__(np.arange(len(lazy)))  # the same windows, materialised once
    int8_mb = lazy.signal.nbytes / 1e6
    print(
        f"{len(train)} training users, {len(index):,} raw windows at stride {STRIDE}: int8 signals "
        f"{int8_mb:.0f} MB + index {len(index) * 17 / 1e6:.0f} MB (lazy) vs float32 tensor "
        f"{x.numpy().nbytes / 1e6:.0f} MB (materialised)"
    )
    need = (a.warmup + a.batches) * a.batch_size
    if len(index) < need:
        raise SystemExit(f"only {len(index)} windows, need {need}: use more --users or fewer --batches")

    feeds = {
        "lazy": lambda seed: make_loader(lazy, batch_size=a.batch_size, shuffle=True, seed=seed),
        "tensor": lambda seed: TensorBatches(x, y, s, a.batch_size, seed),
        "tensor-dl": lambda seed: DataLoader(
            TensorDataset(x, y, s), batch_size=a.batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
        ),
    }
    loss_fn = torch.nn.CrossEntropyLoss()

    class Trainer:
        """One MHCNN + Adam fed by one source; ``step()`` = next batch + one training step (timed)."""

        def __init__(self, feed: str):
            self.model, self.optimizer = new_model()
            self.batches = iter(feeds[feed](a.seed))

        def step(self) -> int:
            x, y, _ = next(self.batches)  # as emgcore.cross.training._train_one_epoch does it
            logits, _ = self.model(x.float())
            loss = loss_fn(logits, y.long())
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss.item(), int((logits.argmax(dim=1) == y).sum())
            return len(y)

    class Feeder:
        """The data feed alone: ``step()`` = next batch."""

        def __init__(self, feed: str):
            self.batches = iter(feeds[feed](a.seed))

        def step(self) -> int:
            return len(next(self.batches)[1])

    def interleaved(kind) -> dict[str, np.ndarray]:
        """Seconds per batch of every feed, batches taken in turn (feed order rotating each round)
        so that load from other processes falls on all feeds alike."""
        workers = {f: kind(f) for f in feeds}
        for _ in range(a.warmup):
            for w in workers.values():
                w.step()
        names = list(feeds)
        seconds = {f: [] for f in feeds}
        for b in range(a.batches):
            for f in names[b % len(names) :] + names[: b % len(names)]:
                t0 = time.perf_counter()
                workers[f].step()
                seconds[f].append(time.perf_counter() - t0)
        return {f: np.asarray(v) for f, v in seconds.items()}

    train_s = {f: [] for f in feeds}
    feed_s = {f: [] for f in feeds}
    for r in range(a.repeats):
        for f, v in interleaved(Trainer).items():
            train_s[f].append(v)
        for f, v in interleaved(Feeder).items():
            feed_s[f].append(v)
        print(
            f"repeat {r + 1}: "
            + ", ".join(f"{f} {a.batch_size / np.median(train_s[f][-1]):,.0f} win/s" for f in feeds),
            flush=True,
        )

    def rates(samples) -> dict:
        all_s = np.concatenate(samples)
        return {
            "median": a.batch_size / float(np.median(all_s)),
            "mean": a.batch_size / float(all_s.mean()),
            "p90_batch_ms": 1e3 * float(np.percentile(all_s, 90)),
        }

    train = {f: rates(v) for f, v in train_s.items()}
    feed = {f: rates(v) for f, v in feed_s.items()}
    print(
        f"\nMHCNN training step (forward, cross-entropy, backward, Adam), batch {a.batch_size}, "
        f"{a.threads} threads, torch {torch.__version__}, CPU; {a.repeats} x {a.batches} batches per feed "
        f"after {a.warmup} warm-up, feeds interleaved batch by batch:"
    )
    print(f"  {'feed':<10} {'train win/s (median batch)':>27} {'(mean)':>9} {'feed alone win/s':>17}")
    for f in feeds:
        print(f"  {f:<10} {train[f]['median']:>27,.0f} {train[f]['mean']:>9,.0f} {feed[f]['median']:>17,.0f}")
    ratio = train["lazy"]["median"] / train["tensor"]["median"]
    print(
        f"\nlazy / materialised tensor training throughput: {ratio:.3f} (mean-based "
        f"{train['lazy']['mean'] / train['tensor']['mean']:.3f}; lazy / DataLoader(TensorDataset): "
        f"{train['lazy']['median'] / train['tensor-dl']['median']:.2f}); data feed per window: lazy "
        f"{1e6 / feed['lazy']['median']:.2f} us, tensor {1e6 / feed['tensor']['median']:.2f} us, training step per "
        f"window {1e6 / train['lazy']['median']:.0f} us"
    )
    print(
        f"one EPN-612 epoch (30.6 M windows at stride 2) at the lazy rate: "
        f"{30.6e6 / train['lazy']['median'] / 3600:.1f} h on this CPU"
    )
    print(
        json.dumps(
            {
                "windows": len(index),
                "train": train,
                "feed": feed,
                "threads": a.threads,
                "batch_size": a.batch_size,
                "cpu_count": os.cpu_count(),
                "load_avg": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()

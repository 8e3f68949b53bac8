"""The one training loop shared by every model and loss, plus prediction and checkpoint loading.

Batches are tuples `(x float32 (B, 8, W), y int64 (B,), subject int64 (B,))`; models return
`(logits, embedding)`; losses are `loss_fn(logits, labels, embeddings, subjects) -> scalar`.
Adam, ReduceLROnPlateau and early stopping both watch the validation loss. Files are written
atomically and, under torch.distributed, only by rank 0 (losses are all-reduced first so every
rank takes the same early-stopping decision).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from emgcore.cross.distributed import rank_and_world
from emgcore.io import write_atomic
from emgcore.layout import EPOCHS, MODEL_FILE, TRAIN_LOG
from emgcore.models import build_model, model_spec
from emgcore.settings import TrainingSettings

# Deterministic cuBLAS (train_model turns deterministic algorithms on): cuBLAS reads this when its
# first handle is made, so it is set at import, before any CUDA work; a value already set wins.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

LOG_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "windows_per_s",
)


def cross_entropy_loss(
    logits: torch.Tensor, labels: torch.Tensor, embeddings: torch.Tensor, subjects: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of logits vs labels; embeddings and subjects are accepted and ignored."""
    return F.cross_entropy(logits, labels)


@dataclass
class TrainResult:
    """Outcome of `train_model`; the model passed in holds the best weights afterwards."""

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    stopped_early: bool
    history: pd.DataFrame
    model_path: Path
    log_path: Path
    model: nn.Module | None = None  # the trained (unwrapped) module, holding the best weights


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch RNGs; call before building a model for reproducible init."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------------
# atomic file writing


def _save_checkpoint(path: Path, checkpoint: dict) -> None:
    write_atomic(path, lambda tmp: torch.save(checkpoint, tmp))


def _save_log(path: Path, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


# ---------------------------------------------------------------------------------------------
# distributed helpers (no-ops in a single process)


def _all_reduce_sums(values: list[float], device: torch.device) -> list[float]:
    """Sum `values` across ranks (identity without torch.distributed).

    The sums are then broadcast from rank 0, so every rank holds bit-identical numbers and takes
    the same LR-schedule and early-stopping decisions even if a backend's reduction order varied.
    """
    _, world = rank_and_world()
    if world == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    dist.broadcast(t, src=0)
    return t.tolist()


def _sync_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (e.g. BatchNorm running statistics) to every rank.

    DDP broadcasts buffers at the start of each forward, but the last training step updates them
    locally; without this, ranks would validate and end with different buffers.
    """
    _, world = rank_and_world()
    if world == 1:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer.data, src=0)


def _set_epoch(loader, epoch: int) -> None:
    """Call `set_epoch` on the loader's sampler and batch sampler where they have one.

    DistributedSampler reshuffles per epoch only through it; batch samplers (emgcore.cross.samplers)
    draw per epoch the same way.
    """
    seen = []
    for attr in ("sampler", "batch_sampler"):
        sampler = getattr(loader, attr, None)
        if hasattr(sampler, "set_epoch") and not any(sampler is s for s in seen):
            sampler.set_epoch(epoch)
            seen.append(sampler)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


# ---------------------------------------------------------------------------------------------
# one pass over a loader


def _split_batch(batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 3:
        raise ValueError(
            "batches must be (x, y, subject) tuples; got "
            f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
        )
    x, y, subject = batch
    return (
        x.to(device, non_blocking=True).float(),
        y.to(device, non_blocking=True).long(),
        subject.to(device, non_blocking=True).long(),
    )


def _checked_loss(loss_fn: LossFn, logits, y, embedding, subject) -> torch.Tensor:
    loss = loss_fn(logits, y, embedding, subject)
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        raise ValueError(
            f"loss_fn must return a scalar tensor, got {type(loss).__name__} {tuple(getattr(loss, 'shape', ()))}"
        )
    return loss


class _RunningSums:
    """Loss*n and correct-prediction sums kept on the device, read back only when asked.

    Reading a GPU scalar (`.item()`, `int()`, `if tensor:`) waits for every queued kernel, so a
    loop that reads the loss per batch cannot queue the next batch while the GPU works. The sums
    are float64 (int64 for counts) and added in batch order, so they equal, bit for bit, the
    Python floats of per-batch `.item()` calls.
    """

    def __init__(self, device: torch.device):
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.loss = torch.zeros((), dtype=dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.seen = 0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        n = y.shape[0]
        self.loss += loss.detach().to(self.loss.dtype) * n
        self.correct += (logits.detach().argmax(dim=1) == y).sum()
        self.seen += n

    def totals(self) -> tuple[float, int, int]:
        """(sum of loss*n, correct, n) as Python numbers (one device sync)."""
        return self.loss.item(), int(self.correct.item()), self.seen


CHECK_EVERY = 10  # training batches between reads of the running loss (finiteness, progress bar)


def _train_one_epoch(model, loader, optimizer, loss_fn, device, max_batches, progress, epoch):
    """Return (sum of loss*n, correct, n, seconds) for one training pass over `loader`.

    The running loss is read back every CHECK_EVERY batches and at the end: a non-finite loss
    stops training with an error naming the batches it came from.
    """
    model.train()
    sums = _RunningSums(device)
    total = len(loader) if hasattr(loader, "__len__") else None
    if max_batches is not None and total is not None:
        total = min(total, max_batches)
    # tqdm.auto's bar calls iter() on a plain iterable once more than it reads from it (an extra
    # shuffle draw, an extra start of DataLoader workers); handing it the iterator avoids that
    bar = tqdm(iter(loader), total=total, desc=f"epoch {epoch:03d}", leave=False, disable=not progress)
    checked = 0  # batches whose loss is known to be finite

    def check(batches: int) -> None:
        nonlocal checked
        loss_sum = sums.loss.item()
        if not math.isfinite(loss_sum):
            raise FloatingPointError(
                f"non-finite training loss at epoch {epoch}, in batches {checked}-{batches - 1} (0-based)"
            )
        checked = batches
        bar.set_postfix(loss=f"{loss_sum / sums.seen:.4f}")

    start = time.perf_counter()
    i = -1
    for i, batch in enumerate(bar):
        x, y, subject = _split_batch(batch, device)
        logits, embedding = model(x)
        loss = _checked_loss(loss_fn, logits, y, embedding, subject)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sums.add(loss, logits, y)
        if (i + 1) % CHECK_EVERY == 0:
            check(i + 1)
        if max_batches is not None and i + 1 >= max_batches:
            break  # checked after the step so no extra batch is cut
    if i + 1 > checked:
        check(i + 1)
    bar.close()
    loss_sum, correct, seen = sums.totals()
    return loss_sum, correct, seen, time.perf_counter() - start


@torch.no_grad()
def _evaluate(model, loader, loss_fn, device):
    """Return (sum of loss*n, correct, n) of `model` in eval mode over `loader`."""
    model.eval()
    sums = _RunningSums(device)
    for batch in loader:
        x, y, subject = _split_batch(batch, device)
        logits, embedding = model(x)
        sums.add(_checked_loss(loss_fn, logits, y, embedding, subject), logits, y)
    return sums.totals()


# ---------------------------------------------------------------------------------------------
# public API


def train_model(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable,
    training: TrainingSettings,
    out_dir: str | Path,
    *,
    seed: int,
    loss_fn: LossFn | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train with Adam, LR-on-plateau and early stopping on validation loss; write checkpoints and log.

    Writes out_dir/epochs/epoch_NNN.pt every epoch, out_dir/model.pt (best validation loss) and
    out_dir/train_log.csv. On return `model` holds the best weights. Seed the RNG (see
    `seed_everything`) before building the model for identical initial weights.
    """
    if not isinstance(training, TrainingSettings):
        raise TypeError(f"training must be a TrainingSettings, got {type(training).__name__}")
    if val_loader is None:
        raise ValueError("train_model needs a validation loader: early stopping watches validation loss")
    loss_fn = cross_entropy_loss if loss_fn is None else loss_fn
    spec = model_spec(_unwrap(model))  # fail before training if the model cannot be rebuilt
    out_dir = Path(out_dir)
    rank, world = rank_and_world()
    is_writer = rank == 0
    device = torch.device(training.device)

    epoch_dir = out_dir / EPOCHS
    model_path, log_path = out_dir / MODEL_FILE, out_dir / TRAIN_LOG
    if is_writer:
        epoch_dir.mkdir(parents=True, exist_ok=True)
        for stale in epoch_dir.glob("epoch_*.pt"):  # left over from an earlier run in this folder
            stale.unlink()

    deterministic_before = torch.are_deterministic_algorithms_enabled()
    warn_only_before = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(seed + rank)  # dropout masks; distinct per rank, fixed per seed
    try:
        module = _unwrap(model).to(device)
        train_net = module
        if world > 1:
            device_ids = [device.index] if device.type == "cuda" and device.index is not None else None
            train_net = nn.parallel.DistributedDataParallel(module, device_ids=device_ids)
        optimizer = torch.optim.Adam(train_net.parameters(), lr=training.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="min",
            factor=training.lr_factor,
            patience=training.lr_patience,
            min_lr=training.min_lr,
        )

        rows: list[dict] = []
        best_val, best_epoch, best_state = math.inf, 0, None
        epochs_without_gain, stopped_early = 0, False
        for epoch in range(1, training.max_epochs + 1):
            epoch_start = time.perf_counter()
            _set_epoch(train_loader, epoch)
            lr = optimizer.param_groups[0]["lr"]
            tr_loss, tr_correct, tr_n, tr_seconds = _train_one_epoch(
                train_net,
                train_loader,
                optimizer,
                loss_fn,
                device,
                training.max_train_batches_per_epoch,
                progress and is_writer,
                epoch,
            )
            _sync_buffers(module)
            va_loss, va_correct, va_n = _evaluate(module, val_loader, loss_fn, device)
            tr_loss, tr_correct, tr_n, va_loss, va_correct, va_n = _all_reduce_sums(
                [tr_loss, tr_correct, tr_n, va_loss, va_correct, va_n], device
            )
            if tr_n == 0:
                raise ValueError("training loader yielded no windows")
            if va_n == 0:
                raise ValueError("validation loader yielded no windows")
            val_loss = va_loss / va_n
            row = {
                "epoch": epoch,
                "train_loss": tr_loss / tr_n,
                "train_acc": tr_correct / tr_n,
                "val_loss": val_loss,
                "val_acc": va_correct / va_n,
                "lr": lr,
                "seconds": time.perf_counter() - epoch_start,
                "windows_per_s": tr_n / tr_seconds if tr_seconds > 0 else float("nan"),
            }
            rows.append(row)
            if progress and is_writer:
                tqdm.write(
                    f"epoch {epoch:03d}  train_loss {row['train_loss']:.4f}  "
                    f"train_acc {row['train_acc']:.3f}  val_loss {val_loss:.4f}  "
                    f"val_acc {row['val_acc']:.3f}  lr {lr:.2e}  "
                    f"{row['windows_per_s']:.0f} windows/s"
                )
            scheduler.step(val_loss)

            state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
            checkpoint = {"state_dict": state, "epoch": epoch, "val_loss": val_loss, "model": spec}
            improved = val_loss < best_val
            if improved:
                best_val, best_epoch, best_state = val_loss, epoch, state
                epochs_without_gain = 0
            else:
                epochs_without_gain += 1
            if is_writer:
                _save_checkpoint(epoch_dir / f"epoch_{epoch:03d}.pt", checkpoint)
                if improved:
                    _save_checkpoint(model_path, checkpoint)
                _save_log(log_path, rows)
            if epochs_without_gain >= training.patience:
                stopped_early = True
                break

        if best_state is None:
            raise FloatingPointError("validation loss was never finite; no best checkpoint")
        module.load_state_dict(best_state)
    finally:
        torch.use_deterministic_algorithms(deterministic_before, warn_only=warn_only_before)

    return TrainResult(
        best_epoch=best_epoch,
        best_val_loss=best_val,
        epochs_run=len(rows),
        stopped_early=stopped_early,
        history=pd.DataFrame(rows, columns=list(LOG_COLUMNS)),
        model_path=model_path,
        log_path=log_path,
        model=module,
    )


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable, device: str | torch.device | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return int64 numpy arrays (y_true, y_pred, subjects) of `model` in eval mode over `loader`."""
    module = _unwrap(model)
    if device is None:
        first = next(module.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    was_training = module.training
    module.eval()
    y_true, y_pred, subjects = [], [], []
    try:
        for batch in loader:
            x, y, subject = _split_batch(batch, device)
            logits, _ = module(x)
            y_true.append(y.cpu().numpy())
            y_pred.append(logits.argmax(dim=1).cpu().numpy())
            subjects.append(subject.cpu().numpy())
    finally:
        module.train(was_training)
    if not y_true:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    return (
        np.concatenate(y_true).astype(np.int64),
        np.concatenate(y_pred).astype(np.int64),
        np.concatenate(subjects).astype(np.int64),
    )


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from a checkpoint written by `train_model` (model.pt or epochs/epoch_NNN.pt)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    missing = {"state_dict", "model"} - set(checkpoint) if isinstance(checkpoint, dict) else {"dict"}
    if missing:
        raise ValueError(f"{path} is not a train_model checkpoint (missing {sorted(missing)})")
    spec = checkpoint["model"]
    model = build_model(spec["name"], **spec["kwargs"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()

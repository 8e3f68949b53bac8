"""Training batches cut on a torch device from int8 signals kept there (no host copy per batch).

`DeviceWindowBatches` copies a `WindowDataset`'s int8 signals and window index to the device once;
each batch is then one gather (window start + arange(window)) and an int8 -> float32 conversion on
the device, giving exactly what `WindowDataset.__getitems__` gives for the same indices.
"""

from __future__ import annotations

import operator

import numpy as np
import torch

from emgcore.preprocess.window_dataset import WindowDataset


class DeviceWindowBatches:
    """Shuffled ``(x float32 (B, C, W), y int64 (B,), subject int64 (B,))`` batches cut on ``device``.

    Device memory: the int8 signals (C bytes per sample) plus 13 bytes per window for the index
    (int64 position, int8 label, int32 subject) and, while iterating, 8 per window for the order;
    never the windows as float32. The order is drawn on the CPU by a ``torch.Generator`` seeded from
    ``(seed, epoch)``, so it is the same on every device (see ``order``). Each pass uses the
    current epoch and then advances it, so successive passes get new orders (as ``make_loader``
    with ``shuffle=True`` does); ``set_epoch(e)`` picks epoch ``e`` explicitly (as a
    DistributedSampler's does).
    """

    def __init__(
        self,
        dataset: WindowDataset,
        batch_size: int,
        *,
        device: str | torch.device,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = False,
    ):
        if type(dataset).__getitems__ is not WindowDataset.__getitems__:
            raise TypeError(
                "DeviceWindowBatches needs a WindowDataset whose batches are plain windows, "
                f"got {type(dataset).__name__}"
            )
        self.batch_size = operator.index(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.seed = operator.index(seed)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.device = _usable_device(device)
        self.shuffle, self.drop_last, self.epoch = bool(shuffle), bool(drop_last), 0
        self.window, self.n = dataset.window, len(dataset)
        index = dataset.index
        positions = dataset.sample_positions(np.arange(self.n))  # absolute first sample of each window
        self.signal = torch.from_numpy(dataset.signal).to(self.device)  # (T_total, C) int8
        self.positions = torch.from_numpy(positions).to(self.device)
        self.label = torch.from_numpy(index.label).to(self.device)
        self.subject = torch.from_numpy(index.subject).to(self.device)
        self.offsets = torch.arange(self.window, dtype=torch.int64, device=self.device)

    @property
    def nbytes(self) -> int:
        """Bytes held on the device by the signals and the index (the order adds 8 per window)."""
        return sum(
            t.numel() * t.element_size() for t in (self.signal, self.positions, self.label, self.subject, self.offsets)
        )

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` for the next pass."""
        epoch = operator.index(epoch)
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = epoch

    def order(self, epoch: int) -> torch.Tensor:
        """Window indices (int64, CPU) in the order that epoch ``epoch`` visits them."""
        if not self.shuffle:
            return torch.arange(self.n, dtype=torch.int64)
        # torch's CPU generator keeps 32 bits of its seed: hash (seed, epoch) into them
        state = int(np.random.SeedSequence([self.seed, int(epoch)]).generate_state(1)[0])
        generator = torch.Generator().manual_seed(state)
        return torch.randperm(self.n, generator=generator)

    def cut(self, indices: torch.Tensor):
        """The batch of windows ``indices`` (a device int64 tensor): one gather, then int8 -> float32."""
        rows = (self.positions[indices].unsqueeze(1) + self.offsets).reshape(-1)  # (B * W,) sample rows
        windows = self.signal.index_select(0, rows).view(len(indices), self.window, -1)  # (B, W, C)
        x = windows.transpose(1, 2).to(torch.float32, memory_format=torch.contiguous_format)
        return x, self.label[indices].long(), self.subject[indices].long()

    def __iter__(self):
        # a generator: the order is drawn and the epoch advanced at the first batch, so an iter()
        # that is never consumed costs nothing
        order = self.order(self.epoch).to(self.device)
        self.epoch += 1
        stop = min(len(self) * self.batch_size, self.n)
        for lo in range(0, stop, self.batch_size):
            yield self.cut(order[lo : lo + self.batch_size])


def _usable_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch.device, or a ValueError naming it if torch rejects or cannot reach it."""
    try:
        usable = torch.device(device)
        torch.empty(1, device=usable)
    except (RuntimeError, AssertionError, TypeError) as error:
        raise ValueError(f"device {str(device)!r} is not usable here: {error}") from None
    return usable

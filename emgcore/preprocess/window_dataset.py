"""Lazy EMG windows: cut (B, 8, window) float32 batches from int8 signals via a WindowIndex.

Only the int8 signals of the index's subjects and the index's integer arrays are held in memory;
windows are gathered by fancy indexing at batch time and converted to float32 only for the batch.
Values stay in raw ADC units (models divide by 128 themselves, see docs/architecture.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from emgcore.data.store import load_signal, store_filename
from emgcore.preprocess.window_index import WindowIndex

VALIDATION_CHUNK = 1 << 20  # windows checked per step when validating bounds (bounds memory)
GROWTH = 1.25  # capacity factor of the signal buffer: bounds the slack while stacking signals


#: signal dtypes a dataset holds: the store's int8, or float32 for streams transformed before windowing
#: (fractional ring rotations, test-time alignment: emgcore.rotation); one dtype per dataset
SIGNAL_DTYPES = (np.dtype(np.int8), np.dtype(np.float32))


def _check_signal(subject: int, signal: np.ndarray) -> np.ndarray:
    """Return ``signal`` if an int8 (or float32) (samples, channels) array, else raise naming the subject."""
    signal = np.asarray(signal)
    if signal.dtype not in SIGNAL_DTYPES or signal.ndim != 2:
        raise ValueError(
            f"signal of subject {subject} must be an int8 (or float32) (samples, channels) array, got "
            f"{signal.dtype} {signal.shape}"
        )
    return signal


def _stack_signals(subjects: Sequence[int], signals: Mapping[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Signals of ``subjects`` back to back in one (T_total, C) array (the first signal's dtype), and their lengths.

    Fetches one signal at a time into a buffer grown in place (``ndarray.resize``), so with a
    lazily loading mapping the peak stays near the final size instead of twice it.
    """
    buffer: np.ndarray | None = None
    lengths = np.zeros(len(subjects), dtype=np.int64)
    used = 0
    for i, subject in enumerate(subjects):
        signal = _check_signal(subject, signals[subject])
        if buffer is None:
            buffer = np.empty((0, signal.shape[1]), dtype=signal.dtype)
        if signal.dtype != buffer.dtype:
            raise ValueError(f"signal of subject {subject} is {signal.dtype}, the first subject's {buffer.dtype}")
        if signal.shape[1] != buffer.shape[1]:
            raise ValueError(
                f"signal of subject {subject} has {signal.shape[1]} channels, "
                f"expected {buffer.shape[1]} like the other subjects"
            )
        needed = used + signal.shape[0]
        if needed > buffer.shape[0]:
            capacity = max(needed, int(buffer.shape[0] * GROWTH))
            buffer.resize((capacity, buffer.shape[1]), refcheck=False)
        buffer[used:needed] = signal
        lengths[i] = signal.shape[0]
        used = needed
        del signal
    if buffer is None:
        return np.empty((0, 0), dtype=np.int8), lengths
    buffer.resize((used, buffer.shape[1]), refcheck=False)
    return buffer, lengths


class _StoreSignals(Mapping):
    """Read-only mapping subject -> int8 signal that loads ``subject{sid:04d}.h5`` on access."""

    def __init__(self, store_dir: str | os.PathLike):
        self.store_dir = Path(store_dir)

    def path_of(self, subject: int) -> Path:
        return self.store_dir / store_filename(subject)

    def __getitem__(self, subject: int) -> np.ndarray:
        return load_signal(self.path_of(subject))

    def __contains__(self, subject: object) -> bool:
        return isinstance(subject, (int, np.integer)) and self.path_of(int(subject)).is_file()

    def __iter__(self):
        stems = sorted(p.stem for p in self.store_dir.glob("subject*.h5"))
        return (int(stem[len("subject") :]) for stem in stems if stem[len("subject") :].isdigit())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class WindowDataset(Dataset):
    """Map-style dataset of the windows of a WindowIndex, cut lazily from int8 signals.

    Items are ``(x float32 (C, window), label int64, subject int64)``; ``__getitems__`` returns
    one batch tuple ``(x (B, C, window), y (B,), subject (B,))`` so DataLoader skips collation.
    """

    def __init__(self, index: WindowIndex, signals: Mapping[int, np.ndarray]):
        self.index = index
        self.window = int(index.window)
        subjects = [int(s) for s in index.subjects()]
        if subjects and subjects[0] < 0:
            raise ValueError(f"window index has a negative subject id {subjects[0]}")
        missing = [s for s in subjects if s not in signals]
        if missing:
            raise KeyError(f"no signal given for subjects {missing[:10]} of the window index")
        # One contiguous (T_total, C) int8 array; a subject's samples start at its base offset.
        self._signal, lengths = _stack_signals(subjects, signals)
        self.channels = self._signal.shape[1]
        size = (max(subjects) + 1) if subjects else 0
        self._base = np.full(size, -1, dtype=np.int64)
        self._length = np.zeros(size, dtype=np.int64)
        self._base[subjects] = np.concatenate(([0], np.cumsum(lengths)[:-1])) if subjects else []
        self._length[subjects] = lengths
        self._offsets = np.arange(self.window, dtype=np.int64)
        self._check_bounds()

    def _check_bounds(self) -> None:
        """Raise if any window starts before 0 or runs past the end of its subject's signal."""
        index = self.index
        for lo in range(0, len(index), VALIDATION_CHUNK):
            subject = index.subject[lo : lo + VALIDATION_CHUNK]
            start = index.start[lo : lo + VALIDATION_CHUNK]
            bad = (start < 0) | (start + self.window > self._length[subject])
            if bad.any():
                first = lo + int(np.argmax(bad))
                raise ValueError(
                    f"window {first} (subject {int(index.subject[first])}, start "
                    f"{int(index.start[first])}) lies outside its subject's signal of "
                    f"{int(self._length[index.subject[first]])} samples"
                )

    @classmethod
    def from_store(cls, index: WindowIndex, store_dir: str | os.PathLike, **options):
        """Dataset over the index's subjects, loading ``store_dir/subject{sid:04d}.h5`` in turn;
        `options` go to the constructor (a subclass's own settings)."""
        signals = _StoreSignals(store_dir)
        missing = [str(signals.path_of(s)) for s in index.subjects() if s not in signals]
        if missing:
            raise FileNotFoundError(f"store files missing for the window index: {missing[:5]}")
        return cls(index, signals, **options)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def signal(self) -> np.ndarray:
        """Every subject's int8 samples stacked into one (T_total, C) array (read it, do not write)."""
        return self._signal

    def sample_positions(self, indices: np.ndarray) -> np.ndarray:
        """Row of `signal` (int64) where each window of `indices` starts."""
        return self._base[self.index.subject[indices]] + self.index.start[indices]

    def __getitem__(self, i: int):
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"window {i} out of range for a dataset of {len(self)} windows")
        position = int(self.sample_positions(np.array([i]))[0])
        x = np.ascontiguousarray(self._signal[position : position + self.window].T, np.float32)
        return (
            torch.from_numpy(x),
            torch.tensor(int(self.index.label[i]), dtype=torch.int64),
            torch.tensor(int(self.index.subject[i]), dtype=torch.int64),
        )

    def __getitems__(self, indices: Sequence[int]):
        """One batch ``(x (B, C, window) float32, y (B,) int64, subject (B,) int64)``."""
        indices = np.asarray(indices, dtype=np.int64)
        positions = self.sample_positions(indices)
        windows = self._signal[positions[:, None] + self._offsets]  # (B, window, C) int8
        x = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)
        return (
            torch.from_numpy(x),
            torch.from_numpy(self.index.label[indices].astype(np.int64)),
            torch.from_numpy(self.index.subject[indices].astype(np.int64)),
        )


def _batch_as_is(batch):
    """Collate function for datasets whose ``__getitems__`` already returns a batch."""
    return batch


def make_loader(
    dataset: WindowDataset,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
    sampler: Sampler | None = None,
    drop_last: bool = False,
    batch_sampler: Sampler | None = None,
    num_workers: int = 0,
    pin_memory: bool | None = None,
) -> DataLoader:
    """Deterministic DataLoader over ``dataset`` batching via ``__getitems__``.

    Shuffling uses a ``torch.Generator`` seeded with ``seed``; pass ``sampler`` (e.g. a
    DistributedSampler) to control the order instead, in which case ``shuffle`` must be False.

    Alternatively pass ``batch_sampler`` (e.g. `emgcore.cross.samplers.UsersPerClassBatchSampler`),
    which yields whole batches of indices and so decides batch size, order and composition
    itself: it excludes ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``. The loader's
    ``batch_sampler`` attribute is that object (call its ``set_epoch`` between epochs).

    ``num_workers > 0`` cuts batches in that many worker processes, yielded in the same order as
    with 0. Worker seeds derive from the loader's base seed, drawn from the seeded generator (or,
    with a ``batch_sampler``, from the global torch RNG, as the single-process loader draws it), and
    torch seeds ``random``, numpy and torch in each worker from it, so runs stay reproducible and
    the RNG streams do not depend on ``num_workers``. ``pin_memory`` (default: when workers are used
    and CUDA is available) pins the batches for faster asynchronous host-to-GPU copies.
    """
    num_workers = int(num_workers)
    if num_workers < 0:
        raise ValueError(f"make_loader: num_workers must be >= 0, got {num_workers}")
    if pin_memory is None:
        pin_memory = num_workers > 0 and torch.cuda.is_available()
    processes = {"num_workers": num_workers, "pin_memory": bool(pin_memory)}
    if batch_sampler is not None:
        clashes = [
            name
            for name, given in (
                ("batch_size", batch_size is not None),
                ("shuffle", bool(shuffle)),
                ("sampler", sampler is not None),
                ("drop_last", bool(drop_last)),
            )
            if given
        ]
        if clashes:
            raise ValueError(
                f"make_loader: batch_sampler excludes {', '.join(clashes)}; "
                "the batch sampler decides batch size and order"
            )
        return DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=_batch_as_is, **processes)
    if batch_size is None:
        raise ValueError("make_loader: pass batch_size (or a batch_sampler)")
    if sampler is not None and shuffle:
        raise ValueError("make_loader: pass either shuffle=True or a sampler, not both")
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return DataLoader(
        dataset,
        batch_size=int(batch_size),
        shuffle=bool(shuffle) if sampler is None else False,
        sampler=sampler,
        drop_last=drop_last,
        collate_fn=_batch_as_is,
        generator=generator,
        **processes,
    )

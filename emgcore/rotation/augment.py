"""Circular shifts of the electrode ring, for training-time augmentation and for applying an estimated rotation.

Convention (that of ``np.roll``): shifting by ``k`` moves channel ``c`` to ``c + k`` (mod C), so
``rotate(x, k)[c] == x[c - k]`` for whole ``k``. A fractional shift ``k = n + f`` (``0 < f < 1``)
interpolates linearly between the two neighbouring whole shifts on the ring::

    rotate(x, n + f) = (1 - f) * rotate(x, n) + f * rotate(x, n + 1)

so ``rotate(x, 0.5)[c]`` is the mean of ``x[c]`` and ``x[c - 1]``. Whole shifts are exact
permutations and compose (``rotate(rotate(x, a), b) == rotate(x, a + b)``); a whole shift also
composes exactly with a fractional one, but two fractional shifts compose to a blurred shift (linear
interpolation is a low-pass filter along the ring: 0.5 then 0.5 is not 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch.utils.data import Dataset

#: shifts closer than this to a whole number are treated as whole (exact permutation, dtype kept)
WHOLE_TOLERANCE = 1e-9


def split_shift(k: float) -> tuple[int, float]:
    """``(n, f)`` with ``k = n + f``, ``n`` whole and ``0 <= f < 1`` (f = 0 when k is within WHOLE_TOLERANCE)."""
    k = float(k)
    if not math.isfinite(k):
        raise ValueError(f"shift must be a finite number of electrodes, got {k}")
    nearest = round(k)
    if abs(k - nearest) < WHOLE_TOLERANCE:
        return int(nearest), 0.0
    whole = math.floor(k)
    return int(whole), k - whole


def rotate(x, k: float, axis: int = -2):
    """Shift ``x`` (numpy array or torch tensor) by ``k`` electrodes, circularly along ``axis``.

    ``axis`` is the channel axis: -2 for windows ``(C, W)`` and batches ``(N, C, W)``, -1 for
    streams ``(T, C)``. Whole shifts keep the dtype; fractional ones return float (float32 for integer
    input, else the input's float type).
    """
    whole, fraction = split_shift(k)
    if isinstance(x, torch.Tensor):
        if x.ndim == 0:
            raise ValueError("rotate needs an array with a channel axis, got a scalar")
        first = torch.roll(x, whole, dims=axis)
        if fraction == 0.0:
            return first
        if not torch.is_floating_point(first):
            first = first.to(torch.float32)
        return (1.0 - fraction) * first + fraction * torch.roll(first, 1, dims=axis)
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("rotate needs an array with a channel axis, got a scalar")
    first = np.roll(x, whole, axis=axis)
    if fraction == 0.0:
        return first
    if not np.issubdtype(first.dtype, np.floating):
        first = first.astype(np.float32)
    weight = first.dtype.type(fraction)
    return (first.dtype.type(1.0) - weight) * first + weight * np.roll(first, 1, axis=axis)


def rotate_batch(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each window of a ``(N, C, W)`` float batch by its own ``shifts[n]`` electrodes (whole or fractional).

    Equal, window by window, to ``rotate(x[n], shifts[n])``; one gather for the whole batch.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or not torch.is_floating_point(x):
        raise ValueError(f"rotate_batch expects a float tensor (N, C, W), got {getattr(x, 'shape', type(x))}")
    shifts = torch.as_tensor(shifts, dtype=torch.float64).reshape(-1)
    if shifts.numel() != x.shape[0]:
        raise ValueError(f"rotate_batch needs one shift per window: {shifts.numel()} shifts for {x.shape[0]} windows")
    if not torch.isfinite(shifts).all():
        raise ValueError("shifts must be finite")
    channels = x.shape[1]
    nearest = torch.round(shifts)
    whole = torch.where((shifts - nearest).abs() < WHOLE_TOLERANCE, nearest, torch.floor(shifts))
    fraction = torch.where((shifts - nearest).abs() < WHOLE_TOLERANCE, torch.zeros_like(shifts), shifts - whole)
    c = torch.arange(channels, dtype=torch.int64)
    # out[c] = (1 - f) * x[c - n] + f * x[c - n - 1]
    source = (c[None, :] - whole.to(torch.int64)[:, None]) % channels
    lower = torch.gather(x, 1, source.to(x.device)[:, :, None].expand(-1, -1, x.shape[2]))
    upper = torch.gather(x, 1, ((source - 1) % channels).to(x.device)[:, :, None].expand(-1, -1, x.shape[2]))
    f = fraction.to(device=x.device, dtype=x.dtype)[:, None, None]
    return (1.0 - f) * lower + f * upper


class RandomRingShift:
    """Random circular shifts of the electrode ring for each window of a training batch.

    Shifts lie in ``[min_shift, max_shift]`` electrodes (``min_shift`` defaults to ``-max_shift``):
    whole numbers drawn uniformly among the integers of the range (``max_shift=1``: the +-1 roll
    baseline) or, with ``fractional=True``, real numbers drawn uniformly. Draws come from the layer's
    own seeded ``torch.Generator`` (on the CPU), so a run is reproducible whatever else uses torch's
    global generator. ``__call__(x)`` returns the shifted ``(N, C, W)`` batch.
    """

    def __init__(
        self,
        max_shift: float = 1.0,
        min_shift: float | None = None,
        fractional: bool = False,
        seed: int = 0,
    ) -> None:
        max_shift = float(max_shift)
        min_shift = -max_shift if min_shift is None else float(min_shift)
        if not (math.isfinite(min_shift) and math.isfinite(max_shift)) or min_shift > max_shift:
            raise ValueError(f"shift range [{min_shift}, {max_shift}]: expected finite bounds with min <= max")
        self.min_shift, self.max_shift, self.fractional = min_shift, max_shift, bool(fractional)
        self._low, self._high = math.ceil(min_shift), math.floor(max_shift)
        if not self.fractional and self._low > self._high:
            raise ValueError(f"shift range [{min_shift}, {max_shift}] holds no whole shift; use fractional=True")
        self.seed = int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` shifts (float64, CPU) drawn from the layer's generator."""
        if self.fractional:
            u = torch.rand(n, generator=self.generator, dtype=torch.float64)
            return self.min_shift + (self.max_shift - self.min_shift) * u
        return torch.randint(self._low, self._high + 1, (n,), generator=self.generator).to(torch.float64)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The batch ``(N, C, W)`` with each window shifted by a freshly drawn amount."""
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise ValueError(f"RandomRingShift expects a (N, C, W) tensor, got {getattr(x, 'shape', type(x))}")
        return rotate_batch(x, self.sample(x.shape[0]))

    def __repr__(self) -> str:
        kind = "fractional" if self.fractional else "whole"
        return f"RandomRingShift([{self.min_shift}, {self.max_shift}], {kind}, seed={self.seed})"


#: training-time treatments of the rotation experiment, by the name a run carries: none, random ring
#: shifts (roll, frac), or every training person turned onto the population's common orientation (canon)
AUGMENTATIONS = ("none", "roll", "frac", "canon")


def augmentation_for(name: str, max_shift: float, seed: int) -> RandomRingShift | None:
    """The augmentation a run named with ``name`` trains with: none, whole-electrode rolls (``roll``:
    every whole shift in [-max_shift, max_shift], 1 = the +-1 baseline) or fractional shifts (``frac``)."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"augmentation {name!r}: expected one of {list(AUGMENTATIONS)}")
    if name in ("none", "canon"):  # canon turns whole people, not windows: CanonicalSignals
        return None
    return RandomRingShift(max_shift=max_shift, fractional=name == "frac", seed=seed)


class RingShiftedDataset(Dataset):
    """A window dataset whose batches come out ring-shifted, each window by its own draw of ``shift``.

    Wraps anything whose ``__getitems__`` gives ``(x (B, C, W), y, subject)``; feature models wrap
    this in turn, so they see features of the shifted windows. Only training batches are shifted.
    """

    def __init__(self, windows: Dataset, shift: RandomRingShift) -> None:
        if not isinstance(shift, RandomRingShift):
            raise TypeError(f"shift must be a RandomRingShift, got {type(shift).__name__}")
        self.windows, self.shift = windows, shift

    def __len__(self) -> int:
        return len(self.windows)

    def __getitems__(self, indices):
        x, y, subject = self.windows.__getitems__(indices)
        return self.shift(x), y, subject

    def __getitem__(self, i: int):
        x, y, subject = self.__getitems__([int(i)])
        return x[0], y[0], subject[0]


class CanonicalSignals(Mapping):
    """Subject -> int8 signal from a store folder, each person turned back by their whole-electrode shift.

    ``shifts[subject]`` is the person's rotation against the population's common orientation
    (``ActivationReference.person_shifts``); rounded to whole electrodes, so the turned signal is an
    exact permutation of the channels and stays int8. Subjects without a shift load unchanged.
    """

    def __init__(self, store_dir, shifts: Mapping[int, float]) -> None:
        from emgcore.preprocess.window_dataset import _StoreSignals

        self._store = _StoreSignals(store_dir)
        self.shifts = {int(s): float(round(k)) for s, k in shifts.items()}

    def __getitem__(self, subject: int) -> np.ndarray:
        signal = self._store[subject]
        shift = self.shifts.get(int(subject), 0.0)
        return rotate(signal, -shift, axis=-1) if shift else signal

    def __contains__(self, subject: object) -> bool:
        return subject in self._store

    def __iter__(self):
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

"""Calibration-free per-channel normalisation of a test user's EMG stream (running statistics).

A model trained on raw windows of the training population sees a new user whose electrode
contact, skin and arm give every channel another offset and gain. With no labelled calibration
data we can still follow that user's own per-channel mean and standard deviation as the stream
arrives and map it onto the training population's scale:

    x_norm = (x - mu_t) / sd_t * std0 + mean0

where ``(mean0, std0)`` are the training population's per-channel statistics
(:func:`population_stats`) and ``(mu_t, sd_t)`` the user's running statistics at the window's
last sample, so a window never sees samples after its own end (causal, usable in real time).

Running statistics (``tau`` in samples, ``n0 = prior_count``)
-------------------------------------------------------------
The statistics start at the population prior ``(mean0, std0**2)``. Sample ``k = 1, 2, ...`` is
absorbed with the weight ``alpha_k = max(1 / tau, 1 / (n0 + k))`` by the exponentially weighted
Welford update (``d = x_k - mu_{k-1}``)::

    mu_k  = mu_{k-1} + alpha_k * d
    var_k = (1 - alpha_k) * (var_{k-1} + alpha_k * d**2)

* While ``n0 + k < tau`` this is *exactly* the cumulative mean and (population) variance of the
  prior, counted as ``n0`` pseudo-samples with mean ``mean0`` and variance ``std0**2``, pooled
  with the ``k`` samples seen so far. It is computed from running sums in that form.
* From then on ``alpha = 1 / tau``: a plain exponential moving average with a memory of about
  ``tau`` samples. For ``tau <= n0 + 1`` this holds from the first sample on.
* ``tau = inf`` never switches: the exact cumulative statistics of prior + stream.

So a tau sweep is monotone (larger tau, slower adaptation) and ``tau = inf`` is its limit, and the
prior keeps a fresh user's first windows from being scaled by the statistics of a handful of
samples. The reported std is floored at ``min_std`` ADC units: below about half an int8 step the
spread is quantisation noise, and the floor stops a dead channel from being amplified unboundedly.

:class:`RunningNorm` is the sample-by-sample (real-time) form; :func:`running_stats` the
vectorised one for offline evaluation, bit-for-bit equal to feeding the samples one by one (both
use the same float64 operations in the same order; the EMA phase runs in ``scipy.signal.lfilter``;
about 0.1 s for 300k samples x 8 channels).
:class:`NormalizedWindowDataset` applies the transform to the windows of a window index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from emgcore.preprocess.population import check_population
from emgcore.preprocess.window_dataset import WindowDataset
from emgcore.preprocess.window_index import WindowIndex

#: floor of the running std in ADC units (about half an int8 quantisation step)
MIN_STD = 0.5


# --------------------------------------------------------------------------------------------
# validation


def _check_settings(tau: float, prior_count: int, min_std: float) -> tuple[float, int, float]:
    tau = float(tau)
    if math.isnan(tau) or tau < 1:
        raise ValueError(f"tau must be >= 1 sample or inf, got {tau}")
    if isinstance(prior_count, bool) or int(prior_count) != prior_count or prior_count < 1:
        raise ValueError(f"prior_count must be a positive integer, got {prior_count!r}")
    min_std = float(min_std)
    if not min_std > 0 or math.isinf(min_std):
        raise ValueError(f"min_std must be a positive finite number, got {min_std}")
    return tau, int(prior_count), min_std


def _check_stream(signal, channels: int) -> np.ndarray:
    """The stream as float64 (T, C); raise unless a finite numeric 2-D array with C channels."""
    signal = np.asarray(signal)
    if signal.ndim != 2 or signal.shape[1] != channels:
        raise ValueError(f"signal must be a (samples, {channels}) array, got shape {signal.shape}")
    if not (np.issubdtype(signal.dtype, np.integer) or np.issubdtype(signal.dtype, np.floating)):
        raise ValueError(f"signal must hold numbers, got dtype {signal.dtype}")
    signal = signal.astype(np.float64)
    if not np.all(np.isfinite(signal)):
        raise ValueError("signal contains non-finite values")
    return signal


# --------------------------------------------------------------------------------------------
# running statistics


def normalize(x: np.ndarray, mean_t, std_t, mean0, std0) -> np.ndarray:
    """``(x - mean_t) / std_t * std0 + mean0`` in float32, channels on axis -2 of ``x``.

    ``x`` is ``(..., C, W)``; ``mean_t``/``std_t`` are ``(..., C)`` (the running statistics at each
    window's last sample); ``mean0``/``std0`` ``(C,)``. One function for the real-time and the
    dataset path so both give the same float32 values.
    """
    x = np.asarray(x, dtype=np.float32)
    mean_t = np.asarray(mean_t, dtype=np.float32)[..., None]
    std_t = np.asarray(std_t, dtype=np.float32)[..., None]
    mean0 = np.asarray(mean0, dtype=np.float32)[:, None]
    std0 = np.asarray(std0, dtype=np.float32)[:, None]
    return (x - mean_t) / std_t * std0 + mean0


class RunningNorm:
    """Sample-by-sample running normalisation of one user's stream (see the module docstring).

    ``update(sample)`` absorbs one ``(C,)`` sample (or a ``(n, C)`` chunk, in order);
    ``transform(window)`` maps a ``(C, W)`` window or a ``(C,)`` sample with the current
    statistics, so call it after updating with the window's last sample; ``reset()`` returns to
    the population prior (for the next user). State is float64; ``mean``/``std`` are float32.
    """

    def __init__(self, mean0, std0, tau: float, prior_count: int, min_std: float = MIN_STD):
        self.mean0, self.std0 = check_population(mean0, std0)
        self.tau, self.prior_count, self.min_std = _check_settings(tau, prior_count, min_std)
        self.channels = self.mean0.shape[0]
        self._alpha = 1.0 / self.tau
        self._keep = 1.0 - self._alpha
        self._var_gain = self._keep * self._alpha
        self.reset()

    def reset(self) -> None:
        """Forget the stream: statistics back to the population prior, no samples seen."""
        self.n_seen = 0
        self._mean = self.mean0.copy()
        self._var = self.std0 * self.std0
        self._sum = self.prior_count * self.mean0
        self._sum_sq = self.prior_count * (self._var + self.mean0 * self.mean0)

    def update(self, sample) -> None:
        """Absorb one sample ``(C,)`` or a chunk ``(n, C)`` of consecutive samples."""
        samples = np.asarray(sample)
        if samples.ndim == 1:
            samples = samples[None, :]
        for x in _check_stream(samples, self.channels):
            self.n_seen += 1
            if self.prior_count + self.n_seen < self.tau:  # exact pooled prior + samples
                self._sum = self._sum + x
                self._sum_sq = self._sum_sq + x * x
                count = float(self.prior_count + self.n_seen)
                self._mean = self._sum / count
                self._var = np.maximum(self._sum_sq / count - self._mean * self._mean, 0.0)
            else:  # exponentially weighted Welford step, alpha = 1 / tau
                d = x - self._mean
                self._mean = self._alpha * x + self._keep * self._mean
                self._var = self._var_gain * (d * d) + self._keep * self._var

    @property
    def mean(self) -> np.ndarray:
        """Current running mean per channel (float32)."""
        return self._mean.astype(np.float32)

    @property
    def std(self) -> np.ndarray:
        """Current running std per channel, floored at ``min_std`` (float32)."""
        return np.maximum(np.sqrt(self._var), self.min_std).astype(np.float32)

    def transform(self, x) -> np.ndarray:
        """Map a ``(C, W)`` window or ``(C,)`` sample to the population scale (float32)."""
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.channels:
            raise ValueError(f"transform expects ({self.channels}, W) or ({self.channels},), got shape {x.shape}")
        out = normalize(x.reshape(self.channels, -1), self.mean, self.std, self.mean0, self.std0)
        return out.reshape(x.shape)


def running_stats(
    signal, mean0, std0, tau: float, prior_count: int, min_std: float = MIN_STD
) -> tuple[np.ndarray, np.ndarray]:
    """Running mean and std after each sample of ``signal (T, C)``, float32 ``(T, C)`` each.

    Row t holds the statistics after absorbing samples 0..t (so a window ending at t uses row t).
    Identical, bit for bit, to :class:`RunningNorm` fed the samples one by one. Peak memory is
    about eight float64 copies of the signal (~64 bytes per sample and channel, measured).
    """
    mean0, std0 = check_population(mean0, std0)
    tau, prior_count, min_std = _check_settings(tau, prior_count, min_std)
    x = _check_stream(signal, mean0.shape[0])
    samples = x.shape[0]
    mean = np.empty_like(x)
    var = np.empty_like(x)
    # cumulative phase: samples k = 1..n_cum with prior_count + k < tau
    n_cum = int(np.count_nonzero(prior_count + np.arange(1, samples + 1) < tau))
    mean_prev, var_prev = mean0, std0 * std0
    if n_cum:
        counts = (prior_count + np.arange(1, n_cum + 1)).astype(np.float64)[:, None]
        sums = np.cumsum(np.vstack([prior_count * mean0, x[:n_cum]]), axis=0)[1:]
        sum_sq0 = prior_count * (var_prev + mean0 * mean0)
        sums_sq = np.cumsum(np.vstack([sum_sq0, x[:n_cum] * x[:n_cum]]), axis=0)[1:]
        mean[:n_cum] = sums / counts
        var[:n_cum] = np.maximum(sums_sq / counts - mean[:n_cum] * mean[:n_cum], 0.0)
        mean_prev, var_prev = mean[n_cum - 1], var[n_cum - 1]
    # EMA phase: constant alpha; two first-order linear recursions run by lfilter
    from scipy.signal import lfilter  # imported here: scipy.signal alone costs ~1 s at start-up

    if n_cum < samples:
        alpha = 1.0 / tau
        keep = 1.0 - alpha
        rest = x[n_cum:]
        ema, _ = lfilter([alpha], [1.0, -keep], rest, axis=0, zi=(keep * mean_prev)[None, :])
        before = np.vstack([mean_prev[None, :], ema[:-1]])
        d = rest - before
        del before
        ema_var, _ = lfilter([keep * alpha], [1.0, -keep], d * d, axis=0, zi=(keep * var_prev)[None, :])
        mean[n_cum:], var[n_cum:] = ema, ema_var
    std = np.maximum(np.sqrt(var, out=var), min_std)
    return mean.astype(np.float32), std.astype(np.float32)


# --------------------------------------------------------------------------------------------
# windows


class NormalizedWindowDataset(WindowDataset):
    """WindowDataset whose windows are normalised by each subject's causal running statistics.

    Each subject's whole signal (recording order, as in the store) is one stream starting from
    the population prior. At construction the running statistics are computed per subject
    (:func:`running_stats`) and only their values at each window's last sample are kept: two
    float32 ``(N, C)`` arrays, 64 bytes per window for 8 channels, on top of the int8 signals
    (the per-subject float64 temporaries, ~64 bytes per sample and channel, are freed after each
    subject). Batches are ``(x, y, subject)`` exactly like WindowDataset, with ``x`` normalised.
    """

    def __init__(
        self,
        index: WindowIndex,
        signals: Mapping[int, np.ndarray],
        mean0,
        std0,
        tau: float,
        prior_count: int,
        min_std: float = MIN_STD,
    ):
        super().__init__(index, signals)
        self.mean0, self.std0 = check_population(mean0, std0)
        self.tau, self.prior_count, self.min_std = _check_settings(tau, prior_count, min_std)
        if len(index) and self.channels != self.mean0.shape[0]:
            raise ValueError(
                f"signals have {self.channels} channels but the population statistics {self.mean0.shape[0]}"
            )
        n, c = len(index), self.mean0.shape[0]
        self._end_mean = np.empty((n, c), dtype=np.float32)
        self._end_std = np.empty((n, c), dtype=np.float32)
        order = np.argsort(index.subject, kind="stable")
        subjects, first = np.unique(index.subject[order], return_index=True)
        for subject, rows in zip(subjects, np.split(order, first[1:])):
            base, length = self._base[subject], self._length[subject]
            mean, std = running_stats(
                self._signal[base : base + length], self.mean0, self.std0, self.tau, self.prior_count, self.min_std
            )
            ends = index.start[rows] + self.window - 1
            self._end_mean[rows], self._end_std[rows] = mean[ends], std[ends]
            del mean, std

    def __getitem__(self, i: int):
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"window {i} out of range for a dataset of {len(self)} windows")
        x, y, subject = self.__getitems__([i % len(self)])
        return x[0], y[0], subject[0]

    def __getitems__(self, indices: Sequence[int]):
        """One normalised batch ``(x (B, C, window) float32, y (B,) int64, subject (B,) int64)``."""
        x, y, subject = super().__getitems__(indices)
        indices = np.asarray(indices, dtype=np.int64)
        x = normalize(x.numpy(), self._end_mean[indices], self._end_std[indices], self.mean0, self.std0)
        return torch.from_numpy(np.ascontiguousarray(x)), y, subject

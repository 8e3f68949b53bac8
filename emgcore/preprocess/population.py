"""Per-channel statistics of the training population: RunningNorm's starting point and target scale.

Computed once from the training users (rule population_stats) and stored as a small JSON file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from emgcore.data.store import load_signal
from emgcore.io import write_text_atomic

POPULATION_FORMAT = "emgcore-population-stats-v1"


def check_population(mean0, std0) -> tuple[np.ndarray, np.ndarray]:
    """Population mean/std as float64 (C,) arrays; raise unless 1-D, equal length, finite, std > 0."""
    mean0 = np.asarray(mean0, dtype=np.float64)
    std0 = np.asarray(std0, dtype=np.float64)
    if mean0.ndim != 1 or mean0.shape != std0.shape or mean0.size == 0:
        raise ValueError(
            f"population mean and std must be 1-D arrays of equal length (one value per channel), "
            f"got shapes {mean0.shape} and {std0.shape}"
        )
    if not (np.all(np.isfinite(mean0)) and np.all(np.isfinite(std0))):
        raise ValueError("population mean and std must be finite")
    if np.any(std0 <= 0):
        raise ValueError(f"population std must be > 0 on every channel, got {std0.tolist()}")
    return mean0, std0


def population_stats(sources: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population, ddof=0) std over all samples of the training users.

    ``sources`` yields int8 ``(T, C)`` signals, store file paths (``subject{sid:04d}.h5``) or
    UserRecording-like objects (a ``signal`` attribute, e.g. from ``iter_store``); paths are read
    one at a time, so memory stays at one user. Sums of x and x**2 are accumulated in
    float64, which is exact for int8 samples up to ~5e11 samples. Returns float64 ``(C,)`` arrays.
    """
    if isinstance(sources, (str, os.PathLike, np.ndarray)):
        raise TypeError(
            "population_stats takes an iterable of signals or store paths, not a single one; wrap it in a list"
        )
    total = total_sq = None
    count = 0
    for i, source in enumerate(sources):
        if isinstance(source, (str, os.PathLike)):
            if Path(source).is_dir():
                raise ValueError(f"{source} is a folder; pass the training users' store files")
            signal = load_signal(source)
        elif hasattr(source, "signal"):
            signal = np.asarray(source.signal)
        else:
            signal = np.asarray(source)
        if signal.ndim != 2 or not np.issubdtype(signal.dtype, np.number):
            raise ValueError(
                f"source {i}: expected a numeric (samples, channels) signal, got {signal.dtype} {signal.shape}"
            )
        x = signal.astype(np.float64)
        if total is None:
            total, total_sq = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        if x.shape[1] != total.shape[0]:
            raise ValueError(f"source {i} has {x.shape[1]} channels, the first had {total.shape[0]}")
        total += x.sum(axis=0)
        total_sq += (x * x).sum(axis=0)
        count += x.shape[0]
    if total is None or count == 0:
        raise ValueError("population_stats: no samples in the given sources")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
    if np.any(std == 0):
        raise ValueError(
            f"population std is 0 on channels {np.flatnonzero(std == 0).tolist()}: "
            "a constant channel cannot set a scale"
        )
    return mean, std


def save_population_stats(path: str | Path, mean, std, meta: Mapping | None = None) -> Path:
    """Write population mean/std (and optional JSON-able ``meta``, e.g. subjects) atomically as JSON."""
    mean, std = check_population(mean, std)
    payload = {"format": POPULATION_FORMAT, "mean": mean.tolist(), "std": std.tolist(), "meta": dict(meta or {})}
    return write_text_atomic(path, json.dumps(payload, indent=2) + "\n")


def load_population_stats(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``(mean, std)`` float64 arrays written by :func:`save_population_stats`, validated."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no population statistics file at {path}")
    try:
        payload = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(payload, dict) or payload.get("format") != POPULATION_FORMAT:
        raise ValueError(f"{path} is not a population statistics file ({POPULATION_FORMAT})")
    try:
        return check_population(payload["mean"], payload["std"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: bad population statistics ({error})") from None


def resolve_population(population) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` from a ``(mean, std)`` pair or a JSON path written by save_population_stats."""
    if population is None:
        raise ValueError(
            "normalisation needs the training population's statistics "
            "(a (mean, std) pair or a population stats JSON path)"
        )
    if isinstance(population, (str, os.PathLike)):
        return load_population_stats(population)
    if isinstance(population, Sequence) and len(population) == 2:
        return check_population(*population)
    raise TypeError(f"population must be (mean, std) or a path, got {type(population).__name__}")

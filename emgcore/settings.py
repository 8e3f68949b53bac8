"""Typed settings: the config sections the library consumes, built once at the rule boundary.

`config.yaml` holds every default and `schemas/config.schema.yaml` checks it; these classes
repeat no default. A workflow script turns its rule's params into one of these objects with
``from_config`` (which names a missing or unknown key) and hands that object to `emgcore`, so
no library function reads loose dictionaries with defaults of its own.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_mapping(cls: type[T], mapping: Mapping, where: str, convert: Mapping[str, Any] | None = None) -> T:
    """``cls(**mapping)`` with every field required and no other key accepted (errors name `where`)."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{where}: expected a mapping of settings, got {type(mapping).__name__}")
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in mapping]
    unknown = sorted(set(mapping) - set(names))
    if missing or unknown:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
        raise ValueError(f"{where}: {'; '.join(parts)} (expected the keys {names})")
    values = {n: mapping[n] for n in names}
    for name, fn in (convert or {}).items():
        values[name] = fn(values[name])
    return cls(**values)


@dataclass(frozen=True)
class WindowSettings:
    """``windows``: window length and stride in samples (the test split's own stride, or None for the
    same), and 1 in `rest_subsample` rest windows kept."""

    size: int
    stride: int
    test_stride: int | None
    rest_subsample: int

    def __post_init__(self) -> None:
        for name in ("size", "stride", "test_stride", "rest_subsample"):
            value = getattr(self, name)
            if name == "test_stride" and value is None:
                continue
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"windows.{name} must be a positive integer, got {value!r}")

    def stride_of(self, split: str) -> int:
        """Stride of the windows of `split`: `test_stride` for the test users when set, else `stride`."""
        return self.test_stride if split == "test" and self.test_stride else self.stride

    @classmethod
    def from_config(cls, mapping: Mapping) -> WindowSettings:
        return from_mapping(cls, mapping, "windows")


@dataclass(frozen=True)
class UsersPerClass:
    """``training.users_per_class_sampler``: the triplet loss's batches (classes x users x windows)."""

    users_per_class: int
    samples_per_user: int


@dataclass(frozen=True)
class TrainingSettings:
    """``training``: optimiser, schedule, stopping, batches, devices and per-model/per-loss options."""

    batch_size: int
    lr: float
    max_epochs: int
    patience: int
    lr_factor: float
    lr_patience: int
    min_lr: float
    dropout: float
    max_train_batches_per_epoch: int | None
    eval_batch_size: int
    threads: int
    num_workers: int
    device: str
    data_on_device: bool
    nproc: int
    features: tuple[str, ...]
    feature_params: Mapping[str, float] = field(hash=False)
    feature_sample: int
    lda_max_windows: int
    users_per_class_sampler: UsersPerClass
    loss_params: Mapping[str, Mapping] = field(hash=False)
    model_params: Mapping[str, Mapping] = field(hash=False)

    def __post_init__(self) -> None:
        problems = []
        for name in (
            "batch_size",
            "max_epochs",
            "patience",
            "eval_batch_size",
            "threads",
            "nproc",
            "feature_sample",
            "lda_max_windows",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                problems.append(f"{name} must be an integer >= 1 (got {value!r})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if not 0 < self.lr_factor < 1:
            problems.append(f"lr_factor must be in (0, 1) (got {self.lr_factor})")
        if self.lr_patience < 0:
            problems.append(f"lr_patience must be >= 0 (got {self.lr_patience})")
        if self.min_lr < 0:
            problems.append(f"min_lr must be >= 0 (got {self.min_lr})")
        if not 0 <= self.dropout <= 1:
            problems.append(f"dropout must be in [0, 1] (got {self.dropout})")
        if self.num_workers < 0:
            problems.append(f"num_workers must be >= 0 (got {self.num_workers})")
        cap = self.max_train_batches_per_epoch
        if cap is not None and cap < 1:
            problems.append(f"max_train_batches_per_epoch must be null or >= 1 (got {cap})")
        if not self.features:
            problems.append("features must name at least one feature")
        if problems:
            raise ValueError("training: " + "; ".join(problems))

    @classmethod
    def from_config(cls, mapping: Mapping) -> TrainingSettings:
        """From the ``training`` section of the config (every key present, as config.yaml has them)."""
        return from_mapping(
            cls,
            mapping,
            "training",
            convert={
                "features": lambda f: (f,) if isinstance(f, str) else tuple(f),
                "users_per_class_sampler": lambda m: from_mapping(UsersPerClass, m, "training.users_per_class_sampler"),
                "feature_params": lambda m: dict(m or {}),
                "loss_params": lambda m: {k: dict(v) for k, v in (m or {}).items()},
                "model_params": lambda m: {k: dict(v) for k, v in (m or {}).items()},
            },
        )

    def as_config(self) -> dict:
        """Back to the config's plain form (JSON-able; e.g. for the torchrun command line)."""
        out = dataclasses.asdict(self)
        out["features"] = list(self.features)
        return out

    def replace(self, **changes) -> TrainingSettings:
        return dataclasses.replace(self, **changes)

    def loss_options(self, loss: str) -> dict:
        """Keyword arguments of loss `loss` (``loss_params``; empty when none are set)."""
        return dict(self.loss_params.get(loss, {}))

    def model_options(self, model: str) -> dict:
        """Constructor overrides of model `model` (``model_params``; empty when none are set)."""
        return dict(self.model_params.get(model, {}))


@dataclass(frozen=True)
class RunningNormSettings:
    """``running_norm``: time constant (samples, inf = cumulative) and the prior's pseudo-sample count."""

    tau: float
    prior_count: int
    tau_sweep: tuple[float, ...]
    sweep_eval_variant: str

    @classmethod
    def from_config(cls, mapping: Mapping) -> RunningNormSettings:
        return from_mapping(
            cls,
            mapping,
            "running_norm",
            convert={"tau": float, "tau_sweep": lambda taus: tuple(float(t) for t in taus)},
        )

    def with_tau(self, tau: float) -> RunningNormSettings:
        return dataclasses.replace(self, tau=float(tau))


# ---------------------------------------------------------------------------------------------
# settings that do not fit the data


class SettingAdapted(UserWarning):
    """A configured value was larger than the data allows and was clipped (the run records it)."""


def fit_to_data(key: str, configured: int, available: int, minimum: int, what: str) -> tuple[int, dict | None]:
    """`configured`, or `available` when the data has fewer (`what` says of what), with a warning.

    Returns (value to use, record for the run's metadata or None). Raises when even `minimum`
    does not fit, naming the key: a setting that cannot work stops the job with the reason.
    """
    if configured <= available:
        return configured, None
    if available < minimum:
        raise ValueError(
            f"{key}={configured} cannot be met: the data has only {available} {what} (at least {minimum} needed)"
        )
    warnings.warn(
        f"{key}={configured} does not fit the data ({available} {what}); using {available}",
        SettingAdapted,
        stacklevel=2,
    )
    return available, {"configured": configured, "used": available, "why": f"{available} {what}"}


# ---------------------------------------------------------------------------------------------
# threads: computed here only


def training_job_threads(training: Mapping | TrainingSettings) -> int:
    """Cores a training job asks for: (torch threads + loader workers) for each of its processes."""
    t = training if isinstance(training, TrainingSettings) else TrainingSettings.from_config(training)
    return (t.threads + t.num_workers) * t.nproc


def threads_per_process(job_threads: int, nproc: int, num_workers: int) -> int:
    """torch threads of each training process, from the cores the job was given (Snakemake may give
    fewer than asked): an equal share per process, less its loader workers, at least 1."""
    if nproc < 1 or num_workers < 0:
        raise ValueError(f"nproc must be >= 1 and num_workers >= 0, got {nproc} and {num_workers}")
    return max(1, int(job_threads) // int(nproc) - int(num_workers))

"""Cross-user runs: train one model (a model x loss x training variant x seed) on the training users.

Its evaluation on the test users is `emgcore.cross.evaluation`."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from emgcore import layout
from emgcore.cross.distributed import (
    ShardSampler,
    per_rank_batch_size,
    rank_and_world,
    resolve_device,
    train_sampler,
)
from emgcore.cross.losses import build_loss, loss_needs
from emgcore.cross.samplers import UsersPerClassBatchSampler
from emgcore.cross.training import TrainResult, predict, seed_everything, train_model
from emgcore.features import native
from emgcore.features.datasets import FeatureCache, FeatureWindowDataset
from emgcore.io import write_atomic, write_csv_atomic, write_text_atomic
from emgcore.layout import CrossRun
from emgcore.models import build_model, model_spec
from emgcore.models.hcf import hcf_kwargs
from emgcore.models.lda import LDALinear
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.preprocess.window_index import WindowIndex, load_window_index
from emgcore.settings import TrainingSettings, fit_to_data

#: models that consume hand-crafted features instead of raw windows, and the table layout they need
FEATURE_MODELS = {"mlp": "window", "lstm_hcf": "subwindow", "cnn_hcf": "subwindow", "lda": "window"}


def model_view(dataset, model_name: str, features: FeatureSpec | None, device=None):
    """The dataset as the model sees it: raw windows, or hand-crafted features computed per batch
    (natively, on `device`: the training device; None computes them where the windows are)."""
    if model_name not in FEATURE_MODELS:
        return dataset
    if features is None:
        raise ValueError(f"model {model_name!r} reads hand-crafted features: give their names and parameters")
    return FeatureWindowDataset(dataset, features.names, FEATURE_MODELS[model_name], features.params, device=device)


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """The hand-crafted features a run reads: names (libemg order) and their parameters."""

    names: tuple[str, ...]
    params: Mapping[str, float] = dataclasses.field(hash=False)

    @classmethod
    def of(cls, training: TrainingSettings) -> FeatureSpec:
        return cls(tuple(training.features), dict(training.feature_params))

    @classmethod
    def for_run(cls, run: CrossRun, training: TrainingSettings) -> FeatureSpec:
        """The run's feature group (a run of the feature grid), else ``training.features``; the
        parameters are ``training.feature_params`` either way."""
        if not run.feature_group:
            return cls.of(training)
        if run.feature_group not in native.GROUPS:
            raise ValueError(
                f"run {run.name}: unknown feature group {run.feature_group!r}; known: {list(native.GROUPS)}"
            )
        return cls(native.GROUPS[run.feature_group], dict(training.feature_params))


def _scaler_sample(dataset, n: int, seed: int):
    """Features of up to `n` training windows drawn with a fixed seed (for HCF scaling and LDA)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(dataset), size=min(n, len(dataset)), replace=False))
    chunks = [dataset.__getitems__(idx[i : i + 8192].tolist()) for i in range(0, len(idx), 8192)]
    return (torch.cat([c[0] for c in chunks]).cpu().numpy(), torch.cat([c[1] for c in chunks]).numpy())


def _build(model_name: str, train_view, training: TrainingSettings, seed: int, subjects, window: int):
    kwargs = training.model_options(model_name)
    if model_name in FEATURE_MODELS:
        X, _ = _scaler_sample(train_view, training.feature_sample, seed)
        return build_model(model_name, **hcf_kwargs(X, dropout=float(training.dropout), **kwargs))
    if model_name == "mhcnn_grl":
        kwargs["subject_ids"] = [int(s) for s in subjects]
    return build_model(model_name, dropout=float(training.dropout), window=window, **kwargs)


def _train_loader(train_view, index, loss_name: str, training: TrainingSettings, seed: int):
    """Shuffled batches (cut in `training.num_workers` processes); the triplet loss gets batches with
    several users per class instead. With `training.data_on_device` the int8 signals go to
    `training.device` once and each batch is cut there (`DeviceWindowBatches`)."""
    rank, world = rank_and_world()
    batch, workers = training.batch_size, training.num_workers
    if training.data_on_device:
        return _device_batches(train_view, loss_name, training, seed, world, workers)
    if loss_needs(loss_name).get("sampler") == "users_per_class":
        opts = training.users_per_class_sampler
        users, per_user = opts.users_per_class, opts.samples_per_user
        n_classes = len(np.unique(index.label))
        n_batches = math.ceil(len(index) / (n_classes * users * per_user) / world)
        cap = training.max_train_batches_per_epoch
        sampler = UsersPerClassBatchSampler(
            index.label,
            index.subject,
            n_classes,
            users,
            per_user,
            min(n_batches, cap) if cap else n_batches,
            seed=seed,
            rank=rank,
        )
        return make_loader(train_view, batch_sampler=sampler, num_workers=workers)
    if world > 1:  # under torchrun: disjoint shards per rank, same global batch size
        return make_loader(
            train_view,
            per_rank_batch_size(batch, world),
            seed=seed,
            sampler=train_sampler(train_view, rank, world, seed),
            num_workers=workers,
        )
    return make_loader(train_view, batch, shuffle=True, seed=seed, num_workers=workers)


def _device_batches(train_view, loss_name: str, training: TrainingSettings, seed: int, world: int, workers: int):
    """Training batches cut on the training device; refuses the setups it cannot serve, naming them."""
    from emgcore.preprocess.device_batches import DeviceWindowBatches

    refused = [
        why
        for why, bad in (
            (
                f"loss {loss_name!r} draws users-per-class batches",
                loss_needs(loss_name).get("sampler") == "users_per_class",
            ),
            (
                f"the model reads features ({type(train_view).__name__}), not raw windows",
                type(train_view) is not WindowDataset,
            ),
            (f"training.nproc > 1 (DDP shards) is not supported with it ({world} processes)", world > 1),
            (f"training.num_workers is {workers}: batches are cut on the device, not in workers", workers > 0),
        )
        if bad
    ]
    if refused:
        raise ValueError("training.data_on_device: true cannot be used here: " + "; ".join(refused))
    return DeviceWindowBatches(train_view, training.batch_size, device=training.device, seed=seed, shuffle=True)


def fit_training_to_data(training: TrainingSettings, loss_name: str, train_index) -> tuple[TrainingSettings, dict]:
    """The settings with every value the training windows cannot serve clipped (warning given), and a
    record {setting: {configured, used, why}} for run.json. Today: the triplet loss's users per class."""
    adapted = {}
    if loss_needs(loss_name).get("sampler") == "users_per_class":
        users = min(len(np.unique(train_index.subject[train_index.label == c])) for c in np.unique(train_index.label))
        key = "training.users_per_class_sampler.users_per_class"
        used, record = fit_to_data(
            key, training.users_per_class_sampler.users_per_class, users, 2, "training users in the rarest class"
        )
        if record:
            adapted[key] = record
            sampler = dataclasses.replace(training.users_per_class_sampler, users_per_class=used)
            training = training.replace(users_per_class_sampler=sampler)
    return training, adapted


def train_cross_run(
    run: CrossRun,
    store_dir: str | Path,
    train_index: str | Path | WindowIndex,
    val_index: str | Path | WindowIndex,
    out_dir: str | Path,
    training: TrainingSettings,
    progress: bool = True,
    feature_cache: FeatureCache | None = None,
    augmentation=None,
    extra_info: Mapping | None = None,
    person_shifts: Mapping[int, float] | None = None,
) -> TrainResult:
    """Train `run` (model x loss x training variant x seed) on a train/val window index pair into `out_dir`.

    `augmentation` (``emgcore.rotation.augment.RandomRingShift``) ring-shifts every training window
    as it is drawn (feature models get features of the shifted windows; validation is left as is);
    `extra_info` is added to run.json (the rotation experiment records its augmentation there);
    `person_shifts` (subject -> electrodes) turns each training and validation person's whole signal
    back by their rounded shift first (``emgcore.rotation.augment.CanonicalSignals``).

    Feature models (mlp, lstm_hcf, cnn_hcf, lda) get hand-crafted features of the same windows
    (native, libemg's definitions, on the training device): per batch, or from `feature_cache`,
    which computes a split's features once for every model that shares it when they fit its
    memory budget. The run's identity and its features with their parameters are saved in
    `run.json` beside `model.pt`. LDA is fitted in closed form.
    """
    model_name, loss_name, seed = run.model, run.loss, int(run.seed)
    needs = loss_needs(loss_name)  # unknown loss names fail here, before any data is read
    if needs.get("model", model_name) != model_name:
        raise ValueError(f"loss {loss_name!r} needs model {needs['model']!r}, got {model_name!r}")
    if model_name == "lda" and loss_name != "base":
        raise ValueError(f"lda is fitted in closed form; only loss 'base' applies, got {loss_name!r}")
    if run.feature_group and model_name not in FEATURE_MODELS:
        raise ValueError(
            f"run {run.name}: feature group {run.feature_group!r} given to {model_name!r}, which reads raw "
            f"windows; the feature models are {sorted(FEATURE_MODELS)}"
        )
    features = FeatureSpec.for_run(run, training)
    torch.set_num_threads(training.threads)
    # 'auto' (the pipeline's default): this process's GPU when there is one, else the CPU
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    training = training.replace(device=resolve_device(training.device, local_rank))
    train_index_, val_index_ = load_window_index(train_index), load_window_index(val_index)
    if person_shifts:
        from emgcore.rotation.augment import CanonicalSignals

        train_ds = WindowDataset(train_index_, CanonicalSignals(store_dir, person_shifts))
        val_ds = WindowDataset(val_index_, CanonicalSignals(store_dir, person_shifts))
    else:
        train_ds = WindowDataset.from_store(train_index_, store_dir)
        val_ds = WindowDataset.from_store(val_index_, store_dir)
    # features on the training device, unless loader worker processes compute them (on their CPU)
    feature_device = training.device if training.num_workers == 0 else "cpu"
    if augmentation is not None:
        if feature_cache is not None or training.data_on_device:
            raise ValueError("ring-shift augmentation draws new shifts per batch: no feature cache, no data_on_device")
        from emgcore.rotation.augment import RingShiftedDataset

        train_view = model_view(RingShiftedDataset(train_ds, augmentation), model_name, features, feature_device)
    else:
        train_view = model_view(train_ds, model_name, features, feature_device)
    val_view = model_view(val_ds, model_name, features, feature_device)
    if feature_cache is not None:
        train_view, val_view = (
            feature_cache.view(str(train_index), train_view),
            feature_cache.view(str(val_index), val_view),
        )
    training, adapted = fit_training_to_data(training, loss_name, train_index_)
    out_dir = Path(out_dir)
    info = {**run.as_dict(), **dict(extra_info or {})}
    if adapted:
        info["adapted"] = adapted
    if model_name in FEATURE_MODELS:
        info.update(features=list(train_view.features), feature_params=train_view.params, feature_mode=train_view.mode)
    if rank_and_world()[0] == 0:  # under torchrun only rank 0 writes
        write_text_atomic(out_dir / layout.RUN_INFO, json.dumps(info, indent=1))
    seed_everything(seed)
    if model_name == "lda":
        return fit_lda_run(train_view, val_view, out_dir, training, seed)
    model = _build(model_name, train_view, training, seed, train_ds.index.subjects(), int(train_ds.index.window))
    loss_fn = build_loss(loss_name, model=model, **training.loss_options(loss_name))
    rank, world = rank_and_world()
    train_loader = _train_loader(train_view, train_index_, loss_name, training, seed)
    if world > 1:
        val_loader = make_loader(
            val_view, training.eval_batch_size, seed=seed, sampler=ShardSampler(len(val_view), rank, world)
        )
    else:
        val_loader = make_loader(val_view, training.eval_batch_size, shuffle=False, seed=seed)
    return train_model(
        model, train_loader, val_loader, training, out_dir, seed=seed, loss_fn=loss_fn, progress=progress
    )


def fit_lda_run(train_view, val_view, out_dir: Path, training: TrainingSettings, seed: int) -> TrainResult:
    """Fit LDA on (a seeded sample of up to `lda_max_windows`) training features; save like a torch run."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = _scaler_sample(train_view, training.lda_max_windows, seed)
    t0 = time.perf_counter()
    lda = LinearDiscriminantAnalysis().fit(X, y)
    model = LDALinear.from_sklearn(lda)
    model.model_name = "lda"
    y_val, p_val, _ = predict(model, make_loader(val_view, training.eval_batch_size, shuffle=False, seed=seed))
    # LDA has no validation loss of its own: its validation error rate stands in
    val_err = float(np.mean(y_val != p_val)) if len(y_val) else float("nan")
    checkpoint = {"state_dict": model.state_dict(), "epoch": 1, "val_loss": val_err, "model": model_spec(model)}
    (out_dir / layout.EPOCHS).mkdir(parents=True, exist_ok=True)
    for path in (out_dir / layout.EPOCHS / "epoch_001.pt", out_dir / layout.MODEL_FILE):
        write_atomic(path, lambda tmp: torch.save(checkpoint, tmp))
    train_acc = float(np.mean(lda.predict(X) == y))
    seconds = time.perf_counter() - t0
    history = pd.DataFrame(
        [
            {
                "epoch": 1,
                "train_loss": 1 - train_acc,
                "train_acc": train_acc,
                "val_loss": val_err,
                "val_acc": 1 - val_err,
                "lr": 0.0,
                "seconds": seconds,
                "windows_per_s": len(X) / max(seconds, 1e-9),
            }
        ]
    )
    write_csv_atomic(history, out_dir / layout.TRAIN_LOG)
    return TrainResult(
        best_epoch=1,
        best_val_loss=val_err,
        epochs_run=1,
        stopped_early=False,
        history=history,
        model_path=out_dir / layout.MODEL_FILE,
        log_path=out_dir / layout.TRAIN_LOG,
        model=model,
    )


def run_features(model_path: str | Path) -> FeatureSpec | None:
    """The features a run was trained on, from its run.json (None for raw-window models, or a
    checkpoint saved on its own, without a run folder)."""
    run_dir = Path(model_path).parent
    if not (run_dir / layout.RUN_INFO).is_file():
        return None
    info = layout.read_run_info(run_dir)
    if info.get("features") is None:
        return None
    if "feature_params" not in info:
        raise ValueError(
            f"{run_dir / layout.RUN_INFO}: 'features' without 'feature_params' (trained before the native "
            "features); retrain the run"
        )
    return FeatureSpec(tuple(info["features"]), dict(info["feature_params"]))

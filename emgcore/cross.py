"""Cross-user runs: train one model on the training users, evaluate it per held-out subject."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch

from emgcore.distributed import ShardSampler, per_rank_batch_size, rank_and_world, train_sampler
from emgcore.metrics import per_subject_metrics, summarise
from emgcore.models import build_model
from emgcore.normalization import (
    DEFAULT_PRIOR_COUNT, NORM_MODES, NormalizedWindowDataset, resolve_population,
)
from emgcore.preprocess import load_window_index
from emgcore.training import TrainConfig, TrainResult, load_model, predict, seed_everything, train_model
from emgcore.windows import WindowDataset, make_loader

TRAIN_CONFIG_KEYS = ("lr", "max_epochs", "patience", "lr_factor", "lr_patience", "min_lr",
                     "max_train_batches_per_epoch", "device")


def train_cross_run(
    model_name: str,
    loss_name: str,
    store_dir: str | Path,
    train_index: str | Path,
    val_index: str | Path,
    out_dir: str | Path,
    training: Mapping,
    seed: int,
    progress: bool = True,
) -> TrainResult:
    """Train `model_name` with `loss_name` on a train/val window index pair; writes into `out_dir`."""
    if loss_name != "base":
        raise ValueError(f"unknown loss {loss_name!r}; known: ['base']")
    torch.set_num_threads(int(training.get("threads", torch.get_num_threads())))
    train_ds = WindowDataset.from_store(load_window_index(train_index), store_dir)
    val_ds = WindowDataset.from_store(load_window_index(val_index), store_dir)
    seed_everything(seed)
    model = build_model(model_name, dropout=float(training.get("dropout", 0.2)),
                        window=int(train_ds.index.window))
    cfg = TrainConfig(seed=seed, **{k: training[k] for k in TRAIN_CONFIG_KEYS if k in training})
    eval_batch = int(training.get("eval_batch_size", training["batch_size"]))
    rank, world = rank_and_world()
    if world > 1:  # under torchrun: disjoint shards per rank, same global batch size
        train_loader = make_loader(train_ds, per_rank_batch_size(training["batch_size"], world),
                                   seed=seed, sampler=train_sampler(train_ds, rank, world, seed))
        val_loader = make_loader(val_ds, eval_batch, seed=seed,
                                 sampler=ShardSampler(len(val_ds), rank, world))
    else:
        train_loader = make_loader(train_ds, int(training["batch_size"]), shuffle=True, seed=seed)
        val_loader = make_loader(val_ds, eval_batch, shuffle=False, seed=seed)
    return train_model(model, train_loader, val_loader, cfg, out_dir, progress=progress)


def evaluate_cross_run(
    model_path: str | Path, store_dir: str | Path, index_path: str | Path, batch_size: int = 4096,
    norm: str = "nonorm", tau: float = math.inf, population=None,
    prior_count: int = DEFAULT_PRIOR_COUNT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-subject metrics and their summary for a trained model on one test window index.

    ``norm='norm'`` feeds windows normalised by each test user's causal running statistics
    (``emgcore.normalization``; ``tau`` in samples, ``prior_count`` pseudo-samples of the prior)
    mapped onto the training population's scale, given as ``population``: a ``(mean, std)`` pair
    or a JSON path from ``save_population_stats``. ``norm='nonorm'`` ignores those arguments.
    """
    if norm not in NORM_MODES:
        raise ValueError(f"unknown norm {norm!r}; expected one of {NORM_MODES}")
    model = load_model(model_path)
    index = load_window_index(index_path)
    if norm == "norm":
        mean0, std0 = resolve_population(population)
        dataset = NormalizedWindowDataset.from_store(index, store_dir, mean0, std0, tau=tau,
                                                     prior_count=prior_count)
    else:
        dataset = WindowDataset.from_store(index, store_dir)
    if len(dataset) == 0:
        raise ValueError(f"{index_path}: window index is empty; nothing to evaluate")
    y_true, y_pred, subjects = predict(model, make_loader(dataset, batch_size, shuffle=False, seed=0))
    per_subject = per_subject_metrics(y_true, y_pred, subjects)
    return per_subject, summarise(per_subject)

"""Cross-user runs: train one model on the training users, evaluate it per held-out subject."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch

from emgcore.metrics import per_subject_metrics, summarise
from emgcore.models import build_model
from emgcore.preprocess import load_window_index
from emgcore.training import TrainConfig, TrainResult, load_model, predict, seed_everything, train_model
from emgcore.windows import WindowDataset, make_loader

TRAIN_CONFIG_KEYS = ("lr", "max_epochs", "patience", "lr_factor", "lr_patience", "min_lr",
                     "max_train_batches_per_epoch")


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
    train_loader = make_loader(train_ds, int(training["batch_size"]), shuffle=True, seed=seed)
    val_loader = make_loader(val_ds, int(training.get("eval_batch_size", training["batch_size"])),
                             shuffle=False, seed=seed)
    return train_model(model, train_loader, val_loader, cfg, out_dir, progress=progress)


def evaluate_cross_run(
    model_path: str | Path, store_dir: str | Path, index_path: str | Path, batch_size: int = 4096
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-subject metrics and their summary for a trained model on one test window index."""
    model = load_model(model_path)
    dataset = WindowDataset.from_store(load_window_index(index_path), store_dir)
    if len(dataset) == 0:
        raise ValueError(f"{index_path}: window index is empty; nothing to evaluate")
    y_true, y_pred, subjects = predict(model, make_loader(dataset, batch_size, shuffle=False, seed=0))
    per_subject = per_subject_metrics(y_true, y_pred, subjects)
    return per_subject, summarise(per_subject)

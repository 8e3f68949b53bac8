"""Typed settings for tests: config.yaml's values (the single source of defaults) with overrides."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from emgcore.settings import TrainingSettings, WindowSettings

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def default_config() -> dict:
    """config.yaml as a dict (do not modify the returned object)."""
    return yaml.safe_load((REPO / "config.yaml").read_text())


def training_settings(**changes) -> TrainingSettings:
    """config.yaml's training section, with `changes` applied (e.g. max_epochs=2, threads=1)."""
    return TrainingSettings.from_config(default_config()["training"]).replace(**changes)


def window_settings(**changes) -> WindowSettings:
    return WindowSettings.from_config({**default_config()["windows"], **changes})


def disentangle_config(seed: int = 0, **changes):
    """config.yaml's disentangle.model as a DisentangleConfig, with `changes` applied."""
    from emgcore.disentangle.train import DisentangleConfig

    return DisentangleConfig.from_config(default_config()["disentangle"]["model"], seed=seed).replace(**changes)


def classifier_params(**changes) -> dict:
    """config.yaml's disentangle.classifier_params, each classifier's entry updated by `changes[name]`."""
    params = {name: dict(values) for name, values in default_config()["disentangle"]["classifier_params"].items()}
    for name, update in changes.items():
        params[name].update(update)
    return params

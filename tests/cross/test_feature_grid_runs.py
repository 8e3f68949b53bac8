"""Runs of the feature grid (cross_feats): a feature group per run, its columns, the shared feature cache."""

import json

import numpy as np
import pytest
import torch

from emgcore.cross.evaluation import Evaluation, evaluate_run
from emgcore.cross.runs import FEATURE_MODELS, FeatureSpec, train_cross_run
from emgcore.features import native
from emgcore.features.datasets import FeatureCache, FeatureTable, FeatureWindowDataset
from emgcore.layout import CrossRun, read_run_info, run_name
from emgcore.models.hcf import feature_mode
from emgcore.preprocess.window_dataset import WindowDataset
from emgcore.preprocess.window_index import load_window_index
from tests.cross.test_runs import TRAINING, tiny  # noqa: F401 (the tiny store fixture)

PARAMS = dict(TRAINING.feature_params)


@pytest.mark.parametrize("group", list(native.GROUPS))
def test_each_group_gives_the_models_the_native_column_count(tiny, group):  # noqa: F811
    """What a grid run's model reads has, per window (or per sub-window), the columns native.extract gives
    for the group: the group's features in libemg's order, 8 channels."""
    spec = FeatureSpec.for_run(CrossRun("mlp", "base", "raw", 0, group), TRAINING)
    assert spec.names == native.GROUPS[group]
    windows = WindowDataset.from_store(load_window_index(tiny / "train.npz"), tiny / "store")
    for mode, sub in (("window", None), ("subwindow", 4)):
        view = FeatureWindowDataset(windows, spec.names, mode, spec.params)
        x, _, _ = view.__getitems__([0, 1, 2])
        expected = native.extract(windows.__getitems__([0, 1, 2])[0], group, spec.params, subwindows=sub).shape
        assert tuple(x.shape) == tuple(expected)
        if sub is None:
            assert (
                x.shape[1]
                == native.n_columns(group, 8, spec.params)
                == len(native.feature_names(group, 8, spec.params))
            )


def test_a_grid_run_records_its_group_and_reads_its_features(tiny):  # noqa: F811
    run = CrossRun("cnn_hcf", "base", "raw", 0, "LS4")
    assert run.name == "cnn_hcf-base-raw-s0-LS4" == run_name("cnn_hcf", "base", "raw", 0, "LS4")
    out = tiny / run.name
    train_cross_run(run, tiny / "store", tiny / "train.npz", tiny / "val.npz", out, TRAINING, progress=False)
    info = read_run_info(out)
    assert info["feature_group"] == "LS4" and info["features"] == list(native.GROUPS["LS4"])
    assert info["feature_mode"] == feature_mode("cnn_hcf") == "subwindow"
    assert CrossRun.from_info(info) == run
    checkpoint = torch.load(out / "model.pt", weights_only=False)
    assert checkpoint["model"]["kwargs"]["n_features"] == native.n_columns("LS4", 8, PARAMS)
    per_subject, summary = evaluate_run(
        out, tiny / "store", {"raw": tiny / "test.npz"}, [Evaluation("raw", "nonorm")], 512, 200
    )
    assert set(per_subject.feature_group) == {"LS4"} and summary.feature_group.tolist() == ["LS4"]
    assert per_subject.bal_acc.between(0, 1).all()


def test_groups_only_go_to_feature_models_and_must_exist(tiny):  # noqa: F811
    with pytest.raises(ValueError, match="reads raw windows"):
        train_cross_run(
            CrossRun("mhcnn", "base", "raw", 0, "HTD"),
            tiny / "store",
            tiny / "train.npz",
            tiny / "val.npz",
            tiny / "x",
            TRAINING,
            progress=False,
        )
    with pytest.raises(ValueError, match="unknown feature group 'NOPE'"):
        FeatureSpec.for_run(CrossRun("lda", "base", "raw", 0, "NOPE"), TRAINING)
    assert FeatureSpec.for_run(CrossRun("lda", "base", "raw", 0), TRAINING).names == tuple(TRAINING.features)
    assert set(FEATURE_MODELS) == {"lda", "mlp", "lstm_hcf", "cnn_hcf"}


def test_the_cache_computes_a_split_once_identically_and_respects_its_budget(tiny):  # noqa: F811
    windows = WindowDataset.from_store(load_window_index(tiny / "train.npz"), tiny / "store")
    view = FeatureWindowDataset(windows, native.GROUPS["TDAR"], "subwindow", PARAMS)
    cache = FeatureCache(budget_bytes=FeatureTable.nbytes(view))
    table = cache.view("train", view)
    assert isinstance(table, FeatureTable) and cache.view("train", view) is table  # computed once
    idx = [5, 0, len(view) - 1, 17]
    for got, want in zip(table.__getitems__(idx), view.__getitems__(idx)):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    other = FeatureWindowDataset(windows, native.GROUPS["TDAR"], "window", PARAMS)
    assert cache.view("train", other) is other  # over the budget: features on the fly
    assert cache.used == FeatureTable.nbytes(view) and len(cache.on_the_fly) == 1
    assert cache.view("train", windows) is windows  # raw-window views pass through
    with pytest.raises(ValueError, match="budget"):
        FeatureCache(-1)


def test_cached_and_on_the_fly_runs_give_the_same_model(tiny):  # noqa: F811
    run = CrossRun("mlp", "base", "raw", 0, "RMS")
    outs = []
    for name, cache in (("fly", None), ("cached", FeatureCache(2**30))):
        out = tiny / f"{run.name}-{name}"
        train_cross_run(
            run,
            tiny / "store",
            tiny / "train.npz",
            tiny / "val.npz",
            out,
            TRAINING,
            progress=False,
            feature_cache=cache,
        )
        outs.append(torch.load(out / "model.pt", weights_only=False)["state_dict"])
        assert json.loads((out / "run.json").read_text())["feature_group"] == "RMS"
    for key in outs[0]:
        np.testing.assert_allclose(outs[0][key].numpy(), outs[1][key].numpy(), rtol=1e-5, atol=1e-6)

"""Real Myo signals end to end: CIIL people -> EPN-612 layout -> store -> windows -> MHCNN -> per-subject metrics."""

import numpy as np
import pytest
import torch

from emgcore.cross.evaluation import Evaluation, evaluate_run
from emgcore.cross.runs import train_cross_run
from emgcore.data import ciil
from emgcore.data.ingest import ingest_epn612
from emgcore.data.splits import proportional_splits, split_subjects
from emgcore.data.store import iter_store
from emgcore.layout import CrossRun
from emgcore.preprocess.segmentation import VARIANTS, rest_threshold
from emgcore.preprocess.window_index import build_window_index, save_window_index
from tests.helpers.settings import training_settings

CIIL_ROOT = ciil.default_ciil_root()
pytestmark = pytest.mark.skipif(
    not CIIL_ROOT.is_dir(), reason=f"real CIIL recordings not found at {CIIL_ROOT} (../shared/data/ciil)"
)


def test_per_subject_metrics_for_every_real_test_person(tmp_path):
    torch.set_num_threads(1)
    people = ciil.list_ciil_subjects(CIIL_ROOT)
    train = [p for p in people if p.parent.name == "ElectrodeShift"][:4]
    test = [p for p in people if p.parent.name == "MinimalTrainingData"][:4]
    ciil.write_ciil_as_epn612(CIIL_ROOT, tmp_path / "raw", train + test, n_train_users=len(train))
    manifest = ingest_epn612(tmp_path / "raw", tmp_path / "store", tmp_path / "manifest.csv", progress=False)
    assert manifest.subject.tolist() == list(range(8))
    splits = proportional_splits(4, 4)  # train 1-4, val 5, test 6-8
    subjects = {s: split_subjects(splits, s, manifest.subject) for s in ("train", "val", "test")}
    assert subjects["test"] == [5, 6, 7]

    store = tmp_path / "store"
    threshold = rest_threshold(iter_store(store, subjects["train"]), 40, 2)
    assert 0 < threshold < 30  # rest MAV of a Myo at rest is a few ADC units
    for split, subj in subjects.items():
        for variant in VARIANTS:
            index = build_window_index(
                iter_store(store, subj), variant, 40, 8, 4, threshold=threshold if variant == "standard" else None
            )
            assert len(index) > 0 and set(np.unique(index.subject)) == set(subj)
            save_window_index(tmp_path / f"{split}_{variant}.npz", index)

    training = training_settings(
        batch_size=256,
        lr=1e-3,
        max_epochs=2,
        max_train_batches_per_epoch=20,
        eval_batch_size=2048,
        threads=1,
        dropout=0.2,
        device="cpu",
    )
    run = tmp_path / "run"
    train_cross_run(
        CrossRun("mhcnn", "base", "raw", 0),
        store,
        tmp_path / "train_raw.npz",
        tmp_path / "val_raw.npz",
        run,
        training,
        progress=False,
    )
    indexes = {variant: tmp_path / f"test_{variant}.npz" for variant in VARIANTS}
    evaluations = [Evaluation(variant, "nonorm") for variant in VARIANTS]
    per_subject, summary = evaluate_run(run, store, indexes, evaluations, 2048, 200)
    for variant in VARIANTS:
        rows = per_subject[per_subject.eval_variant == variant]
        assert rows.subject.tolist() == [5, 6, 7]
        for col in ("acc", "bal_acc", "f1"):
            assert rows[col].between(0, 1).all()
    assert summary.n_subjects.tolist() == [3] * len(VARIANTS)
    # a model trained on real Myo signals beats the 20% chance level of five balanced classes
    assert summary.bal_acc_mean.iloc[-1] > 0.25

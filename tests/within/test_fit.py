"""Within-user fits on a tiny store: fine-tuning starts from the cross-user weights, the chunk table."""

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross.training import seed_everything
from emgcore.data.store import read_user_store
from emgcore.io import write_csv_atomic
from emgcore.models import build_model, model_spec
from emgcore.within import fit
from emgcore.within.fit import RESULT_COLUMNS, WithinModel, fit_chunk, fit_within, within_models
from emgcore.within.repetitions import RepetitionSplit
from tests.helpers.settings import training_settings
from tests.within.users import PER_REP, WINDOWS

TRAINING = training_settings(
    batch_size=32,
    lr=1e-3,
    max_epochs=2,
    patience=5,
    max_train_batches_per_epoch=3,
    eval_batch_size=512,
    threads=1,
    dropout=0.1,
    feature_sample=500,
    lda_max_windows=5000,
    device="cpu",
    model_params={},
)
SPLIT_OF = {0: "train", 1: "train", 2: "train", 3: "test", 4: "test"}
CROSS_TRAIN = [0, 1, 2]
ALL_MODELS = ["mhcnn-ft", "mhcnn-noft", "cnn_hcf", "mlp", "lda"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A 'cross-user' MHCNN checkpoint in train_model's format, with weights of its own seed."""
    seed_everything(123)
    model = build_model("mhcnn", window=WINDOWS.size, dropout=0.1)
    path = tmp_path_factory.mktemp("cross_run") / "model.pt"
    torch.save({"state_dict": model.state_dict(), "epoch": 1, "val_loss": 0.0, "model": model_spec(model)}, path)
    return path


def record_train_model(monkeypatch):
    """Wrap fit.train_model: record each model's weights as training starts and as it ends."""
    calls, real = [], fit.train_model

    def recording(model, *args, **kwargs):
        before = {k: v.detach().clone() for k, v in model.state_dict().items()}
        result = real(model, *args, **kwargs)
        after = {k: v.detach().clone() for k, v in result.model.state_dict().items()}
        calls.append((before, after))
        return result

    monkeypatch.setattr(fit, "train_model", recording)
    return calls


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_ft_starts_from_the_checkpoint_for_every_subject_and_noft_does_not(store, checkpoint, monkeypatch):
    calls = record_train_model(monkeypatch)
    table = fit_chunk(
        store,
        [3, 0],
        [2],
        ["mhcnn-ft", "mhcnn-noft"],
        "raw",
        WINDOWS,
        TRAINING,
        split_of=SPLIT_OF,
        cross_train_subjects=CROSS_TRAIN,
        checkpoint=checkpoint,
    )
    cross = torch.load(checkpoint, weights_only=True)["state_dict"]
    assert table[["subject", "ft"]].values.tolist() == [[3, "ft"], [3, "noft"], [0, "ft"], [0, "noft"]]
    (ft3, noft3, ft0, noft0) = calls
    for before, after in (ft3, ft0):
        assert same(before, cross)  # the second subject starts from the checkpoint, not from the first's result
        assert not same(after, cross)  # and it was trained
    for before, _ in (noft3, noft0):
        conv = [k for k in before if k.endswith("weight")]
        assert not any(torch.equal(before[k], cross[k]) for k in conv)
    assert same(noft3[0], noft0[0])  # from scratch: the same seeded initialisation for every subject


def test_chunk_table_has_one_row_per_subject_model_and_n(store, checkpoint, tmp_path):
    table = fit_chunk(
        store,
        [4, 1],
        [1, 3],
        ALL_MODELS,
        "raw",
        WINDOWS,
        TRAINING,
        split_of=SPLIT_OF,
        cross_train_subjects=CROSS_TRAIN,
        checkpoint=checkpoint,
    )
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert len(table) == 2 * 2 * len(ALL_MODELS)
    assert not table.duplicated(["subject", "model", "ft", "n_train_reps"]).any()
    expected = {(s, *WithinModel.parse(m).__dict__.values(), n) for s in (4, 1) for m in ALL_MODELS for n in (1, 3)}
    assert set(map(tuple, table[["subject", "model", "ft", "n_train_reps"]].values.tolist())) == expected
    by_subject = table.groupby("subject")
    assert by_subject["in_cross_training"].unique().to_dict() == {1: [True], 4: [False]}
    assert by_subject["split"].unique().apply(list).to_dict() == {1: ["train"], 4: ["test"]}
    assert set(table.loc[table.model != "mhcnn", "ft"]) == {""}
    assert (table.variant == "raw").all()
    # 5 gestures x 9 windows per repetition: N train, 1 val and 5 test repetitions each
    assert (table.n_train_windows == table.n_train_reps * 5 * PER_REP).all()
    assert (table.n_val_windows == 5 * PER_REP).all() and (table.n_test_windows == 25 * PER_REP).all()
    assert table[["acc", "bal_acc", "f1"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table.epochs.between(1, 2)).all() and (table.seconds > 0).all()
    assert (table.loc[table.model == "lda", "epochs"] == 1).all()
    # the tiny problem is separable: LDA on the users' own MAV features gets nearly all of it
    assert table.loc[table.model == "lda", "bal_acc"].min() > 0.9
    out = write_csv_atomic(table, tmp_path / "within.csv")
    back = pd.read_csv(out, keep_default_na=False)
    assert back[["subject", "model", "ft", "n_train_reps"]].values.tolist() == (
        table[["subject", "model", "ft", "n_train_reps"]].values.tolist()
    )


def test_fit_within_one_subject_matches_the_chunk_row(store):
    recording = read_user_store(store / "subject0003.h5")
    row = fit_within(recording, "mlp", RepetitionSplit(2), "raw", WINDOWS, TRAINING)
    chunk = fit_chunk(
        store, [3], [2], ["mlp"], "raw", WINDOWS, TRAINING, split_of=SPLIT_OF, cross_train_subjects=CROSS_TRAIN
    )
    for key in ("subject", "model", "n_train_reps", "n_train_windows", "acc", "bal_acc", "val_loss"):
        assert row[key] == chunk.iloc[0][key], key  # same seed, same data: the same model


def test_model_names():
    assert [m.name for m in within_models(ALL_MODELS)] == ALL_MODELS
    assert WithinModel.parse("mhcnn-ft") == WithinModel("mhcnn", "ft")
    for bad, message in (("mhcnn", "mhcnn needs ft"), ("mlp-ft", "only mhcnn is fine-tuned"), ("cnn", "unknown")):
        with pytest.raises(ValueError, match=message):
            WithinModel.parse(bad)
    with pytest.raises(ValueError, match="more than once"):
        within_models(["lda", "mlp", "lda"])


def refuse_training(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("training started although the settings were invalid")

    monkeypatch.setattr(fit, "train_model", never)
    monkeypatch.setattr(fit, "fit_lda_run", never)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"models": ["mhcnn-ft"]}, "give its checkpoint"),
        ({"n_train_reps": [2, 15]}, "n_train=15"),
        ({"n_train_reps": [2, 2]}, "each once"),
        ({"subjects": [0, 9]}, r"no split for subjects \[9\]"),
        ({"variant": "standard"}, "needs a rest threshold"),
    ],
)
def test_invalid_settings_fail_before_any_training(store, monkeypatch, changes, message):
    refuse_training(monkeypatch)
    args = {"subjects": [0], "n_train_reps": [2], "models": ["lda"], "variant": "raw", **changes}
    with pytest.raises(ValueError, match=message):
        fit_chunk(
            store,
            args["subjects"],
            args["n_train_reps"],
            args["models"],
            args["variant"],
            WINDOWS,
            TRAINING,
            split_of=SPLIT_OF,
            cross_train_subjects=CROSS_TRAIN,
        )


def test_foreign_checkpoints_are_refused(store, tmp_path, monkeypatch):
    refuse_training(monkeypatch)
    cnn = build_model("cnn", window=WINDOWS.size)
    wide = build_model("mhcnn", window=2 * WINDOWS.size)
    for name, model in (("cnn", cnn), ("wide", wide)):
        torch.save({"state_dict": model.state_dict(), "model": model_spec(model)}, tmp_path / f"{name}.pt")
    recording = read_user_store(store / "subject0000.h5")
    for name, message in (("cnn", "holds 'cnn'"), ("wide", "80-sample windows, the within-user windows have 40")):
        with pytest.raises(ValueError, match=message):
            fit_within(
                recording, "mhcnn-ft", RepetitionSplit(2), "raw", WINDOWS, TRAINING, checkpoint=tmp_path / f"{name}.pt"
            )
    with pytest.raises(FileNotFoundError):
        fit_within(recording, "mhcnn-ft", RepetitionSplit(2), "raw", WINDOWS, TRAINING, checkpoint=tmp_path / "no.pt")


def test_nothing_is_left_on_disk(store, tmp_path):
    recording = read_user_store(store / "subject0000.h5")
    row = fit_within(recording, "mhcnn-noft", RepetitionSplit(1), "raw", WINDOWS, TRAINING, work_dir=tmp_path)
    assert list(tmp_path.iterdir()) == [] and np.isfinite(row["val_loss"])

"""Every architecture and every loss through the same cross-user run: train, save, reload, evaluate."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross.evaluation import Evaluation, evaluate_run
from emgcore.cross.losses import known_losses
from emgcore.cross.runs import FEATURE_MODELS, train_cross_run
from emgcore.data.store import REP_COLUMNS, UserRecording, iter_store, store_filename, write_user_store
from emgcore.layout import CrossRun
from emgcore.models import known_models
from emgcore.preprocess.population import population_stats
from emgcore.preprocess.window_index import build_window_index, save_window_index
from emgcore.settings import SettingAdapted, UsersPerClass
from tests.helpers.settings import training_settings

TRAINING = training_settings(
    batch_size=64,
    lr=1e-3,
    max_epochs=2,
    max_train_batches_per_epoch=2,
    eval_batch_size=256,
    threads=1,
    dropout=0.1,
    feature_sample=2000,
    device="cpu",
    model_params={},
    users_per_class_sampler=UsersPerClass(users_per_class=2, samples_per_user=4),
)


def make_user(subject, rng, reps_per_class=2, length=200):
    """A user whose gesture c lights up channel c-1 (with a per-user gain), rest is noise."""
    gain = rng.uniform(0.5, 1.5)
    signals, rows, offset = [], [], 0
    for label in range(5):
        for rep in range(reps_per_class):
            x = rng.normal(0, 3, size=(length, 8))
            if label:
                x[50:150, label - 1] += rng.normal(0, 40 * gain, size=100)
            signals.append(np.clip(x, -128, 127).astype(np.int8))
            rows.append((offset, length, label, rep, 0, 50 if label else -1, 150 if label else -1, subject))
            offset += length
    reps = pd.DataFrame(rows, columns=list(REP_COLUMNS))
    return UserRecording(subject, f"training/user{subject + 1}", "test", np.concatenate(signals), reps)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("cross")
    rng = np.random.default_rng(0)
    for s in range(7):
        write_user_store(root / "store" / store_filename(s), make_user(s, rng))
    for split, subjects in {"train": [0, 1, 2, 3], "val": [4], "test": [5, 6]}.items():
        index = build_window_index(iter_store(root / "store", subjects), "raw", 40, 10, 2)
        save_window_index(root / f"{split}.npz", index)
    return root


def train(tiny, model, loss, name=None, training=TRAINING):
    """Train `model` with `loss` on the tiny store into tiny/<name>; returns the run folder."""
    torch.set_num_threads(1)
    out = tiny / (name or f"{model}-{loss}")
    train_cross_run(
        CrossRun(model, loss, "raw", 0),
        tiny / "store",
        tiny / "train.npz",
        tiny / "val.npz",
        out,
        training,
        progress=False,
    )
    return out


RAW = Evaluation("raw", "nonorm")


def evaluate(out, tiny, evaluation=RAW, population=None):
    """Per-subject table of one evaluation of the run in `out` on the tiny test users."""
    per_subject, _ = evaluate_run(out, tiny / "store", {"raw": tiny / "test.npz"}, [evaluation], 4096, 200, population)
    return per_subject


@pytest.mark.parametrize("model", known_models())
def test_every_model_trains_saves_and_evaluates(tiny, model):
    loss = "grl" if model == "mhcnn_grl" else "base"
    out = train(tiny, model, loss)
    assert (out / "model.pt").exists() and (out / "train_log.csv").exists()
    assert sorted(p.name for p in (out / "epochs").glob("epoch_*.pt"))[0] == "epoch_001.pt"
    info = json.loads((out / "run.json").read_text())
    assert info["model"] == model and ("features" in info) == (model in FEATURE_MODELS)
    per_subject = evaluate(out, tiny)
    assert per_subject.subject.tolist() == [5, 6]
    assert per_subject.bal_acc.between(0, 1).all()


def test_lda_separates_the_tiny_problem(tiny):
    out = train(tiny, "lda", "base")
    per_subject = evaluate(out, tiny)
    # raw windows label whole repetitions, so windows in the quiet ends of a gesture are ambiguous:
    # well above the 0.2 chance level is what a correct LDA gives here
    assert per_subject.bal_acc.min() > 0.6


def test_lda_module_reproduces_scikit_learn():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from emgcore.models.lda import LDALinear

    rng = np.random.default_rng(1)
    y = rng.integers(1, 5, 400)  # class 0 absent: it must never be predicted
    X = rng.normal(size=(400, 6)) + np.eye(6)[y] * 3
    lda = LinearDiscriminantAnalysis().fit(X, y)
    logits, emb = LDALinear.from_sklearn(lda)(torch.tensor(X, dtype=torch.float32))
    assert (logits.argmax(1).numpy() == lda.predict(X)).mean() > 0.995
    np.testing.assert_allclose(emb.detach().numpy(), lda.transform(X), atol=1e-3)


@pytest.mark.parametrize("loss", [name for name in known_losses() if name != "grl"])
def test_every_loss_trains_mhcnn(tiny, loss):
    out = train(tiny, "mhcnn", loss)
    log = pd.read_csv(out / "train_log.csv")
    assert np.isfinite(log.train_loss).all() and len(log) == 2


def test_loss_model_mismatch_is_refused(tiny):
    with pytest.raises(ValueError, match="needs model 'mhcnn_grl'"):
        train(tiny, "mhcnn", "grl", name="bad")
    with pytest.raises(ValueError, match="unknown loss"):
        train(tiny, "mhcnn", "focal", name="bad2")


def test_same_seed_same_weights(tiny):
    a, b = train(tiny, "cnn", "base", "a"), train(tiny, "cnn", "base", "b")
    sa, sb = torch.load(a / "model.pt")["state_dict"], torch.load(b / "model.pt")["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_running_norm_evaluation_of_a_feature_model(tiny):
    out = train(tiny, "mlp", "base", "mlp-norm")
    pop = population_stats([tiny / "store" / store_filename(s) for s in range(4)])
    plain = evaluate(out, tiny)
    normed = evaluate(out, tiny, Evaluation("raw", "norm", 500.0), population=pop)
    assert normed.subject.tolist() == plain.subject.tolist()
    assert normed.bal_acc.between(0, 1).all()


def test_num_workers_reach_the_training_loader_and_runs_stay_reproducible(tiny):
    from emgcore.cross.runs import _train_loader
    from emgcore.preprocess.window_dataset import WindowDataset
    from emgcore.preprocess.window_index import load_window_index

    index = load_window_index(tiny / "train.npz")
    view = WindowDataset.from_store(index, tiny / "store")
    training = TRAINING.replace(num_workers=2)
    assert [_train_loader(view, index, loss, training, 0).num_workers for loss in ("base", "trp")] == [2, 2]
    assert _train_loader(view, index, "base", TRAINING, 0).num_workers == 0  # the default
    runs = []
    for name in ("w2a", "w2b"):
        train(tiny, "cnn", "base", name, training)
        runs.append(torch.load(tiny / name / "model.pt")["state_dict"])
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_data_on_device_cuts_training_batches_there_and_refuses_what_it_cannot_serve(tiny):
    from emgcore.cross.runs import FeatureSpec, _train_loader, model_view
    from emgcore.preprocess.device_batches import DeviceWindowBatches
    from emgcore.preprocess.window_dataset import WindowDataset
    from emgcore.preprocess.window_index import load_window_index

    index = load_window_index(tiny / "train.npz")
    view = WindowDataset.from_store(index, tiny / "store")
    training = TRAINING.replace(data_on_device=True, device="cpu")
    batches = _train_loader(view, index, "base", training, 0)
    assert isinstance(batches, DeviceWindowBatches) and batches.batch_size == 64 and batches.n == len(view)
    for why, loss, source, extra in (
        ("users-per-class", "trp", view, {}),
        ("reads features", "base", model_view(view, "mlp", FeatureSpec.of(training)), {}),
        ("num_workers is 2", "base", view, {"num_workers": 2}),
    ):
        with pytest.raises(ValueError, match=f"data_on_device.*{why}"):
            _train_loader(source, index, loss, training.replace(**extra), 0)
    runs = []
    for name in ("dev_a", "dev_b"):
        out = train(tiny, "cnn", "base", name, training)
        assert pd.read_csv(out / "train_log.csv")["epoch"].tolist() == [1, 2]
        runs.append(torch.load(tiny / name / "model.pt")["state_dict"])
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_triplet_training_leaves_the_one_class_solution(tiny):
    """The raw windows label the quiet half of each gesture repetition as the gesture. With batch-hard
    negatives those indistinguishable windows pull every embedding together and MHCNN/trp predicted
    one class (exactly chance on the demo, and here); semi-hard negatives (the default) learn."""
    budget = TRAINING.replace(max_train_batches_per_epoch=10, max_epochs=3, lr=3e-3)
    semihard = evaluate(train(tiny, "mhcnn", "trp", "trp-semihard", budget), tiny)
    hard = evaluate(
        train(tiny, "mhcnn", "trp", "trp-hard", budget.replace(loss_params={"trp": {"mining": "hard"}})), tiny
    )
    assert hard.bal_acc.tolist() == pytest.approx([0.2, 0.2], abs=0.01)  # collapsed: one class for every window
    assert semihard.bal_acc.min() > 0.28


def test_users_per_class_beyond_the_training_users_is_clipped_and_recorded(tiny):
    """The triplet default (8 users per class) on 4 training users: the run trains with 4, warns, and
    run.json records what was configured and what was used (it used to stop the DAG mid-run)."""
    wide = TRAINING.replace(users_per_class_sampler=UsersPerClass(users_per_class=8, samples_per_user=4))
    with pytest.warns(SettingAdapted, match=r"users_per_class=8 does not fit the data \(4 training users"):
        out = train(tiny, "mhcnn", "trp", "trp-clipped", wide)
    info = json.loads((out / "run.json").read_text())
    assert info["adapted"] == {
        "training.users_per_class_sampler.users_per_class": {
            "configured": 8,
            "used": 4,
            "why": "4 training users in the rarest class",
        }
    }
    assert (out / "model.pt").exists()
    assert "adapted" not in json.loads(
        (train(tiny, "mhcnn", "base", "base-not-clipped", wide) / "run.json").read_text()
    )

"""train_model, predict and load_model on small synthetic EMG-like windows."""

import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from emgcore.cross.training import (
    LOG_COLUMNS,
    cross_entropy_loss,
    load_model,
    predict,
    seed_everything,
    train_model,
)
from emgcore.models import build_model
from tests.helpers.settings import training_settings


def loop(**changes):
    """Training settings for these tests: a plain loop on the CPU (no batch cap, lr 1e-4) plus `changes`."""
    base = dict(
        lr=1e-4,
        max_epochs=100,
        patience=5,
        lr_factor=0.6,
        lr_patience=4,
        min_lr=1e-5,
        device="cpu",
        max_train_batches_per_epoch=None,
    )
    return training_settings(**{**base, **changes})


def make_windows(n, seed, window=40):
    """Random int8-range windows whose label sets which channel carries a strong burst."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 5, (n,), generator=g)
    x = torch.randint(-10, 11, (n, 8, window), generator=g).float()
    burst = torch.randint(-120, 121, (n, window), generator=g).float()
    x[torch.arange(n), y] += burst  # class k: burst on channel k
    subject = torch.randint(0, 4, (n,), generator=g)
    return TensorDataset(x, y, subject)


def loaders(n_train=256, n_val=128, batch=64, seed=0):
    train = DataLoader(
        make_windows(n_train, seed), batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    val = DataLoader(make_windows(n_val, seed + 1), batch_size=batch)
    return train, val


def constant_val_loss(logits, labels, embeddings, subjects):
    """Differentiable loss whose value never changes, so validation loss never improves."""
    return logits.sum() * 0.0 + 1.0


def test_training_writes_checkpoints_log_and_best_model(tmp_path):
    seed_everything(0)
    model = build_model("mhcnn")
    train, val = loaders()
    result = train_model(model, train, val, loop(lr=3e-3, max_epochs=4, patience=10), tmp_path, progress=False, seed=0)
    assert result.epochs_run == 4 and not result.stopped_early
    assert sorted(p.name for p in (tmp_path / "epochs").iterdir()) == [f"epoch_{e:03d}.pt" for e in range(1, 5)]
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert tuple(log.columns) == LOG_COLUMNS
    assert list(log["epoch"]) == [1, 2, 3, 4]
    assert (log["windows_per_s"] > 0).all() and (log["seconds"] > 0).all()
    assert result.best_epoch == int(log.loc[log["val_loss"].idxmin(), "epoch"])
    assert result.best_val_loss == pytest.approx(log["val_loss"].min())
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "epochs").glob(".*.tmp"))

    ckpt = torch.load(tmp_path / "model.pt", weights_only=True)
    assert ckpt["epoch"] == result.best_epoch and ckpt["model"]["name"] == "mhcnn"

    reloaded = load_model(tmp_path / "model.pt")
    y_true, y_pred, subjects = predict(model, val)
    y_true2, y_pred2, subjects2 = predict(reloaded, val)
    assert (y_pred == y_pred2).all() and (y_true == y_true2).all() and (subjects == subjects2).all()
    assert y_true.dtype == y_pred.dtype == subjects.dtype == "int64" and len(y_true) == 128
    assert (y_true == y_pred).mean() > 0.5  # easy task: far above the 0.2 chance level


def test_same_seed_gives_identical_weights(tmp_path):
    def run(folder):
        seed_everything(7)
        model = build_model("mhcnn", dropout=0.3)
        train, val = loaders(seed=3)
        train_model(model, train, val, loop(max_epochs=2, lr=1e-3), folder, seed=7, progress=False)
        return model.state_dict()

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping_and_lr_schedule(tmp_path):
    seed_everything(0)
    model = build_model("mhcnn")
    train, val = loaders(n_train=64, n_val=32)
    config = loop(lr=1e-3, max_epochs=20, patience=3, lr_factor=0.5, lr_patience=0, min_lr=3e-4)
    result = train_model(model, train, val, config, tmp_path, loss_fn=constant_val_loss, progress=False, seed=0)
    assert result.stopped_early and result.epochs_run == 4 and result.best_epoch == 1
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert list(log["lr"]) == pytest.approx([1e-3, 1e-3, 5e-4, 3e-4])  # halved, clamped at min_lr
    assert torch.load(tmp_path / "model.pt", weights_only=True)["epoch"] == 1


def test_custom_loss_sees_embeddings_and_subjects_and_batch_cap(tmp_path):
    calls = []

    def recording_loss(logits, labels, embeddings, subjects):
        calls.append((tuple(logits.shape), tuple(embeddings.shape), subjects.dtype))
        return cross_entropy_loss(logits, labels, embeddings, subjects)

    train, val = loaders(n_train=256, n_val=64, batch=32)
    config = loop(max_epochs=2, max_train_batches_per_epoch=3)
    train_model(build_model("mhcnn"), train, val, config, tmp_path, loss_fn=recording_loss, progress=False, seed=0)
    assert len(calls) == 2 * (3 + 2)  # per epoch: 3 capped training + 2 validation batches
    assert calls[0] == ((32, 5), (32, 128), torch.int64)


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="patience"):
        loop(patience=0)
    with pytest.raises(ValueError, match="lr_factor"):
        loop(lr_factor=1.5)
    train, val = loaders(n_train=32, n_val=32)
    model = build_model("mhcnn")
    with pytest.raises(ValueError, match="validation loader"):
        train_model(model, train, None, loop(max_epochs=1), tmp_path, progress=False, seed=0)
    pairs = DataLoader(TensorDataset(torch.zeros(4, 8, 40), torch.zeros(4, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"\(x, y, subject\)"):
        train_model(model, pairs, val, loop(max_epochs=1), tmp_path, progress=False, seed=0)
    with pytest.raises(ValueError, match="scalar"):
        train_model(
            model,
            train,
            val,
            loop(max_epochs=1),
            tmp_path,
            progress=False,
            loss_fn=lambda lg, y, e, s: torch.nn.functional.cross_entropy(lg, y, reduction="none"),
            seed=0,
        )
    with pytest.raises(ValueError, match="not a registered model"):
        train_model(torch.nn.Linear(2, 2), train, val, loop(), tmp_path, progress=False, seed=0)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a train_model checkpoint"):
        load_model(tmp_path / "other.pt")


def test_one_training_pass_starts_the_loader_once():
    """The progress bar must not open an extra iterator (an extra shuffle draw or worker start)."""
    from emgcore.cross.training import _train_one_epoch

    class CountingLoader:
        opened = 0

        def __init__(self, batches):
            self.batches = batches

        def __iter__(self):
            CountingLoader.opened += 1
            return iter(self.batches)

        def __len__(self):
            return len(self.batches)

    torch.manual_seed(0)
    model = build_model("mhcnn")
    batches = [(torch.randn(8, 8, 40), torch.randint(0, 5, (8,)), torch.zeros(8, dtype=torch.long))] * 2
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    *_, seen, _ = _train_one_epoch(
        model,
        CountingLoader(batches),
        optimiser,
        lambda lg, y, e, s: torch.nn.functional.cross_entropy(lg, y),
        torch.device("cpu"),
        None,
        True,
        1,
    )
    assert CountingLoader.opened == 1 and seen == 16


def nan_at(call_index):
    """Cross-entropy whose `call_index`-th call (0-based) returns NaN."""
    calls = []

    def loss(logits, labels, embeddings, subjects):
        calls.append(None)
        value = torch.nn.functional.cross_entropy(logits, labels)
        return value * float("nan") if len(calls) - 1 == call_index else value

    return loss


@pytest.mark.parametrize("bad_batch, span", [(13, "10-19"), (30, "30-31"), (0, "0-9")])
def test_non_finite_training_loss_names_its_batches_and_saves_nothing(tmp_path, bad_batch, span):
    from emgcore.cross.training import CHECK_EVERY

    assert CHECK_EVERY == 10  # the spans below assume it
    train, val = loaders(n_train=256, n_val=32, batch=8)  # 32 training batches
    with pytest.raises(FloatingPointError, match=f"epoch 1, in batches {span}"):
        train_model(
            build_model("mhcnn"),
            train,
            val,
            loop(max_epochs=2),
            tmp_path,
            loss_fn=nan_at(bad_batch),
            progress=False,
            seed=0,
        )
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "train_log.csv").exists()


def test_training_pass_reads_the_device_once_per_check_interval(monkeypatch):
    """No per-batch .item()/int()/bool() on the loss or logits: on a GPU each would stall the queue."""
    from emgcore.cross.training import CHECK_EVERY, _train_one_epoch

    reads = []
    for name in ("item", "__int__", "__float__", "__bool__"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, **kwargs):
            reads.append(None)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    torch.manual_seed(0)
    model = build_model("mhcnn")
    batches = [(torch.randn(4, 8, 40), torch.randint(0, 5, (4,)), torch.zeros(4, dtype=torch.long))] * 25
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_sum, correct, seen, _ = _train_one_epoch(
        model,
        batches,
        optimiser,
        lambda lg, y, e, s: torch.nn.functional.cross_entropy(lg, y),
        torch.device("cpu"),
        None,
        False,
        1,
    )
    checks = -(-25 // CHECK_EVERY)  # 10, 20 and the last 5
    assert seen == 100 and 0 <= correct <= 100 and loss_sum > 0
    assert len(reads) <= checks + 2  # one read per check, plus the final loss and correct totals

"""DeviceWindowBatches on the CPU: same batches as WindowDataset, seeded order, same training."""

import numpy as np
import pytest
import torch

from emgcore.cross.training import _train_one_epoch, cross_entropy_loss
from emgcore.models import build_model
from emgcore.preprocess.device_batches import DeviceWindowBatches
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from tests.helpers.windows import random_index, random_signals


class Rescaled(WindowDataset):
    """Batches scaled after cutting (as NormalizedWindowDataset normalises them)."""

    def __getitems__(self, indices):
        x, y, subject = super().__getitems__(indices)
        return x / 128, y, subject


@pytest.fixture
def dataset():
    signals = random_signals()
    return WindowDataset(random_index(signals, n=300), signals)


def test_every_batch_equals_getitems_and_an_epoch_visits_each_window_once(dataset):
    batches = DeviceWindowBatches(dataset, 64, device="cpu", seed=5)
    order = batches.order(0)
    got = list(batches)
    assert len(got) == len(batches) == 5 and [len(y) for _, y, _ in got] == [64] * 4 + [44]
    for i, (x, y, subject) in enumerate(got):
        ex, ey, es = dataset.__getitems__(order[64 * i : 64 * (i + 1)].numpy())
        assert x.dtype == torch.float32 and x.is_contiguous() and x.shape == ex.shape
        assert y.dtype == subject.dtype == torch.int64
        assert torch.equal(x, ex) and torch.equal(y, ey) and torch.equal(subject, es)
    rows = torch.cat([x for x, _, _ in got]).reshape(len(dataset), -1).numpy()
    every = dataset.__getitems__(np.arange(len(dataset)))[0].reshape(len(dataset), -1).numpy()
    np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(every, axis=0))
    np.testing.assert_array_equal(np.sort(order.numpy()), np.arange(len(dataset)))
    dropped = DeviceWindowBatches(dataset, 64, device="cpu", drop_last=True)
    assert len(dropped) == 4 and [len(y) for _, y, _ in dropped] == [64] * 4
    plain = torch.cat([y for _, y, _ in DeviceWindowBatches(dataset, 64, device="cpu", shuffle=False)])
    np.testing.assert_array_equal(plain.numpy(), dataset.index.label)


def test_order_is_seeded_and_changes_per_epoch(dataset):
    def labels(b):
        return torch.cat([y for _, y, _ in b])

    first, twin = (DeviceWindowBatches(dataset, 32, device="cpu", seed=5) for _ in range(2))
    other = DeviceWindowBatches(dataset, 32, device="cpu", seed=6)
    assert torch.equal(first.order(0), twin.order(0))
    assert not torch.equal(first.order(0), other.order(0))
    assert torch.equal(labels(first), labels(twin))
    assert not torch.equal(first.order(0), first.order(1))
    assert first.epoch == 1  # each pass advances the epoch, so the next pass reshuffles
    first.set_epoch(7)
    xs = torch.cat([x for x, _, _ in first])
    assert torch.equal(xs, dataset.__getitems__(first.order(7).numpy())[0])


def test_bad_inputs_raise_clear_errors(dataset):
    with pytest.raises(ValueError, match="device 'gpu'"):
        DeviceWindowBatches(dataset, 64, device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' is not usable"):
            DeviceWindowBatches(dataset, 64, device="cuda")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        DeviceWindowBatches(dataset, 0, device="cpu")
    with pytest.raises(ValueError, match="seed"):
        DeviceWindowBatches(dataset, 64, device="cpu", seed=-1)
    with pytest.raises(ValueError, match="epoch"):
        DeviceWindowBatches(dataset, 64, device="cpu").set_epoch(-1)
    with pytest.raises(TypeError, match="Rescaled"):  # its batches are not plain windows
        DeviceWindowBatches(Rescaled(dataset.index, random_signals()), 64, device="cpu")


def test_one_epoch_trains_the_same_model_as_make_loader_in_the_same_order(dataset):
    batches = DeviceWindowBatches(dataset, 64, device="cpu", seed=3)
    loader = make_loader(dataset, 64, sampler=batches.order(0).tolist())  # the same batches

    def train(source):
        torch.manual_seed(0)  # same initial weights and dropout masks
        model = build_model("mhcnn")
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_sum, _, seen, _ = _train_one_epoch(
            model, source, optimizer, cross_entropy_loss, torch.device("cpu"), None, False, 1
        )
        return model.state_dict(), loss_sum, seen

    (device_state, device_loss, device_n), (loader_state, loader_loss, loader_n) = train(batches), train(loader)
    assert device_n == loader_n == len(dataset) and device_loss == loader_loss
    assert batches.epoch == 1  # one pass, although tqdm.auto calls iter() twice
    for name, value in loader_state.items():
        assert torch.equal(device_state[name], value), name

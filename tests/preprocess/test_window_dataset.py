"""Lazy window cutting and the deterministic DataLoader."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import BatchSampler, SequentialSampler

from emgcore.data.store import UserRecording, store_filename, write_user_store
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.preprocess.window_index import WindowIndex
from tests.helpers.windows import random_index, random_signals

W = 40


def naive_window(signals, index, i):
    s, t = int(index.subject[i]), int(index.start[i])
    return signals[s][t : t + W].T.astype(np.float32)


def test_batches_equal_naive_slicing_for_random_indices():
    signals = random_signals()
    index = random_index(signals)
    dataset = WindowDataset(index, signals)
    picks = np.random.default_rng(2).integers(0, len(index), size=64)
    x, y, subject = dataset.__getitems__(picks.tolist())
    assert x.shape == (64, 8, W) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and subject.dtype == torch.int64
    expected = np.stack([naive_window(signals, index, i) for i in picks])
    np.testing.assert_array_equal(x.numpy(), expected)  # raw ADC units, incl. -128
    np.testing.assert_array_equal(y.numpy(), index.label[picks])
    np.testing.assert_array_equal(subject.numpy(), index.subject[picks])
    one_x, one_y, one_s = dataset[int(picks[0])]
    np.testing.assert_array_equal(one_x.numpy(), expected[0])
    assert (int(one_y), int(one_s)) == (index.label[picks[0]], index.subject[picks[0]])


def test_stacked_signal_and_sample_positions_locate_every_window():
    """The public view used by device-resident batches: signal rows at sample_positions are the windows."""
    signals = random_signals()
    index = random_index(signals)
    dataset = WindowDataset(index, signals)
    assert dataset.signal.dtype == np.int8 and dataset.signal.shape == (sum(map(len, signals.values())), 8)
    positions = dataset.sample_positions(np.arange(len(index)))
    assert positions.dtype == np.int64
    for i in range(len(index)):
        np.testing.assert_array_equal(
            dataset.signal[positions[i] : positions[i] + W].T, naive_window(signals, index, i)
        )


def test_windows_at_signal_end_do_not_leak_into_next_subject():
    signals = random_signals()
    index = WindowIndex([1, 4], [0, 0], [300 - W, 500 - W], [0, 1], W, 2)
    x, _, _ = WindowDataset(index, signals).__getitems__([0, 1])
    np.testing.assert_array_equal(x[0].numpy(), signals[1][-W:].T)
    np.testing.assert_array_equal(x[1].numpy(), signals[4][-W:].T)


def test_out_of_bounds_window_and_missing_signal_raise():
    signals = random_signals()
    with pytest.raises(ValueError, match="subject 1.*outside"):
        WindowDataset(WindowIndex([1], [0], [300 - W + 1], [0], W, 2), signals)
    with pytest.raises(KeyError, match="7"):
        WindowDataset(WindowIndex([7], [0], [0], [0], W, 2), signals)


def test_loader_is_deterministic_and_covers_every_window_once():
    signals = random_signals()
    dataset = WindowDataset(random_index(signals, n=300), signals)

    def shuffled(seed):
        return torch.cat([x for x, _, _ in make_loader(dataset, 64, True, seed)]).numpy()

    first, again, other = shuffled(5), shuffled(5), shuffled(6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    everything = dataset.__getitems__(range(len(dataset)))[0].numpy()
    rows = first.reshape(len(first), -1)
    assert len(rows) == len(dataset)
    np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(everything.reshape(len(everything), -1), axis=0))
    batches = list(make_loader(dataset, 64, False, 0))
    assert [len(b[1]) for b in batches] == [64, 64, 64, 64, 44]
    assert [len(b[1]) for b in make_loader(dataset, 64, False, 0, drop_last=True)] == [64] * 4
    labels = torch.cat([y for _, y, _ in batches]).numpy()
    np.testing.assert_array_equal(labels, dataset.index.label)


def test_loader_accepts_a_sampler_but_not_with_shuffle():
    signals = random_signals()
    dataset = WindowDataset(random_index(signals, n=100), signals)
    loader = make_loader(dataset, 32, False, 0, sampler=SequentialSampler(dataset))
    assert sum(len(y) for _, y, _ in loader) == 100
    with pytest.raises(ValueError, match="sampler"):
        make_loader(dataset, 32, True, 0, sampler=SequentialSampler(dataset))


def test_from_store_loads_the_index_subjects(tmp_path):
    signals = random_signals(lengths=(200, 150), subjects=(0, 3))
    for subject, signal in signals.items():
        reps = pd.DataFrame(
            dict(
                offset=[0],
                length=[len(signal)],
                label=[1],
                rep_index=[0],
                block=[0],
                pb=[-1],
                pe=[-1],
                subject=[subject],
            )
        )
        rec = UserRecording(subject, f"training/user{subject}", "test", signal, reps)
        write_user_store(tmp_path / store_filename(subject), rec)
    index = WindowIndex([3, 3], [0, 0], [0, 110], [1, 1], W, 2)
    dataset = WindowDataset.from_store(index, tmp_path)
    x, _, _ = dataset.__getitems__([0, 1])
    np.testing.assert_array_equal(x[1].numpy(), signals[3][110:150].T)
    with pytest.raises(FileNotFoundError, match="subject0005.h5"):
        WindowDataset.from_store(WindowIndex([5], [0], [0], [1], W, 2), tmp_path)


def test_worker_processes_yield_the_same_batches_and_rng_stream():
    signals = random_signals()
    dataset = WindowDataset(random_index(signals, n=300), signals)

    def batches(workers, **kwargs):
        torch.manual_seed(3)  # the batch-sampler path draws its base seed from the global RNG
        out = [tuple(t.clone() for t in b) for b in make_loader(dataset, num_workers=workers, **kwargs)]
        return out, torch.get_rng_state()

    batch_sampler = BatchSampler(SequentialSampler(dataset), 64, drop_last=False)
    for kwargs in ({"batch_size": 64, "shuffle": True, "seed": 5}, {"batch_sampler": batch_sampler}):
        (single, rng_single), (multi, rng_multi) = batches(0, **kwargs), batches(2, **kwargs)
        assert len(single) == len(multi) == 5
        for a, b in zip(single, multi):
            assert all(torch.equal(s, m) for s, m in zip(a, b))
        assert torch.equal(rng_single, rng_multi)  # worker count leaves the global RNG stream alone
    with pytest.raises(ValueError, match="num_workers"):
        make_loader(dataset, 64, num_workers=-1)

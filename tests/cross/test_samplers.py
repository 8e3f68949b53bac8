"""UsersPerClassBatchSampler: batch composition, determinism, errors and the loader."""

import numpy as np
import pytest
import torch

from emgcore.cross.losses import build_loss
from emgcore.cross.samplers import UsersPerClassBatchSampler
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.preprocess.window_index import WindowIndex

torch.set_num_threads(1)


def labelled_windows(n_users=6, n_classes=5, seed=0):
    """labels/subjects with 3..9 windows per (class, user), in shuffled order."""
    rng = np.random.default_rng(seed)
    labels, subjects = [], []
    for user in range(n_users):
        for c in range(n_classes):
            n = int(rng.integers(3, 10))
            labels += [c] * n
            subjects += [100 + user] * n
    order = rng.permutation(len(labels))
    return np.array(labels)[order], np.array(subjects)[order]


def sampler(labels, subjects, **kwargs):
    params = dict(classes_per_batch=3, users_per_class=2, samples_per_user=2, n_batches=20, seed=0)
    params.update(kwargs)
    return UsersPerClassBatchSampler(labels, subjects, **params)


def test_every_batch_has_cross_user_positives_and_same_user_negatives():
    labels, subjects = labelled_windows()
    s = sampler(labels, subjects, users_per_class=3)
    batches = list(s)
    assert len(s) == len(batches) == 20
    for batch in batches:
        assert len(batch) == s.batch_size == 3 * 3 * 2
        y, u = labels[batch], subjects[batch]
        assert len(np.unique(y)) == 3
        for c in np.unique(y):
            assert len(np.unique(u[y == c])) == 3  # users per class: cross-user positives
        for user in np.unique(u):
            assert len(np.unique(y[u == user])) == 3  # each user with every class: negatives
        for c, user in zip(y, u):
            assert ((y == c) & (u == user)).sum() == 2  # samples per (class, user)


def test_draw_is_deterministic_and_set_epoch_changes_it():
    labels, subjects = labelled_windows()
    a, b = sampler(labels, subjects, seed=5), sampler(labels, subjects, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    first = list(a)
    assert first == list(b)
    a.set_epoch(4)
    assert list(a) != first
    a.set_epoch(3)
    assert list(a) == first
    assert list(sampler(labels, subjects, seed=6)) != list(sampler(labels, subjects, seed=5))
    assert list(sampler(labels, subjects, rank=1)) != list(sampler(labels, subjects, rank=0))
    c = sampler(labels, subjects, seed=5)
    assert list(c) != list(c)  # a pass without set_epoch advances the epoch


def test_pairs_with_few_windows_are_drawn_with_replacement():
    labels, subjects = labelled_windows()
    s = sampler(labels, subjects, samples_per_user=12)  # every pair holds at most 9 windows
    for batch in s:
        assert len(batch) == 3 * 2 * 12
        assert len(set(batch)) < len(batch)
        assert min(batch) >= 0 and max(batch) < len(labels)


def test_falls_back_to_per_class_users_when_no_user_has_all_classes():
    labels = np.array([0] * 6 + [1] * 6)
    subjects = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])  # disjoint users per class
    s = sampler(labels, subjects, classes_per_batch=2, users_per_class=2)
    for batch in s:
        y, u = labels[batch], subjects[batch]
        for c in (0, 1):
            assert len(np.unique(u[y == c])) == 2


def test_errors_name_the_infeasible_classes():
    labels, subjects = labelled_windows(n_users=3)
    keep = ~((labels == 2) & (subjects != 100))  # class 2 recorded by one user only
    with pytest.raises(ValueError, match=r"fewer users \(class: users\): \{2: 1\}"):
        sampler(labels[keep], subjects[keep])
    with pytest.raises(ValueError, match="only 5 classes"):
        sampler(labels, subjects, classes_per_batch=6)
    with pytest.raises(ValueError, match="users_per_class must be an integer >= 2"):
        sampler(labels, subjects, users_per_class=1)
    with pytest.raises(ValueError, match="equal length"):
        sampler(labels, subjects[:-1])


def test_loader_with_batch_sampler_gives_valid_triplets():
    window, rng = 40, np.random.default_rng(1)
    signals = {s: rng.integers(-128, 128, size=(400, 8), dtype=np.int8) for s in (1, 2, 3)}
    n = 60
    subject = np.repeat([1, 2, 3], n // 3)
    label = np.tile(np.arange(5), n // 5)
    start = rng.integers(0, 400 - window + 1, size=n)
    index = WindowIndex(subject, np.zeros(n, np.int32), start, label, window, 10)
    dataset = WindowDataset(index, signals)
    batch_sampler = sampler(index.label, index.subject, classes_per_batch=2, n_batches=4)
    twin = sampler(index.label, index.subject, classes_per_batch=2, n_batches=4)
    loader = make_loader(dataset, batch_sampler=batch_sampler)
    assert loader.batch_sampler is batch_sampler and len(loader) == 4
    batches = list(loader)
    assert len(batches) == 4
    for (x, y, subj), indices in zip(batches, twin):
        assert x.shape == (8, 8, window)
        np.testing.assert_array_equal(y.numpy(), index.label[indices])
        np.testing.assert_array_equal(subj.numpy(), index.subject[indices])
        # batch-hard mining sees valid triplets (with none it would be 0, not the margin)
        hinge = build_loss("trp", margin=10.0, normalize=False, mining="hard").triplet_term(y, torch.zeros(8, 4), subj)
        assert hinge.item() == pytest.approx(10.0)
    with pytest.raises(ValueError, match="batch_sampler excludes batch_size, shuffle"):
        make_loader(dataset, 8, True, 0, batch_sampler=batch_sampler)

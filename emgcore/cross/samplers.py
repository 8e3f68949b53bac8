"""Batch samplers that shape batch composition for metric-learning losses.

`UsersPerClassBatchSampler` builds batches for the cross-user triplet loss (``trp``): each batch
holds several classes, several users per class and several windows per (class, user), so every
window has a *positive from another user* (same class) and a *negative from the same user*
(another class) in its batch. Use it through ``make_loader(dataset, batch_sampler=...)`` with
the arrays of the dataset's `WindowIndex` (``index.label``, ``index.subject``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


class UsersPerClassBatchSampler(Sampler[list[int]]):
    """Yield ``n_batches`` batches of ``classes_per_batch * users_per_class * samples_per_user`` indices.

    For each batch:

    1. draw ``classes_per_batch`` distinct classes;
    2. draw ``users_per_class`` distinct users that have *all* of those classes and use them for
       every class, so each user appears with every class of the batch (same-user negatives) and
       each class with every user (cross-user positives). If too few users have all the drawn
       classes (documented fallback), users are drawn per class among those having that class;
       then cross-user positives are still guaranteed, same-user negatives only where users
       happen to overlap;
    3. for each (class, user) draw ``samples_per_user`` windows, without replacement when the
       pair has enough windows, with replacement otherwise.

    Indices are grouped class by class, user by user within a batch. The draw is a pure function
    of ``(seed, epoch, rank)``: call ``set_epoch(epoch)`` before each epoch for a new,
    reproducible draw (a pass without a preceding ``set_epoch`` advances the epoch by one, so
    batches never silently repeat across epochs). Under DistributedDataParallel give each
    process its ``rank`` so ranks draw different batches.

    Raises ValueError when any class has fewer than ``users_per_class`` users, or there are
    fewer classes than ``classes_per_batch``.
    """

    def __init__(
        self,
        labels,
        subjects,
        classes_per_batch: int,
        users_per_class: int,
        samples_per_user: int,
        n_batches: int,
        seed: int = 0,
        rank: int = 0,
    ) -> None:
        labels = np.asarray(labels)
        subjects = np.asarray(subjects)
        if labels.ndim != 1 or subjects.shape != labels.shape:
            raise ValueError(
                f"labels and subjects must be 1-D arrays of equal length, got {labels.shape} and {subjects.shape}"
            )
        for name, array in (("labels", labels), ("subjects", subjects)):
            if array.size and not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"{name} must hold integers, got {array.dtype}")
        for name, value, minimum in (
            ("classes_per_batch", classes_per_batch, 2),  # negatives need another class
            ("users_per_class", users_per_class, 2),  # positives need another user
            ("samples_per_user", samples_per_user, 1),
            ("n_batches", n_batches, 1),
        ):
            if int(value) != value or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
        if int(seed) != seed or seed < 0 or int(rank) != rank or rank < 0:
            raise ValueError(f"seed and rank must be non-negative integers, got {seed} and {rank}")
        if labels.size == 0:
            raise ValueError("UsersPerClassBatchSampler needs at least one window, got none")
        self.classes_per_batch = int(classes_per_batch)
        self.users_per_class = int(users_per_class)
        self.samples_per_user = int(samples_per_user)
        self.n_batches = int(n_batches)
        self.seed = int(seed)
        self.rank = int(rank)
        self._epoch = 0
        self._group_windows(labels.astype(np.int64), subjects.astype(np.int64))
        self._check_feasible()

    def _group_windows(self, labels: np.ndarray, subjects: np.ndarray) -> None:
        """Index windows by (class, user): one sort, then contiguous slices of ``self._order``."""
        order = np.lexsort((subjects, labels))  # by label, then subject; stable
        keys = np.stack([labels[order], subjects[order]], axis=1)
        change = np.flatnonzero(np.any(keys[1:] != keys[:-1], axis=1)) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [len(order)]))
        self._order = order
        self._slices: dict[tuple[int, int], tuple[int, int]] = {}
        self.users_of_class: dict[int, np.ndarray] = {}
        for start, end in zip(starts, ends):
            label, subject = int(keys[start, 0]), int(keys[start, 1])
            self._slices[(label, subject)] = (int(start), int(end))
        for label in np.unique(labels):
            self.users_of_class[int(label)] = np.array(
                sorted(s for (c, s) in self._slices if c == int(label)), dtype=np.int64
            )
        self.classes = np.array(sorted(self.users_of_class), dtype=np.int64)

    def _check_feasible(self) -> None:
        if len(self.classes) < self.classes_per_batch:
            raise ValueError(
                f"classes_per_batch={self.classes_per_batch} but the windows hold only "
                f"{len(self.classes)} classes {self.classes.tolist()}"
            )
        short = {c: len(u) for c, u in self.users_of_class.items() if len(u) < self.users_per_class}
        if short:
            raise ValueError(
                f"users_per_class={self.users_per_class} but these classes have fewer users (class: users): {short}"
            )

    @property
    def batch_size(self) -> int:
        """Windows per batch: classes_per_batch * users_per_class * samples_per_user."""
        return self.classes_per_batch * self.users_per_class * self.samples_per_user

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next pass's draw (like DistributedSampler.set_epoch)."""
        self._epoch = int(epoch)

    def __len__(self) -> int:
        return self.n_batches

    def _users_for(self, rng: np.random.Generator, classes: np.ndarray) -> list[np.ndarray]:
        """Users per class: one shared draw among users having every class, else per class."""
        common = self.users_of_class[int(classes[0])]
        for c in classes[1:]:
            common = np.intersect1d(common, self.users_of_class[int(c)], assume_unique=True)
        if len(common) >= self.users_per_class:
            users = rng.choice(common, self.users_per_class, replace=False)
            return [users] * len(classes)
        return [rng.choice(self.users_of_class[int(c)], self.users_per_class, replace=False) for c in classes]

    def _draw(self, rng: np.random.Generator) -> list[int]:
        classes = rng.choice(self.classes, self.classes_per_batch, replace=False)
        batch = []
        for c, users in zip(classes, self._users_for(rng, classes)):
            for u in users:
                start, end = self._slices[(int(c), int(u))]
                n = end - start
                picks = rng.choice(n, self.samples_per_user, replace=n < self.samples_per_user)
                batch.extend(self._order[start + picks].tolist())
        return batch

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self._epoch, self.rank])
        self._epoch += 1
        for _ in range(self.n_batches):
            yield self._draw(rng)

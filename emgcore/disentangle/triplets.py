"""Triplets, cross-reconstruction pairs and batches for disentangling pattern from subject codes.

Given a batch's ``gesture`` and ``subject`` labels (length B), every function returns index arrays
into the batch (int64 numpy), one entry per valid anchor, drawn from a ``numpy.random.Generator``
(pass one for reproducible draws; with none a generator seeded 0 is used, so a call is always
deterministic):

* `pattern_triplets`: anchor a, positive p with ``g_p = g_a`` and ``s_p != s_a`` (same gesture
  performed by someone else), negative n with ``g_n != g_a``. The pattern code must group by
  gesture across people.
* `subject_triplets`: positive with ``s_p = s_a`` and ``g_p != g_a`` (same person, another
  gesture), negative with ``s_n != s_a``. The subject code must group by person across gestures.
* `cross_reconstruction_pairs`: (i, j, k) with ``s_j != s_i``, ``g_j != g_i`` and a target k with
  ``g_k = g_i``, ``s_k = s_j``: decoding i's pattern code with j's subject code must give k.

With ``hard_negatives=True`` (default) negatives are drawn among the candidates that share the
*other* label with the anchor when the batch has any (pattern: another gesture by the same
person; subject: another person doing the same gesture), so the code cannot separate them by the
nuisance factor; otherwise among all valid negatives. Either way every returned triplet satisfies
the conditions above. Anchors without a valid positive or negative are left out; when no anchor
is valid the functions raise `NoValidTriplets` / `NoCrossPairs` (subclasses of ValueError) saying
which condition failed, and the training loop skips that loss term for the batch.

`GestureSubjectBatchSampler` draws batches of several gestures x several subjects x a few windows
so that these conditions can be met.
"""

from __future__ import annotations

import numpy as np

from emgcore.cross.samplers import UsersPerClassBatchSampler


class NoValidTriplets(ValueError):
    """The batch holds no anchor with both a valid positive and a valid negative."""


class NoCrossPairs(ValueError):
    """The batch holds no (i, j, k) cross-reconstruction triple."""


def _labels(gesture, subject) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(gesture, "detach"):
        gesture = gesture.detach().cpu().numpy()
    if hasattr(subject, "detach"):
        subject = subject.detach().cpu().numpy()
    gesture, subject = np.asarray(gesture), np.asarray(subject)
    if gesture.ndim != 1 or gesture.shape != subject.shape:
        raise ValueError(f"gesture and subject must be 1-D of equal length, got {gesture.shape} and {subject.shape}")
    for name, a in (("gesture", gesture), ("subject", subject)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} labels must be integers, got {a.dtype}")
    return gesture.astype(np.int64), subject.astype(np.int64)


def _pick(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row of a (R, B) bool mask with a True entry, a uniformly drawn True column."""
    keys = rng.random(mask.shape)
    return np.where(mask, keys, -1.0).argmax(axis=1).astype(np.int64)


def _triplets(same_key, other_key, rng, hard_negatives, what, key_name, other_name):
    """Anchors/positives share ``same_key`` but not ``other_key``; negatives differ in ``same_key``."""
    same = same_key[:, None] == same_key[None, :]
    other = other_key[:, None] == other_key[None, :]
    positive = same & ~other
    negative = ~same
    has_pos, has_neg = positive.any(axis=1), negative.any(axis=1)
    anchors = np.flatnonzero(has_pos & has_neg)
    if anchors.size == 0:
        if not has_pos.any():
            reason = f"no two windows have the same {key_name} and different {other_name}s"
        elif not has_neg.any():
            reason = f"all windows have the same {key_name}"
        else:
            reason = (
                f"no window has both a positive (same {key_name}, other {other_name}) and a negative (other {key_name})"
            )
        raise NoValidTriplets(f"no valid {what} triplet in a batch of {len(same_key)}: {reason}")
    rng = rng if rng is not None else np.random.default_rng(0)
    pos = _pick(positive[anchors], rng)
    neg_mask = negative[anchors]
    if hard_negatives:
        hard = neg_mask & other[anchors]
        neg_mask = np.where(hard.any(axis=1, keepdims=True), hard, neg_mask)
    return anchors.astype(np.int64), pos, _pick(neg_mask, rng)


def pattern_triplets(
    gesture, subject, rng: np.random.Generator | None = None, hard_negatives: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(anchor, positive, negative): positive = same gesture, other subject; negative = other gesture."""
    g, s = _labels(gesture, subject)
    return _triplets(g, s, rng, hard_negatives, "pattern", "gesture", "subject")


def subject_triplets(
    gesture, subject, rng: np.random.Generator | None = None, hard_negatives: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(anchor, positive, negative): positive = same subject, other gesture; negative = other subject."""
    g, s = _labels(gesture, subject)
    return _triplets(s, g, rng, hard_negatives, "subject", "subject", "gesture")


def cross_reconstruction_pairs(
    gesture, subject, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, k): decode i's pattern code with j's subject code and compare with window k.

    ``g_j != g_i`` and ``s_j != s_i`` (so k is neither i nor j), ``g_k = g_i`` and ``s_k = s_j``.
    One triple per window i that has such a j; j is drawn uniformly among them, then k among the
    windows with (g_i, s_j).
    """
    g, s = _labels(gesture, subject)
    if g.size == 0:
        raise NoCrossPairs("no cross-reconstruction pair in an empty batch")
    g_codes, g_idx = np.unique(g, return_inverse=True)
    s_codes, s_idx = np.unique(s, return_inverse=True)
    present = np.zeros((len(g_codes), len(s_codes)), bool)
    present[g_idx, s_idx] = True
    valid = present[g_idx[:, None], s_idx[None, :]]  # (i, j): a window with (g_i, s_j) exists
    valid &= (g[:, None] != g[None, :]) & (s[:, None] != s[None, :])
    rows = np.flatnonzero(valid.any(axis=1))
    if rows.size == 0:
        raise NoCrossPairs(
            f"no cross-reconstruction pair in a batch of {g.size} ({len(g_codes)} gestures, "
            f"{len(s_codes)} subjects): no window i has a window j of another gesture and subject "
            f"such that the batch also holds i's gesture performed by j's subject"
        )
    rng = rng if rng is not None else np.random.default_rng(0)
    j = _pick(valid[rows], rng)
    target = (g[None, :] == g[rows, None]) & (s[None, :] == s[j, None])
    return rows.astype(np.int64), j, _pick(target, rng)


class GestureSubjectBatchSampler(UsersPerClassBatchSampler):
    """Batches of ``gestures_per_batch`` gestures x ``subjects_per_batch`` subjects x ``windows_per_cell``.

    The same subjects are used for every gesture of a batch whenever enough subjects have all of
    the drawn gestures (then every window has pattern and subject triplets and a cross pair);
    otherwise subjects are drawn per gesture (see `emgcore.cross.samplers.UsersPerClassBatchSampler`,
    whose draw this is: deterministic in ``(seed, epoch)``, ``set_epoch`` before each epoch).
    """

    def __init__(
        self,
        gesture,
        subject,
        gestures_per_batch: int = 4,
        subjects_per_batch: int = 4,
        windows_per_cell: int = 4,
        n_batches: int = 100,
        seed: int = 0,
    ):
        super().__init__(
            labels=gesture,
            subjects=subject,
            classes_per_batch=gestures_per_batch,
            users_per_class=subjects_per_batch,
            samples_per_user=windows_per_cell,
            n_batches=n_batches,
            seed=seed,
        )

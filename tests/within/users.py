"""Tiny EPN-612-like users for the within-user tests: gesture c bursts on channel c-1, rest is noise.

Repetitions are laid out in a shuffled gesture order per block (as a real session need not be
grouped by gesture), so "the k-th repetition of a gesture" is not the k-th row of its table.
"""

import numpy as np
import pandas as pd

from emgcore.data.store import REP_COLUMNS, UserRecording
from emgcore.settings import WindowSettings

LENGTH = 120  # samples per repetition: 9 windows of 40 at stride 10
WINDOWS = WindowSettings(size=40, stride=10, test_stride=None, rest_subsample=1)
PER_REP = 9
GESTURE_LABELS = (0, 1, 2, 3, 4, 5)  # pinch (5) is stored but never windowed


def recording(subject, per_gesture=(20, 0), seed=0, counts=None):
    """A user with `per_gesture[b]` repetitions of every gesture in block b (counts[(b, label)] overrides)."""
    rng = np.random.default_rng(seed + 1000 * subject)
    gain = rng.uniform(0.7, 1.3)
    pieces, rows, offset = [], [], 0
    rep_counter = dict.fromkeys(GESTURE_LABELS, 0)
    for block, n in enumerate(per_gesture):
        order = [g for g in GESTURE_LABELS for _ in range((counts or {}).get((block, g), n))]
        for label in rng.permutation(order):
            x = rng.normal(0, 3, size=(LENGTH, 8))
            if label:
                x[5:115, (label - 1) % 8] += rng.normal(0, 50 * gain, size=110)
            pieces.append(np.clip(np.round(x), -128, 127).astype(np.int8))
            pb, pe = (5, 115) if label else (-1, -1)
            rows.append((offset, LENGTH, label, rep_counter[label], block, pb, pe, subject))
            rep_counter[label] += 1
            offset += LENGTH
    reps = pd.DataFrame(rows, columns=list(REP_COLUMNS))
    for column, dtype in REP_COLUMNS.items():
        reps[column] = reps[column].astype(dtype)
    return UserRecording(subject, f"training/user{subject + 1}", "test", np.concatenate(pieces), reps)

"""Random int8 signals and window indexes over them, for the window dataset and batch tests."""

import numpy as np

from emgcore.preprocess.window_index import WindowIndex

W = 40


def random_signals(lengths=(500, 300, 800), subjects=(4, 1, 9), seed=0):
    rng = np.random.default_rng(seed)
    return {s: rng.integers(-128, 128, size=(n, 8), dtype=np.int8) for s, n in zip(subjects, lengths)}


def random_index(signals, n=400, seed=1):
    rng = np.random.default_rng(seed)
    subjects = np.sort(rng.choice(sorted(signals), size=n))
    starts = np.array([rng.integers(0, len(signals[s]) - W + 1) for s in subjects])
    labels = rng.integers(0, 5, size=n)
    return WindowIndex(subjects, np.zeros(n, np.int32), starts, labels, W, 2)

"""Which of a user's repetitions train, validate and test a within-user model, and the sweep's first R.

Repetitions are counted per gesture, 0-based, in recording order: the k-th repetition of a gesture
is the k-th row with that label among the chosen blocks, taken block by block in the order given and
by signal offset within a block (so the count never depends on how the table's rows are sorted or on
`rep_index`). The within-user split uses one block, ``trainingSamples`` (the only labelled block of
EMG-EPN-612's testing users); the incremental sweep counts over both labelled blocks of a training
user, ``trainingSamples`` then ``testingSamples`` (up to 50 repetitions per gesture on EPN-612).
Only the classes that are windowed count (``USED_CLASSES``): pinch is stored but never used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emgcore.data.labels import GESTURES, USED_CLASSES
from emgcore.preprocess.segmentation import RepFilter
from emgcore.preprocess.window_index import WindowIndex, build_window_index
from emgcore.settings import WindowSettings, fit_to_data

TRAINING_BLOCK = 0  # store block code of trainingSamples (see emgcore.data.epn612.read_user_json)
TESTING_BLOCK = 1  # store block code of testingSamples (labelled for training users only)
BLOCK_NAMES = {TRAINING_BLOCK: "trainingSamples", TESTING_BLOCK: "testingSamples"}
DEFAULT_VAL_REP = 14
DEFAULT_TEST_REPS = (15, 16, 17, 18, 19)
PARTS = ("train", "val", "test")
SWEEP_BLOCKS = (TRAINING_BLOCK, TESTING_BLOCK)


def _user(reps: pd.DataFrame, where: str | None) -> str:
    """How errors name the user of a reps table: `where`, else its subject column."""
    if where:
        return where
    if "subject" in reps.columns and len(reps):
        return f"subject {int(reps['subject'].iat[0])}"
    return "the user"


def _blocks_text(blocks: Sequence[int]) -> str:
    return "+".join(BLOCK_NAMES.get(int(b), f"block {int(b)}") for b in blocks)


def _gesture_text(label: int) -> str:
    name = GESTURES[label] if 0 <= label < len(GESTURES) else "?"
    return f"{name} (label {label})"


def _check_nonnegative_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def repetition_ordinals(
    reps: pd.DataFrame, blocks: Sequence[int] = (TRAINING_BLOCK,), where: str | None = None
) -> np.ndarray:
    """Per row of `reps`: its 0-based position among the rows of its gesture in `blocks`, else -1.

    Rows are counted block by block in the order of `blocks`, by ``offset`` within a block.
    """
    missing = [c for c in ("offset", "label", "block") if c not in reps.columns]
    if missing:
        raise ValueError(f"reps table of {_user(reps, where)} lacks columns {missing}")
    blocks = [int(b) for b in blocks]
    if not blocks or len(set(blocks)) != len(blocks):
        raise ValueError(f"blocks must name at least one block, each once; got {blocks}")
    block = reps["block"].to_numpy(dtype=np.int64)
    label = reps["label"].to_numpy(dtype=np.int64)
    offset = reps["offset"].to_numpy(dtype=np.int64)
    position = np.full(len(reps), -1, dtype=np.int64)  # position of each row's block in `blocks`
    for i, b in enumerate(blocks):
        position[block == b] = i
    chosen = np.flatnonzero(position >= 0)
    ordered = chosen[np.lexsort((offset[chosen], position[chosen]))]
    ordinals = np.full(len(reps), -1, dtype=np.int64)
    for gesture in np.unique(label[ordered]):
        rows = ordered[label[ordered] == gesture]
        ordinals[rows] = np.arange(rows.size)
    return ordinals


def gesture_counts(
    reps: pd.DataFrame,
    blocks: Sequence[int] = (TRAINING_BLOCK,),
    gestures: Iterable[int] = USED_CLASSES,
    where: str | None = None,
) -> dict[int, int]:
    """Number of repetitions of each of `gestures` in `blocks` (0 for a gesture that is absent)."""
    ordinals = repetition_ordinals(reps, blocks, where)
    label = reps["label"].to_numpy(dtype=np.int64)
    return {int(g): int(np.count_nonzero((label == g) & (ordinals >= 0))) for g in gestures}


def rows_filter(rows: Iterable[int]) -> RepFilter:
    """A RepFilter keeping exactly the given rows of the reps table (of one user)."""
    rows = np.unique(np.asarray(list(rows), dtype=np.int64))

    def keep(reps: pd.DataFrame) -> np.ndarray:
        if rows.size and (rows.min() < 0 or rows.max() >= len(reps)):
            raise ValueError(
                f"row numbers {rows.min()}..{rows.max()} do not fit the reps table of "
                f"{_user(reps, None)} ({len(reps)} rows)"
            )
        mask = np.zeros(len(reps), dtype=bool)
        mask[rows] = True
        return mask

    return keep


# --------------------------------------------------------------------------------------------
# within-user split: first N train, one repetition validates, a few test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepetitionSplit:
    """Per gesture, within one block: repetitions 0..n_train-1 train, `val_rep` validates, `test_reps` test.

    Checked on construction: the three parts must not share a repetition.
    """

    n_train: int
    val_rep: int = DEFAULT_VAL_REP
    test_reps: tuple[int, ...] = DEFAULT_TEST_REPS
    block: int = TRAINING_BLOCK
    gestures: tuple[int, ...] = USED_CLASSES

    def __post_init__(self) -> None:
        n_train = _check_nonnegative_int(self.n_train, "n_train (training repetitions per gesture)")
        if n_train < 1:
            raise ValueError("n_train (training repetitions per gesture) must be at least 1, got 0")
        val_rep = _check_nonnegative_int(self.val_rep, "val_rep")
        test_reps = tuple(_check_nonnegative_int(r, "each of test_reps") for r in self.test_reps)
        if not test_reps or len(set(test_reps)) != len(test_reps):
            raise ValueError(f"test_reps must name at least one repetition, each once; got {list(self.test_reps)}")
        if val_rep in test_reps:
            raise ValueError(f"val_rep {val_rep} is also one of test_reps {list(test_reps)}")
        held_out = sorted({val_rep, *test_reps})
        overlap = [r for r in held_out if r < n_train]
        if overlap:
            raise ValueError(
                f"n_train={n_train} trains on repetitions 0..{n_train - 1}, which include held-out "
                f"repetitions {overlap} (val_rep {val_rep}, test_reps {list(test_reps)}); "
                f"n_train can be at most {held_out[0]}"
            )
        gestures = tuple(int(g) for g in self.gestures)
        if not gestures or len(set(gestures)) != len(gestures):
            raise ValueError(f"gestures must name at least one label, each once; got {list(self.gestures)}")
        object.__setattr__(self, "n_train", n_train)
        object.__setattr__(self, "val_rep", val_rep)
        object.__setattr__(self, "test_reps", test_reps)
        object.__setattr__(self, "block", int(self.block))
        object.__setattr__(self, "gestures", gestures)

    def ordinals_of(self, part: str) -> tuple[int, ...]:
        """The repetition numbers (per gesture) of `part` ('train', 'val' or 'test')."""
        if part == "train":
            return tuple(range(self.n_train))
        if part == "val":
            return (self.val_rep,)
        if part == "test":
            return self.test_reps
        raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")

    @property
    def needed(self) -> int:
        """Repetitions of every gesture a user must have in the block for this split."""
        return max(self.n_train - 1, self.val_rep, *self.test_reps) + 1

    def describe(self) -> str:
        return f"train 0..{self.n_train - 1}, val {self.val_rep}, test {list(self.test_reps)}"

    def rows(self, reps: pd.DataFrame, where: str | None = None) -> dict[str, np.ndarray]:
        """Rows of the reps table (int64, ascending) of each part, {'train', 'val', 'test'}.

        Raises naming the user (`where`, else the table's subject) and every gesture that has fewer
        repetitions in the block than the split needs.
        """
        ordinals = repetition_ordinals(reps, (self.block,), where)
        label = reps["label"].to_numpy(dtype=np.int64)
        counts = {g: int(np.count_nonzero((label == g) & (ordinals >= 0))) for g in self.gestures}
        short = {g: n for g, n in counts.items() if n < self.needed}
        if short:
            details = ", ".join(f"{_gesture_text(g)} has {n}" for g, n in short.items())
            raise ValueError(
                f"{_user(reps, where)}: too few repetitions in {_blocks_text([self.block])} for the split "
                f"({self.describe()}, needs {self.needed} per gesture): {details}"
            )
        used = np.isin(label, self.gestures)
        return {part: np.flatnonzero(used & np.isin(ordinals, self.ordinals_of(part))) for part in PARTS}

    def rep_filter(self, part: str) -> RepFilter:
        """A RepFilter selecting `part` of whichever user's reps table it is given."""
        self.ordinals_of(part)  # unknown parts fail here, not when the filter is used

        def keep(reps: pd.DataFrame) -> np.ndarray:
            mask = np.zeros(len(reps), dtype=bool)
            mask[self.rows(reps)[part]] = True
            return mask

        return keep


def within_indexes(
    recording,
    split: RepetitionSplit,
    variant: str,
    windows: WindowSettings,
    threshold: float | None = None,
    parts: Sequence[str] = PARTS,
) -> dict[str, WindowIndex]:
    """Window indexes of one user's train/val/test repetitions under `split` and `variant`.

    Train and val windows use ``windows.stride``, test windows ``windows.stride_of('test')`` (as
    the cross-user test users). Raises naming the user and part when a part yields no windows.
    """
    where = f"subject {int(recording.subject)}"
    rows = split.rows(recording.reps, where)
    out = {}
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
        index = build_window_index(
            [recording],
            variant,
            windows.size,
            windows.stride_of("test" if part == "test" else "train"),
            windows.rest_subsample,
            threshold=threshold,
            rep_filter=rows_filter(rows[part]),
        )
        if len(index) == 0:
            raise ValueError(
                f"{where}: the {part} repetitions ({len(rows[part])} rows, {split.describe()}) give no "
                f"{variant!r} windows of {windows.size} samples"
            )
        out[part] = index
    return out


# --------------------------------------------------------------------------------------------
# incremental sweep: the first R repetitions per gesture over both labelled blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstRepetitions:
    """The first `used` repetitions per gesture of one user (`configured` asked; fewer if it has fewer).

    `rows` are reps-table rows (ascending); `counts` the repetitions each gesture has in the blocks;
    `adapted` is None, or {configured, used, why} when R was clipped (a SettingAdapted warning says so).
    """

    subject: int | None
    rows: np.ndarray
    configured: int
    used: int
    counts: Mapping[int, int]
    adapted: dict | None = None

    @property
    def clipped(self) -> bool:
        return self.used < self.configured


def first_repetitions(
    reps: pd.DataFrame,
    n_reps: int,
    blocks: Sequence[int] = SWEEP_BLOCKS,
    gestures: Iterable[int] = USED_CLASSES,
    where: str | None = None,
) -> FirstRepetitions:
    """Rows of the first `n_reps` repetitions of every gesture in `blocks` (in that block order).

    R is one number per user, clipped to the repetitions of the user's rarest gesture so that
    every gesture trains on equally many (warning and record in ``adapted``); a gesture with none
    at all is an error naming the user.
    """
    n_reps = _check_nonnegative_int(n_reps, "n_reps (repetitions per gesture)")
    if n_reps < 1:
        raise ValueError("n_reps (repetitions per gesture) must be at least 1, got 0")
    gestures = tuple(int(g) for g in gestures)
    user = _user(reps, where)
    ordinals = repetition_ordinals(reps, blocks, where)
    label = reps["label"].to_numpy(dtype=np.int64)
    counts = {g: int(np.count_nonzero((label == g) & (ordinals >= 0))) for g in gestures}
    rarest = min(counts, key=lambda g: (counts[g], g))
    used, adapted = fit_to_data(
        f"{user}: n_reps",
        n_reps,
        counts[rarest],
        1,
        f"repetitions of {_gesture_text(rarest)} in {_blocks_text(blocks)}",
    )
    rows = np.flatnonzero(np.isin(label, gestures) & (ordinals >= 0) & (ordinals < used))
    subject = int(reps["subject"].iat[0]) if "subject" in reps.columns and len(reps) else None
    return FirstRepetitions(subject, rows, n_reps, int(used), counts, adapted)

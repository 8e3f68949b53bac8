"""The within-user repetition split (first N / val / test per gesture) and the sweep's first R repetitions."""

import warnings

import numpy as np
import pytest

from emgcore.data.labels import USED_CLASSES
from emgcore.preprocess.window_index import build_window_index
from emgcore.settings import SettingAdapted, WindowSettings
from emgcore.within.repetitions import (
    TESTING_BLOCK,
    TRAINING_BLOCK,
    RepetitionSplit,
    first_repetitions,
    gesture_counts,
    repetition_ordinals,
    within_indexes,
)
from tests.within.users import PER_REP, recording


def rows_in_recording_order(reps, block, label):
    """Independent reference: the rows of one gesture in one block, sorted by offset."""
    rows = reps.index[(reps["block"] == block) & (reps["label"] == label)].to_numpy()
    return rows[np.argsort(reps["offset"].to_numpy()[rows])]


@pytest.mark.parametrize("n_train", [1, 5, 14])
def test_split_is_first_n_then_val_then_test_per_gesture(n_train):
    reps = recording(3, (25, 25)).reps
    parts = RepetitionSplit(n_train).rows(reps)
    for gesture in USED_CLASSES:
        ordered = rows_in_recording_order(reps, TRAINING_BLOCK, gesture)
        assert set(parts["train"][reps["label"].to_numpy()[parts["train"]] == gesture]) == set(ordered[:n_train])
        assert set(parts["val"][reps["label"].to_numpy()[parts["val"]] == gesture]) == {ordered[14]}
        assert set(parts["test"][reps["label"].to_numpy()[parts["test"]] == gesture]) == set(ordered[15:20])
    train, val, test = (set(parts[p].tolist()) for p in ("train", "val", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    assert len(train) == 5 * n_train and len(val) == 5 and len(test) == 25
    chosen = reps.loc[sorted(train | val | test)]
    assert (chosen["block"] == TRAINING_BLOCK).all()  # testingSamples is never used by the split
    assert 5 not in chosen["label"].tolist()  # pinch is never windowed, so never selected


def test_split_follows_recording_order_not_table_order():
    rec = recording(3, (20, 0))
    shuffled = rec.reps.sample(frac=1.0, random_state=0).reset_index(drop=True)
    parts = RepetitionSplit(3).rows(shuffled)
    for gesture in USED_CLASSES:
        first_three = rows_in_recording_order(shuffled, TRAINING_BLOCK, gesture)[:3]
        assert set(first_three) <= set(parts["train"].tolist())
    # the same repetitions (by offset) as with the table in recording order
    original = RepetitionSplit(3).rows(rec.reps)
    for part in ("train", "val", "test"):
        assert sorted(shuffled["offset"].to_numpy()[parts[part]]) == sorted(
            rec.reps["offset"].to_numpy()[original[part]]
        )


def test_configurable_val_and_test_repetitions():
    reps = recording(3, (12, 0)).reps
    parts = RepetitionSplit(4, val_rep=4, test_reps=(10, 11)).rows(reps)
    ordinals = repetition_ordinals(reps)
    assert sorted(set(ordinals[parts["train"]])) == [0, 1, 2, 3]
    assert set(ordinals[parts["val"]]) == {4} and set(ordinals[parts["test"]]) == {10, 11}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 15}, r"n_train=15 .* held-out repetitions \[14\].* at most 14"),
        ({"n_train": 12, "val_rep": 3}, r"held-out repetitions \[3\]"),
        ({"n_train": 5, "val_rep": 16}, "val_rep 16 is also one of test_reps"),
        ({"n_train": 0}, "at least 1"),
        ({"n_train": 5, "test_reps": ()}, "at least one repetition"),
        ({"n_train": 5, "test_reps": (15, 15)}, "each once"),
    ],
)
def test_overlapping_or_invalid_splits_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RepetitionSplit(**kwargs)


def test_too_few_repetitions_names_user_gesture_and_count():
    reps = recording(7, (20, 0), counts={(0, 1): 18, (0, 3): 9}).reps
    with pytest.raises(ValueError) as info:
        RepetitionSplit(5).rows(reps)
    message = str(info.value)
    assert "subject 7" in message and "needs 20 per gesture" in message
    assert "fist (label 1) has 18" in message and "waveOut (label 3) has 9" in message
    assert "waveIn" not in message  # gestures with enough repetitions are not listed
    # a gesture that is missing altogether counts as 0
    no_open = recording(8, (20, 0), counts={(0, 4): 0}).reps
    with pytest.raises(ValueError, match=r"subject 8: .*open \(label 4\) has 0"):
        RepetitionSplit(5).rows(no_open)
    # a shorter split that the same user does have is fine
    assert len(RepetitionSplit(2, val_rep=3, test_reps=(4, 5)).rows(reps)["test"]) == 10


def test_within_indexes_window_exactly_the_split_rows():
    rec = recording(4, (20, 20))
    split = RepetitionSplit(2)
    windows = WindowSettings(size=40, stride=10, test_stride=20, rest_subsample=1)
    indexes = within_indexes(rec, split, "raw", windows)
    rows = split.rows(rec.reps)
    for part, index in indexes.items():
        assert set(index.rep.tolist()) == set(rows[part].tolist())
        assert (index.subject == 4).all()
        # per repetition of 120 samples: 9 windows at stride 10, 5 at the test stride 20
        per_rep = 5 if part == "test" else PER_REP
        assert len(index) == per_rep * len(rows[part])
        labels = rec.reps["label"].to_numpy()[index.rep]
        np.testing.assert_array_equal(index.label, labels)
    # the filter form of the split selects the same windows, for any user it is given
    via_filter = build_window_index([rec], "raw", 40, 10, 1, rep_filter=split.rep_filter("train"))
    np.testing.assert_array_equal(via_filter.start, indexes["train"].start)


def test_first_repetitions_count_over_both_blocks_in_order():
    reps = recording(0, (20, 20)).reps
    first = first_repetitions(reps, 23)
    assert not first.clipped and first.used == 23 and first.adapted is None
    chosen = reps.loc[first.rows]
    for gesture in USED_CLASSES:
        expected = list(rows_in_recording_order(reps, TRAINING_BLOCK, gesture)) + list(
            rows_in_recording_order(reps, TESTING_BLOCK, gesture)[:3]
        )
        assert set(chosen.index[chosen["label"] == gesture]) == set(expected)
    assert 5 not in chosen["label"].tolist()
    # fewer than a block: only trainingSamples
    assert (reps.loc[first_repetitions(reps, 20).rows, "block"] == TRAINING_BLOCK).all()


def test_first_repetitions_clip_r_to_the_rarest_gesture_and_report_it():
    reps = recording(2, (20, 20), counts={(1, 2): 12}).reps
    assert gesture_counts(reps, (TRAINING_BLOCK, TESTING_BLOCK))[2] == 32
    with pytest.warns(SettingAdapted, match=r"subject 2: n_reps=50 .*32 repetitions of waveIn"):
        first = first_repetitions(reps, 50)
    assert first.clipped and first.configured == 50 and first.used == 32
    assert first.adapted == {"configured": 50, "used": 32, "why": first.adapted["why"]}
    labels = reps["label"].to_numpy()[first.rows]
    assert all(np.count_nonzero(labels == g) == 32 for g in USED_CLASSES)  # balanced, not 40 of the others
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert first_repetitions(reps, 32).used == 32  # exactly what the user has: no warning


def test_first_repetitions_refuse_a_user_without_some_gesture():
    reps = recording(9, (5, 0), counts={(0, 3): 0}).reps
    with pytest.raises(ValueError, match=r"subject 9: n_reps=3 cannot be met.*0 repetitions of waveOut"):
        first_repetitions(reps, 3)
    with pytest.raises(ValueError, match="at least 1"):
        first_repetitions(reps, 0)

"""Evaluation streams: every repetition once, seeded use order with alternating gestures, rest between them."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from emgcore.data.labels import PINCH, REST
from emgcore.data.libemg_csv import Repetition
from emgcore.data.store import REP_COLUMNS, UserRecording
from emgcore.rotation.stream_order import (
    EvaluationStream,
    build_stream,
    interleaved_order,
    repetitions_from_recording,
)

C = 8


def person(counts=None, rest_reps=3, seed=0):
    """Recording-order repetitions (label, rep, int8 (T, C)), grouped by gesture as data sets store them.

    Every sample carries its repetition's identity: channel 0 = input index, channel 1 = sample number % 100.
    """
    counts = {1: 4, 2: 4, 3: 4, 4: 4} if counts is None else counts
    rng = np.random.default_rng(seed)
    items = []
    for label, count in [(REST, rest_reps), *counts.items()]:
        for rep in range(count):
            length = int(rng.integers(30, 60))
            emg = rng.integers(-100, 100, size=(length, C)).astype(np.int8)
            emg[:, 0] = len(items)
            emg[:, 1] = np.arange(length) % 100
            items.append((label, rep, emg))
    return items


def assert_every_repetition_once(stream: EvaluationStream, items):
    assert len(stream.signal) == len(stream.labels) == sum(len(emg) for _, _, emg in items)
    assert stream.signal.dtype == np.int8 and stream.labels.dtype == np.int8
    starts = [p.start for p in stream.pieces]
    assert starts[0] == 0 and all(a.end == b.start for a, b in zip(stream.pieces, stream.pieces[1:]))
    assert stream.pieces[-1].end == len(stream.signal)
    # each input repetition's samples appear exactly once, in its own order, possibly cut into pieces
    by_source = {}
    for piece in stream.pieces:
        label, rep, _ = items[piece.source]
        assert (piece.label, piece.rep) == (label, rep)
        assert np.all(stream.labels[piece.start : piece.end] == label)
        by_source.setdefault(piece.source, []).append(stream.signal[piece.start : piece.end])
    assert sorted(by_source) == list(range(len(items)))
    for source, chunks in by_source.items():
        np.testing.assert_array_equal(np.concatenate(chunks), items[source][2])


def active_labels(stream):
    return [p.label for p in stream.pieces if p.label != REST]


def test_recording_order_is_the_input_back_to_back():
    items = person()
    stream = build_stream(items, order="recording")
    assert [p.source for p in stream.pieces] == list(range(len(items)))
    np.testing.assert_array_equal(stream.signal, np.concatenate([emg for _, _, emg in items]))
    assert_every_repetition_once(stream, items)


def test_interleaved_uses_every_repetition_once_and_alternates_gestures():
    items = person()
    stream = build_stream(items, order="interleaved", seed=3)
    assert_every_repetition_once(stream, items)
    labels = active_labels(stream)
    assert Counter(labels) == {1: 4, 2: 4, 3: 4, 4: 4}
    assert all(a != b for a, b in zip(labels, labels[1:]))
    # equal counts: a round-robin over the gestures in one seeded order
    rounds = [labels[i : i + 4] for i in range(0, 16, 4)]
    assert all(sorted(r) == [1, 2, 3, 4] for r in rounds) and all(r == rounds[0] for r in rounds)
    # a rest segment before every gesture repetition, cut from the person's own rest recordings
    assert stream.pieces[0].label == REST
    for previous, piece in zip(stream.pieces, stream.pieces[1:]):
        if piece.label != REST:
            assert previous.label == REST
    rest_lengths = [0]
    for piece in stream.pieces:
        if piece.label == REST:
            rest_lengths[-1] += piece.end - piece.start
        else:
            rest_lengths.append(0)
    rest_lengths = rest_lengths[:-1]  # the rest before each of the 16 gesture repetitions
    assert len(rest_lengths) == 16 and max(rest_lengths) - min(rest_lengths) <= 1


def test_interleaved_order_is_deterministic_for_a_seed():
    items = person()
    first = build_stream(items, seed=5)
    again = build_stream(items, seed=5)
    assert first.pieces == again.pieces
    np.testing.assert_array_equal(first.signal, again.signal)
    orders = {tuple(p.source for p in build_stream(items, seed=seed).pieces) for seed in range(6)}
    assert len(orders) > 1  # the seed does change the order
    gesture_orders = {tuple(active_labels(build_stream(items, seed=seed))[:4]) for seed in range(12)}
    assert len(gesture_orders) > 1


def test_fewest_repeats_when_one_gesture_dominates():
    labels = [1] * 5 + [2] + [3]
    order = interleaved_order(labels, seed=0)
    assert sorted(order) == list(range(7))
    ordered = [labels[i] for i in order]
    repeats = sum(a == b for a, b in zip(ordered, ordered[1:]))
    assert repeats == 2 * 5 - 7 - 1  # the fewest possible: 1 _ 1 _ 1 1 1
    uneven = [1] * 4 + [2] * 3 + [3] * 2 + [4]  # possible without repeats
    ordered = [uneven[i] for i in interleaved_order(uneven, seed=1)]
    assert all(a != b for a, b in zip(ordered, ordered[1:]))


def test_without_rest_recordings_gestures_follow_each_other():
    items = person(rest_reps=0)
    stream = build_stream(items, seed=0)
    assert_every_repetition_once(stream, items)
    assert REST not in {p.label for p in stream.pieces}
    only_rest = person(counts={}, rest_reps=2)
    assert [p.source for p in build_stream(only_rest).pieces] == [0, 1]


def test_accepts_named_repetitions_and_store_recordings():
    items = person(counts={1: 2, 2: 2}, rest_reps=1)
    named = [Repetition(label, rep, "s", emg) for label, rep, emg in items]
    assert build_stream(named, seed=2).pieces == build_stream(items, seed=2).pieces
    # a store recording: repetitions back to back, a table; pinch is left out
    signal = np.concatenate([emg for _, _, emg in items] + [np.zeros((10, C), np.int8)])
    lengths = [len(emg) for _, _, emg in items] + [10]
    reps = pd.DataFrame({column: np.zeros(len(lengths), dtype=dtype) for column, dtype in REP_COLUMNS.items()})
    reps["offset"] = np.r_[0, np.cumsum(lengths)[:-1]]
    reps["length"] = lengths
    reps["label"] = [label for label, _, _ in items] + [PINCH]
    reps["rep_index"] = [rep for _, rep, _ in items] + [0]
    from_store = repetitions_from_recording(UserRecording(1, "user1", "test", signal, reps))
    assert [(label, rep) for label, rep, _ in from_store] == [(label, rep) for label, rep, _ in items]
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(from_store, items))
    assert build_stream(from_store, seed=2).pieces == build_stream(items, seed=2).pieces
    table = build_stream(items).pieces_table()
    assert (
        list(table.columns) == ["start", "end", "label", "rep", "source"] and table["end"].iat[-1] == len(signal) - 10
    )


def test_bad_input_is_named():
    items = person(counts={1: 1}, rest_reps=1)
    with pytest.raises(ValueError, match="order='random'"):
        build_stream(items, order="random")
    with pytest.raises(ValueError, match="no repetitions"):
        build_stream([])
    with pytest.raises(ValueError, match=r"repetition 1: expected an int8 \(T>0, C\) array, got float64"):
        build_stream([items[0], (1, 0, np.zeros((5, C)))])
    with pytest.raises(ValueError, match="repetition 1 has 4 channels, the first has 8"):
        build_stream([items[0], (1, 0, np.zeros((5, 4), np.int8))])
    with pytest.raises(ValueError, match="repetition 0: label 9"):
        build_stream([(9, 0, items[0][2])])
    with pytest.raises(ValueError, match="repetition 0: expected"):
        build_stream([items[0][2]])


def store_recording(items, pinch_samples=10):
    """A store recording of `items` back to back (plus a pinch repetition at the end, never used)."""
    signal = np.concatenate([emg for _, _, emg in items] + [np.zeros((pinch_samples, C), np.int8)])
    lengths = [len(emg) for _, _, emg in items] + [pinch_samples]
    reps = pd.DataFrame({column: np.zeros(len(lengths), dtype=dtype) for column, dtype in REP_COLUMNS.items()})
    reps["offset"] = np.r_[0, np.cumsum(lengths)[:-1]]
    reps["length"] = lengths
    reps["label"] = [label for label, _, _ in items] + [PINCH]
    reps["rep_index"] = [rep for _, rep, _ in items] + [0]
    return UserRecording(1, "user1", "test", signal, reps)


def every_window(rec, window=8, stride=3):
    """(rep row, absolute start) of every window inside each used repetition."""
    rows, starts = [], []
    for row in range(len(rec.reps) - 1):
        offset, length = int(rec.reps["offset"].iat[row]), int(rec.reps["length"].iat[row])
        for s in range(0, length - window + 1, stride):
            rows.append(row)
            starts.append(offset + s)
    return np.array(rows), np.array(starts)


def test_windows_move_with_their_repetition_into_the_stream():
    from emgcore.rotation.stream_order import recording_stream_windows

    items = person(counts={1: 3, 2: 3, 3: 2}, rest_reps=2, seed=4)
    rec = store_recording(items)
    rows, starts = every_window(rec)
    signal, same, kept = recording_stream_windows(rec, rows, starts, 8, "recording")
    assert signal is rec.signal and np.array_equal(same, starts) and kept.all()
    signal, new, kept = recording_stream_windows(rec, rows, starts, 8, "interleaved", seed=1)
    assert np.array_equal(signal, build_stream(repetitions_from_recording(rec), "interleaved", 1).signal)
    labels = rec.reps["label"].to_numpy()[rows]
    # every window keeps its content (channels 0-1 name the repetition and the sample) ...
    for i in np.flatnonzero(kept):
        np.testing.assert_array_equal(signal[new[i] : new[i] + 8], rec.signal[starts[i] : starts[i] + 8])
    # ... every active window is kept, and only rest windows that a rest-segment cut runs through are dropped
    assert kept[labels != REST].all()
    # a dropped window's samples (channel 0: repetition, 1: sample number) are nowhere consecutive in the stream
    assert (~kept).any()
    ids = signal[:, 0].astype(np.int64) * 100 + signal[:, 1]
    runs = {tuple(ids[p : p + 8]) for p in range(len(ids) - 7)}
    for i in np.flatnonzero(~kept):
        window_ids = (
            rec.signal[starts[i] : starts[i] + 8, 0].astype(np.int64) * 100 + rec.signal[starts[i] : starts[i] + 8, 1]
        )
        assert labels[i] == REST and tuple(window_ids) not in runs
    with pytest.raises(ValueError, match="order"):
        recording_stream_windows(rec, rows, starts, 8, "shuffled")

"""Segmentation, windowing variants, rest threshold and window-index persistence."""

import numpy as np
import pandas as pd
import pytest

from emgcore.data.store import UserRecording
from emgcore.preprocess.segmentation import VARIANTS, rest_keep_mask, rest_threshold, segment_bounds, window_repetition
from emgcore.preprocess.window_index import WindowIndex, build_window_index, load_window_index, save_window_index

W, S = 40, 2


def burst(length=500, begin=100, end=300, channel=3, amplitude=100, noise=0, seed=0):
    """Int8 repetition: optional small noise, a square-wave burst on one channel in [begin, end)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-noise, noise + 1, size=(length, 8)) if noise else np.zeros((length, 8))
    x[begin:end, channel] = amplitude * np.where(np.arange(end - begin) % 2, 1, -1)
    return x.astype(np.int8)


def recording(subject, reps, seed=0):
    """UserRecording from (label, length, (begin, end) or None) tuples laid back to back."""
    pieces, rows, offset = [], [], 0
    for i, (label, length, span) in enumerate(reps):
        piece = burst(length, *span, seed=seed + i) if span else np.zeros((length, 8), np.int8)
        pieces.append(piece)
        rows.append(
            dict(offset=offset, length=length, label=label, rep_index=i, block=0, pb=-1, pe=-1, subject=subject)
        )
        offset += length
    return UserRecording(subject, f"training/user{subject}", "test", np.concatenate(pieces), pd.DataFrame(rows))


def test_energy_segment_matches_burst_exactly_with_smoothing_spread():
    # Centred MA(5) spreads a clean burst by 1 sample each side at the 0.25 level: 2/5 > 0.25 > 1/5.
    assert segment_bounds(burst(), 1, "segmented", W, S) == (99, 301)
    assert segment_bounds(burst(), 1, "relabeled", W, S) == (99, 301)


def test_energy_segment_picks_strongest_channel_under_noise():
    x = burst(noise=3, seed=1)
    x[:, 5] = np.random.default_rng(2).integers(-20, 21, 500)  # weaker but busier channel
    start, stop = segment_bounds(x, 2, "segmented", W, S)
    assert abs(start - 100) <= 2 and abs(stop - 300) <= 2


def test_standard_segment_from_threshold_crossings():
    # Full-burst window MAV = 100 / 8 = 12.5; a window is above 5 iff > 16 of its samples overlap.
    # First window above starts at 77, last at 283 -> stop 283 + 40.
    assert segment_bounds(burst(), 1, "standard", W, S, threshold=5.0) == (77, 323)


@pytest.mark.parametrize("variant", VARIANTS)
def test_raw_and_rest_repetitions_stay_whole(variant):
    assert segment_bounds(burst(), 0, variant, W, S, threshold=5.0) == (0, 500)
    assert segment_bounds(burst(), 1, "raw", W, S) == (0, 500)


@pytest.mark.parametrize("variant", ["segmented", "relabeled"])
def test_energy_fallbacks_keep_whole_repetition(variant):
    flat = np.full((300, 8), 7, dtype=np.int8)
    assert segment_bounds(flat, 1, variant, W, S) == (0, 300)
    short = burst(300, 100, 139)  # span 41 <= W + S = 42
    assert segment_bounds(short, 1, variant, W, S) == (0, 300)
    just_long = burst(300, 100, 141)  # span 43 > 42 is kept
    assert segment_bounds(just_long, 1, variant, W, S) == (99, 142)


def test_standard_fallbacks_keep_whole_repetition():
    assert segment_bounds(burst(), 1, "standard", W, S, threshold=50.0) == (0, 500)  # none above
    short = burst(500, 200, 210, amplitude=127)  # windows above 2.0: starts 166..204, span 78 <= 82
    assert segment_bounds(short, 1, "standard", W, S, threshold=2.0) == (0, 500)
    with pytest.raises(ValueError, match="threshold"):
        segment_bounds(burst(), 1, "standard", W, S)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("label", [0, 1])
def test_repetition_shorter_than_window_gives_no_windows(variant, label):
    starts, labels = window_repetition(burst(W - 1, 5, 30), label, variant, W, S, threshold=1.0)
    assert starts.size == 0 and labels.size == 0 and starts.dtype == np.int64


def test_segmented_windows_lie_inside_segment():
    starts, labels = window_repetition(burst(), 3, "segmented", W, S)
    assert starts[0] == 99 and np.all(np.diff(starts) == S)
    assert starts[-1] + W <= 301 and starts[-1] + W + S > 301
    assert np.all(labels == 3) and labels.dtype == np.int8


def test_relabeled_windows_cover_repetition_with_half_overlap_rule():
    starts, labels = window_repetition(burst(), 2, "relabeled", W, S)
    np.testing.assert_array_equal(starts, np.arange(0, 500 - W + 1, S))
    overlap = np.minimum(starts + W, 301) - np.maximum(starts, 99)
    np.testing.assert_array_equal(labels, np.where(overlap >= W // 2, 2, 0))
    assert np.all(labels[starts + W <= 99] == 0) and np.all(labels[starts >= 301] == 0)
    assert labels[starts == 80][0] == 2 and labels[starts == 78][0] == 0  # 21 vs 19 samples in


def test_pinch_is_never_windowed():
    starts, _ = window_repetition(burst(), 5, "raw", W, S)
    assert starts.size == 0
    rec = recording(0, [(5, 500, (100, 300)), (1, 500, (100, 300)), (5, 300, None)])
    for variant in VARIANTS:
        index = build_window_index([rec], variant, W, S, 4, threshold=1.0)
        assert len(index) > 0 and set(index.rep.tolist()) == {1}


def test_rest_keep_mask_keeps_every_nth_rest_window_and_all_active():
    labels = np.array([0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
    keep = rest_keep_mask(labels, 4)
    np.testing.assert_array_equal(np.flatnonzero(keep), [0, 2, 5, 6])  # rest #0 and #4


def test_rest_subsampling_counts_per_repetition():
    rec = recording(0, [(0, 240, None), (0, 100, None), (1, 500, (100, 300))])
    index = build_window_index([rec], "raw", W, S, rest_subsample=4)
    per_rep = np.bincount(index.rep, minlength=3)
    full = [(240 - W) // S + 1, (100 - W) // S + 1, (500 - W) // S + 1]  # 101, 31, 231
    assert per_rep.tolist() == [-(-full[0] // 4), -(-full[1] // 4), full[2]]
    rest_starts = index.start[index.rep == 0]
    np.testing.assert_array_equal(rest_starts, np.arange(0, 240 - W + 1, 4 * S))
    relabeled = build_window_index([rec], "relabeled", W, S, rest_subsample=4)
    _, rep_labels = window_repetition(rec.signal[340:840], 1, "relabeled", W, S)
    assert np.sum(relabeled.rep == 2) == np.sum(rep_labels == 1) + -(-np.sum(rep_labels == 0) // 4)


def test_rest_threshold_equals_mean_plus_three_std_by_hand():
    rest = np.zeros((4, 8), np.int8)
    rest[:, 0] = [8, -8, 16, 0]  # window (W=2, S=1) MAVs: 16/16, 24/16, 16/16
    other = np.zeros((3, 8), np.int8)
    other[:, 1] = [-32, 0, 32]  # MAVs: 2, 2
    active = np.full((4, 8), 100, np.int8)  # ignored: not rest
    users = [
        UserRecording(
            0, "u0", "t", np.concatenate([rest, active]), pd.DataFrame(dict(offset=[0, 4], length=[4, 4], label=[0, 1]))
        ),
        UserRecording(1, "u1", "t", other, pd.DataFrame(dict(offset=[0], length=[3], label=[0]))),
    ]
    values = np.array([1.0, 1.5, 1.0, 2.0, 2.0])
    expected = values.mean() + 3 * values.std()
    assert rest_threshold(users, 2, 1) == pytest.approx(expected, rel=1e-12)


def test_index_sorted_in_recording_order_with_absolute_starts():
    a = recording(7, [(1, 500, (100, 300)), (0, 200, None), (2, 400, (50, 250))], seed=1)
    b = recording(3, [(0, 300, None), (4, 500, (200, 400))], seed=2)
    index = build_window_index(iter([a, b]), "segmented", W, S, 4)  # a generator, out of order
    assert index.subject.dtype == np.int32 and index.rep.dtype == np.int32
    assert index.start.dtype == np.int64 and index.label.dtype == np.int8
    keys = np.lexsort((index.start, index.rep, index.subject))
    np.testing.assert_array_equal(keys, np.arange(len(index)))
    assert index.subject[0] == 3 and index.subject[-1] == 7
    first_b_active = index.start[(index.subject == 3) & (index.rep == 1)][0]
    assert first_b_active == 300 + 199
    assert set(np.unique(index.label[index.subject == 7]).tolist()) == {0, 1, 2}


def test_rep_filter_selects_rows_and_keeps_row_numbers():
    rec = recording(0, [(1, 500, (100, 300)), (2, 500, (100, 300)), (3, 500, (100, 300))])
    index = build_window_index([rec], "raw", W, S, 4, rep_filter=lambda reps: reps["label"] != 2)
    assert set(index.rep.tolist()) == {0, 2}
    assert index.start[index.rep == 2].min() == 1000


def test_bad_inputs_raise_clear_errors():
    rec = recording(0, [(1, 500, (100, 300))])
    rec.reps.loc[0, "length"] = 900
    with pytest.raises(ValueError, match="outside its signal"):
        build_window_index([rec], "raw", W, S, 4)
    with pytest.raises(ValueError, match="unknown windowing variant"):
        build_window_index([], "bogus", W, S, 4)
    with pytest.raises(ValueError, match="appears twice"):
        build_window_index([recording(1, [(0, 100, None)])] * 2, "raw", W, S, 4)


def test_save_load_round_trip(tmp_path):
    rec = recording(2, [(0, 300, None), (1, 500, (100, 300))])
    index = build_window_index([rec], "relabeled", W, S, 4)
    path = tmp_path / "windows" / "train_relabeled.npz"
    save_window_index(path, index)
    loaded = load_window_index(path)
    for name in ("subject", "rep", "start", "label"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(index, name))
        assert getattr(loaded, name).dtype == getattr(index, name).dtype
    assert (loaded.window, loaded.stride) == (W, S)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_load_rejects_bad_files(tmp_path):
    missing = tmp_path / "missing_label.npz"
    np.savez(
        missing,
        subject=np.zeros(2, np.int32),
        rep=np.zeros(2, np.int32),
        start=np.zeros(2, np.int64),
        window=40,
        stride=2,
    )
    with pytest.raises(ValueError, match=r"missing_label\.npz.*label"):
        load_window_index(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="garbage.npz"):
        load_window_index(garbage)
    ragged = tmp_path / "ragged.npz"
    np.savez(
        ragged,
        subject=np.zeros(2, np.int32),
        rep=np.zeros(3, np.int32),
        start=np.zeros(2, np.int64),
        label=np.zeros(2, np.int8),
        window=40,
        stride=2,
    )
    with pytest.raises(ValueError, match="ragged.npz.*equal lengths"):
        load_window_index(ragged)
    with pytest.raises(ValueError, match="equal lengths"):
        WindowIndex(*(np.zeros(n, np.int64) for n in (1, 2, 2, 2)), W, S)


@pytest.mark.parametrize("variant", VARIANTS)
def test_index_equals_per_repetition_windowing(variant):
    rng = np.random.default_rng(3)
    spans = [
        (int(y), int(n), (int(b), int(b + w)) if y else None)
        for y, n, b, w in zip(
            rng.integers(0, 6, 12), rng.integers(30, 600, 12), rng.integers(0, 200, 12), rng.integers(20, 300, 12)
        )
    ]
    spans = [(y, n, (min(s[0], n), min(s[1], n)) if s else None) for y, n, s in spans]
    rec = recording(5, spans, seed=4)
    index = build_window_index([rec], variant, W, S, rest_subsample=3, threshold=4.0)
    expected_start, expected_label, expected_rep = [], [], []
    for row, (offset, length, label) in enumerate(rec.reps[["offset", "length", "label"]].values):
        if label == 5:
            continue
        starts, labels = window_repetition(rec.signal[offset : offset + length], label, variant, W, S, threshold=4.0)
        keep = rest_keep_mask(labels, 3)
        expected_start.append(starts[keep] + offset)
        expected_label.append(labels[keep])
        expected_rep.append(np.full(keep.sum(), row))
    np.testing.assert_array_equal(index.start, np.concatenate(expected_start))
    np.testing.assert_array_equal(index.label, np.concatenate(expected_label))
    np.testing.assert_array_equal(index.rep, np.concatenate(expected_rep))
    assert np.all(index.subject == 5)


def test_window_runs_round_trip_irregular_windows():
    from emgcore.preprocess.window_index import _WindowRuns

    rng = np.random.default_rng(7)
    start = np.cumsum(rng.choice([1, 2, 2, 2, 8, 8, 5], size=500)).astype(np.int64)
    rep = np.sort(rng.integers(0, 10, 500)).astype(np.int32)
    label = rng.choice([0, 0, 0, 3], size=500).astype(np.int8)
    runs = _WindowRuns.encode(rep, start, label)
    out = (np.empty(500, np.int32), np.empty(500, np.int64), np.empty(500, np.int8))
    runs.expand_into(*out)
    for got, want in zip(out, (rep, start, label)):
        np.testing.assert_array_equal(got, want)

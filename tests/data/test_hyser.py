"""Tests of the Hyser reader, its synthetic writer and the disentangle recordings interface."""

import shutil

import numpy as np
import pandas as pd
import pytest
import wfdb

from emgcore.data import hyser_synthetic as hs
from emgcore.data.hyser import (
    HYSER_CHANNELS,
    HYSER_FS,
    HyserError,
    default_grid_map,
    iter_hyser_trials,
    read_labels,
)
from emgcore.data.store import UserRecording, store_filename, write_user_store
from emgcore.disentangle.recordings import (
    GridSpec,
    epn_trials,
    hyser_grid,
    hyser_trials,
)

SMALL = {"n_subjects": 2, "sessions": (1, 2), "n_gestures": 2, "trials_per_gesture": 1, "seconds": 0.05, "seed": 3}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """A tiny synthetic tree (preprocess records only: wfdb writes ~0.4 s per 256-channel record)."""
    root = tmp_path_factory.mktemp("hyser") / "pr_dataset"
    summary = hs.write_synthetic_hyser(root, kinds=("preprocess",), **SMALL)
    return root, summary


@pytest.fixture
def one_session(synth, tmp_path):
    """A writable copy of subject 0 session 1 only, for the bad-input tests."""
    root = tmp_path / "pr_dataset"
    name = "subject01_session1"
    shutil.copytree(synth[0] / name, root / name)
    return root, root / name


def read_one(root, **kw):
    return all_hyser_trials(root, [0], sessions=(1,), **kw)


def test_default_grid_map_is_a_permutation_with_2x2_array_blocks():
    g = default_grid_map()
    assert g.shape == (16, 16)
    assert np.array_equal(np.sort(g.ravel()), np.arange(HYSER_CHANNELS))
    # each 8 x 8 block holds exactly one array's 64 channels
    for br in (0, 1):
        for bc in (0, 1):
            block = g[8 * br : 8 * br + 8, 8 * bc : 8 * bc + 8]
            assert set(np.unique(block // 64)) == {2 * br + bc}
    assert g[0, 1] - g[0, 0] == 1 and g[1, 0] - g[0, 0] == 8  # row-major within an array


def test_reader_returns_every_record_with_its_label_and_the_written_signal(synth):
    root, summary = synth
    trials = all_hyser_trials(root, None)  # None = all subjects found
    n = summary["samples_per_record"]
    assert len(trials) == 2 * 2 * 2 == summary["n_records"]
    assert {t.subject for t in trials} == {0, 1}  # folders subject01/02 -> 0-based ids
    keys = [(t.subject, t.session, t.sample) for t in trials]
    assert keys == sorted(keys)
    for t in trials:
        assert t.signal.shape == (n, HYSER_CHANNELS) and t.signal.dtype == np.float32
        assert t.fs == HYSER_FS
        assert t.gesture == t.sample  # one trial per gesture, gesture-major
    # the reader's channel order is the writer's: compare with the regenerated signal
    patterns = hs.gesture_patterns(SMALL["n_gestures"], SMALL["seed"])
    t = trials[-1]
    expected = hs.trial_signals(
        patterns,
        t.gesture - 1,
        hs.subject_profile(t.subject, SMALL["seed"]),
        t.session,
        t.subject,
        t.sample,
        n,
        HYSER_FS,
        SMALL["seed"],
    )["preprocess"]
    scale = np.abs(expected).max(axis=0)
    assert np.all(np.abs(t.signal - expected) <= 1e-3 * scale + 1e-6)


def test_gesture_subset_and_subject_selection(synth):
    root, _ = synth
    only2 = all_hyser_trials(root, [1], sessions=(2,), gestures=(2,))
    assert [(t.subject, t.session, t.gesture, t.sample) for t in only2] == [(1, 2, 2, 2)]
    common, grid = hyser_trials(root, [1], gestures=(2, 1))
    assert sorted((t.session, t.gesture) for t in common) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    by_index = {t.gesture: t for t in common if t.session == 2}
    assert np.array_equal(by_index[0].signal, only2[0].signal)  # id 2 -> index 0 (subset order)
    assert grid.shape == (16, 16) and not grid.ring and np.array_equal(grid.channel_map, default_grid_map())


def test_writer_is_deterministic_atomic_and_seed_dependent(tmp_path):
    kw = {"n_subjects": 1, "sessions": (1,), "n_gestures": 1, "trials_per_gesture": 1, "seconds": 0.05, "seed": 11}
    a, b = tmp_path / "a", tmp_path / "b"
    hs.write_synthetic_hyser(a, **kw)
    hs.write_synthetic_hyser(b, **kw)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 2 * 2 + 2  # raw + preprocess (.dat, .hea), label file, metadata json
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    hs.write_synthetic_hyser(a, **kw)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temp folders left
    with pytest.raises(FileExistsError, match="already exists"):
        hs.write_synthetic_hyser(a, overwrite=False, **kw)
    raw = all_hyser_trials(a, [0], sessions=(1,), kind="raw", gestures=None)[0].signal
    pre = all_hyser_trials(a, [0], sessions=(1,), kind="preprocess")[0].signal
    assert 0 < np.abs(raw - pre).max() < 0.5  # raw = preprocess + mains + drift
    patterns = hs.gesture_patterns(2, 0)

    def sig(seed):
        return hs.trial_signals(patterns, 0, hs.subject_profile(0, seed), 1, 0, 1, 64, 2048, seed)

    assert not np.allclose(sig(0)["preprocess"], sig(1)["preprocess"])


def test_synthetic_gestures_separable_and_subjects_distinguishable():
    """Per-trial RMS maps: nearest centroid recognises gestures across subjects and subjects across sessions."""
    seed, n_g, n_s = 0, 4, 3
    patterns = hs.gesture_patterns(n_g, seed)
    rows = []
    for s in range(n_s):
        prof = hs.subject_profile(s, seed)
        for sess in (1, 2):
            for g in range(n_g):
                x = hs.trial_signals(patterns, g, prof, sess, s, g + 1, 256, 2048.0, seed)["preprocess"]
                rms = np.sqrt((x**2).mean(0))
                rows.append((s, sess, g, rms / np.linalg.norm(rms)))
    subj, sess, gest = (np.array([r[i] for r in rows]) for i in range(3))
    X = np.stack([r[3] for r in rows])
    # gestures: leave one subject out
    correct = 0
    for s in range(n_s):
        cent = np.stack([X[(subj != s) & (gest == g)].mean(0) for g in range(n_g)])
        correct += int((np.argmax(X[subj == s] @ cent.T, 1) == gest[subj == s]).sum())
    assert correct / len(X) >= 0.6  # chance 0.25
    # subjects: session-1 map of the same gesture identifies the subject in session 2
    hits = [np.argmax(X[(sess == 1) & (gest == g)] @ X[(sess == 2) & (gest == g)].T, 0) for g in range(n_g)]
    assert np.mean([np.array_equal(h, np.arange(n_s)) for h in hits]) >= 0.75


def test_read_labels_parses_and_rejects(tmp_path):
    p = tmp_path / "label_dynamic.txt"
    p.write_text("1,2, 34,\n")
    assert read_labels(p).tolist() == [1, 2, 34]
    p.write_text("1,2.5,3")
    with pytest.raises(HyserError, match=r"label_dynamic.txt: field 2 is '2.5'"):
        read_labels(p)
    p.write_text("\n")
    with pytest.raises(HyserError, match="empty"):
        read_labels(p)
    p.write_text("1,0")
    with pytest.raises(HyserError, match="field 2"):
        read_labels(p)


def test_missing_dat_is_named(one_session):
    root, folder = one_session
    (folder / "dynamic_preprocess_sample2.dat").unlink()
    with pytest.raises(HyserError, match=r"dynamic_preprocess_sample2\.dat: missing"):
        read_one(root)


def test_label_count_mismatch_gives_both_numbers(one_session):
    root, folder = one_session
    (folder / "label_dynamic.txt").write_text("1,2,1\n")
    with pytest.raises(HyserError, match=r"label_dynamic.txt: 3 labels but 2 dynamic_preprocess sample records"):
        read_one(root)


def test_non_integer_label_in_a_session(one_session):
    root, folder = one_session
    (folder / "label_dynamic.txt").write_text("1,two\n")
    with pytest.raises(HyserError, match=r"field 2 is 'two'"):
        read_one(root)


def test_wrong_channel_count_and_fs_mismatch(one_session):
    root, folder = one_session
    with pytest.raises(HyserError, match=r"sampling rate 2048.* expected 1000"):
        read_one(root, fs=1000)
    x = np.random.default_rng(0).normal(0, 0.1, (64, 255))
    wfdb.wrsamp(
        "dynamic_preprocess_sample1",
        fs=2048,
        units=["mV"] * 255,
        sig_name=[f"ch{i + 1}" for i in range(255)],
        p_signal=x,
        fmt=["16"] * 255,
        write_dir=str(folder),
    )
    with pytest.raises(HyserError, match=r"dynamic_preprocess_sample1.hea: 255 channels, expected 256"):
        read_one(root)
    assert len(read_one(root, gestures=(2,))) == 1  # the bad record is only read when its gesture is


def test_missing_session_folder(synth):
    with pytest.raises(HyserError, match=r"subject03_session1.*not found"):
        all_hyser_trials(synth[0], [2])


def test_grid_spec_validation_and_override():
    custom = default_grid_map().T.copy()
    assert np.array_equal(hyser_grid(custom).channel_map, custom)
    with pytest.raises(ValueError, match="more than one cell"):
        GridSpec((1, 3), np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match="expected"):
        GridSpec((2, 2), np.arange(3)[None, :])
    bad = default_grid_map()
    bad[0, 0] = 300
    with pytest.raises(ValueError, match="channel 300"):
        hyser_grid(bad)


def _user(subject, labels, blocks, lengths):
    rng = np.random.default_rng(subject)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    reps = pd.DataFrame(
        {
            "offset": offsets,
            "length": lengths,
            "label": labels,
            "rep_index": np.arange(len(labels)),
            "block": blocks,
            "pb": -1,
            "pe": -1,
            "subject": subject,
        }
    )
    signal = rng.integers(-128, 128, size=(int(np.sum(lengths)), 8)).astype(np.int8)
    return UserRecording(subject=subject, user=f"training/user{subject + 1}", source="test", signal=signal, reps=reps)


def test_epn_trials_from_a_hand_made_store(tmp_path):
    users = [
        _user(4, labels=[0, 1, 2, 5, 3, 4, 1], blocks=[0, 0, 0, 0, 1, 1, 1], lengths=[10, 11, 12, 13, 14, 15, 16]),
        _user(7, labels=[4, 0, 2], blocks=[1, 1, 0], lengths=[5, 6, 7]),
    ]
    for u in users:
        write_user_store(tmp_path / store_filename(u.subject), u)
    trials, grid = epn_trials(tmp_path, [4, 7])
    got = [(t.subject, t.session, t.gesture, len(t.signal)) for t in trials]
    # rest (0) and pinch (5) dropped; fist..open -> 0..3; block 0/1 -> session 1/2; store order kept
    assert got == [
        (4, 1, 0, 11),
        (4, 1, 1, 12),
        (4, 2, 2, 14),
        (4, 2, 3, 15),
        (4, 2, 0, 16),
        (7, 2, 3, 5),
        (7, 1, 1, 7),
    ]
    assert all(t.signal.dtype == np.float32 and t.signal.shape[1] == 8 and t.fs == 200 for t in trials)
    start = 10 + 11 + 12 + 13  # the waveOut repetition follows four others
    assert np.array_equal(trials[2].signal, users[0].signal[start : start + 14].astype(np.float32))
    assert grid.shape == (1, 8) and grid.ring and grid.channel_map.tolist() == [list(range(8))]
    rest_and_open, _ = epn_trials(tmp_path, [7], gestures=(4, 0))
    assert [(t.session, t.gesture) for t in rest_and_open] == [(2, 0), (2, 1)]
    with pytest.raises(ValueError, match="gesture codes"):
        epn_trials(tmp_path, [7], gestures=(1, 9))


def all_hyser_trials(*args, **kwargs):
    """Every trial iter_hyser_trials yields, as a list."""
    return list(iter_hyser_trials(*args, **kwargs))

"""Disentangling input measures: windowing, values, grid layout, dataset I/O, scaler."""

import numpy as np
import pytest
import torch

from emgcore.disentangle.measures import (
    MEASURES,
    MeasureDataset,
    MeasureParams,
    MeasureScaler,
    build_measure_dataset,
    measure_values,
    plane_names,
    window_geometry,
    window_starts,
)
from emgcore.disentangle.recordings import GridSpec, Trial
from emgcore.features.extraction import window_features

torch.set_num_threads(1)
FS = 200.0  # Myo rate: window 50 samples, stride 25, discard 50 with the study defaults
# a 2 x 3 grid with two empty cells; channel c sits where MAP == c
MAP = np.array([[2, -1, 0], [1, 3, -1]])
GRID = GridSpec(shape=(2, 3), channel_map=MAP, ring=False)
RING = GridSpec(shape=(1, 8), channel_map=np.arange(8)[None, :], ring=True)


def noise_trial(n_samples, channels=4, seed=0, subject=0, session=1, gesture=0, fs=FS):
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_samples, channels)).astype(np.float32) * np.arange(1, channels + 1)
    return Trial(subject=subject, session=session, gesture=gesture, signal=signal.astype(np.float32), fs=fs)


def test_window_geometry_and_starts_follow_the_formula():
    assert window_geometry(2048.0) == (512, 256, 512)  # Hyser
    assert window_geometry(FS) == (50, 25, 50)
    length, stride, discard = 50, 25, 50
    for n_samples in (0, 99, 100, 101, 124, 125, 126, 400, 1003):
        starts = window_starts(n_samples, FS)
        usable = n_samples - discard
        expected = 0 if usable < length else (usable - length) // stride + 1
        assert len(starts) == expected, n_samples
        if expected:
            assert starts[0] == discard and (np.diff(starts) == stride).all()
            assert starts[-1] + length <= n_samples < starts[-1] + stride + length
    with pytest.raises(ValueError, match="overlap"):
        window_geometry(FS, overlap=1.0)


def test_dataset_window_count_and_labels_per_trial():
    trials = [
        noise_trial(n, seed=i, subject=i % 2, session=1 + i % 2, gesture=i) for i, n in enumerate((400, 99, 260, 1003))
    ]
    ds = build_measure_dataset(trials, GRID, "rms")
    counts = [len(window_starts(t.signal.shape[0], FS)) for t in trials]
    assert counts[1] == 0 and len(ds) == sum(counts)
    np.testing.assert_array_equal(ds.trial, np.repeat(np.arange(4), counts))
    np.testing.assert_array_equal(ds.gesture, np.repeat([0, 1, 2, 3], counts))
    np.testing.assert_array_equal(ds.subject, np.repeat([0, 1, 0, 1], counts))
    np.testing.assert_array_equal(ds.session, np.repeat([1, 2, 1, 2], counts))


def test_rms_by_hand_lands_on_the_channel_map_cells():
    trial = noise_trial(400, seed=3)
    ds = build_measure_dataset([trial], GRID, "rms")
    assert ds.X.shape == (len(window_starts(400, FS)), 1, 2, 3) and ds.planes == ("rms",)
    for w, start in enumerate(window_starts(400, FS)):
        window = trial.signal[start : start + 50].astype(np.float64)  # (L, C)
        rms = np.sqrt((window**2).mean(axis=0))
        for (h, col), channel in np.ndenumerate(MAP):
            expected = 0.0 if channel < 0 else rms[channel]
            assert ds.X[w, 0, h, col] == pytest.approx(expected, rel=1e-5)
    assert not ds.cell_mask[0, 1] and not ds.cell_mask[1, 2] and ds.cell_mask.sum() == 4


def test_discard_drops_the_onset():
    signal = np.ones((300, 4), np.float32)
    signal[:50] = 100.0  # the first 0.25 s only
    trial = Trial(0, 1, 0, signal, FS)
    kept = build_measure_dataset([trial], GRID, "rms")
    assert np.abs(kept.X[:, 0][:, kept.cell_mask] - 1.0).max() < 1e-6
    assert len(kept) == (300 - 50 - 50) // 25 + 1
    everything = build_measure_dataset([trial], GRID, "rms", discard_s=0.0)
    assert everything.X[0, 0, 0, 0] == pytest.approx(100.0) and len(everything) == len(kept) + 2


def test_every_measure_has_its_planes_on_both_grids():
    planes = {"raw": 8, "envelope": 8, "stft": 8, "rms": 1, "wl": 1, "td": 4, "stft_td": 12}
    ring_trial = noise_trial(300, channels=8, seed=1)
    for measure in MEASURES:
        ds = build_measure_dataset([ring_trial], RING, measure)
        assert ds.X.shape == (9, planes[measure], 1, 8) and len(ds.planes) == planes[measure]
        assert np.isfinite(ds.X).all() and ds.ring
    hyser = GridSpec((16, 16), np.arange(256).reshape(16, 16), False)
    rng = np.random.default_rng(0)
    trial = Trial(0, 1, 0, rng.standard_normal((1536, 256)).astype(np.float32), 2048.0)
    ds = build_measure_dataset([trial], hyser, "stft_td")
    assert ds.X.shape == (3, 12, 16, 16)  # (1536 - 512 - 512) // 256 + 1 windows


def test_measure_values_by_hand():
    rng = np.random.default_rng(4)
    windows = rng.standard_normal((5, 3, 50)).astype(np.float32)
    x = windows.astype(np.float64)
    raw = measure_values(windows, "raw", FS, MeasureParams(n_points=5))
    np.testing.assert_allclose(raw, x.reshape(5, 3, 5, 10).mean(-1).transpose(0, 2, 1), rtol=1e-5, atol=1e-6)
    wl = measure_values(windows, "wl", FS)
    np.testing.assert_allclose(wl[:, 0], np.abs(np.diff(x, axis=-1)).sum(-1), rtol=1e-5)
    td = measure_values(windows, "td", FS)  # planes in libemg's order MAV, ZC, SSC, WL
    np.testing.assert_allclose(td[:, 0], np.abs(x).mean(-1), rtol=1e-5)
    np.testing.assert_allclose(
        td.reshape(5, -1), window_features(windows, ["MAV", "ZC", "SSC", "WL"], {"SSC_threshold": 1e-38}), rtol=1e-6
    )
    # envelope of a constant-amplitude square wave is its amplitude everywhere
    square = np.tile(np.array([3.0, -3.0], np.float32), 25)[None, None, :]
    np.testing.assert_allclose(measure_values(square, "envelope", FS), 3.0, rtol=1e-6)
    # a 60 Hz sine peaks in the STFT band holding 60 Hz, and nowhere else
    t = np.arange(50) / FS
    sine = np.sin(2 * np.pi * 60.0 * t).astype(np.float32)[None, None, :]
    names = plane_names("stft", 50, FS, MeasureParams())
    band = [
        i for i, name in enumerate(names) if float(name[5:-2].split("-")[0]) <= 60 < float(name[5:-2].split("-")[1])
    ]
    stft = measure_values(sine, "stft", FS)[0, :, 0]
    assert len(band) == 1 and stft.argmax() == band[0]


def test_bad_inputs_raise_clearly():
    with pytest.raises(ValueError, match="unknown measure"):
        build_measure_dataset([noise_trial(300)], GRID, "mfcc")
    with pytest.raises(ValueError, match="sampling rate"):
        build_measure_dataset([noise_trial(300), noise_trial(300, fs=100.0)], GRID, "rms")
    with pytest.raises(ValueError, match="channel 3"):
        build_measure_dataset([noise_trial(300, channels=3)], GRID, "rms")
    with pytest.raises(ValueError, match="long enough"):
        build_measure_dataset([noise_trial(60)], GRID, "rms")
    nan = noise_trial(300)
    nan.signal[10, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        build_measure_dataset([nan], GRID, "rms")


def test_dataset_save_load_round_trip_and_validation(tmp_path):
    ds = build_measure_dataset([noise_trial(400, seed=s, subject=s, gesture=s) for s in range(3)], GRID, "envelope")
    path = ds.save(tmp_path / "env.npz")
    back = MeasureDataset.load(path)
    np.testing.assert_array_equal(back.X, ds.X)
    for key in ("gesture", "subject", "session", "trial", "cell_mask"):
        np.testing.assert_array_equal(getattr(back, key), getattr(ds, key))
    meta = ("measure", "grid_shape", "ring", "planes")
    assert [getattr(back, k) for k in meta] == [getattr(ds, k) for k in meta]
    assert [p.name for p in tmp_path.iterdir()] == ["env.npz"]  # no temp file left behind
    np.savez(tmp_path / "other.npz", X=ds.X)
    with pytest.raises(ValueError, match="not a measure dataset"):
        MeasureDataset.load(tmp_path / "other.npz")
    bad = ds.X.copy()
    bad[0, 0, 0, 1] = 1.0  # an empty cell
    with pytest.raises(ValueError, match="empty grid cells"):
        MeasureDataset(bad, ds.gesture, ds.subject, ds.session, "envelope", (2, 3), cell_mask=ds.cell_mask)
    with pytest.raises(ValueError, match="gesture must have shape"):
        MeasureDataset(ds.X, ds.gesture[:-1], ds.subject, ds.session, "envelope", (2, 3))


def test_scaler_standardises_each_plane_on_occupied_cells_only():
    ds = build_measure_dataset([noise_trial(600, seed=s) for s in range(4)], GRID, "td")
    train, test = ds.X[:20], ds.X[20:]
    scaler = MeasureScaler().fit(train, ds.cell_mask)
    z = scaler.transform(train)
    occupied = z[:, :, ds.cell_mask]
    np.testing.assert_allclose(occupied.mean(axis=(0, 2)), 0.0, atol=1e-5)
    std = occupied.std(axis=(0, 2))
    assert np.all((np.abs(std - 1) < 1e-4) | (std == 0))  # constant planes (e.g. ZC) are not blown up
    assert (z[:, :, ~ds.cell_mask] == 0).all()
    again = MeasureScaler.from_state(scaler.state_dict())
    np.testing.assert_array_equal(again.transform(test), scaler.transform(test))
    with pytest.raises(ValueError, match="not fitted"):
        MeasureScaler().transform(test)
    with pytest.raises(ValueError, match="planes"):
        scaler.transform(test[:, :2])

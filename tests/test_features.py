"""Hand-crafted features through libemg, feature tables, FeatureDataset/Scaler and the LDA baseline."""

import numpy as np
import pytest
import torch
from libemg.feature_extractor import FeatureExtractor

from emgcore.features import (
    DEFAULT_FEATURES, DEFAULT_PARAMS, FeatureDataset, FeatureScaler, compute_feature_table,
    load_feature_table, resolve_features, save_feature_table, subwindow_features, window_features,
)
from emgcore.preprocess import WindowIndex
from emgcore.windows import WindowDataset, make_loader

torch.set_num_threads(1)
W = 40


def random_windows(n=50, seed=0):
    return np.random.default_rng(seed).integers(-128, 128, size=(n, 8, W), dtype=np.int8)


def window_dataset(n=333, seed=1):
    rng = np.random.default_rng(seed)
    signals = {s: rng.integers(-128, 128, size=(400, 8), dtype=np.int8) for s in (0, 2, 5)}
    subjects = np.sort(rng.choice([0, 2, 5], size=n))
    starts = rng.integers(0, 400 - W + 1, size=n)
    index = WindowIndex(subjects, np.zeros(n, np.int32), starts, rng.integers(0, 5, size=n), W, 2)
    return WindowDataset(index, signals)


def test_window_features_equal_libemg_on_the_same_windows():
    windows = random_windows()
    ours = window_features(windows)  # int8 in, converted to float before libemg (no overflow)
    theirs = FeatureExtractor().extract_features(
        list(DEFAULT_FEATURES), windows.astype(np.float64),
        feature_dic={"SSC_threshold": DEFAULT_PARAMS["SSC_threshold"]}, array=True)
    assert ours.dtype == np.float32 and ours.shape == (50, 8 * len(DEFAULT_FEATURES))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    # tensors and int8 arrays give the same features
    np.testing.assert_array_equal(window_features(torch.from_numpy(windows).float()), ours)


def test_mav_and_wl_by_hand_in_adc_units():
    windows = random_windows(seed=3)
    feats = window_features(windows, ["MAV", "WL"])
    x = windows.astype(np.float64)
    np.testing.assert_allclose(feats[:, :8], np.abs(x).mean(axis=2), rtol=1e-6)
    np.testing.assert_allclose(feats[:, 8:], np.abs(np.diff(x, axis=2)).sum(axis=2), rtol=1e-6)


def test_ssc_counts_strict_extrema_and_zc_strict_sign_flips():
    w = np.zeros((1, 8, 6), np.int8)
    w[0, 0] = [0, 0, 0, 0, 0, 0]  # flat: libemg's default threshold 0.0 would count 4
    w[0, 1] = [0, 2, 0, 2, 0, 2]  # four strict extrema, ZC 0 (no sign flips)
    w[0, 2] = [3, -3, 3, -3, 3, -3]  # five sign flips
    feats = window_features(w, ["SSC", "ZC"])
    assert feats[0, :3].tolist() == [0, 4, 4]
    assert feats[0, 8:11].tolist() == [0, 0, 5]
    assert window_features(w, ["SSC"], params={"SSC_threshold": 0.0})[0, 0] == 4


def test_subwindow_k_equals_features_of_kth_slice():
    windows = random_windows(n=20, seed=4)
    seq = subwindow_features(windows, "HTD", n_sub=4)
    assert seq.shape == (20, 4, 32)
    for k in range(4):
        np.testing.assert_array_equal(seq[:, k], window_features(windows[:, :, 10 * k:10 * (k + 1)]))


def test_bad_inputs_raise_clearly():
    with pytest.raises(ValueError, match="unknown libemg features"):
        window_features(random_windows(2), ["MAV", "NOPE"])
    with pytest.raises(ValueError, match=r"\(N, channels, samples\)"):
        window_features(np.zeros((8, 40)))
    with pytest.raises(ValueError, match="n_sub=3"):
        subwindow_features(random_windows(2), n_sub=3)
    with pytest.raises(ValueError, match="non-finite"):
        window_features(np.zeros((2, 8, 40)), ["SKEW"])  # skewness of a constant window
    assert resolve_features("HTD") == ["MAV", "ZC", "SSC", "WL"]


def test_feature_table_chunked_equals_one_shot_and_round_trips(tmp_path):
    dataset = window_dataset()
    X1, y1, s1 = compute_feature_table(dataset, chunk=len(dataset), progress=False)
    X7, y7, s7 = compute_feature_table(dataset, chunk=7, progress=False)
    np.testing.assert_array_equal(X1, X7)
    np.testing.assert_array_equal(y1, y7)
    np.testing.assert_array_equal(s1, s7)
    x_all, y_all, s_all = dataset.__getitems__(np.arange(len(dataset)))
    np.testing.assert_array_equal(X1, window_features(x_all))
    np.testing.assert_array_equal(y1, y_all.numpy())
    np.testing.assert_array_equal(s1, s_all.numpy())

    Xs, _, _ = compute_feature_table(dataset, mode="subwindow", chunk=50, progress=False)
    assert Xs.shape == (len(dataset), 4, 32)
    np.testing.assert_array_equal(Xs, subwindow_features(x_all))

    path = save_feature_table(tmp_path / "t" / "train_window.npz", X1, y1, s1)
    table = load_feature_table(path)
    np.testing.assert_array_equal(table["X"], X1)
    np.testing.assert_array_equal(table["subjects"], s1)
    assert table["features"] == list(DEFAULT_FEATURES) and table["mode"] == "window"
    assert table["params"] == DEFAULT_PARAMS
    assert [p.name for p in path.parent.iterdir()] == ["train_window.npz"]  # no temp files left

    with pytest.raises(ValueError, match="same length"):
        save_feature_table(tmp_path / "bad.npz", X1, y1[:-1], s1)
    np.savez(tmp_path / "other.npz", X=X1)
    with pytest.raises(ValueError, match="not a feature table"):
        load_feature_table(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="mode"):
        compute_feature_table(dataset, mode="frames")


def test_feature_dataset_batches_through_make_loader():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(70, 4, 32)).astype(np.float32)
    y, s = rng.integers(0, 5, 70), rng.integers(0, 3, 70)
    dataset = FeatureDataset(X, y, s)
    assert len(dataset) == 70 and dataset.n_features == 32
    batches = list(make_loader(dataset, batch_size=32, shuffle=True, seed=0))
    assert [b[0].shape[0] for b in batches] == [32, 32, 6]
    xb, yb, sb = batches[0]
    assert xb.dtype == torch.float32 and xb.shape[1:] == (4, 32)
    assert yb.dtype == torch.int64 and sb.dtype == torch.int64
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == sorted(y.tolist())  # a permutation, every item once
    x0, y0, s0 = dataset[3]
    np.testing.assert_array_equal(x0.numpy(), X[3])
    assert (int(y0), int(s0)) == (y[3], s[3])
    with pytest.raises(ValueError, match="same length"):
        FeatureDataset(X, y[:5], s)


def test_feature_scaler_standardises_and_keeps_constant_features_finite():
    rng = np.random.default_rng(6)
    X = rng.normal(3.0, 5.0, size=(400, 4, 6)).astype(np.float32)
    X[..., 2] = 7.0  # a constant feature
    scaler = FeatureScaler().fit(X)
    Z = scaler.transform(X)
    flat = Z.reshape(-1, 6)
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.delete(flat.std(axis=0), 2), 1, rtol=1e-4)
    assert scaler.std[2] == 1 and np.all(flat[:, 2] == 0)
    with pytest.raises(ValueError, match="fitted on 6"):
        scaler.transform(X[..., :5])


def test_params_are_checked_typed_and_routed_per_feature():
    from emgcore.features import resolve_params

    assert resolve_params({"SSC_threshold": 2, "AR_order": 3.0}) == {"SSC_threshold": 2.0, "AR_order": 3}
    assert type(resolve_params({"SSC_threshold": np.float64(2)})["SSC_threshold"]) is float
    with pytest.raises(ValueError, match="no parameter 'SSC_thresh'"):
        resolve_params({"SSC_thresh": 1.0})
    with pytest.raises(ValueError, match="known feature"):
        resolve_params({"FOO_bar": 1})
    fs_keys = {k for k in DEFAULT_PARAMS if k.endswith("_fs")}
    libemg_fs = {f"{f}_fs" for f in FeatureExtractor().get_feature_list()
                 if f"{f}_fs" in getattr(FeatureExtractor, f"get{f}feat").__code__.co_varnames}
    assert fs_keys == libemg_fs and {DEFAULT_PARAMS[k] for k in fs_keys} == {200}
    # libemg alone would hand 'WWL_fs' to WL (substring match) and fail; routed per feature it works
    feats = window_features(random_windows(3), ["WL", "MNF"])
    assert feats.shape == (3, 16)
    mnf = FeatureExtractor().extract_features(["MNF"], random_windows(3).astype(float),
                                              feature_dic={"MNF_fs": 200}, array=True)
    np.testing.assert_allclose(feats[:, 8:], mnf, rtol=1e-5)

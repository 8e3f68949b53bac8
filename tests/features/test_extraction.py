"""Hand-crafted features through libemg: parity, definitions in ADC units, sub-windows, parameters."""

import numpy as np
import pytest
import torch
from libemg.feature_extractor import FeatureExtractor

from emgcore.features.extraction import (
    DEFAULT_FEATURES,
    DEFAULT_PARAMS,
    resolve_features,
    subwindow_features,
    window_features,
)

torch.set_num_threads(1)
W = 40


def random_windows(n=50, seed=0):
    return np.random.default_rng(seed).integers(-128, 128, size=(n, 8, W), dtype=np.int8)


def test_window_features_equal_libemg_on_the_same_windows():
    windows = random_windows()
    ours = window_features(windows)  # int8 in, converted to float before libemg (no overflow)
    theirs = FeatureExtractor().extract_features(
        list(DEFAULT_FEATURES),
        windows.astype(np.float64),
        feature_dic={"SSC_threshold": DEFAULT_PARAMS["SSC_threshold"]},
        array=True,
    )
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
        np.testing.assert_array_equal(seq[:, k], window_features(windows[:, :, 10 * k : 10 * (k + 1)]))


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


def test_params_are_checked_typed_and_routed_per_feature():
    from emgcore.features.extraction import resolve_params

    assert resolve_params({"SSC_threshold": 2, "AR_order": 3.0}) == {"SSC_threshold": 2.0, "AR_order": 3}
    assert type(resolve_params({"SSC_threshold": np.float64(2)})["SSC_threshold"]) is float
    with pytest.raises(ValueError, match="no parameter 'SSC_thresh'"):
        resolve_params({"SSC_thresh": 1.0})
    with pytest.raises(ValueError, match="known feature"):
        resolve_params({"FOO_bar": 1})
    fs_keys = {k for k in DEFAULT_PARAMS if k.endswith("_fs")}
    libemg_fs = {
        f"{f}_fs"
        for f in FeatureExtractor().get_feature_list()
        if f"{f}_fs" in getattr(FeatureExtractor, f"get{f}feat").__code__.co_varnames
    }
    assert fs_keys == libemg_fs and {DEFAULT_PARAMS[k] for k in fs_keys} == {200}
    # libemg alone would hand 'WWL_fs' to WL (substring match) and fail; routed per feature it works
    feats = window_features(random_windows(3), ["WL", "MNF"])
    assert feats.shape == (3, 16)
    mnf = FeatureExtractor().extract_features(
        ["MNF"], random_windows(3).astype(float), feature_dic={"MNF_fs": 200}, array=True
    )
    np.testing.assert_allclose(feats[:, 8:], mnf, rtol=1e-5)

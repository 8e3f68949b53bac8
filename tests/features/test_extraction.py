"""The pipeline's feature entry (emgcore.features.extraction): definitions in ADC units with the
config's parameters, sub-windows, devices, and clear errors. Parity with libemg itself is in
test_native_reference.py (committed vectors) and test_native_live_parity.py (libemg installed)."""

import numpy as np
import pytest
import torch

from emgcore.features.extraction import resolve_features, resolve_params, subwindow_features, window_features
from tests.helpers.settings import default_config

torch.set_num_threads(1)
W = 40
PIPELINE = default_config()["training"]["feature_params"]  # config.yaml: SSC 1.0, fs 200
HTD = ["MAV", "ZC", "SSC", "WL"]


def random_windows(n=50, seed=0):
    return np.random.default_rng(seed).integers(-128, 128, size=(n, 8, W), dtype=np.int8)


def test_mav_and_wl_by_hand_in_adc_units_from_int8_arrays_and_tensors():
    windows = random_windows(seed=3)
    feats = window_features(windows, ["MAV", "WL"], PIPELINE)
    assert feats.dtype == torch.float32 and feats.shape == (50, 16)
    x = windows.astype(np.float64)
    np.testing.assert_allclose(feats[:, :8], np.abs(x).mean(axis=2), rtol=1e-6)
    np.testing.assert_allclose(feats[:, 8:], np.abs(np.diff(x, axis=2)).sum(axis=2), rtol=1e-6)
    same = window_features(torch.from_numpy(windows).float(), ["MAV", "WL"], PIPELINE)
    torch.testing.assert_close(same, feats, rtol=1e-6, atol=0)


def test_ssc_counts_strict_extrema_with_the_pipeline_threshold_and_zc_strict_sign_flips():
    w = np.zeros((1, 8, 6), np.int8)
    w[0, 0] = [0, 0, 0, 0, 0, 0]  # flat: libemg's default threshold 0.0 counts 4
    w[0, 1] = [0, 2, 0, 2, 0, 2]  # four strict extrema, ZC 0 (no sign flips)
    w[0, 2] = [3, -3, 3, -3, 3, -3]  # five sign flips
    feats = window_features(w, ["SSC", "ZC"], PIPELINE)
    assert feats[0, :3].tolist() == [0, 4, 4]
    assert feats[0, 8:11].tolist() == [0, 0, 5]
    assert window_features(w, ["SSC"], {"SSC_threshold": 0.0})[0, 0] == 4
    assert window_features(w, ["SSC"], None)[0, 0] == 4  # no parameters: libemg's defaults


def test_subwindow_k_equals_features_of_kth_slice():
    windows = random_windows(n=20, seed=4)
    seq = subwindow_features(windows, "HTD", n_sub=4, params=PIPELINE)
    assert seq.shape == (20, 4, 32)
    for k in range(4):
        np.testing.assert_array_equal(seq[:, k], window_features(windows[:, :, 10 * k : 10 * (k + 1)], HTD, PIPELINE))


def test_sampling_rate_parameters_reach_their_feature_only():
    """libemg hands 'WWL_fs' to WL as well (its keys match by substring) and crashes; natively each
    parameter reaches its own feature, and the Myo's 200 Hz changes the DFTR bands."""
    windows = random_windows(n=6, seed=5)
    feats = window_features(windows, ["WL", "DFTR"], PIPELINE)
    assert feats.shape == (6, 8 + 8)  # one DFTR band (20-92 Hz) lies below 100 Hz (6 bands at 1000 Hz)
    assert window_features(windows, ["DFTR"], None).shape == (6, 48)
    np.testing.assert_array_equal(feats[:, :8], window_features(windows, ["WL"], None))


def test_features_on_the_requested_device():
    windows = random_windows(n=4)
    feats = window_features(windows, HTD, PIPELINE, device="cpu")
    assert feats.device.type == "cpu"
    if torch.cuda.is_available():
        gpu = window_features(windows, HTD, PIPELINE, device="cuda")
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), feats, rtol=1e-5, atol=1e-5)


def test_bad_inputs_raise_clearly():
    with pytest.raises(ValueError, match="unsupported feature or group 'NOPE'.*supported features: MAV"):
        window_features(random_windows(2), ["MAV", "NOPE"], PIPELINE)
    with pytest.raises(ValueError, match=r"shape \(N, C, W\)"):
        window_features(np.zeros((8, 40)), HTD, PIPELINE)
    with pytest.raises(ValueError, match="not divisible by subwindows=3"):
        subwindow_features(random_windows(2), HTD, n_sub=3, params=PIPELINE)
    with pytest.raises(ValueError, match="non-finite"):
        window_features(np.zeros((2, 8, 40)), ["COR"], PIPELINE, flat_fill=None)  # correlation of constant windows
    with pytest.raises(ValueError, match="NaN"):
        window_features(np.full((2, 8, 40), np.nan), HTD, PIPELINE)
    with pytest.raises(ValueError, match="duplicate"):
        resolve_features(["MAV", "MAV"])
    assert resolve_features("HTD") == HTD


@pytest.mark.parametrize("group", ["ITD", "LS4", "MSWT", "TDPSD", "LS9"])
def test_statistics_of_constant_channels_become_flat_fill_and_nothing_else_changes(group):
    """libemg's -inf / NaN on a flat channel (MFL, COR, WENT, TDPSD) become FLAT_FILL; every finite value,
    and every value of the windows that are not flat, stays libemg's."""
    from emgcore.features import native
    from emgcore.features.extraction import FLAT_FILL

    x = random_windows(4)
    x[0] = 0  # flat everywhere
    x[1, 3] = 5  # one constant channel
    for sub in (None, 4):
        raw = native.extract(x, group, PIPELINE, subwindows=sub)
        assert not bool(torch.isfinite(raw).all())  # the case exists for this group
        filled = window_features(x, group, PIPELINE) if sub is None else subwindow_features(x, group, params=PIPELINE)
        finite = torch.isfinite(raw)
        torch.testing.assert_close(filled[finite], raw[finite])
        assert bool((filled[~finite] == FLAT_FILL).all())
        assert bool(finite[2:].all())  # windows without a constant channel are untouched


def test_params_are_checked_by_name():
    assert resolve_params(PIPELINE) == PIPELINE
    assert resolve_params(None) == {}
    with pytest.raises(ValueError, match="unknown parameter 'SSC_thresh'"):
        resolve_params({"SSC_thresh": 1.0})
    with pytest.raises(ValueError, match="WAMP_threshold must be a number"):
        resolve_params({"WAMP_threshold": "high"})

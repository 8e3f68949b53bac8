"""Native features against libemg 2.0.3 itself (skipped when libemg is not importable).

Random int8 windows (full range and a realistic amplitude) and real CIIL Myo windows, every
group, windowed and 4 x 10 sub-windowed, float32 and float64, plus non-default parameters and
libemg's quirks (COMB without AR9, the WWL_fs -> WL crash).  libemg is given the windows as
float64, the same values native reads from int8.
"""

import warnings

import numpy as np
import pytest
import torch

from emgcore.features import native
from tests.helpers.feature_parity import (
    DTYPES,
    GROUP_NAMES,
    block_slices,
    ciil_dir,
    ciil_files,
    compare_block,
    constant_channels,
    split_subwindows,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

libemg_fe = pytest.importorskip("libemg.feature_extractor", reason="libemg is not installed")


@pytest.fixture(scope="module")
def fe():
    return libemg_fe.FeatureExtractor()


def libemg_block(fe, feat, w64, params=None):
    """libemg's output for one feature (AR9 = getARfeat(AR_order=9), see native.py), on a
    C-contiguous copy: numpy sums a non-contiguous axis in another order, so libemg's last bits
    depend on the memory layout of its input."""
    w64 = np.ascontiguousarray(w64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if feat == "AR9":
            return fe.getARfeat(w64, AR_order=9)
        return fe.extract_features([feat], w64, dict(params or {}))[feat]


def real_windows(n=48):
    """n (8, 40) int8 windows at random offsets of n // 4 random CIIL recordings; None without them."""
    files = ciil_files()
    if not files:
        return None
    rng = np.random.default_rng(7)
    out = []
    for path in rng.choice(files, size=n // 4, replace=False):
        x = np.loadtxt(path, delimiter=",", dtype=np.int64)
        for start in rng.integers(0, len(x) - 40, size=4):
            out.append(x[start : start + 40].T)
    return np.ascontiguousarray(np.stack(out).astype(np.int8))


@pytest.fixture(scope="module", params=["random_full", "random_realistic", "ciil"])
def windows(request):
    rng = np.random.default_rng(11)
    if request.param == "random_full":
        return rng.integers(-128, 128, (24, 8, 40)).astype(np.int8)
    if request.param == "random_realistic":
        return np.clip(np.round(rng.normal(0, 12, (24, 8, 40))), -128, 127).astype(np.int8)
    real = real_windows()
    if real is None:
        pytest.skip(f"no CIIL recordings (*.csv) under {ciil_dir()} (set EMG_CIIL_DIR)")
    return real


@pytest.mark.parametrize("mode", ["win", "sub"])
@pytest.mark.parametrize("group", GROUP_NAMES)
def test_group_matches_libemg(fe, windows, group, mode):
    cut = windows if mode == "win" else split_subwindows(windows)
    w64 = cut.reshape(-1, 8, cut.shape[-1]).astype(np.float64)
    kw = {} if mode == "win" else {"subwindows": 4}
    outs = {d: native.extract(windows, group, dtype=t, **kw).numpy() for d, t in DTYPES.items()}
    for feat, sl in block_slices(group):
        ref = np.asarray(libemg_block(fe, feat, w64), dtype=np.float64)
        ref = ref.reshape(cut.shape[:-2] + (ref.shape[-1],))
        for d, out in outs.items():
            compare_block(feat, out[..., sl], ref, d, windows=cut)


def test_libemg_group_output_and_compat(fe, windows):
    """libemg's extract_feature_group for every group == native with libemg_compat=True."""
    w64 = windows.astype(np.float64)
    for group in GROUP_NAMES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if group in fe.get_feature_groups():
                lib = fe.extract_feature_group(group, w64, array=True)
            else:
                lib = fe.extract_features([group], w64, array=True)
        out = native.extract(windows, group, dtype=torch.float64, libemg_compat=True).numpy()
        assert out.shape == lib.shape, group
        # whole-group check (WWL is in no group)
        np.testing.assert_allclose(out, lib, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=group)


def test_comb_libemg_skips_ar9(fe):
    w = np.random.default_rng(0).integers(-50, 50, (3, 8, 40)).astype(np.float64)
    lib = fe.extract_feature_group("COMB", w)
    assert list(lib) == ["WL", "SSC", "LD"]  # 'AR9' is not a libemg feature: skipped silently
    assert native.n_columns("COMB", 8, libemg_compat=True) == 24
    assert native.n_columns("COMB", 8) == 96


def test_wwl_fs_reaches_wl_in_libemg(fe):
    """libemg routes 'WWL_fs' to WL too ('WL_' in 'WWL_fs') and crashes; compat reproduces it."""
    w = np.random.default_rng(0).integers(-50, 50, (3, 8, 40)).astype(np.float64)
    with pytest.raises(TypeError, match="WWL_fs"):
        fe.extract_features(["WL", "WWL"], w, {"WWL_fs": 200})
    with pytest.raises(TypeError, match="WWL_fs"):
        native.extract(w, ["WL", "WWL"], {"WWL_fs": 200}, libemg_compat=True)
    out = native.extract(w, ["WL", "WWL"], {"WWL_fs": 200}, dtype=torch.float64).numpy()
    ref = np.hstack([fe.extract_features(["WL"], w)["WL"], fe.extract_features(["WWL"], w, {"WWL_fs": 200})["WWL"]])
    np.testing.assert_allclose(out, ref, rtol=1e-9)


PARAMS = [
    {"WAMP_threshold": 1.0, "SSC_threshold": 1.0},
    {"WAMP_threshold": 9.5, "SSC_threshold": 24.999},
    {"AR_order": 6},
    {"DFTR_fs": 200, "WENG_fs": 200, "WV_fs": 200, "WWL_fs": 200, "WENT_fs": 200},
    {"DFTR_fs": 500.0, "WENG_fs": 100},
]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_parameters_match_libemg(fe, params):
    rng = np.random.default_rng(3)
    x = np.clip(np.round(rng.normal(0, 15, (16, 8, 40))), -128, 127).astype(np.int8)
    feats = sorted({k.split("_")[0] for k in params} | {"ZC"})
    for mode in ("win", "sub"):
        cut = x if mode == "win" else split_subwindows(x)
        w64 = cut.reshape(-1, 8, cut.shape[-1]).astype(np.float64)
        kw = {} if mode == "win" else {"subwindows": 4}
        for d, t in DTYPES.items():
            out = native.extract(x, feats, params, dtype=t, **kw).numpy()
            for feat, sl in block_slices(feats, params=params):
                own = {k: v for k, v in params.items() if k.split("_")[0] == feat}
                ref = np.asarray(libemg_block(fe, feat, w64, own), dtype=np.float64)
                compare_block(feat, out[..., sl], ref.reshape(cut.shape[:-2] + (-1,)), d, windows=cut)


def test_float_input_counts_match_libemg(fe):
    """Non-integer float input: counts are exact (compared in float64, as libemg on float64)."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1e-3, (32, 8, 40)).astype(np.float32)  # volts-like values
    x[:, :, ::7] = 0.0
    w64 = x.astype(np.float64)
    p = {"WAMP_threshold": 1e-3, "SSC_threshold": 1e-7}
    out = native.extract(x, ["ZC", "SSC", "WAMP"], p).numpy()
    ref = np.hstack(
        [
            fe.extract_features([f], w64, {k: v for k, v in p.items() if k.startswith(f)})[f]
            for f in ("ZC", "SSC", "WAMP")
        ]
    )
    np.testing.assert_array_equal(out, ref)


def test_constant_channel_exceptions_are_real(fe):
    """The documented exception: for a constant channel libemg's WWL approximation band is
    log(1e-10 + pywt rounding noise), not log(1e-10); native returns the exact log(1e-10)."""
    w = np.full((1, 8, 40), 127.0)
    lib = fe.extract_features(["WWL"], w)["WWL"]
    assert lib[0, 0] > -19.5  # noise-dominated (about -18.9)
    out = native.extract(w, "WWL", dtype=torch.float64).numpy()
    assert out[0, 0] == np.log(1e-10)
    np.testing.assert_allclose(out[0, 8:], lib[0, 8:], rtol=1e-9)  # detail bands agree
    assert constant_channels(w).all()


@pytest.mark.parametrize("mode", ["win", "sub"])
def test_ar_and_tdpsd_bit_identical_in_float64(fe, windows, mode):
    """AR / AR9 (Burg, librosa's operation order) and TDPSD (numpy's summation order and
    numpy's own functions) reproduce libemg bit for bit in float64 on CPU."""
    cut = windows if mode == "win" else split_subwindows(windows)
    w64 = cut.reshape(-1, 8, cut.shape[-1]).astype(np.float64)
    kw = {} if mode == "win" else {"subwindows": 4}
    for feat in ("AR", "AR9", "M0", "M2", "M4", "SPARSI", "IRF", "WLF"):
        ref = np.asarray(libemg_block(fe, feat, w64), dtype=np.float64)
        out = native.extract(windows, feat, dtype=torch.float64, **kw).numpy()
        np.testing.assert_array_equal(out.reshape(ref.shape), ref, err_msg=feat)

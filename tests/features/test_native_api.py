"""Unit tests of the public API of emgcore.features.native (no libemg needed)."""

import math

import numpy as np
import pytest
import torch

from emgcore.features import native

# column counts for C = 8, windowed, default parameters -- the numbers libemg 2.0.3 returns
# (checked against libemg in test_native_live_parity.test_libemg_group_output_and_compat)
COLUMNS_C8 = {
    "WENG": 64,
    "RMS": 8,
    "HTD": 32,
    "DFTR": 48,
    "ITD": 32,
    "LS4": 32,
    "TDAR": 64,
    "COMB": 96,
    "MSWT": 256,
    "TDPSD": 48,
    "LS9": 72,
}


@pytest.fixture(scope="module")
def x():
    rng = np.random.default_rng(0)
    return np.clip(np.round(rng.normal(0, 20, (12, 8, 40))), -128, 127).astype(np.int8)


def test_groups_and_features():
    assert set(native.GROUPS) == set(COLUMNS_C8)
    for feats in native.GROUPS.values():
        assert set(feats) <= set(native.FEATURES)
    assert native.GROUPS["COMB"] == ("WL", "SSC", "LD", "AR9")
    assert "AR9" not in native.LIBEMG_FEATURES


@pytest.mark.parametrize("group", sorted(COLUMNS_C8))
def test_column_counts_c8(x, group):
    names = native.feature_names(group, 8)
    assert len(names) == COLUMNS_C8[group] == native.n_columns(group, 8)
    assert len(set(names)) == len(names)
    assert native.extract(x, group).shape == (len(x), COLUMNS_C8[group])


def test_column_counts_compat_and_params():
    assert native.n_columns("COMB", 8, libemg_compat=True) == 24
    assert native.n_columns("TDAR", 8, {"AR_order": 6}) == 32 + 48
    assert (
        native.n_columns("MSWT", 8, {f"{f}_fs": 200 for f in ("WENG", "WV", "WWL", "WENT")}) == 4 * 6 * 8
    )  # level 5 at 200 Hz: cA5 + 5 details
    assert native.n_columns("DFTR", 8, {"DFTR_fs": 200}) == 8  # one band below 100 Hz
    assert native.n_columns("DFTR", 3) == 18


def test_feature_names_layout():
    names = native.feature_names("TDAR", 2)
    assert names[:2] == ["MAV_ch0", "MAV_ch1"]
    # AR is channel-major (libemg reshapes (N, C, order) in C order)
    assert names[8:] == [f"AR_{k}_ch{c}" for c in range(2) for k in range(4)]
    # band features are band-major
    assert native.feature_names("DFTR", 2)[:4] == ["DFTR_0_ch0", "DFTR_0_ch1", "DFTR_1_ch0", "DFTR_1_ch1"]
    assert native.feature_names("WENG", 1) == [f"WENG_{b}_ch0" for b in range(8)]


def test_unsupported_name_lists_supported(x):
    for bad in ("MDF", "FOO", ["MAV", "htd"], []):
        with pytest.raises(ValueError) as err:
            native.extract(x, bad)
        msg = str(err.value)
        assert "supported features" in msg and "MAV" in msg and "WENT" in msg
        assert "supported groups" in msg and "TDPSD" in msg and "COMB" in msg
    with pytest.raises(ValueError, match="supported"):
        native.resolve_names("SAMPEN")


def test_resolve_names():
    assert native.resolve_names("HTD") == ["MAV", "ZC", "SSC", "WL"]
    assert native.resolve_names("RMS") == ["RMS"]
    assert native.resolve_names(["HTD", "WL", "AR"]) == ["MAV", "ZC", "SSC", "WL", "AR"]


def test_unknown_parameter(x):
    with pytest.raises(ValueError, match="unknown parameter 'MDF_fs'.*WAMP_threshold"):
        native.extract(x, "HTD", {"MDF_fs": 200})
    with pytest.raises(ValueError, match="AR_order"):
        native.extract(x, "TDAR", {"AR_order": 0})
    with pytest.raises(ValueError, match="sampling rate"):
        native.extract(x, "DFTR", {"DFTR_fs": -1})
    with pytest.raises(ValueError, match="level"):
        native.extract(x, "WENG", {"WENG_fs": 3})  # floor(log2(1.5) - 1) < 0


def test_comb_native_vs_compat(x):
    full = native.extract(x, "COMB", dtype=torch.float64)
    compat = native.extract(x, "COMB", dtype=torch.float64, libemg_compat=True)
    assert full.shape == (len(x), 96) and compat.shape == (len(x), 24)
    torch.testing.assert_close(full[:, :24], compat, rtol=0, atol=0)
    ar9 = native.extract(x, "AR9", dtype=torch.float64)
    ar9_as_ar = native.extract(x, "AR", {"AR_order": 9}, dtype=torch.float64)
    torch.testing.assert_close(full[:, 24:], ar9, rtol=0, atol=0)
    torch.testing.assert_close(ar9, ar9_as_ar, rtol=0, atol=0)


def test_parameter_routing_native_vs_compat(x):
    # natively WWL_fs reaches only WWL; libemg (compat) also passes it to WL, which crashes
    out = native.extract(x, ["WL", "WWL"], {"WWL_fs": 200})
    assert out.shape == (len(x), 8 + 6 * 8)
    with pytest.raises(TypeError, match="WWL_fs"):
        native.extract(x, ["WL", "WWL"], {"WWL_fs": 200}, libemg_compat=True)
    # libemg's type assertions under compat
    with pytest.raises(TypeError, match="WAMP_threshold"):
        native.extract(x, "LS4", {"WAMP_threshold": 1}, libemg_compat=True)
    native.extract(x, "LS4", {"WAMP_threshold": 1})  # natively an int threshold is fine


def test_subwindow_shape_and_equivalence(x):
    out = native.extract(x, "TDAR", subwindows=4)
    assert out.shape == (len(x), 4, 64)
    # sub-window s of window n == the features of samples [10s, 10s+10)
    direct = native.extract(np.ascontiguousarray(x[:, :, 20:30]), "TDAR")
    torch.testing.assert_close(out[:, 2], direct, rtol=0, atol=0)
    with pytest.raises(ValueError, match="divisible"):
        native.extract(x, "HTD", subwindows=3)
    with pytest.raises(ValueError, match="longer than 9"):
        native.extract(x, "COMB", subwindows=8)  # AR9 on 5 samples


def test_dtype_and_device(x):
    f32 = native.extract(x, "LS9")
    f64 = native.extract(x, "LS9", dtype=torch.float64, device="cpu")
    assert f32.dtype == torch.float32 and f64.dtype == torch.float64
    assert f32.device.type == "cpu" and f64.device.type == "cpu"
    torch.testing.assert_close(f32.double(), f64, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="dtype"):
        native.extract(x, "HTD", dtype=torch.float16)
    t = torch.from_numpy(x)
    torch.testing.assert_close(native.extract(t, "HTD"), native.extract(x, "HTD"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(x):
    for group in ("MSWT", "TDAR", "COMB", "LS9", "TDPSD", "DFTR"):
        cpu = native.extract(x, group, dtype=torch.float64)
        gpu = native.extract(x, group, dtype=torch.float64, device="cuda")
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-9, atol=1e-9, equal_nan=True)


def test_input_dtypes(x):
    ref = native.extract(x, "LS9", dtype=torch.float64)
    for arr in (x.astype(np.int16), x.astype(np.int64), x.astype(np.float32), x.astype(np.float64)):
        torch.testing.assert_close(native.extract(arr, "LS9", dtype=torch.float64), ref, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        bad = x.astype(np.float32)
        bad[0, 0, 0] = np.nan
        native.extract(bad, "HTD")
    with pytest.raises(ValueError, match="shape"):
        native.extract(x[0], "HTD")
    with pytest.raises(ValueError, match="integer or floating"):
        native.extract(x.astype(bool), "HTD")


def test_chunking_does_not_change_results(x, monkeypatch):
    whole = native.extract(x, ["HTD", "AR9", "MSWT", "LS"], dtype=torch.float64)
    monkeypatch.setattr(native, "CHUNK_ELEMENTS", 1000)  # a few windows per chunk
    small = native.extract(x, ["HTD", "AR9", "MSWT", "LS"], dtype=torch.float64)
    # counts and AR are bit-identical; BLAS may sum the wavelet matrix product differently
    # for other batch sizes (~1e-15)
    torch.testing.assert_close(small[:, : 32 + 72], whole[:, : 32 + 72], rtol=0, atol=0)
    torch.testing.assert_close(small, whole, rtol=1e-12, atol=1e-12)


def _counts_numpy(w, wamp, ssc):
    """libemg's ZC / SSC / WAMP definitions in float64 numpy."""
    s = np.diff(np.sign(w), axis=2)
    zc = np.sum(s == 2, 2) + np.sum(s == -2, 2)
    prod = (w[:, :, 1:-1] - w[:, :, :-2]) * (w[:, :, 1:-1] - w[:, :, 2:])
    return zc, np.sum(prod >= ssc, 2), np.sum(np.abs(np.diff(w, axis=2)) > wamp, 2)


@pytest.mark.parametrize(
    "t", [0.0, 2e-3, 1.0, 1 - 1e-9, 1 + 1e-9, 3.0000001, 2.9999999, 16.5, -1.0, math.inf, 65025.0, 1e30]
)
def test_counts_exact_at_threshold_edges(t):
    """Thresholds that float32 cannot represent exactly still give libemg's float64 counts."""
    rng = np.random.default_rng(1)
    x = rng.integers(-6, 7, (50, 8, 40)).astype(np.int8)
    x[:, :, 10:14] = 3  # equal neighbours
    w = x.astype(np.float64)
    zc, ssc, wamp = _counts_numpy(w, t, t)
    for dtype in (torch.float32, torch.float64):
        for arr in (x, w.astype(np.float32)):
            out = native.extract(
                arr, ["ZC", "SSC", "WAMP"], {"WAMP_threshold": t, "SSC_threshold": t}, dtype=dtype
            ).numpy()
            np.testing.assert_array_equal(out, np.hstack([zc, ssc, wamp]))


def test_documented_edge_values():
    zeros = np.zeros((1, 2, 40), dtype=np.int8)
    const = np.full((1, 2, 40), 5, dtype=np.int8)
    z = dict(
        zip(
            native.feature_names(["ZC", "SSC", "MFL", "COR", "M0", "WLF", "WENT", "AR", "MLK"], 2),
            native.extract(zeros, ["ZC", "SSC", "MFL", "COR", "M0", "WLF", "WENT", "AR", "MLK"], dtype=torch.float64)[
                0
            ].tolist(),
        )
    )
    assert z["SSC_ch0"] == 38  # equal neighbours count with the default threshold 0.0
    assert z["ZC_ch0"] == 0 and z["MFL_ch0"] == -math.inf
    assert math.isnan(z["COR_ch0"]) and math.isnan(z["M0_ch0"]) and math.isnan(z["WLF_ch0"])
    assert math.isnan(z["WENT_0_ch0"]) and z["AR_0_ch0"] == 0.0
    assert z["MLK_ch0"] == pytest.approx(math.log(2.0**-52) / 40)
    c = native.extract(const, ["AR", "SSC", "WLF"], dtype=torch.float64)[0].tolist()
    assert c[:4] == [-1.0, 0.0, 0.0, 0.0] and c[8] == 38 and math.isnan(c[10])
    # a crossing through an exact 0 is not a zero crossing
    via0 = np.tile(np.array([1, 0, -1, 0], dtype=np.int8), 10)[None, None]
    assert native.extract(via0, "ZC")[0, 0] == 0
    # WAMP's default threshold (2e-3, for volts) counts every non-zero ADC difference
    assert native.extract(via0, "WAMP")[0, 0] == 39

"""The numba CPU kernels of emgcore.features (wavelet_kernel: WENG WV WWL WENT for float32 output;
tdpsd_kernel: TDPSD for float32 output; burg_kernel: AR / AR9) and their vectorised float64
log / exp (vecmath) against the torch and exact paths of emgcore.features.native, which the
libemg parity tests hold to libemg (with the kernels on, as they run by default)."""

import numpy as np
import pytest
import torch

from emgcore.features import burg_kernel, jit, native, tdpsd_kernel, vecmath, wavelet_kernel

WAVELET = ["WENG", "WV", "WWL", "WENT"]


def edge_windows() -> np.ndarray:
    """(12, 8, 40) int8: random full-range and realistic windows plus zeros, constants, a spike,
    alternating signs, saturation, a ramp and a channel constant except one sample."""
    rng = np.random.default_rng(3)
    full = rng.integers(-128, 128, (4, 8, 40))
    real = np.clip(np.round(rng.normal(0, 12, (4, 8, 40))), -128, 127)
    edge = np.zeros((4, 8, 40))
    edge[0, 1] = 5
    edge[0, 2] = 127
    edge[0, 3] = -128
    edge[1, 0, 17] = 90  # one spike on zeros
    edge[1, 1] = np.tile([1, -1], 20)
    edge[1, 2] = np.tile([127, -128], 20)
    edge[2] = np.arange(40) - 20  # ramp
    edge[3] = 100
    edge[3, :, 7] = 101  # constant but for one sample
    return np.concatenate([full, real, edge]).astype(np.int8)


def torch_path(x, names, **kw):
    native.USE_KERNELS = False
    try:
        return native.extract(x, names, **kw)
    finally:
        native.USE_KERNELS = True


def assert_same_features(fast: torch.Tensor, ref: torch.Tensor, rtol: float = 1e-5):
    fast, ref = fast.double().numpy(), ref.double().numpy()
    assert fast.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(fast), np.isinf(ref))
    fin = np.isfinite(ref)
    err = np.abs(fast[fin] - ref[fin]) / np.maximum(np.abs(ref[fin]), 1.0)
    assert err.max() <= rtol, err.max()


def test_numba_is_there_and_the_kernels_run(monkeypatch):
    """numba is a dependency: the fast paths must not silently fall back to torch."""
    assert jit.available()
    calls = []
    for module, name in ((wavelet_kernel, "band_features"), (burg_kernel, "burg"), (tdpsd_kernel, "tdpsd")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    native.extract(edge_windows(), "MSWT")
    native.extract(edge_windows(), "COMB", dtype=torch.float64)
    assert set(calls) == {"band_features", "burg"}
    native.extract(edge_windows(), "TDPSD", subwindows=4)
    assert calls[-1] == "tdpsd"


@pytest.mark.parametrize("subwindows", [None, 4])
@pytest.mark.parametrize("names", [["WENG"], WAVELET, ["WENT", "MAV", "WV"]])
def test_kernel_matches_the_torch_path(names, subwindows):
    x = edge_windows()
    fast = native.extract(x, names, subwindows=subwindows)
    assert_same_features(fast, torch_path(x, names, subwindows=subwindows))


def test_every_band_of_every_column_lands_in_its_place():
    """Different rates give different levels (bands) per feature; a channel count that is not a
    divisor of the kernel's block and more rows than one block."""
    rng = np.random.default_rng(5)
    x = rng.integers(-40, 40, (97, 3, 40)).astype(np.int8)
    params = {"WENG_fs": 200, "WV_fs": 1000, "WWL_fs": 500, "WENT_fs": 200}
    names = ["WWL", "RMS", "WENT", "WENG", "WV"]
    fast = native.extract(x, names, params)
    assert_same_features(fast, torch_path(x, names, params=params))
    # one window alone gives its row of the batch
    assert_same_features(native.extract(x[41:42], names, params), fast[41:42], rtol=1e-6)


def test_float_input_and_thread_count_do_not_change_the_result():
    rng = np.random.default_rng(8)
    x = rng.normal(0, 0.3, (300, 8, 40)).astype(np.float32)
    one = native.extract(x, "MSWT", threads=1)
    two = native.extract(x, "MSWT", threads=2)
    torch.testing.assert_close(one, two, rtol=0, atol=0)
    assert_same_features(one, torch_path(x, "MSWT"))


def test_subnormal_coefficients_fall_back_to_the_torch_path():
    """Squared coefficients below float32's normal range (floating-point input ~1e-21): the
    kernel's bit-level log does not hold there, so it declines and torch computes the chunk."""
    x = (np.random.default_rng(2).normal(0, 1, (4, 8, 40)) * 1e-21).astype(np.float64)
    mat, bands = native._wavelet_consts(40, 7, "cpu")
    out = np.zeros((4, 256), dtype=np.float32)
    assert not wavelet_kernel.band_features(x, 1, mat.numpy(), bands, [0, 64, 128, 192], out)
    assert wavelet_kernel.band_features(x * 1e15, 1, mat.numpy(), bands, [0, 64, 128, 192], out)
    assert_same_features(native.extract(x, "MSWT"), torch_path(x, "MSWT"))
    # |x| ~ 1e-155: e = c^2 a float64 subnormal (0 in float32, not an exact 0) or 0: as float64
    tiny = x * 1e-134
    went = native.extract(tiny, "WENT")
    assert torch.isfinite(went).any()
    assert_same_features(went, torch_path(tiny, "WENT", dtype=torch.float64).float())


def test_float64_output_keeps_the_torch_path(monkeypatch):
    monkeypatch.setattr(wavelet_kernel, "band_features", lambda *a: pytest.fail("kernel used for float64"))
    native.extract(edge_windows(), "MSWT", dtype=torch.float64)


@pytest.mark.parametrize("subwindows", [None, 4])
@pytest.mark.parametrize("feature", ["AR", "AR9"])
def test_burg_kernel_is_bit_identical_to_the_exact_torch_path(feature, subwindows):
    """librosa's operations in librosa's order: the same bits as the torch float64 path (itself
    bit-identical to libemg), for random, real-amplitude and edge windows, windowed and in
    10-sample sub-windows (AR9 of 10 samples: the ill-conditioned case)."""
    x = edge_windows()
    kernel = native.extract(x, feature, dtype=torch.float64, subwindows=subwindows)
    exact = torch_path(x, feature, dtype=torch.float64, subwindows=subwindows)
    np.testing.assert_array_equal(kernel.numpy(), exact.numpy())
    # float32 output is the same float64 coefficients rounded
    f32 = native.extract(x, feature, subwindows=subwindows)
    torch.testing.assert_close(f32, kernel.float(), rtol=0, atol=0)


def test_burg_kernel_blocks_and_orders():
    """More signals than one block (a partial last block) and every order up to W - 1."""
    rng = np.random.default_rng(4)
    xt = rng.normal(0, 20, (12, 300))
    for order in (1, 5, 11):
        fast = burg_kernel.burg(xt, order)
        exact, _ = native._burg_rows(torch.from_numpy(xt), order, True)
        np.testing.assert_array_equal(fast, exact.T.numpy())


def test_vecmath_log_and_exp_are_accurate_to_a_few_ulp():
    from numba import njit

    log64, exp64, fix_log = (njit(**jit.OPTIONS)(f) for f in (vecmath.log64, vecmath.exp64, vecmath.fix_log))
    rng = np.random.default_rng(0)
    edges = [1.0, 2.0, 0.5, np.sqrt(2), *np.nextafter(1.0, [0.0, 2.0]), 2.2250738585072014e-308, 1.7976931348623157e308]
    v = np.concatenate([np.exp(rng.uniform(-700, 700, 20000)), rng.uniform(0.5, 2.0, 20000), edges])
    out, a, b = np.empty_like(v), np.empty(len(v), np.int64), np.empty(len(v), np.int64)
    log64(v, out, a, b)
    ref = np.log(v)
    near1 = (np.abs(v - 1.0) < 1e-15) & (v != 1.0)
    assert (out[v == 1.0] == 0.0).all() and near1.sum() == 2
    np.testing.assert_array_equal(np.sign(out[near1]), np.sign(v[near1] - 1.0))  # log near 1 keeps its sign
    assert (np.abs(out - ref) <= 4 * np.spacing(np.abs(ref))).all()
    special = np.array([0.0, 5e-324, 1e-310, np.inf, np.nan])
    got = np.zeros_like(special)
    fix_log(special, got)
    np.testing.assert_array_equal(got[[0, 3]], [-np.inf, np.inf])
    np.testing.assert_allclose(got[1:3], np.log(special[1:3]), rtol=1e-15)
    assert np.isnan(got[4])
    y = np.concatenate([rng.uniform(-700, 700, 20000), rng.uniform(-1, 1, 20000), [0.0, 1e-300]])
    e, k, r = np.empty_like(y), np.empty(len(y), np.int64), np.empty_like(y)
    exp64(y, e, k, r)
    assert (np.abs(e - np.exp(y)) <= 4 * np.spacing(np.exp(y))).all()


def tdpsd_edge_windows() -> np.ndarray:
    """edge_windows plus smooth small-integer windows with sum x^2 == (W-1) sum d1^2 in 10-sample
    sub-windows: m0 and m2 come out equal (libemg: log 0 -> NaN) although their bases differ by
    an ulp."""
    rng = np.random.default_rng(0)
    n = 400_000
    x = rng.integers(-3, 4, (n, 1)) + np.cumsum(rng.integers(-1, 2, (n, 10)), axis=1)
    ties = np.flatnonzero((x * x).sum(1) == 9 * (np.diff(x, axis=1) ** 2).sum(1))
    y0 = np.sqrt((x[ties] ** 2).sum(1)) / 9
    y2 = np.sqrt((np.diff(x[ties], axis=1) ** 2).sum(1) / 9)
    ulp_apart = ties[y0 != y2]
    assert len(ulp_apart) >= 32
    tied = x[ulp_apart[:32]].reshape(1, 8, 40)  # 32 sub-windows: 8 channels x 4
    return np.concatenate([edge_windows(), tied.astype(np.int8)])


@pytest.mark.parametrize("subwindows", [None, 4])
def test_tdpsd_kernel_matches_the_exact_path(subwindows):
    """float32 output (kernel) == float64 output (libemg-exact path) rounded, with the same
    NaN / inf pattern, on random, real-amplitude, edge and tied windows and on float input."""
    rng = np.random.default_rng(2)
    cases = [
        tdpsd_edge_windows(),
        np.clip(np.round(rng.normal(0, 8, (300, 8, 40))), -128, 127).astype(np.int8),
        rng.normal(0, 1e-3, (50, 8, 40)).astype(np.float32),  # volts-like float input
        rng.normal(0, 40, (50, 8, 40)),
    ]
    for x in cases:
        fast = native.extract(x, "TDPSD", subwindows=subwindows)
        exact = native.extract(x, "TDPSD", dtype=torch.float64, subwindows=subwindows)
        assert_same_features(fast, exact, rtol=1e-7)
    xt = torch.as_tensor(cases[0][:, :, :10].astype(np.float64)).permute(2, 0, 1).reshape(10, -1).contiguous()
    ch = native._Chunk(xt.T.reshape(-1, 1, 1, 10), torch.float64, 128)
    ref = native._tdpsd_values(ch)
    got = tdpsd_kernel.tdpsd(ch.xt64.numpy(), native._efp_signal(ch).numpy())
    for k, name in enumerate(tdpsd_kernel.FEATURES):  # the kernel's float64 values themselves
        r = ref[name].reshape(-1).numpy()
        np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(r), err_msg=name)
        fin = np.isfinite(r)
        assert (np.abs(got[k][fin] - r[fin]) <= 1e-10 * np.maximum(np.abs(r[fin]), 1.0)).all(), name


def test_tdpsd_kernel_blocks_and_window_lengths():
    """Partial blocks (97 signals), lengths 2 .. MAX_W, and the exact path above MAX_W."""
    rng = np.random.default_rng(4)
    for w in (2, 3, 7, 8, 9, 16, 17, 40, tdpsd_kernel.MAX_W, tdpsd_kernel.MAX_W + 1):
        x = rng.integers(-20, 21, (97, 1, w)).astype(np.int8)
        assert_same_features(native.extract(x, "TDPSD"), native.extract(x, "TDPSD", dtype=torch.float64), rtol=1e-7)
    long = np.zeros((tdpsd_kernel.MAX_W + 1, 10))  # (W, R)
    assert tdpsd_kernel.tdpsd(long, long) is None  # numpy splits longer sums recursively: exact path


@pytest.mark.parametrize("w", [2, 10, 20, 21, 40])
def test_ls_by_pairs_equals_ls_by_sorting(w):
    """LS by pairwise differences (W <= 20) and by sorting (longer windows) give the same value:
    exactly for integers, to rounding for floats."""
    rng = np.random.default_rng(w)
    x = rng.integers(-128, 128, (64, 8, w)).astype(np.int8)
    xs = np.sort(x.astype(np.float64), axis=-1)
    wts = np.arange(1 - w, w, 2)
    ref = (xs * wts).sum(-1) / (w * (w - 1))
    np.testing.assert_array_equal(native.extract(x, "LS", dtype=torch.float64).numpy(), ref)
    np.testing.assert_array_equal(native.extract(x, "LS").numpy(), ref.astype(np.float32))
    f = rng.normal(0, 1e-3, (64, 8, w))
    ref = (np.sort(f, axis=-1) * wts).sum(-1) / (w * (w - 1))
    np.testing.assert_allclose(native.extract(f, "LS", dtype=torch.float64).numpy(), ref, rtol=1e-12, atol=1e-18)


def test_tdpsd_near_equal_moments_take_libm_powers():
    """Float windows with sum x^2 = 9 sum d1^2 (1 + eps), eps 1e-9 .. 3e-15: m0 and m2 of the ebp
    branch nearly cancel in log|m0 - m2|, so a few ulp in the powers would be ~3e-4 in M2 and
    SPARSI; the kernel takes libm's powers there and stays within 1e-12 of the exact path."""
    rng = np.random.default_rng(0)
    rows = []
    for eps in (1e-9, 1e-11, 1e-12, 1e-13, 1e-14, 3e-15):
        for _ in range(20):
            base = np.cumsum(rng.normal(0, 1, 10))
            base -= base.mean()
            c2 = (9 * (np.diff(base) ** 2).sum() * (1 + eps) - (base**2).sum()) / 10  # offset c: + 10 c^2
            if c2 > 0:
                rows.append(base + np.sqrt(c2))
    assert len(rows) >= 60
    ch = native._Chunk(torch.tensor(np.array(rows)).reshape(-1, 1, 1, 10), torch.float64, None)
    ref = native._tdpsd_values(ch)
    got = tdpsd_kernel.tdpsd(ch.xt64.numpy(), native._efp_signal(ch).numpy())
    for k, name in enumerate(tdpsd_kernel.FEATURES):
        r = ref[name].reshape(-1).numpy()
        np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(r), err_msg=name)  # exact ties: NaN
        fin = np.isfinite(r)
        assert fin.mean() > 0.8
        assert (np.abs(got[k][fin] - r[fin]) <= 1e-12 * np.maximum(np.abs(r[fin]), 1.0)).all(), name

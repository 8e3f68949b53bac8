"""The numba CPU kernels of emgcore.features (wavelet_kernel: WENG WV WWL WENT for float32 output;
burg_kernel: AR / AR9) against the torch paths of emgcore.features.native, which the libemg
parity tests hold to libemg (with the kernels on, as they run by default)."""

import numpy as np
import pytest
import torch

from emgcore.features import burg_kernel, jit, native, wavelet_kernel

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
    for module, name in ((wavelet_kernel, "band_features"), (burg_kernel, "burg")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    native.extract(edge_windows(), "MSWT")
    native.extract(edge_windows(), "COMB", dtype=torch.float64)
    assert set(calls) == {"band_features", "burg"}


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

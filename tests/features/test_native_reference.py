"""Native features against the committed libemg 2.0.3 reference vectors (no libemg needed).

``data/reference_vectors.npz`` (built by scripts/make_feature_reference.py) holds int8 windows --
real CIIL Myo windows and edge cases -- and libemg's float64 output per feature, windowed and for
4 x 10-sample sub-windows.  Every group is assembled from its features in libemg's order and
compared with ``native.extract`` in float32 and float64 (rule: ``feature_parity.compare_block``).
"""

import json

import numpy as np
import pytest
import torch

from emgcore.features import native
from tests.helpers.feature_parity import DTYPES, GROUP_NAMES, REFERENCE, block_slices, compare_block, split_subwindows


@pytest.fixture(scope="module")
def ref():
    data = np.load(REFERENCE)
    meta = json.loads(bytes(data["meta"]).decode())
    return data, meta


def test_reference_file_is_small_and_complete(ref):
    data, meta = ref
    assert REFERENCE.stat().st_size < 200 * 1024
    assert data["windows"].dtype == np.int8 and data["windows"].shape[1:] == (8, 40)
    assert set(meta["groups"]) == set(native.GROUPS) == set(GROUP_NAMES)
    for g, feats in meta["groups"].items():
        assert tuple(feats) == native.GROUPS[g], g  # the native groups are libemg's groups
    assert meta["n_real"] >= 16 and len(data["sub_index"]) >= 10


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("mode", ["win", "sub"])
@pytest.mark.parametrize("group", GROUP_NAMES)
def test_group_matches_reference(ref, group, mode, dtype):
    data, meta = ref
    windows = data["windows"]
    if mode == "win":
        x, cut = windows, windows
        out = native.extract(x, group, dtype=DTYPES[dtype])
    else:
        x = windows[data["sub_index"]]
        cut = split_subwindows(x)
        out = native.extract(x, group, dtype=DTYPES[dtype], subwindows=4)
        assert out.shape[:2] == (len(x), 4)
    assert out.dtype == DTYPES[dtype]
    out = out.numpy()
    feats = meta["groups"][group]
    assert out.shape[-1] == sum(data[f"{mode}/{f}"].shape[-1] for f in feats)
    for feat, sl in block_slices(group):
        compare_block(feat, out[..., sl], data[f"{mode}/{feat}"], dtype, windows=cut)


@pytest.mark.parametrize("mode", ["win", "sub"])
def test_comb_libemg_compat_matches_libemg_comb(ref, mode):
    """libemg's own COMB output (WL SSC LD: AR9 silently skipped) == libemg_compat=True."""
    data, _ = ref
    x = data["windows"] if mode == "win" else data["windows"][data["sub_index"]]
    kw = {} if mode == "win" else {"subwindows": 4}
    out = native.extract(x, "COMB", libemg_compat=True, dtype=torch.float64, **kw).numpy()
    lib = np.concatenate([data[f"{mode}/{f}"] for f in ("WL", "SSC", "LD")], axis=-1)
    assert out.shape == lib.shape
    for i, feat in enumerate(("WL", "SSC", "LD")):
        compare_block(feat, out[..., 8 * i : 8 * (i + 1)], lib[..., 8 * i : 8 * (i + 1)], "float64")


def test_nonfinite_patterns_are_documented(ref):
    """The reference records where libemg returns NaN / inf; the native side is checked by the
    group tests.  Pin the documented edge cases so a change in libemg would be noticed."""
    _, meta = ref
    nf = meta["nonfinite"]
    assert "zeros" in nf["win/WENT"]["windows"] and nf["win/WENT"]["values"] == ["nan"]
    assert set(nf["win/MFL"]["values"]) == {"-inf"}
    assert set(nf["win/COR"]["values"]) == {"inf", "nan"} and "ramp" in nf["win/COR"]["windows"]
    assert "constant_5" in nf["win/WLF"]["windows"]
    for feat in ("MAV", "ZC", "SSC", "WL", "AR", "AR9", "DFTR", "WENG", "WV", "WWL", "LS"):
        assert f"win/{feat}" not in nf and f"sub/{feat}" not in nf

"""The command line (emgcore.features.cli): good paths and every kind of bad input (exit 2, message, no output)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from emgcore.features import cli, native
from tests.helpers.feature_parity import REPO


@pytest.fixture()
def data(tmp_path):
    rng = np.random.default_rng(0)
    x = np.clip(np.round(rng.normal(0, 20, (6, 8, 40))), -128, 127).astype(np.int8)
    path = tmp_path / "in.npy"
    np.save(path, x)
    return x, path


def _run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_good_path(data, tmp_path, capsys):
    x, inp = data
    out = tmp_path / "out.npy"
    rc, _, err = _run(capsys, "TDAR", inp, out)
    assert rc == 0, err
    arr = np.load(out)
    assert arr.dtype == np.float32 and arr.shape == (6, 64)
    np.testing.assert_array_equal(arr, native.extract(x, "TDAR").numpy())
    assert sorted(os.listdir(tmp_path)) == ["in.npy", "out.npy"]  # no temp file left


def test_options(data, tmp_path, capsys):
    x, inp = data
    out = tmp_path / "o.npy"
    assert _run(capsys, "MAV,WL,DFTR", inp, out, "--subwindows", 4, "--fs", 200, "--float64")[0] == 0
    arr = np.load(out)
    assert arr.dtype == np.float64 and arr.shape == (6, 4, 8 + 8 + 8)
    ref = native.extract(x, ["MAV", "WL", "DFTR"], {"DFTR_fs": 200}, dtype=torch.float64, subwindows=4).numpy()
    np.testing.assert_array_equal(arr, ref)
    assert _run(capsys, "LS4", inp, out, "--param", "WAMP_threshold=3", "--device", "cpu")[0] == 0
    np.testing.assert_array_equal(np.load(out), native.extract(x, "LS4", {"WAMP_threshold": 3.0}).numpy())
    assert _run(capsys, "COMB", inp, out, "--libemg-compat")[0] == 0
    assert np.load(out).shape == (6, 24)
    # --fs with --libemg-compat only reaches the selected features (no WWL_fs -> WL crash)
    assert _run(capsys, "HTD", inp, out, "--fs", 200, "--libemg-compat")[0] == 0


def test_names(capsys):
    rc, out, _ = _run(capsys, "TDAR", "--names")
    assert rc == 0 and out.split() == native.feature_names("TDAR", 8)
    rc, out, _ = _run(capsys, "MSWT", "--names", "--channels", 2, "--fs", 200)
    assert rc == 0 and len(out.split()) == 4 * 6 * 2


def test_module_entry_point():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    res = subprocess.run(
        [sys.executable, "-m", "emgcore.features", "HTD", "--names", "--channels", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["MAV_ch0", "ZC_ch0", "SSC_ch0", "WL_ch0"]


def _bad_inputs(tmp_path):
    rng = np.random.default_rng(0)
    cases = {}
    np.save(tmp_path / "rank2.npy", rng.integers(-5, 5, (8, 40)).astype(np.int8))
    cases["rank2.npy"] = "(N, C, W)"
    nan = rng.normal(size=(2, 8, 40))
    nan[1, 2, 3] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    cases["nan.npy"] = "NaN"
    np.save(tmp_path / "empty.npy", np.zeros((0, 8, 40), dtype=np.int8))
    cases["empty.npy"] = "empty"
    np.save(tmp_path / "text.npy", np.array([[["a", "b"]]]))
    cases["text.npy"] = "not numeric"
    np.save(tmp_path / "objects.npy", np.array([[[{"a": 1}]]], dtype=object), allow_pickle=True)
    cases["objects.npy"] = "not a numeric .npy"
    (tmp_path / "garbage.npy").write_bytes(b"this is not a npy file")
    cases["garbage.npy"] = "cannot be read"
    cases["missing.npy"] = "no such file"
    np.save(tmp_path / "short.npy", np.zeros((2, 8, 8), dtype=np.int8))
    cases["short.npy"] = "longer than 9"  # COMB's AR9 needs > 9 samples
    return cases


def test_bad_inputs_exit_2_without_output(tmp_path, capsys):
    for name, expected in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out_{name}"
        rc, _, err = _run(capsys, "COMB", tmp_path / name, out)
        assert rc == 2, (name, err)
        assert name in err and expected in err, (name, err)
        assert not out.exists(), name
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


def test_bad_arguments_exit_2(data, tmp_path, capsys):
    _, inp = data
    out = tmp_path / "out.npy"
    for argv, expected in (
        (("FOO", inp, out), "supported features"),
        (("HTD", inp, out, "--subwindows", 3), "divisible"),
        (("HTD", inp, out, "--param", "WAMP=1"), "unknown parameter"),
        (("HTD", inp, out, "--param", "WAMP_threshold"), "KEY=VALUE"),
        (("HTD", inp), "IN.npy and OUT.npy"),
        (("HTD", inp, tmp_path / "nodir" / "o.npy"), "does not exist"),
        (("WL,WWL", inp, out, "--param", "WWL_fs=200", "--libemg-compat"), "WWL_fs"),
    ):
        rc, _, err = _run(capsys, *argv)
        assert rc == 2 and expected in err, (argv, err)
        assert not out.exists()
    with pytest.raises(SystemExit) as exc:  # argparse usage errors also exit 2
        cli.main(["HTD", str(inp), str(out), "--subwindows", "x"])
    assert exc.value.code == 2

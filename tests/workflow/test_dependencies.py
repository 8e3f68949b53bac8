"""The install resolves on every supported CPython with binary wheels for each compiled package.

`uv pip compile` resolves pyproject.toml for a target Python and platform without that Python
being installed (pip's --python-version cannot: snakemake needs connection_pool, a source-only
package, and --only-binary=:all: refuses it). A future pin that drops a Python version (as libemg's
numpy<2 does for 3.13+) fails here. Needs the package index, as the install itself does.
"""

import re
import shutil
import subprocess

import pytest

from tests.helpers.workflow import REPO

PYTHONS = ("3.11", "3.12", "3.13", "3.14")
PLATFORM = "x86_64-manylinux_2_28"
#: the compiled packages: a source build of any of them on a user's machine is what must not happen
COMPILED = (
    "numpy",
    "scipy",
    "numba",
    "llvmlite",
    "h5py",
    "pandas",
    "matplotlib",
    "scikit-learn",
    "orjson",
    "pyyaml",
    "torch",
)
UV = shutil.which("uv", path=str(REPO / ".venv/bin")) or shutil.which("uv")


def torch_pin() -> str:
    """The torch the install path pins (Makefile TORCH_SPEC), e.g. 'torch==2.13.0'."""
    return re.search(r"^TORCH_SPEC \?= (\S+)", (REPO / "Makefile").read_text(), re.MULTILINE).group(1)


def compile_for(python: str, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(torch_pin() + "\n")
    binary = [arg for name in COMPILED for arg in ("--only-binary", name)]
    cmd = [UV, "pip", "compile", str(REPO / "pyproject.toml"), "-c", str(constraints), *extra, *binary]
    cmd += ["--python-version", python, "--python-platform", PLATFORM, "--no-header", "--no-annotate", "-q"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def pinned(text: str) -> dict:
    return dict(line.split("==", 1) for line in text.splitlines() if "==" in line)


@pytest.mark.skipif(UV is None, reason="uv is not installed (pip install .[test] brings it)")
@pytest.mark.parametrize("python", PYTHONS)
def test_main_install_resolves_with_wheels(python, tmp_path):
    res = compile_for(python, tmp_path, "--extra", "test")
    assert res.returncode == 0, f"CPython {python}: {res.stderr[-3000:]}"
    versions = pinned(res.stdout)
    assert versions["torch"] == torch_pin().split("==")[1]
    assert int(versions["numpy"].split(".")[0]) >= 2  # libemg's numpy<2 no longer holds the install
    assert "libemg" not in versions
    slurm = tuple(int(p) for p in versions["snakemake-executor-plugin-slurm"].split(".")[:2])
    assert slurm >= (2, 8)


@pytest.mark.skipif(UV is None, reason="uv is not installed (pip install .[test] brings it)")
def test_the_check_fails_where_a_pin_has_no_wheels(tmp_path):
    """The libemg extra pins numpy<2, which has no CPython 3.13 wheels: the same check refuses it."""
    assert compile_for("3.12", tmp_path, "--extra", "libemg").returncode == 0
    res = compile_for("3.13", tmp_path, "--extra", "libemg")
    assert res.returncode != 0 and "numpy" in res.stderr

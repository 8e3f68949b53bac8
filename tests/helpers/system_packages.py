"""Debian packages that some tests need: CI (CI=true, as root) installs them with apt-get, elsewhere such a
test is skipped when they are missing."""

import os
import shutil
import subprocess

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
IS_ROOT = os.geteuid() == 0


class AptFailed(RuntimeError):
    """apt-get could not install the packages; the message says why."""


def apt_install(packages, timeout=900):
    """`apt-get install -y --no-install-recommends <packages>` (root only), once more after `apt-get update`
    if the first try fails (a fresh machine may have no package lists yet)."""
    if os.geteuid() != 0:
        raise AptFailed(f"installing {' '.join(packages)} needs root")
    if shutil.which("apt-get") is None:
        raise AptFailed(f"no apt-get: install {' '.join(packages)} by hand")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]

    def run(args):
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)

    try:
        res = run(cmd)
        if res.returncode != 0:
            upd = run(["apt-get", "update", "-q"])
            if upd.returncode != 0:
                raise AptFailed("apt-get update failed:\n" + (upd.stdout + upd.stderr)[-3000:])
            res = run(cmd)
    except subprocess.TimeoutExpired as e:
        raise AptFailed(f"apt-get did not finish within {timeout} s") from e
    if res.returncode != 0:
        raise AptFailed(f"{' '.join(cmd)} failed:\n" + (res.stdout + res.stderr)[-3000:])

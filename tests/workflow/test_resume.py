"""A run killed mid-training and resumed with --rerun-incomplete ends with the same outputs."""

import os
import signal
import subprocess
import time

import pandas as pd
import pytest
import torch

from tests.helpers.workflow import REPO, SMALL, SNAKEMAKE, TARGET, workdir_with, workflow_args

RUN = "results/cross/mhcnn-base-raw-s0"


def start(work, *extra):
    cmd = SNAKEMAKE + workflow_args(work) + ["--cores", "1", *extra, TARGET]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )


@pytest.mark.slow
def test_killed_training_resumes_to_identical_outputs(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    workdir_with(reference, SMALL)
    done = start(reference)
    assert done.wait(timeout=600) == 0, done.stdout.read()[-3000:]

    work = tmp_path / "interrupted"
    work.mkdir()
    workdir_with(work, SMALL)
    proc = start(work)
    first_epoch = work / RUN / "epochs" / "epoch_001.pt"
    deadline = time.time() + 300
    while not first_epoch.exists():  # kill once training has written its first epoch
        assert proc.poll() is None, "snakemake ended before training started: " + proc.stdout.read()[-3000:]
        assert time.time() < deadline, "training never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (work / TARGET).exists()
    assert not (work / RUN / "model.pt").exists() or not (work / RUN / "epochs" / "epoch_003.pt").exists()

    blocked = subprocess.run(
        SNAKEMAKE + workflow_args(work) + ["-n", TARGET],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert "incomplete" in (blocked.stdout + blocked.stderr).lower()
    # a SIGKILL leaves snakemake's lock behind: --unlock first, as its own message says
    assert start(work, "--unlock").wait(timeout=120) == 0
    resumed = start(work, "--rerun-incomplete")
    assert resumed.wait(timeout=600) == 0, resumed.stdout.read()[-3000:]

    pd.testing.assert_frame_equal(pd.read_csv(work / TARGET), pd.read_csv(reference / TARGET))
    a = torch.load(work / RUN / "model.pt")["state_dict"]
    b = torch.load(reference / RUN / "model.pt")["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert sorted(p.name for p in (work / RUN / "epochs").glob("epoch_*.pt")) == sorted(
        p.name for p in (reference / RUN / "epochs").glob("epoch_*.pt")
    )

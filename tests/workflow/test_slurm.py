"""`--profile profiles/slurm` against a real single-node SLURM (tests.helpers.slurm_cluster.py).

Under CI (CI=true, as root) the test installs Debian's SLURM and munge if they are missing, starts
its own daemons and fails, with the reason and the daemons' logs, if any of that goes wrong.
Elsewhere it is skipped unless it runs as root on a machine that already has SLURM installed.
"""

import importlib.util
import os
import re
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers.slurm_cluster import SlurmCluster, SlurmUnavailable, install, missing_binaries
from tests.helpers.system_packages import IN_CI, IS_ROOT
from tests.helpers.workflow import REPO, SMALL, SNAKEMAKE, TARGET, workdir_with, workflow_args

PROFILE = REPO / "profiles" / "slurm"
RUN_TIMEOUT = 1200  # seconds for the whole snakemake run; about 3 minutes on 2 cores


def unavailable(reason):
    """Fail under CI (where SLURM must work), skip elsewhere."""
    if IN_CI and IS_ROOT:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def profile():
    return yaml.safe_load((PROFILE / "config.yaml").read_text())


def node_needs(cfg):
    """Partitions named in the profile (default first), GPUs and memory its largest request needs."""
    parts = [cfg["default-resources"]["slurm_partition"]]
    gpus, mem = 0, int(cfg["default-resources"]["mem_mb"])
    for res in cfg.get("set-resources", {}).values():
        if res.get("slurm_partition") and res["slurm_partition"] not in parts:
            parts.append(res["slurm_partition"])
        gpus = max(gpus, int(res.get("gpu", 0)))
        mem = max(mem, int(eval(str(res.get("mem_mb", 0)), {"attempt": 2})))  # the retry's request
    return parts, gpus, mem


@pytest.fixture
def slurm():
    if not IS_ROOT:
        pytest.skip("needs root to start slurmd and munged (CI=true as root runs it)")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        unavailable("snakemake-executor-plugin-slurm is not installed (make venv installs it)")
    if missing_binaries():
        if not IN_CI:
            pytest.skip(
                f"SLURM is not installed (missing {', '.join(missing_binaries())}); "
                "CI=true as root installs slurmctld, slurmd, slurm-client and munge with apt-get"
            )
        try:
            install()
        except SlurmUnavailable as e:
            pytest.fail(f"could not install SLURM: {e}", pytrace=False)
    partitions, gpus, mem = node_needs(profile())
    for attempt in (1, 2):  # a second try, on fresh ports, should a port be taken meanwhile
        cluster = SlurmCluster(partitions=partitions, gpus=gpus, mem_mb=mem)
        try:
            cluster.start(timeout=120)
            break
        except SlurmUnavailable as e:
            cluster.cleanup()
            if attempt == 2:
                pytest.fail(f"could not start a single-node SLURM: {e}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        cluster.cleanup()


@pytest.mark.slow
def test_small_dag_runs_through_sbatch_with_the_slurm_profile(slurm, tmp_path):
    work = workdir_with(tmp_path, SMALL)
    env = dict(slurm.env, PYTHONPATH=os.pathsep.join(p for p in [str(REPO), os.environ.get("PYTHONPATH")] if p))
    cmd = [
        "timeout",
        "-k",
        "30",
        str(RUN_TIMEOUT),
        *SNAKEMAKE,
        *workflow_args(work),
        "--profile",
        str(PROFILE),
        "--slurm-init-seconds-before-status-checks",
        "3",
        TARGET,
    ]
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT + 60)
    wall = time.monotonic() - start
    out = res.stdout + res.stderr
    queue = slurm.squeue("%i|%T|%P|%j|%k")  # completed jobs stay listed for MinJobAge (300 s)

    def context():
        logdir = work / profile()["slurm-logdir"]
        logs = sorted(logdir.rglob("*.log")) if logdir.exists() else []
        job_logs = "\n".join(f"--- {p}\n" + p.read_text(errors="replace")[-2000:] for p in logs[-3:])
        return (
            f"\nsnakemake exit {res.returncode} after {wall:.0f} s (124/137: timed out)\n"
            f"--- snakemake output (tail)\n{out[-5000:]}\n--- squeue\n{queue}\n"
            f"--- SLURM job logs\n{job_logs}\n{slurm.diagnostics()}"
        )

    assert res.returncode == 0, "the SLURM run failed" + context()

    # every job went through sbatch: snakemake's submissions, the controller's log and the job
    # records agree, and all ended COMPLETED
    submitted = re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", out)
    assert submitted, "snakemake submitted nothing to SLURM" + context()
    logdir = (work / profile()["slurm-logdir"]).resolve()
    kind = {sid: Path(log).resolve().relative_to(logdir).parts[0] for _, sid, log in submitted}  # rule_x, group_x
    run_ids = set(re.findall(r"SLURM run ID: (\S+)", out))
    assert set(kind) <= set(slurm.submitted_ids()), "submissions missing from slurmctld.log" + context()
    records = slurm.jobcomp()
    assert set(kind) <= set(records), "jobs missing from the jobcomp records" + context()
    assert {records[i]["JobState"] for i in kind} == {"COMPLETED"}, context()
    assert {records[i]["Name"] for i in kind} == run_ids, "job names are not the run id" + context()
    assert "localrule" not in out, "a job ran outside SLURM" + context()
    assert "Falling back to 'sacct'" not in out, "job states did not come from squeue" + context()
    by_kind = {}
    for sid, k in kind.items():
        by_kind.setdefault(k, []).append(records[sid])
    for name in (
        "rule_synthesize",
        "rule_ingest",
        "rule_window_index",
        "rule_train_cross",
        "group_evaluate_evaluate_cross",
        "group_report_aggregate",
    ):
        assert name in by_kind, f"{name} not among the SLURM jobs {sorted(by_kind)}" + context()
    assert len(by_kind["rule_window_index"]) == 3

    # the profile's resources reached sbatch: training on its partition with its memory, the rest
    # on the default partition
    cfg = profile()
    train = by_kind["rule_train_cross"][0]
    want = cfg["set-resources"]["train_cross"]
    assert train["Partition"] == want["slurm_partition"], train
    assert f"mem={eval(str(want['mem_mb']), {'attempt': 1})}M" in train["Tres"], train
    train_job = slurm.show_job(train["JobId"])
    assert train_job.get("TresPerJob") == f"gres:gpu:{want['gpu']}", train_job
    assert {r["Partition"] for k, rs in by_kind.items() if k != "rule_train_cross" for r in rs} == {
        cfg["default-resources"]["slurm_partition"]
    }

    # and the outputs are complete
    results = pd.read_csv(work / TARGET)
    assert len(results) == 1 and results.run.tolist() == ["mhcnn-base-raw-s0"], results
    assert results.bal_acc_mean.between(0, 1).all() and results.n_subjects.gt(0).all()
    for name in ("model.pt", "train_log.csv", "per_subject.csv", "summary.csv"):
        assert (work / "results/cross/mhcnn-base-raw-s0" / name).stat().st_size > 0, name
    print(
        f"\nSLURM run: {len(kind)} sbatch jobs in {wall:.0f} s; training job TresPerJob="
        f"{train_job['TresPerJob']}; squeue after the run:"
    )
    print("\n".join("|".join(row) for row in queue))
    fields = ("JobId", "Name", "JobState", "Partition", "Tres", "ExitCode")
    print("jobcomp:\n" + "\n".join(" ".join(f"{k}={records[i][k]}" for k in fields) for i in sorted(kind, key=int)))

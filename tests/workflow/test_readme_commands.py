"""Every command the README gives works from a clone: each is run here, as a dry run where the real one
is too long for the suite, or named with the test that runs it for real. A command added to the README
without a check here fails `test_every_readme_command_is_checked`."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from tests.helpers.epn_json import make_user, write_json
from tests.helpers.workflow import REPO, SNAKEMAKE, snakemake, workdir_with

README = (REPO / "README.md").read_text()
CIIL = REPO.parent / "shared" / "data" / "ciil"
DEMO_NOTICE = "presets/demo.yaml reduces the training"

#: commands that real tests elsewhere run (their full run is too long, or needs root, for this module)
ELSEWHERE = {
    "make test": "CI runs it (.ci/run); tests/workflow/test_readme_commands.py checks its recipe with make -n",
    "snakemake --report": "tests/workflow/test_report.py",
    "snakemake --unlock": "tests/workflow/test_resume.py",
    "snakemake --cores all --rerun-incomplete": "tests/workflow/test_resume.py",
    ".venv/bin/snakemake --profile profiles/slurm": "tests/workflow/test_slurm.py",
    "python -m tests.helpers.slurm_cluster": "tests/workflow/test_slurm.py (starts it through the same class)",
    "python -m emgcore.data.synthetic": "tests/data/test_synthetic.py (main() with the same arguments)",
    "python -m emgcore.report.summary results/results.csv": "tests/report/test_summary.py (main())",
    "snakemake --lint": "make test (lint target)",
    ".venv/bin/python -m emgcore.features": "tests/features/test_native_cli.py (the module entry point)",
    "python -m emgcore.features": "tests/features/test_native_cli.py (the module entry point)",
    "scripts/make_feature_reference.py": "tests/features/test_native_reference.py (needs libemg: .venv-libemg)",
}


def readme_commands():
    """Shell lines of the README's bash blocks, and inline `code` that starts with a command."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.DOTALL):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line:
                commands.append(line)
    for code in re.findall(r"`([^`\n]+)`", README):
        if re.match(r"^(\.venv/bin/)?(snakemake|make|python)\b|^(benchmarks|scripts)/\S+\.py", code):
            commands.append(code.strip())
    return list(dict.fromkeys(commands))


def checked(command):
    """The check that covers `command` (a key of CHECKS or ELSEWHERE), or None."""
    for key in (*CHECKS, *ELSEWHERE):
        if (
            command == key
            or command.startswith((key + " ", key + "|"))
            or (key.endswith("=") and command.startswith(key))
        ):
            return key
    return None


def test_every_readme_command_is_checked():
    unchecked = [c for c in readme_commands() if checked(c) is None]
    assert not unchecked, f"README commands without a check in this module: {unchecked}"
    for where in ELSEWHERE.values():
        test_file = where.split(" ")[0]
        assert test_file in ("CI", "make") or (REPO / test_file).is_file(), where


def dry_run(work, *args):
    res = snakemake(work, "-n", *args)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def tiny_epn612(root):
    """An EMG-EPN-612 folder of three training and two testing users (the reader tests' users)."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 3):
        write_json(root / f"trainingJSON/user{n}/user{n}.json", make_user(rng))
    for n in (1, 2):
        write_json(root / f"testingJSON/user{n}/user{n}.json", make_user(rng, testing=True))
    return root


def check_make(target, *variables):
    res = subprocess.run(["make", "-n", *variables, target], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_make_run_builds_the_dag_the_report_and_prints_the_summary():
    recipe = check_make("run")
    assert "snakemake --cores all" in recipe
    assert "snakemake --report results/report.html" in recipe
    assert "python -m emgcore.report.summary results/results.csv" in recipe
    gpu = check_make("run", "TORCH_SPEC=torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126")
    assert "snakemake --cores all" in gpu
    assert "ruff check" in check_make("test") and "pytest" in check_make("test")
    assert "ruff format ." in check_make("format")


def test_default_run_experiment_targets_and_one_figure(tmp_path):
    work = workdir_with(tmp_path)
    out = dry_run(work)
    for rule in ("train_cross", "evaluate_cross", "aggregate", "disentangle_train", "pca_sheet"):
        assert rule in out
    for target in ("cross_models", "cross_mhcnn", "pca", "disentangle", "latent_classify", "heatmaps", "stats"):
        dry_run(work, target)
    figure = dry_run(work, "results/figures/cross/mhcnn-base-standard-s0_per_subject.png")
    assert "aggregate" not in figure and "train_cross" in figure


def test_real_epn612_with_config_and_thesis_preset(tmp_path):
    data = tiny_epn612(tmp_path / "EMG-EPN612")
    work = workdir_with(tmp_path / "work")
    dry_run(work, "--config", "dataset=epn612", f"data_dir={data}")
    dry_run(work, "--configfile", str(REPO / "presets/epn612.yaml"), "--config", f"data_dir={data}")
    # real data trains until early stopping: the demo's reductions (presets/demo.yaml) apply to the demo only
    assert DEMO_NOTICE not in dry_run(work, "--config", "dataset=epn612", f"data_dir={data}")
    assert DEMO_NOTICE in dry_run(work)


@pytest.mark.skipif(not CIIL.is_dir(), reason=f"the CIIL recordings are not at {CIIL}")
def test_ciil_preset_with_its_relative_data_dir(tmp_path):
    """presets/ciil.yaml gives data_dir relative to the repository, as the README runs it (from the clone)."""
    work = tmp_path / "work"
    shutil.copytree(REPO, work, ignore=shutil.ignore_patterns(".git", ".venv", "results", ".snakemake", "*.pyc"))
    (work.parent / "shared").symlink_to(REPO.parent / "shared")
    cmd = [*SNAKEMAKE, "results/data/ciil/manifest.csv", "--cores", "2", "--configfile", "presets/ciil.yaml"]
    res = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    manifest = (work / "results/data/ciil/manifest.csv").read_text().splitlines()
    assert len(manifest) == 1 + 32  # header + every person
    dry = subprocess.run(
        [*SNAKEMAKE, "-n", "--configfile", "presets/ciil.yaml"], cwd=work, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr[-3000:]


def test_local_profile_and_rulegraph(tmp_path):
    work = workdir_with(tmp_path)
    res = snakemake(work, "--profile", str(REPO / "profiles/local"), "-n")
    assert res.returncode == 0, res.stderr[-3000:]
    graph = snakemake(work, "--rulegraph")
    assert graph.returncode == 0 and graph.stdout.lstrip().startswith("digraph")


def test_conda_environment_lists_the_package_dependencies(tmp_path):
    """`snakemake --use-conda` builds envs/emgcore.yaml for every rule: it must hold what the package needs."""
    env = yaml.safe_load((REPO / "envs/emgcore.yaml").read_text())
    text = yaml.safe_dump(env)
    pyproject = (REPO / "pyproject.toml").read_text()
    deps = re.search(r"dependencies = \[(.*?)\]", pyproject, re.DOTALL).group(1)
    for name in re.findall(r'"([A-Za-z0-9_.-]+)', deps):
        if name.startswith("snakemake"):
            continue  # snakemake runs the rules' scripts with its own modules on their path
        name = {"torch": "pytorch"}.get(name, name)
        assert name.lower() in text.lower(), f"envs/emgcore.yaml lacks {name}"
    if shutil.which("conda") or shutil.which("mamba"):
        assert snakemake(workdir_with(tmp_path), "-n", "--use-conda").returncode == 0


def test_benchmark_and_comparison_scripts_start(tmp_path):
    res = subprocess.run(
        [sys.executable, "benchmarks/preprocess.py", "--users", "4", "--workdir", str(tmp_path / "b")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    res = subprocess.run(
        [sys.executable, "benchmarks/features.py", "--windows", "500", "--repeat", "1", "--groups", "HTD,LS9"]
        + ["--no-libemg", "--no-gpu", "--json", str(tmp_path / "features.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0 and "LS9" in res.stdout, res.stdout[-2000:] + res.stderr[-3000:]
    assert (tmp_path / "features.json").stat().st_size > 0
    res = subprocess.run(
        [sys.executable, "benchmarks/feature_grid.py", "--groups", "RMS", "--windows", "2000", "--batches", "2"]
        + ["--table-gib", "0.01", "--tmp", str(tmp_path), "--json", str(tmp_path / "grid.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0 and "RMS" in res.stdout, res.stdout[-2000:] + res.stderr[-3000:]
    assert (tmp_path / "grid.json").stat().st_size > 0
    res = subprocess.run(
        [sys.executable, "scripts/compare_synthetic_real.py", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert res.returncode == 0 and "--ciil-root" in res.stdout


CHECKS = {
    "make run": test_make_run_builds_the_dag_the_report_and_prints_the_summary,
    "make TORCH_SPEC=": test_make_run_builds_the_dag_the_report_and_prints_the_summary,
    "make format": test_make_run_builds_the_dag_the_report_and_prints_the_summary,
    "snakemake --cores all": test_default_run_experiment_targets_and_one_figure,
    ".venv/bin/snakemake --cores all --config dataset=epn612": test_real_epn612_with_config_and_thesis_preset,
    ".venv/bin/snakemake --cores all --configfile presets/epn612.yaml": test_real_epn612_with_config_and_thesis_preset,
    ".venv/bin/snakemake --cores all --configfile presets/ciil.yaml": test_ciil_preset_with_its_relative_data_dir,
    ".venv/bin/snakemake --profile profiles/local": test_local_profile_and_rulegraph,
    "snakemake --rulegraph": test_local_profile_and_rulegraph,
    "snakemake --use-conda --cores all": test_conda_environment_lists_the_package_dependencies,
    "benchmarks/preprocess.py": test_benchmark_and_comparison_scripts_start,
    "benchmarks/gpu_throughput.py": test_benchmark_and_comparison_scripts_start,
    "benchmarks/features.py": test_benchmark_and_comparison_scripts_start,
    "benchmarks/feature_grid.py": test_benchmark_and_comparison_scripts_start,
    "scripts/compare_synthetic_real.py": test_benchmark_and_comparison_scripts_start,
}

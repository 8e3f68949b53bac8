"""Snakemake runs for the DAG tests: tiny configs, a work dir with a merged config.yaml, the runner."""

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

#: a DAG small enough for seconds per job: 3 + 3 synthetic users, 1 epoch of a few batches
TINY = {
    "dataset": "synthetic",
    "synthetic": {"preset": "demo", "seed": 3, "n_train_users": 4, "n_test_users": 3, "reps_per_gesture": 2},
    "windows": {"size": 40, "stride": 8, "rest_subsample": 4},
    "training": {
        "batch_size": 128,
        "lr": 1.0e-3,
        "max_epochs": 2,
        "patience": 5,
        "lr_factor": 0.6,
        "lr_patience": 4,
        "min_lr": 1.0e-5,
        "dropout": 0.2,
        "max_train_batches_per_epoch": 3,
        "eval_batch_size": 1024,
        "threads": 1,
        "users_per_class_sampler": {"users_per_class": 2, "samples_per_user": 8},
    },
    "seeds": [0],
    "cross_mhcnn": {
        "losses": ["base", "trp"],
        "train_variants": ["raw"],
        "eval_variants": ["raw", "segmented", "relabeled", "standard"],
        "norms": ["nonorm", "norm"],
        "base_train_variants": ["standard"],
    },
    "cross_models": {
        "models": ["mhcnn", "lda", "mlp"],
        "train_variant": "raw",
        "eval_variants": ["raw"],
        "norms": ["nonorm"],
    },
    "cross_feats": {
        "groups": ["RMS", "HTD"],
        "models": ["lda", "mlp"],
        "train_variants": ["raw"],
        "eval_variants": ["raw"],
        "norms": ["nonorm"],
        "reference": {"group": "HTD", "model": "lda"},
        "groups_per_job": 1,
        "training": {},
    },
    "within": {"variants": []},  # 2 repetitions per gesture cannot split 3 ways: tests/workflow/test_within.py
    "incremental": {"users": []},  # it ranks users by the within sweep: tests/workflow/test_within.py
    "rotation": {"arms": []},  # tests/workflow/test_rotation.py; TRIMMED runs one arm
    "running_norm": {"tau": 500, "prior_count": 50, "tau_sweep": [100, float("inf")], "sweep_eval_variant": "raw"},
    "pca": {"runs": ["mhcnn-base-raw-s0"], "eval_variant": "raw", "max_windows": 200},
    "disentangle": {
        "datasets": ["epn", "hyser"],
        "epn": {"users": [1, 4], "held_out": [[3, 4]], "gestures": [1, 2, 3, 4]},
        "hyser": {
            "data_dir": None,
            "users": [1, 4],
            "held_out": [[3, 4]],
            "gestures": [1, 2],
            "task": "dynamic",
            "kind": "preprocess",
            "synthetic": {"n_subjects": 4, "n_gestures": 2, "trials_per_gesture": 1, "seconds": 1.0},
        },
        "measures": ["rms", "wl"],
        "window_s": 0.25,
        "overlap": 0.5,
        "discard_s": 0.25,
        "model": {
            "epochs": 1,
            "gestures_per_batch": 2,
            "subjects_per_batch": 2,
            "windows_per_cell": 2,
            "batches_per_epoch": 3,
            "pattern_dim": 8,
            "subject_dim": 8,
        },
        "classifiers": ["knn", "ann"],
    },
}


#: TINY trimmed to a few jobs per rule (about a minute on 2 cores), keeping every kind of row of results.csv (one
#: MHCNN run with both norms, a feature model, the disentangle rows of epn), one tau of the sweep, the statistics
#: tables and at least one output of every report category
TRIMMED = dict(TINY)
TRIMMED["cross_mhcnn"] = dict(
    TINY["cross_mhcnn"], losses=["base"], eval_variants=["raw"], norms=["nonorm", "norm"], base_train_variants=[]
)
TRIMMED["cross_models"] = dict(TINY["cross_models"], models=["mhcnn", "lda"])
TRIMMED["cross_feats"] = dict(TINY["cross_feats"], groups=["LS4"], models=["cnn_hcf"])
# 4 repetitions per gesture so that the within sweep (and the incremental sweep it ranks) can run: every report
# category then has an output
TRIMMED["synthetic"] = dict(TINY["synthetic"], reps_per_gesture=4)
TRIMMED["within"] = {
    "n_train_reps": [1, 2],
    "val_rep": 2,
    "test_reps": [3],
    "variants": ["raw"],
    "models": ["mhcnn-ft", "lda"],
    "chunk_size": 7,
    "training": {"max_epochs": 1, "max_train_batches_per_epoch": 2},
}
TRIMMED["incremental"] = {
    "users": [2],
    "reps": [1, 2],
    "orderings": ["worst", "random"],
    "random_seeds": [0],
    "rank_by": {"model": "lda", "n_train_reps": 1},
    "variant": "raw",
    "runs_per_job": 4,
    "training": {"max_epochs": 1, "max_train_batches_per_epoch": 2},
}
TRIMMED["rotation"] = {  # one arm (the cross-user LDA) under plain and align, rotated by 0 and 1 electrode
    "arms": ["lda-none"],
    "variant": "raw",
    "methods": ["plain", "align"],
    "stream_orders": ["interleaved"],
    "applied_shifts": [0, 1],
}
TRIMMED["running_norm"] = dict(TINY["running_norm"], tau_sweep=[100])
TRIMMED["disentangle"] = dict(TINY["disentangle"], datasets=["epn"])
#: the tables a run of TRIMMED writes under results/
TABLES = ["results.csv", "stats.csv", "stats_disentangle.csv", "tau_sweep.csv", "latent_summary.csv"]
#: column names that would hold wall-clock times, which no two runs share
WALL_CLOCK = re.compile(r"(^|_)(time|seconds?|duration|elapsed|runtime|wall)(_|$)")


def merged(base, overrides):
    """`base` updated by `overrides` recursively, as Snakemake merges a --configfile into config.yaml."""
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


OVERRIDES = "overrides.yaml"


def workdir_with(tmp_path, overrides=None):
    """A working directory holding the repo's config.yaml and `overrides` (given to Snakemake as a
    --configfile by :func:`workflow_args`, so they win over presets/demo.yaml as a user's file would)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    (tmp_path / OVERRIDES).write_text(yaml.safe_dump(dict(overrides or {})))
    return tmp_path


def workflow_args(workdir):
    """Snakefile, configfile of overrides and working directory for a snakemake command on `workdir`."""
    return ["-s", str(REPO / "Snakefile"), "--configfile", str(Path(workdir) / OVERRIDES), "-d", str(workdir)]


def snakemake(workdir, *args, timeout=600):
    cmd = SNAKEMAKE + workflow_args(workdir) + list(args)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


#: TINY cut to one MHCNN run (3 epochs), for the resume and SLURM tests
SMALL = dict(TINY)
SMALL["training"] = dict(TINY["training"], max_epochs=3, max_train_batches_per_epoch=6)
SMALL["cross_mhcnn"] = dict(
    TINY["cross_mhcnn"], losses=["base"], base_train_variants=[], norms=["nonorm"], eval_variants=["raw"]
)
SMALL["cross_feats"] = dict(TINY["cross_feats"], groups=[])
SMALL["cross_models"] = dict(TINY["cross_models"], models=[])
SMALL["running_norm"] = dict(TINY["running_norm"], tau_sweep=[])
SMALL["pca"] = dict(TINY["pca"], runs=[])
SMALL["disentangle"] = dict(TINY["disentangle"], datasets=[])
TARGET = "results/results.csv"

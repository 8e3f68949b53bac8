"""Every output path and run name of the pipeline, built (and, where needed, parsed) here only.

Paths are relative to the working directory Snakemake runs in. Each function takes the parts
of a name and returns the path; called with Snakemake wildcards such as ``"{run}"`` it returns
the pattern a rule declares, so `rules/*.smk` and the scripts agree on every name by construction.
A run's identity is read from its ``run.json`` (:func:`read_run_info`), never from its folder name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from emgcore.preprocess.segmentation import VARIANTS

RESULTS = "results"

# ---------------------------------------------------------------------------------------------
# tables and figures that span every run (written only by the report rules)

RESULTS_TABLE = f"{RESULTS}/results.csv"
STATS_TABLE = f"{RESULTS}/stats.csv"
TAU_SWEEP_TABLE = f"{RESULTS}/tau_sweep.csv"
STATS_DISENTANGLE_TABLE = f"{RESULTS}/stats_disentangle.csv"
LATENT_SUMMARY_TABLE = f"{RESULTS}/latent_summary.csv"
FIGURES = f"{RESULTS}/figures"
SUMMARY_FIGURE = f"{FIGURES}/summary_bal_acc.png"
TAU_SWEEP_FIGURE = f"{FIGURES}/tau_sweep.png"
LATENT_SUMMARY_FIGURE = f"{FIGURES}/disentangle/latent_summary.png"


def log(*parts: str) -> str:
    """Log file of a job: ``results/logs/<parts...>.log``."""
    return f"{RESULTS}/logs/{'/'.join(parts)}.log"


def benchmark(*parts: str) -> str:
    """Snakemake benchmark record of a job: ``results/benchmarks/<parts...>.tsv``."""
    return f"{RESULTS}/benchmarks/{'/'.join(parts)}.tsv"


# ---------------------------------------------------------------------------------------------
# datasets: raw files -> store -> window indexes


def data_tag(dataset: str, synthetic_preset: str, csv_name: str = "libemg_csv") -> str:
    """Folder name of a data source; the demo and the EPN-scale synthetic sets never share paths, and
    a folder of libemg-style CSV recordings goes by its configured name (libemg_csv.name)."""
    if dataset == "synthetic":
        return f"synthetic-{synthetic_preset}"
    return csv_name if dataset == "libemg_csv" else dataset


@dataclass(frozen=True)
class DataPaths:
    """The files of one data source under ``results/data/<tag>/``."""

    tag: str

    @property
    def root(self) -> str:
        return f"{RESULTS}/data/{self.tag}"

    @property
    def raw(self) -> str:
        """JSON folder in the EPN-612 layout written by a rule (synthetic data, converted CIIL)."""
        return f"{self.root}/raw"

    @property
    def store(self) -> str:
        return f"{self.root}/store"

    @property
    def manifest(self) -> str:
        return f"{self.root}/manifest.csv"

    @property
    def rest_threshold(self) -> str:
        return f"{self.root}/rest_threshold.json"

    @property
    def population_stats(self) -> str:
        return f"{self.root}/population_stats.json"

    def windows(self, split: str, variant: str) -> str:
        return f"{self.root}/windows/{split}_{variant}.npz"


HYSER_SYNTHETIC = f"{RESULTS}/data/hyser-synthetic/pr_dataset"


# ---------------------------------------------------------------------------------------------
# cross-user runs: results/cross/<model>-<loss>-<train_variant>-s<seed>[-<feature group>]/

CROSS = f"{RESULTS}/cross"
RUN_TEMPLATE = "{model}-{loss}-{train_variant}-s{seed}"
#: what a run name looks like (Snakemake wildcard constraint, schema pattern of pca.runs); runs of
#: the feature grid (cross_feats) end in their feature group, e.g. ``mlp-base-standard-s0-LS9``
PLAIN_RUN_PATTERN = rf"[a-z0-9_]+-[a-z0-9]+-({'|'.join(VARIANTS)})-s[0-9]+"
RUN_PATTERN = rf"{PLAIN_RUN_PATTERN}(-[A-Z0-9]+)?"
#: evaluation modes: raw windows, or windows normalised by RunningNorm (emgcore.cross.running_norm)
NORM_MODES = ("nonorm", "norm")
RUN_INFO = "run.json"
MODEL_FILE = "model.pt"
TRAIN_LOG = "train_log.csv"
EPOCHS = "epochs"


@dataclass(frozen=True)
class CrossRun:
    """Identity of a cross-user run; its folder name is `name`, its `run.json` holds these fields."""

    model: str
    loss: str
    train_variant: str
    seed: int
    #: the hand-crafted feature group of a feature-grid run (emgcore.features.native.GROUPS); "" for
    #: every other run (feature models outside the grid read ``training.features``)
    feature_group: str = ""

    @property
    def name(self) -> str:
        return run_name(self.model, self.loss, self.train_variant, self.seed, self.feature_group)

    def as_dict(self) -> dict:
        return {"run": self.name, **asdict(self)}

    @classmethod
    def from_info(cls, info: Mapping) -> CrossRun:
        group = info.get("feature_group") or ""
        return cls(str(info["model"]), str(info["loss"]), str(info["train_variant"]), int(info["seed"]), str(group))


def run_name(model: str, loss: str, train_variant: str, seed, feature_group: str = "") -> str:
    """Folder name of a cross-user run, e.g. ``mhcnn-base-raw-s0``, or ``lda-base-raw-s0-HTD`` for a
    run of the feature grid (or the pattern, from wildcards)."""
    name = RUN_TEMPLATE.format(model=model, loss=loss, train_variant=train_variant, seed=seed)
    return f"{name}-{feature_group}" if feature_group else name


def cross_dir(run: str) -> str:
    return f"{CROSS}/{run}"


def run_file(run: str, name: str) -> str:
    """A file of a run's folder: model.pt, run.json, train_log.csv, epochs."""
    return f"{cross_dir(run)}/{name}"


def per_subject(run: str) -> str:
    """Every evaluation of a run, one row per (evaluation, test subject) (emgcore.cross.evaluation)."""
    return f"{cross_dir(run)}/per_subject.csv"


def summary(run: str) -> str:
    """Every evaluation of a run, one row per evaluation, with the run's identity."""
    return f"{cross_dir(run)}/summary.csv"


def tau_label(tau) -> str:
    """A RunningNorm time constant as it appears in labels: ``inf`` or an integer."""
    if isinstance(tau, str):
        return tau
    return "inf" if tau == math.inf else str(int(tau))


def evaluation_label(eval_variant: str, norm: str, tau=None) -> str:
    """Name of one evaluation of a run: ``raw/nonorm``, or ``raw/norm/2000`` (RunningNorm with that tau)."""
    if norm not in NORM_MODES:
        raise ValueError(f"unknown norm {norm!r}; expected one of {NORM_MODES}")
    return f"{eval_variant}/nonorm" if norm == "nonorm" else f"{eval_variant}/norm/{tau_label(tau)}"


def parse_evaluation(label: str) -> tuple[str, str, float]:
    """Inverse of :func:`evaluation_label`: (eval_variant, norm, tau), tau NaN without normalisation."""
    parts = str(label).split("/")
    if len(parts) == 2 and parts[1] == "nonorm":
        return parts[0], "nonorm", math.nan
    if len(parts) == 3 and parts[1] == "norm":
        return parts[0], "norm", float(parts[2])
    raise ValueError(f"evaluation {label!r} is not <eval_variant>/nonorm or <eval_variant>/norm/<tau>")


def run_figure(run: str) -> str:
    """Per-subject balanced and active accuracy of a run, one panel per evaluation."""
    return f"{FIGURES}/cross/{run}_per_subject.png"


def training_figure(run: str) -> str:
    return f"{FIGURES}/cross/{run}_training.png"


def loss_figure(train_variant: str, eval_variant: str, norm: str) -> str:
    return f"{FIGURES}/cross_mhcnn/losses_{train_variant}_{eval_variant}_{norm}.png"


def model_figure(eval_variant: str, norm: str) -> str:
    return f"{FIGURES}/cross_models/models_{eval_variant}_{norm}.png"


FEATS_TABLE = f"{RESULTS}/cross_feats.csv"


def feats_heatmap(train_variant: str, eval_variant: str, norm: str) -> str:
    """Feature groups x models of the feature grid: mean per-subject balanced accuracy, std in each cell."""
    return f"{FIGURES}/cross_feats/heatmap_{train_variant}_{eval_variant}_{norm}.png"


def feats_distributions(train_variant: str, eval_variant: str, norm: str) -> str:
    """Per-subject balanced accuracy of every feature group, one panel per model, groups sorted by median."""
    return f"{FIGURES}/cross_feats/groups_{train_variant}_{eval_variant}_{norm}.png"


# ---------------------------------------------------------------------------------------------
# within-user models: results/within/<variant>-s<seed>/chunk<i>.csv (one row per subject x model x N)

WITHIN = f"{RESULTS}/within"
WITHIN_TABLE = f"{RESULTS}/within.csv"


def within_chunk(variant: str, seed, chunk: str) -> str:
    """Per-subject table of one job of the within-user sweep (a chunk of subjects)."""
    return f"{WITHIN}/{variant}-s{seed}/{chunk}.csv"


def within_rows(variant: str, seed) -> str:
    """The sweep's rows for results/results.csv (one per model x N x split)."""
    return f"{WITHIN}/{variant}-s{seed}/results_rows.csv"


def within_curve(variant: str, seed) -> str:
    """Mean per-subject balanced accuracy against N, every model, the cross-user result as a line."""
    return f"{FIGURES}/within/accuracy_vs_n_{variant}_s{seed}.png"


def within_scatter(variant: str, seed) -> str:
    """Each test user's within-user against cross-user balanced accuracy."""
    return f"{FIGURES}/within/within_vs_cross_{variant}_s{seed}.png"


# ---------------------------------------------------------------------------------------------
# incremental training: results/incremental/incr-<ordering>-k<K>-r<R>-<variant>-s<seed>/

INCREMENTAL = f"{RESULTS}/incremental"
ORDERINGS = ("worst", "best", "random")


@dataclass(frozen=True)
class IncrementalRun:
    """The cross-user MHCNN on the first `k` training users of an ordering (worst-first, best-first by
    their within-user accuracy, or a seeded shuffle) with the first `r` repetitions per gesture."""

    ordering: str
    order_seed: int | None
    k: int
    r: int
    variant: str
    seed: int

    def __post_init__(self) -> None:
        if self.ordering not in ORDERINGS:
            raise ValueError(f"unknown ordering {self.ordering!r}; expected one of {ORDERINGS}")
        if (self.ordering == "random") != (self.order_seed is not None):
            raise ValueError("the random ordering takes a seed, worst and best none")

    @property
    def order_tag(self) -> str:
        """``worst``, ``best`` or ``random<seed>``."""
        return self.ordering if self.order_seed is None else f"{self.ordering}{self.order_seed}"

    @property
    def name(self) -> str:
        return f"incr-{self.order_tag}-k{self.k}-r{self.r}-{self.variant}-s{self.seed}"


def incremental_file(run: str, name: str) -> str:
    """A file of an incremental run's folder: model.pt, run.json, train_log.csv, per_subject.csv, summary.csv."""
    return f"{INCREMENTAL}/{run}/{name}"


def incremental_rows(variant: str, seed) -> str:
    return f"{INCREMENTAL}/{variant}-s{seed}_rows.csv"


def incremental_heatmap(order_tag: str, variant: str, seed) -> str:
    """Users x repetitions of one ordering: mean and std of per-subject balanced accuracy."""
    return f"{FIGURES}/incremental/heatmap_{order_tag}_{variant}_s{seed}.png"


def incremental_curve(variant: str, seed) -> str:
    """Mean per-subject balanced accuracy against K at the largest R, the orderings together."""
    return f"{FIGURES}/incremental/accuracy_vs_users_{variant}_s{seed}.png"


# ---------------------------------------------------------------------------------------------
# rotation robustness: results/rotation/rot-<model>-<augment>-<variant>-s<seed>/ (an "arm")

ROTATION = f"{RESULTS}/rotation"
ROTATION_TABLE = f"{RESULTS}/rotation.csv"
ROTATION_REFERENCE = f"{ROTATION}/reference.json"
ROTATION_ROWS = f"{ROTATION}/results_rows.csv"


def rotation_arm(model: str, augment: str, variant: str, seed) -> str:
    """Name of one arm of the rotation experiment: a model trained with one augmentation (none, roll, frac)."""
    return f"rot-{model}-{augment}-{variant}-s{seed}"


def rotation_file(arm: str, name: str) -> str:
    """A file of an arm's folder: model.pt, run.json, train_log.csv (trained here), rotation_per_subject.csv."""
    return f"{ROTATION}/{arm}/{name}"


def rotation_set(name: str) -> str:
    """Folder of an extra evaluation set (store/, windows.npz, units.csv), e.g. CIIL's after-shift trials."""
    return f"{ROTATION}/sets/{name}"


def rotation_offsets_figure(test_set: str) -> str:
    """Each person's estimated armband offset against their balanced accuracy, one panel per method."""
    return f"{FIGURES}/rotation/offset_vs_accuracy_{test_set}.png"


def rotation_shift_figure(test_set: str) -> str:
    """Mean per-subject balanced accuracy against an applied rotation of every person (the synthetic check)."""
    return f"{FIGURES}/rotation/accuracy_vs_shift_{test_set}.png"


def pca_figure(run: str) -> str:
    return f"{FIGURES}/pca/{run}.png"


def read_run_info(run_dir: str | Path) -> dict:
    """The ``run.json`` of a cross-user run folder: its identity (model, loss, train_variant, seed) and
    what its checkpoint needs besides the weights (the feature list of feature models)."""
    path = Path(run_dir) / RUN_INFO
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no run.json; the run folder was not written by train_cross")
    info = json.loads(path.read_text())
    missing = [k for k in ("model", "loss", "train_variant", "seed") if k not in info]
    if missing:
        raise ValueError(f"{path}: lacks {missing}")
    return info


# ---------------------------------------------------------------------------------------------
# disentangling: results/disentangle/<dataset>-<measure>-h<held-out users>/

DISENTANGLE = f"{RESULTS}/disentangle"


def held_tag(users: Iterable[int]) -> str:
    """Folder tag of a held-out group of 1-based users, e.g. [7, 8] -> '7_8'."""
    return "_".join(str(int(u)) for u in users)


def held_users(tag: str) -> list[int]:
    """Inverse of :func:`held_tag`: '7_8' -> [7, 8] (1-based users)."""
    try:
        return [int(u) for u in str(tag).split("_")]
    except ValueError:
        raise ValueError(f"held-out tag {tag!r} is not 1-based user numbers joined by '_'") from None


def dis_run_name(dataset: str, measure: str, held: str) -> str:
    """``<dataset>-<measure>-h<held>`` with `held` a :func:`held_tag` (or a wildcard)."""
    return f"{dataset}-{measure}-h{held}"


def dis_dir(run: str) -> str:
    return f"{DISENTANGLE}/{run}"


def dis_measures(dataset: str, measure: str) -> str:
    """Measure images of one dataset and input measure (shared by every held-out group)."""
    return f"{DISENTANGLE}/data/{dataset}_{measure}.npz"


def dis_figure(run: str, kind: str) -> str:
    """``heatmaps`` or ``correlation`` figure of a disentangling run."""
    return f"{FIGURES}/disentangle/{run}_{kind}.png"

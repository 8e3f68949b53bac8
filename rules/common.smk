# Config validation, split and run-name helpers, target lists, input functions.
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)  # emgcore importable without installation

from emgcore.config import resolve_splits, run_name  # noqa: E402


validate(config, schema="../schemas/config.schema.yaml")

ENV = "../envs/emgcore.yaml"
DATASET = config["dataset"]
# one data folder per source: the demo and the EPN-scale synthetic sets never share paths
DATA_TAG = f"synthetic-{config.get('synthetic', {}).get('preset', 'demo')}" if DATASET == "synthetic" else DATASET
DATA = f"results/data/{DATA_TAG}"
STORE = f"{DATA}/store"
MANIFEST = f"{DATA}/manifest.csv"
SPLITS = resolve_splits(config)
VARIANTS = ["raw", "segmented", "relabeled", "standard"]
TRAIN = config["training"]
SEEDS = config["seeds"]
MHCNN_EXP = config["cross_mhcnn"]
MODELS_EXP = config["cross_models"]
RNORM = config["running_norm"]
PCA = config["pca"]
DIS = config.get("disentangle") or {"datasets": []}


wildcard_constraints:
    split="train|val|test",
    variant="raw|segmented|relabeled|standard",
    train_variant="raw|segmented|relabeled|standard",
    eval_variant="raw|segmented|relabeled|standard",
    model="[a-z0-9_]+",
    loss="[a-z0-9]+",
    seed=r"\d+",
    norm="norm|nonorm",
    tau=r"inf|\d+",
    preset="demo|epn612",
    ds="epn|hyser",
    measure="raw|envelope|stft|rms|wl|td|stft_td",
    held=r"[0-9_]+",
    run=r"[a-z0-9_]+-[a-z0-9]+-(raw|segmented|relabeled|standard)-s\d+",


def loss_run(loss, variant, seed):
    """Run name of MHCNN under `loss` (the grl loss comes with its own model, mhcnn_grl)."""
    return run_name("mhcnn_grl" if loss == "grl" else "mhcnn", loss, variant, seed)


def model_run(model, variant, seed):
    """Run name of `model` in the architecture comparison (mhcnn_grl trains with its grl loss)."""
    return run_name(model, "grl" if model == "mhcnn_grl" else "base", variant, seed)


def mhcnn_evaluations():
    """(run, eval_variant, norm) of the loss experiment, plus MHCNN/base on every base variant."""
    evals = [(e, n) for e in MHCNN_EXP["eval_variants"] for n in MHCNN_EXP["norms"]]
    out = []
    for seed in SEEDS:
        for v in MHCNN_EXP["train_variants"]:
            out += [(loss_run(loss, v, seed), e, n) for loss in MHCNN_EXP["losses"] for e, n in evals]
        for v in MHCNN_EXP.get("base_train_variants", []):
            out += [(loss_run("base", v, seed), e, n) for e, n in evals]
    return list(dict.fromkeys(out))


def models_evaluations():
    """(run, eval_variant, norm) of the architecture comparison."""
    v = MODELS_EXP["train_variant"]
    return [
        (model_run(m, v, seed), e, n)
        for seed in SEEDS
        for m in MODELS_EXP["models"]
        for e in MODELS_EXP["eval_variants"]
        for n in MODELS_EXP["norms"]
    ]


def all_evaluations():
    return list(dict.fromkeys(mhcnn_evaluations() + models_evaluations()))


def summaries(evaluations):
    return [f"results/cross/{r}/summary_{e}_{n}.csv" for r, e, n in evaluations]


def per_subject_tables(evaluations):
    return [f"results/cross/{r}/per_subject_{e}_{n}.csv" for r, e, n in evaluations]


def runs_of(evaluations):
    return list(dict.fromkeys(r for r, _, _ in evaluations))


def tau_label(tau):
    return "inf" if tau == float("inf") else str(int(tau))


def tau_sweep_tables():
    """Per-subject tables of the RunningNorm tau sweep: MHCNN/base on the loss experiment's variants."""
    runs = sweep_runs()
    e = RNORM["sweep_eval_variant"]
    return [f"results/cross/{r}/tau/per_subject_{e}_tau{tau_label(t)}.csv" for r in runs for t in RNORM["tau_sweep"]]


def sweep_runs():
    return [loss_run("base", v, s) for s in SEEDS for v in MHCNN_EXP["train_variants"]]


def loss_figures():
    combos = [(v, e, n) for v in MHCNN_EXP["train_variants"] for e in MHCNN_EXP["eval_variants"] for n in MHCNN_EXP["norms"]]
    return [f"results/figures/cross_mhcnn/losses_{v}_{e}_{n}.png" for v, e, n in combos if MHCNN_EXP["losses"]]


def model_figures():
    if not MODELS_EXP["models"]:
        return []
    return [f"results/figures/cross_models/models_{e}_{n}.png" for e in MODELS_EXP["eval_variants"] for n in MODELS_EXP["norms"]]


def run_figures(evaluations):
    figs = [f"results/figures/cross/{r}_{e}_{n}.png" for r, e, n in evaluations]
    return figs + [f"results/figures/cross/{r}_training.png" for r in runs_of(evaluations)]


def pca_figures():
    return [f"results/figures/pca/{r}.png" for r in PCA["runs"]]


def held_tag(users):
    """Folder tag of a held-out group of 1-based users, e.g. [7, 8] -> '7_8'."""
    return "_".join(str(int(u)) for u in users)


def dis_runs():
    """<dataset>-<measure>-h<held-out users> for every configured disentangling model."""
    return [
        f"{ds}-{m}-h{held_tag(h)}"
        for ds in DIS.get("datasets", [])
        for m in DIS.get("measures", [])
        for h in DIS[ds]["held_out"]
    ]


def dis_outputs(name):
    return [f"results/disentangle/{r}/{name}" for r in dis_runs()]


def dis_figures():
    return [f"results/figures/disentangle/{r}_{k}.png" for r in dis_runs() for k in ("heatmaps", "correlation")]


def dis_summaries():
    """The tables and figure that span every disentangling run (none when there is none)."""
    if not dis_runs():
        return []
    return ["results/stats_disentangle.csv", "results/latent_summary.csv",
            "results/figures/disentangle/latent_summary.png"]


def raw_input():
    """The dataset folder that ingestion reads: written by a rule (synthetic, ciil) or given."""
    if DATASET == "epn612":
        if not config.get("data_dir"):
            raise ValueError("config: dataset=epn612 needs data_dir=/path/to/EMG-EPN612 (with trainingJSON/, testingJSON/)")
        return config["data_dir"]
    return f"{DATA}/raw"


def split_of(manifest, split):
    """Subject ids of one split, from the manifest (read when the job runs)."""
    from emgcore.data.ingest import read_manifest
    from emgcore.splits import split_subjects

    subjects = split_subjects(SPLITS, split, read_manifest(manifest)["subject"])
    if not subjects:
        raise ValueError(f"splits.{split} = {list(SPLITS[split])} selects no user of {manifest}")
    return subjects

# Config validation, split and run-name helpers, target lists, input functions.
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)  # emgcore importable without installation

from emgcore.config import resolve_splits, run_name  # noqa: E402


validate(config, schema="../schemas/config.schema.yaml")

ENV = "../envs/emgcore.yaml"
DATASET = config["dataset"]
DATA = f"results/data/{DATASET}"
STORE = f"{DATA}/store"
MANIFEST = f"{DATA}/manifest.csv"
SPLITS = resolve_splits(config)
VARIANTS = ["raw", "segmented", "relabeled", "standard"]
TRAIN = config["training"]
CROSS = config["cross"]


wildcard_constraints:
    split="train|val|test",
    variant="raw|segmented|relabeled|standard",
    train_variant="raw|segmented|relabeled|standard",
    eval_variant="raw|segmented|relabeled|standard",
    model="[a-z0-9_]+",
    loss="[a-z0-9]+",
    seed=r"\d+",
    norm="norm|nonorm",
    run=r"[a-z0-9_]+-[a-z0-9]+-(raw|segmented|relabeled|standard)-s\d+",


def cross_runs():
    """Every cross-user run name the config asks for."""
    return [
        run_name(m, l, v, s)
        for m in CROSS["models"]
        for l in CROSS["losses"]
        for v in CROSS["train_variants"]
        for s in CROSS["seeds"]
    ]


def cross_summaries():
    return expand(
        "results/cross/{run}/summary_{eval_variant}_{norm}.csv",
        run=cross_runs(),
        eval_variant=CROSS["eval_variants"],
        norm=CROSS["norms"],
    )


def cross_figures():
    figs = expand(
        "results/figures/cross/{run}_{eval_variant}_{norm}.png",
        run=cross_runs(),
        eval_variant=CROSS["eval_variants"],
        norm=CROSS["norms"],
    )
    figs += expand("results/figures/cross/{run}_training.png", run=cross_runs())
    figs.append("results/figures/summary_bal_acc.png")
    return figs


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

# Config validation, typed settings, target lists and input functions. Every path comes from
# emgcore.layout; every default from config.yaml (checked by schemas/config.schema.yaml).
import dataclasses
import sys

from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)  # emgcore importable without installation

from emgcore import layout  # noqa: E402
from emgcore.data.splits import SPLIT_NAMES, check_splits  # noqa: E402
from emgcore.preprocess.segmentation import VARIANTS  # noqa: E402
from emgcore.settings import TrainingSettings, training_job_threads  # noqa: E402

validate(config, schema="../schemas/config.schema.yaml")

ENV = "../envs/emgcore.yaml"
DATASET = config["dataset"]
DATA_TAG = layout.data_tag(DATASET, config["synthetic"]["preset"], config["libemg_csv"]["name"])
DATA = layout.DataPaths(DATA_TAG)
TRAIN = config["training"]
TRAINING = TrainingSettings.from_config(TRAIN)  # checked once, before any job starts
SEEDS = config["seeds"]
MHCNN_EXP = config["cross_mhcnn"]
MODELS_EXP = config["cross_models"]
FEATS = config["cross_feats"]
FEATS_TRAIN = {**TRAIN, **FEATS["training"]}  # the grid's training settings
TrainingSettings.from_config(FEATS_TRAIN)  # checked before any job starts
WITHIN = config["within"]
WITHIN_TRAIN = {**TRAIN, **WITHIN["training"]}  # the within-user fits' training settings
TrainingSettings.from_config(WITHIN_TRAIN)
INCR = config["incremental"]
INCR_TRAIN = {**TRAIN, **INCR["training"]}  # the incremental runs' training settings
TrainingSettings.from_config(INCR_TRAIN)
ROT = config["rotation"]
ROT_TRAIN = {**TRAIN, **ROT["training"]}  # the augmented arms' training settings
TrainingSettings.from_config(ROT_TRAIN)
RNORM = config["running_norm"]
PCA = config["pca"]
DIS = config["disentangle"]
if config["splits"]:  # explicit ranges are checked now; proportional ones need the manifest (split_of)
    try:
        check_splits({k: tuple(v) for k, v in config["splits"].items()})
    except ValueError as e:
        raise ValueError(f"config: {e}") from None


wildcard_constraints:
    split="|".join(SPLIT_NAMES),
    variant="|".join(VARIANTS),
    train_variant="|".join(VARIANTS),
    eval_variant="|".join(VARIANTS),
    model="[a-z0-9_]+",
    loss="[a-z0-9]+",
    seed=r"\d+",
    norm="norm|nonorm",
    tau=r"inf|\d+",
    preset="demo|epn612",
    ds="epn|hyser",
    measure="[a-z_]+",
    held=r"[0-9_]+",
    run=layout.RUN_PATTERN,
    group="[A-Z0-9]+",
    augment="none|roll|frac|canon",
    extra_set="[A-Za-z0-9_]+",


def splits_before_ingest():
    """The split ranges known when the workflow is parsed (for the within-user sweep's chunks): the
    configured ones, else EPN-612's proportions for the synthetic preset's or the EPN-612 folder's
    numbers of training and testing users."""
    from emgcore.data.splits import proportional_splits

    if config["splits"]:
        return {k: tuple(v) for k, v in config["splits"].items()}
    if DATASET == "synthetic":
        import dataclasses

        from emgcore.data.synthetic import PRESETS

        syn = config["synthetic"]
        extra = {k: v for k, v in syn.items() if k not in ("preset", "seed")}
        data = dataclasses.replace(PRESETS[syn["preset"]](seed=syn["seed"]), **extra)
        return proportional_splits(data.n_train_users, data.n_test_users)
    if DATASET == "epn612":
        from emgcore.data.epn612 import discover_users

        users = discover_users(raw_input())
        return proportional_splits(*(max(u.number for u in users if u.group == g) for g in ("training", "testing")))
    raise ValueError(f"config: the within-user sweep on dataset {DATASET} needs explicit splits")


_WITHIN_CHUNKS = {}


def within_chunks():
    """Every subject of every split, in chunks of within.chunk_size: {chunk name: subject ids}
    (computed once per parse)."""
    from emgcore.within.chunks import SubjectChunks

    if not (WITHIN["variants"] and WITHIN["models"]):
        return {}
    if not _WITHIN_CHUNKS:
        subjects = [s for first, last in splits_before_ingest().values() for s in range(first - 1, last)]
        chunks = SubjectChunks.of(subjects, WITHIN["chunk_size"])
        _WITHIN_CHUNKS.update({name: list(chunks.subjects_of(name)) for name in chunks.names})
    return _WITHIN_CHUNKS


def within_tables():
    """Per-subject tables of the within-user sweep: every variant x seed x chunk."""
    return [layout.within_chunk(v, s, c) for v in WITHIN["variants"] for s in SEEDS for c in within_chunks()]


def within_outputs():
    """The sweep's rows for results.csv and its figures (none when the sweep is empty)."""
    if not within_chunks():
        return []
    keys = [(v, s) for v in WITHIN["variants"] for s in SEEDS]
    return [f(v, s) for v, s in keys for f in (layout.within_rows, layout.within_curve, layout.within_scatter)]


def incremental_runs(seed):
    """Every run of the incremental sweep for one seed (emgcore.layout.IncrementalRun), in grid order."""
    orders = [(o, None) for o in INCR["orderings"] if o != "random"]
    orders += [("random", rs) for rs in INCR["random_seeds"] if "random" in INCR["orderings"]]
    return [
        layout.IncrementalRun(o, rs, k, r, INCR["variant"], seed)
        for o, rs in orders
        for k in INCR["users"]
        for r in INCR["reps"]
    ]


def incremental_chunks():
    """The sweep's runs of every seed cut into jobs of incremental.runs_per_job (none when it is empty)."""
    if not (INCR["users"] and INCR["reps"] and INCR["orderings"]):
        return []
    rank = INCR["rank_by"]
    if not (
        INCR["variant"] in WITHIN["variants"]
        and rank["model"] in WITHIN["models"]
        and rank["n_train_reps"] in WITHIN["n_train_reps"]
    ):
        raise ValueError(
            f"config: incremental.rank_by {rank} on {INCR['variant']} needs that model, N and variant in the "
            f"within sweep (within.models {WITHIN['models']}, n_train_reps {WITHIN['n_train_reps']}, "
            f"variants {WITHIN['variants']})"
        )
    size = INCR["runs_per_job"]
    chunks = []
    for seed in SEEDS:
        runs = incremental_runs(seed)
        chunks += [runs[i : i + size] for i in range(0, len(runs), size)]
    return chunks


def incremental_outputs():
    """The sweep's rows for results.csv and its figures, per seed."""
    if not incremental_chunks():
        return []
    tags = [r.order_tag for r in incremental_runs(0) if r.k == INCR["users"][0] and r.r == INCR["reps"][0]]
    out = []
    for seed in SEEDS:
        out += [layout.incremental_rows(INCR["variant"], seed), layout.incremental_curve(INCR["variant"], seed)]
        out += [layout.incremental_heatmap(t, INCR["variant"], seed) for t in tags]
    return out


def rotation_arms():
    """(model, augmentation) of every arm of the rotation experiment, in config order."""
    return [tuple(arm.split("-")) for arm in ROT["arms"]]


def rotation_arm_names():
    return [layout.rotation_arm(m, a, ROT["variant"], s) for s in SEEDS for m, a in rotation_arms()]


def rotation_reuses_cross(augment):
    """An arm without augmentation trained with the cross-user settings is the cross-user run itself
    (same model, windows, settings and seed: the same weights), so it is not trained twice."""
    return augment == "none" and not ROT["training"]


def rotation_model_dir(model, augment, variant, seed):
    """The folder holding an arm's model.pt and run.json."""
    if rotation_reuses_cross(augment):
        return layout.cross_dir(model_run(model, variant, seed))
    return f"{layout.ROTATION}/{layout.rotation_arm(model, augment, variant, seed)}"


def rotation_outputs():
    """The experiment's table, rows for results.csv and figures (none without arms)."""
    if not ROT["arms"]:
        return []
    out = [layout.ROTATION_TABLE, layout.ROTATION_ROWS, layout.rotation_offsets_figure("test")]
    out += [layout.rotation_offsets_figure(name) for name in ROT["extra_sets"]]
    if len(ROT["applied_shifts"]) > 1:
        out.append(layout.rotation_shift_figure("test"))
    return out


def loss_run(loss, variant, seed):
    """Run name of MHCNN under `loss` (the grl loss comes with its own model, mhcnn_grl)."""
    return layout.run_name("mhcnn_grl" if loss == "grl" else "mhcnn", loss, variant, seed)


def model_run(model, variant, seed):
    """Run name of `model` in the architecture comparison (mhcnn_grl trains with its grl loss)."""
    return layout.run_name(model, "grl" if model == "mhcnn_grl" else "base", variant, seed)


def mhcnn_evaluations():
    """(run, eval_variant, norm) of the loss experiment, plus MHCNN/base on every base variant."""
    evals = [(e, n) for e in MHCNN_EXP["eval_variants"] for n in MHCNN_EXP["norms"]]
    out = []
    for seed in SEEDS:
        for v in MHCNN_EXP["train_variants"]:
            out += [(loss_run(loss, v, seed), e, n) for loss in MHCNN_EXP["losses"] for e, n in evals]
        for v in MHCNN_EXP["base_train_variants"]:
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


def feats_run(model, group, variant, seed):
    """Run name of `model` on the hand-crafted feature `group` in the feature grid (cross_feats)."""
    return layout.run_name(model, "base", variant, seed, group)


def feats_evaluations():
    """(run, eval_variant, norm) of the feature grid: every group x model x training variant x seed."""
    return [
        (feats_run(m, g, v, seed), e, n)
        for seed in SEEDS
        for v in FEATS["train_variants"]
        for g in FEATS["groups"]
        for m in FEATS["models"]
        for e in FEATS["eval_variants"]
        for n in FEATS["norms"]
    ]


def feats_figures():
    """The grid's heatmap and per-group distributions of every training variant and evaluation."""
    if not feats_evaluations():
        return []
    keys = [(v, e, n) for v in FEATS["train_variants"] for e in FEATS["eval_variants"] for n in FEATS["norms"]]
    return [f(*k) for k in keys for f in (layout.feats_heatmap, layout.feats_distributions)]


def feats_chunks():
    """The grid's groups cut into jobs of cross_feats.groups_per_job consecutive groups."""
    groups, size = FEATS["groups"], FEATS["groups_per_job"]
    return [groups[i : i + size] for i in range(0, len(groups), size)] if FEATS["models"] else []


def feats_chunk_runs(chunk):
    """(group, model, run-name pattern) of one job, group-major (the order of its output lists)."""
    return [(g, m, feats_run(m, g, "{train_variant}", "{seed}")) for g in chunk for m in FEATS["models"]]


def all_evaluations():
    return list(dict.fromkeys(mhcnn_evaluations() + models_evaluations() + feats_evaluations()))


def runs_of(evaluations):
    return list(dict.fromkeys(r for r, _, _ in evaluations))


def summaries(evaluations):
    """The summary table of each run among `evaluations` (every evaluation of a run is in its one table)."""
    return [layout.summary(r) for r in runs_of(evaluations)]


def per_subject_tables(evaluations):
    return [layout.per_subject(r) for r in runs_of(evaluations)]


def sweep_runs():
    """MHCNN/base on the loss experiment's training variants: the runs of the RunningNorm tau sweep."""
    return [loss_run("base", v, s) for s in SEEDS for v in MHCNN_EXP["train_variants"]]


def evaluations_of(run):
    """Labels of every evaluation of `run` (emgcore.layout.evaluation_label): what the experiments
    ask of it (norm at running_norm.tau), plus the tau sweep when it is a sweep run."""
    labels = [layout.evaluation_label(e, n, RNORM["tau"]) for r, e, n in all_evaluations() if r == run]
    if within_chunks() and run in [loss_run("base", v, s) for v in WITHIN["variants"] for s in SEEDS]:
        labels += [layout.evaluation_label(run_variant(run), "nonorm")]  # the within-user sweep's reference
    if run in sweep_runs():
        e = RNORM["sweep_eval_variant"]
        labels += [layout.evaluation_label(e, "nonorm")]
        labels += [layout.evaluation_label(e, "norm", t) for t in RNORM["tau_sweep"]]
    if not labels:
        raise ValueError(f"run {run} is in no experiment of the config (cross_mhcnn, cross_models, cross_feats)")
    return list(dict.fromkeys(labels))


def run_variant(run):
    """The training variant in a run name (only for runs this workflow names)."""
    return next(v for v in VARIANTS if f"-{v}-s" in run)


def test_variants_of(run):
    """The test window indexes the evaluation of `run` reads."""
    return list(dict.fromkeys(layout.parse_evaluation(label)[0] for label in evaluations_of(run)))


def loss_figures():
    if not MHCNN_EXP["losses"]:
        return []
    return [
        layout.loss_figure(v, e, n)
        for v in MHCNN_EXP["train_variants"]
        for e in MHCNN_EXP["eval_variants"]
        for n in MHCNN_EXP["norms"]
    ]


def model_figures():
    if not MODELS_EXP["models"]:
        return []
    return [layout.model_figure(e, n) for e in MODELS_EXP["eval_variants"] for n in MODELS_EXP["norms"]]


def run_figures(evaluations):
    """Per-subject and training-curve figures of each run (the feature grid's runs: per-subject only;
    their training logs are in their folders)."""
    grid = set(runs_of(feats_evaluations()))
    return [
        f(r)
        for r in runs_of(evaluations)
        for f in (layout.run_figure, layout.training_figure)
        if r not in grid or f is layout.run_figure
    ]


def pca_figures():
    return [layout.pca_figure(r) for r in PCA["runs"]]


def dis_runs():
    """<dataset>-<measure>-h<held-out users> for every configured disentangling model."""
    return [
        layout.dis_run_name(ds, m, layout.held_tag(h))
        for ds in DIS["datasets"]
        for m in DIS["measures"]
        for h in DIS[ds]["held_out"]
    ]


def dis_outputs(name):
    return [f"{layout.dis_dir(r)}/{name}" for r in dis_runs()]


def dis_figures():
    return [layout.dis_figure(r, k) for r in dis_runs() for k in ("heatmaps", "correlation")]


def dis_summaries():
    """The tables and figure that span every disentangling run (none when there is none)."""
    if not dis_runs():
        return []
    return [layout.STATS_DISENTANGLE_TABLE, layout.LATENT_SUMMARY_TABLE, layout.LATENT_SUMMARY_FIGURE]


def hyser_root():
    """The Hyser pr_dataset folder: given in the config, or written by the synthetic writer."""
    return DIS["hyser"]["data_dir"] or layout.HYSER_SYNTHETIC


def dis_source(wc):
    """What the disentangling measures of dataset `wc.ds` are computed from."""
    return {"epn": DATA.store, "hyser": hyser_root()}[wc.ds]


def raw_input():
    """The dataset folder that ingestion reads: written by a rule (synthetic, libemg_csv) or given."""
    if DATASET == "libemg_csv" and not (config["data_dir"] and config["libemg_csv"]["training"]):
        raise ValueError(
            "config: dataset=libemg_csv needs data_dir=/path/to/recordings and libemg_csv.training "
            "(patterns, classes; presets/ciil.yaml is an example)"
        )
    if DATASET == "epn612":
        if not config["data_dir"]:
            raise ValueError(
                "config: dataset=epn612 needs data_dir=/path/to/EMG-EPN612 (with trainingJSON/, testingJSON/)"
            )
        return config["data_dir"]
    return DATA.raw


def split_of(manifest, split):
    """Subject ids of one split, from the manifest (read when the job runs)."""
    from emgcore.data.ingest import read_manifest
    from emgcore.data.splits import resolve_splits, split_subjects

    table = read_manifest(manifest)
    splits = resolve_splits(config["splits"], table)
    subjects = split_subjects(splits, split, table["subject"])
    if not subjects:
        raise ValueError(f"splits.{split} = {list(splits[split])} selects no user of {manifest}")
    return subjects

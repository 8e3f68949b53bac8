"""The Snakemake DAG: config validation, dry runs, single targets and a tiny end-to-end run."""

import shutil

import pandas as pd
import pytest

from emgcore.report.aggregate import KEY_COLUMNS, REQUIRED_METRICS
from tests.helpers.workflow import TABLES, TINY, TRIMMED, WALL_CLOCK, snakemake, workdir_with


def test_dry_run_of_the_default_config(tmp_path):
    res = snakemake(workdir_with(tmp_path), "-n", "--quiet", "rules")
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    for rule in (
        "synthesize",
        "ingest",
        "rest_threshold",
        "population_stats",
        "window_index",
        "train_cross",
        "evaluate_cross",
        "aggregate",
        "stats",
        "tau_sweep",
        "pca_sheet",
        "plot_losses",
        "plot_models",
        "cross_feats_WENG_to_LS9",  # the demo's whole feature grid in one job
        "cross_feats_report",
    ):
        assert rule in out


@pytest.mark.parametrize(
    "target, present, absent",
    [
        (
            "cross_models",
            ["lda-base-standard-s0", "transformer-base-standard-s0", "mhcnn_grl-grl-standard-s0"],
            ["mhcnn-trp-standard-s0"],
        ),
        ("cross_mhcnn", ["mhcnn-trp-standard-s0", "mhcnn-base-raw-s0", "tau_sweep"], ["lda-base-standard-s0"]),
        ("pca", ["figures/pca/mhcnn-base-standard-s0.png"], ["lda-base-standard-s0", "mhcnn-trp-standard-s0"]),
        (
            "cross_feats",
            [
                "lda-base-standard-s0-HTD",
                "cnn_hcf-base-standard-s0-LS9",
                "cross_feats/heatmap_standard_standard_nonorm",
            ],
            ["lda-base-standard-s0/", "mhcnn-base-standard-s0", "lda-base-standard-s0-HTD_training.png"],
        ),
    ],
)
def test_each_experiment_is_a_target_of_its_own(tmp_path, target, present, absent):
    res = snakemake(workdir_with(tmp_path), "-n", target)
    assert res.returncode == 0, res.stderr
    for name in present:
        assert name in res.stdout, name
    for name in absent:
        assert name not in res.stdout, name


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"windoes": {"size": 40}}, "windoes"),
        ({"dataset": "emg2qwerty"}, "emg2qwerty"),
        ({"windows": {"size": 40, "stride": 0, "rest_subsample": 4}}, "stride"),
        ({"splits": {"train": [1, 10], "val": [5, 12], "test": [13, 40]}}, "overlap"),
    ],
)
def test_bad_config_stops_with_a_clear_message(tmp_path, overrides, message):
    res = snakemake(workdir_with(tmp_path, overrides), "-n")
    assert res.returncode != 0
    assert message in res.stdout + res.stderr


def test_epn612_without_data_dir_says_what_is_missing(tmp_path):
    res = snakemake(workdir_with(tmp_path, {"dataset": "epn612"}), "-n")
    assert res.returncode != 0 and "data_dir" in res.stdout + res.stderr


def test_one_figure_needs_only_its_own_run(tmp_path):
    target = "results/figures/cross/lda-base-standard-s0_per_subject.png"
    res = snakemake(workdir_with(tmp_path), "-n", target)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "lda-base-standard-s0" in out and "train_cross" in out and "evaluate_cross" in out
    assert "mhcnn-base-standard-s0" not in out and "aggregate" not in out
    # lda is evaluated on raw and standard test windows (cross_models): the other test variants are not built
    assert "windows/test_raw.npz" in out and "windows/test_standard.npz" in out
    assert "windows/test_segmented.npz" not in out and "windows/test_relabeled.npz" not in out
    assert "windows/train_raw.npz" not in out  # trained on the standard windows only


@pytest.mark.slow
def test_tiny_dag_end_to_end(tmp_path):
    work = workdir_with(tmp_path, TINY)
    res = snakemake(work, "--cores", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = pd.read_csv(work / "results/results.csv")
    table = results
    disentangled = results[results.loss == "disentangle"]
    results = results[results.loss != "disentangle"]
    grid = results[results.feature_group.notna()]
    results = results[results.feature_group.isna()]
    # MHCNN base/trp on raw and base on standard, each on 4 variants x 2 norms; plus lda and mlp on raw
    assert len(results) == 3 * 8 + 2
    # the feature grid: one row per (group, model), the group in its own column, 2 jobs of one group each
    assert sorted(zip(grid.feature_group, grid.model)) == [
        ("HTD", "lda"),
        ("HTD", "mlp"),
        ("RMS", "lda"),
        ("RMS", "mlp"),
    ]
    assert set(grid.run) == {f"{m}-base-raw-s0-{g}" for g in ("RMS", "HTD") for m in ("lda", "mlp")}
    assert (grid.eval_variant == "raw").all() and grid.bal_acc_mean.between(0, 1).all()
    assert (work / "results/benchmarks/cross_feats/RMS-raw-s0.tsv").exists()
    cells = pd.read_csv(work / "results/cross_feats.csv")
    assert len(cells) == 4 and set(cells.n_subjects) == {2}
    for kind in ("heatmap", "groups"):
        assert (work / f"results/figures/cross_feats/{kind}_raw_raw_nonorm.png").stat().st_size > 0
    # 2 datasets x 2 measures x 2 classifiers x 2 codes
    assert len(disentangled) == 16 and set(disentangled.code) == {"p", "s"} and disentangled.eval_variant.isna().all()
    assert disentangled.bal_acc_mean.between(0, 1).all()
    dstats = pd.read_csv(work / "results/stats_disentangle.csv")
    assert set(dstats.dataset) == {"epn", "hyser"} and dstats.p_value.between(0, 1).all()
    for run in ("epn-rms-h3_4", "hyser-wl-h3_4"):
        assert (work / f"results/figures/disentangle/{run}_heatmaps.png").stat().st_size > 0
        assert (work / f"results/figures/disentangle/{run}_correlation.png").exists()
        scores = pd.read_csv(work / f"results/disentangle/{run}/latent_scores.csv")
        assert set(scores.task) == {"gesture", "subject", "subject_within"} and set(scores.code) == {"p", "s"}
    latent = pd.read_csv(work / "results/latent_summary.csv")  # every run's latent summary, keyed by folder
    assert len(latent) == 2 * 2 * 2 * 2 * 3  # datasets x measures x classifiers x codes x tasks
    assert set(latent.dataset) == {"epn", "hyser"} and set(latent.held_out) == {"3_4"}
    assert (work / "results/figures/disentangle/latent_summary.png").stat().st_size > 10_000
    assert set(KEY_COLUMNS + REQUIRED_METRICS) <= set(results.columns)
    assert set(results.eval_variant) == {"raw", "segmented", "relabeled", "standard"}
    assert set(results.model) == {"mhcnn", "lda", "mlp"} and set(results.norm) == {"norm", "nonorm"}
    assert set(results.loss) == {"base", "trp"}
    metrics = results[[c for c in results.columns if c.endswith("_mean")]]
    assert ((metrics >= 0) & (metrics <= 1)).all().all()
    # splits of 4 + 3 users: train 1-4, val 5, test 6-7
    assert (results.n_subjects == 2).all()
    per_subject = pd.read_csv(work / "results/cross/mhcnn-base-raw-s0/per_subject.csv")
    normalised = per_subject[(per_subject.eval_variant == "raw") & (per_subject.norm == "norm")]
    assert normalised[normalised.tau == 500].subject.tolist() == [5, 6]
    # one evaluation job per run computed the tau sweep too; results.csv holds the configured tau only
    assert sorted(per_subject[per_subject.eval_variant == "raw"].tau.fillna(-1).unique()) == [
        -1,
        100,
        500,
        float("inf"),
    ]
    assert set(results[results.norm == "norm"].tau) == {500}
    run = work / "results/cross/mhcnn-base-raw-s0"
    assert (run / "model.pt").stat().st_size > 0 and len(list((run / "epochs").glob("epoch_*.pt"))) == 2
    stats = pd.read_csv(work / "results/stats.csv")
    assert set(stats.comparison) == {"trp", "lda", "mlp", "mlp@HTD", "lda@RMS", "mlp@RMS"}
    assert set(stats[stats.experiment == "cross_feats"].reference) == {"lda@HTD"} and stats.p_value.between(0, 1).all()
    sweep = pd.read_csv(work / "results/tau_sweep.csv")
    assert sorted(sweep.tau.fillna(-1).tolist()) == [-1, 100, float("inf")]
    for fig in [
        "summary_bal_acc.png",
        "tau_sweep.png",
        "pca/mhcnn-base-raw-s0.png",
        "cross_mhcnn/losses_raw_standard_norm.png",
        "cross_models/models_raw_nonorm.png",
        "cross/mhcnn-base-standard-s0_per_subject.png",
        "cross/lda-base-raw-s0_training.png",
    ]:
        assert (work / "results/figures" / fig).stat().st_size > 0, fig
    assert (work / "results/benchmarks/cross/mhcnn-base-raw-s0/train.tsv").exists()
    # nothing left to do, and the same seed gives the same table
    again = snakemake(work, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    shutil.rmtree(work / "results/cross/mhcnn-base-raw-s0")  # retrain one run from scratch
    rerun = snakemake(work, "--cores", "2")
    assert rerun.returncode == 0
    pd.testing.assert_frame_equal(pd.read_csv(work / "results/results.csv"), table)


@pytest.mark.slow
def test_trimmed_dag_twice_from_scratch_gives_identical_tables(trimmed_dag, tmp_path):
    """Two runs of the trimmed DAG with the same seed, in separate work dirs, write the same tables on CPU."""
    second = tmp_path / "b"
    second.mkdir()
    res = snakemake(workdir_with(second, TRIMMED), "--cores", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = pd.read_csv(trimmed_dag / "results/results.csv")
    assert {"mhcnn", "lda", "disentangle_knn", "disentangle_ann"} <= set(results.model)  # every kind of row
    assert set(results[results.model == "mhcnn"].norm) == {"nonorm", "norm"}
    assert pd.read_csv(trimmed_dag / "results/tau_sweep.csv").tau.dropna().tolist() == [100]  # and nonorm
    for name in TABLES:
        a, b = (pd.read_csv(work / "results" / name) for work in (trimmed_dag, second))
        assert len(a) > 0, name
        timings = [c for c in a.columns if WALL_CLOCK.search(c)]
        pd.testing.assert_frame_equal(a.drop(columns=timings), b.drop(columns=timings), check_exact=True)
        if not timings:  # then the files themselves are identical
            assert (trimmed_dag / "results" / name).read_bytes() == (second / "results" / name).read_bytes(), name

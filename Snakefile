# Cross-user EMG gesture recognition benchmark.
#   snakemake --cores all                      everything, on synthetic EPN-612-layout data
#   snakemake --cores all cross_models         one experiment (also: cross_mhcnn, cross_feats, within, incremental, rotation, pca)
#   snakemake --cores all --config dataset=epn612 data_dir=/path/to/EMG-EPN612
#   snakemake --cores all results/figures/cross/<run>_<eval_variant>_<norm>.png   one figure
import sys

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


# the demo's reduced training (presets/demo.yaml), under whatever --configfile / --config give
if config["dataset"] == "synthetic" and config["synthetic"]["preset"] == "demo":

    configfile: f"{workflow.basedir}/presets/demo.yaml"

    print("demo data: presets/demo.yaml reduces the training (values given on the command line win)", file=sys.stderr)


report: "docs/captions/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/preprocess.smk"
include: "rules/cross.smk"
include: "rules/cross_feats.smk"
include: "rules/within.smk"
include: "rules/incremental.smk"
include: "rules/rotation.smk"
include: "rules/disentangle.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        layout.RESULTS_TABLE,
        layout.STATS_TABLE,
        layout.SUMMARY_FIGURE,
        layout.TAU_SWEEP_TABLE,
        run_figures(all_evaluations()),
        loss_figures(),
        model_figures(),
        feats_figures(),
        layout.FEATS_TABLE if feats_evaluations() else [],
        within_outputs(),
        incremental_outputs(),
        rotation_outputs(),
        pca_figures(),
        dis_figures(),
        dis_summaries(),


rule cross_mhcnn:
    input:
        summaries(mhcnn_evaluations()),
        run_figures(mhcnn_evaluations()),
        loss_figures(),
        layout.TAU_SWEEP_TABLE,


rule cross_models:
    input:
        summaries(models_evaluations()),
        run_figures(models_evaluations()),
        model_figures(),


rule cross_feats:
    input:
        summaries(feats_evaluations()),
        run_figures(feats_evaluations()),
        feats_figures(),
        layout.FEATS_TABLE if feats_evaluations() else [],


rule within:
    input:
        within_outputs(),


rule incremental:
    input:
        incremental_outputs(),


rule rotation:
    input:
        rotation_outputs(),


rule pca:
    input:
        pca_figures(),


rule disentangle:
    input:
        dis_outputs("latents.npz"),


rule latent_classify:
    input:
        dis_outputs("latent_scores.csv"),
        layout.LATENT_SUMMARY_TABLE if dis_runs() else [],
        layout.LATENT_SUMMARY_FIGURE if dis_runs() else [],


rule heatmaps:
    input:
        dis_figures(),


rule stats:
    input:
        layout.STATS_TABLE,
        layout.STATS_DISENTANGLE_TABLE if dis_runs() else [],

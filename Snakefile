# Cross-user EMG gesture recognition benchmark.
#   snakemake --cores all                      everything, on synthetic EPN-612-layout data
#   snakemake --cores all cross_models         one experiment (also: cross_mhcnn, pca)
#   snakemake --cores all --config dataset=epn612 data_dir=/path/to/EMG-EPN612
#   snakemake --cores all results/figures/cross/<run>_<eval_variant>_<norm>.png   one figure
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "docs/captions/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/preprocess.smk"
include: "rules/cross.smk"
include: "rules/disentangle.smk"
include: "rules/report.smk"


rule all:
    input:
        "results/results.csv",
        "results/stats.csv",
        "results/figures/summary_bal_acc.png",
        "results/tau_sweep.csv",
        run_figures(all_evaluations()),
        loss_figures(),
        model_figures(),
        pca_figures(),
        dis_figures(),
        dis_summaries(),
    default_target: True


rule cross_mhcnn:
    input:
        summaries(mhcnn_evaluations()),
        run_figures(mhcnn_evaluations()),
        loss_figures(),
        "results/tau_sweep.csv",


rule cross_models:
    input:
        summaries(models_evaluations()),
        run_figures(models_evaluations()),
        model_figures(),


rule pca:
    input:
        pca_figures(),


rule disentangle:
    input:
        dis_outputs("latents.npz"),


rule latent_classify:
    input:
        dis_outputs("latent_scores.csv"),
        "results/latent_summary.csv" if dis_runs() else [],
        "results/figures/disentangle/latent_summary.png" if dis_runs() else [],


rule heatmaps:
    input:
        dis_figures(),


rule stats:
    input:
        "results/stats.csv",
        "results/stats_disentangle.csv" if dis_runs() else [],

"""Rule plot_summary: distribution of per-subject balanced accuracy for every run and variant."""

from script_setup import start

start(snakemake)

from emgcore.report.plots import plot_run_distributions  # noqa: E402

plot_run_distributions(snakemake.input.per_subject, snakemake.output[0])

"""Rule plot_summary: mean per-subject balanced accuracy of every run and evaluation, at a glance."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.report.summary import plot_summary_heatmap  # noqa: E402

plot_summary_heatmap(pd.read_csv(snakemake.input[0]), snakemake.output[0])

"""Rules plot_losses / plot_models: per-subject balanced accuracy per loss or model, sorted by median."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.layout import evaluation_of, read_run_info  # noqa: E402
from emgcore.report.plots import plot_metric_distributions  # noqa: E402

tables = {}
for path in snakemake.input:
    run = read_run_info(evaluation_of(path)[0])
    label = run[snakemake.params.label] + (f" s{run['seed']}" if run["seed"] else "")
    tables[label] = pd.read_csv(path)
plot_metric_distributions(tables, snakemake.output[0], metric="bal_acc", title=snakemake.params.title)

"""Rules plot_losses / plot_models: per-subject balanced accuracy per loss or model, sorted by median."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.report.plots import plot_metric_distributions  # noqa: E402
from emgcore.report.tables import select  # noqa: E402

tables = {}
for path in snakemake.input:
    rows = select(pd.read_csv(path), snakemake.params.evaluation)
    first = rows.iloc[0]
    label = str(first[snakemake.params.label]) + (f" s{first['seed']}" if first["seed"] else "")
    tables[label] = rows
plot_metric_distributions(tables, snakemake.output[0], metric="bal_acc", title=snakemake.params.title)

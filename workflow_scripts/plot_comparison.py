"""Rules plot_losses / plot_models: per-subject balanced accuracy per loss or model, sorted by median."""
from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.config import parse_run_name  # noqa: E402
from emgcore.plots import plot_metric_distributions  # noqa: E402

tables = {}
for path in snakemake.input:
    run = parse_run_name(Path(path).parent.name)
    label = run[snakemake.params.label] + (f" s{run['seed']}" if run["seed"] else "")
    tables[label] = pd.read_csv(path)
plot_metric_distributions(tables, snakemake.output[0], metric="bal_acc", title=snakemake.params.title)

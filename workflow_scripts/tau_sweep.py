"""Rule tau_sweep: RunningNorm time constant against per-subject balanced accuracy (table + figure)."""
from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.metrics import summarise  # noqa: E402
from emgcore.plots import plot_tau_sweep  # noqa: E402

rows = []
for path in snakemake.input.sweep:
    summary = pd.read_csv(Path(path).with_name(Path(path).name.replace("per_subject_", "summary_")))
    rows.append(summary)
for path in snakemake.input.nonorm:  # the no-normalisation baseline of each run: tau NaN
    summary = summarise(pd.read_csv(path))
    summary.insert(0, "tau", float("nan"))
    summary.insert(0, "run", Path(path).parent.name)
    rows.append(summary)
table = pd.concat(rows, ignore_index=True)
write_csv_atomic(table, snakemake.output.table)
plot_tau_sweep(table, snakemake.output.figure)
print(table[["run", "tau", "bal_acc_mean", "bal_acc_std"]].to_string())

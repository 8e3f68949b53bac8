"""Rule tau_sweep: RunningNorm time constant against per-subject balanced accuracy (table + figure)."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.layout import evaluation_of, read_run_info  # noqa: E402
from emgcore.report.metrics import summarise  # noqa: E402
from emgcore.report.plots import plot_tau_sweep  # noqa: E402

rows = [pd.read_csv(path) for path in snakemake.input.sweep]  # one summary per (run, tau)
for path in snakemake.input.nonorm:  # the no-normalisation baseline of each run: tau NaN
    summary = summarise(pd.read_csv(path))
    summary.insert(0, "tau", float("nan"))
    summary.insert(0, "run", read_run_info(evaluation_of(path)[0])["run"])
    rows.append(summary)
table = pd.concat(rows, ignore_index=True)
write_csv_atomic(table, snakemake.output.table)
plot_tau_sweep(table, snakemake.output.figure)
print(table[["run", "tau", "bal_acc_mean", "bal_acc_std"]].to_string())

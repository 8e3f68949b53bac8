"""Rule tau_sweep: RunningNorm time constant against per-subject balanced accuracy (table + figure)."""

from script_setup import start

start(snakemake)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.plots import plot_tau_sweep  # noqa: E402

p = snakemake.params
summaries = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
rows = summaries[summaries.eval_variant == p.eval_variant]
swept = np.isin(rows.tau.astype(float), np.asarray(p.taus, dtype=float))
table = rows[(rows.norm == "nonorm") | ((rows.norm == "norm") & swept)]  # nonorm: the baseline (tau NaN)
table = table.sort_values(["run", "tau"], na_position="last", ignore_index=True)
write_csv_atomic(table, snakemake.output.table)
plot_tau_sweep(table, snakemake.output.figure)
print(table[["run", "tau", "bal_acc_mean", "bal_acc_std"]].to_string())

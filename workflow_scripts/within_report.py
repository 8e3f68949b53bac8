"""Rule within_report: the within-user sweep's rows for results.csv and its two figures."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.within.report import (  # noqa: E402
    cross_reference,
    plot_accuracy_vs_n,
    plot_within_vs_cross,
    read_within_tables,
    within_results_rows,
)

w = snakemake.wildcards
table = read_within_tables(snakemake.input.tables)
cross = cross_reference(pd.read_csv(snakemake.input.cross), w.variant)
rows = within_results_rows(table, int(w.seed))
write_csv_atomic(rows, snakemake.output.rows)
what = f"{w.variant} windows, seed {w.seed}"
plot_accuracy_vs_n(table, cross, f"Within-user models on the test users ({what})", snakemake.output.curve)
plot_within_vs_cross(table, cross, f"Each test user: within-user against cross-user ({what})", snakemake.output.scatter)
print(rows[["run", "n_subjects", "bal_acc_mean", "bal_acc_std"]].to_string())

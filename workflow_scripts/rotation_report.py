"""Rule rotation_report: the rotation experiment's table (results/rotation.csv), its rows for
results/results.csv, and the offset and applied-rotation figures."""

from script_setup import start

start(snakemake)

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.rotation.report import (  # noqa: E402
    plot_offset_vs_accuracy,
    plot_shift_curve,
    read_rotation_tables,
    rotation_results_rows,
    rotation_table,
)

table = read_rotation_tables(snakemake.input.tables)
summary = rotation_table(table, snakemake.params.rotated_threshold)
write_csv_atomic(summary, snakemake.output.table)
write_csv_atomic(rotation_results_rows(table), snakemake.output.rows)
for name, path in zip(snakemake.params.sets, snakemake.output.offsets):
    plot_offset_vs_accuracy(table, name, path)
if snakemake.output.shifts:
    plot_shift_curve(table, "test", snakemake.output.shifts)
columns = ["method", "test_set", "applied_shift", "n_subjects", "bal_acc_mean", "bal_acc_std", "bal_acc_worst10"]
print(summary[columns + ["n_rotated", "bal_acc_rotated_mean"]].to_string())

"""Rule latent_table: every disentangling run's latent summary in one table, and its figure."""

from script_setup import start

start(snakemake)

from emgcore.disentangle.latent import collect_latent_summaries  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.plots import plot_latent_summary  # noqa: E402

table = collect_latent_summaries(snakemake.input)
write_csv_atomic(table, snakemake.output.table)
plot_latent_summary(table, snakemake.output.figure)
print(
    table.pivot_table(index=["dataset", "classifier"], columns=["code", "task"], values="bal_acc_mean")
    .round(2)
    .to_string()
)

"""Rule aggregate: every run's summary -> results/results.csv (the only writer of that file)."""

from script_setup import start

start(snakemake)

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.aggregate import aggregate_summaries  # noqa: E402

keep = {tuple(pair) for pair in snakemake.params.keep}
table = aggregate_summaries(
    [
        *snakemake.input.cross,
        *snakemake.input.disentangle,
        *snakemake.input.within,
        *snakemake.input.incremental,
        *snakemake.input.rotation,
    ],
    keep=keep,
)
write_csv_atomic(table, snakemake.output[0])
print(table.to_string())

"""Rule classify_latents: gesture and subject accuracy from pattern (p) and subject (s) codes."""
from script_setup import start

start(snakemake)

from emgcore.disentangle.latent import evaluate_latents, results_rows, summarise_latents  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402

w = snakemake.wildcards
table = evaluate_latents(snakemake.input[0], classifiers=snakemake.params.classifiers, seed=snakemake.params.seed)
summary = summarise_latents(table)
write_csv_atomic(table, snakemake.output.scores)
write_csv_atomic(summary, snakemake.output.summary)
write_csv_atomic(results_rows(table, w.ds, w.measure, w.held.split("_")), snakemake.output.rows)
print(summary.to_string())

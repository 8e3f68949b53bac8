"""Rule classify_latents: gesture and subject accuracy from pattern (p) and subject (s) codes."""

from script_setup import start

start(snakemake)

from emgcore.disentangle.latent import evaluate_latents, results_rows, summarise_latents, with_run_keys  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.layout import held_users  # noqa: E402

w = snakemake.wildcards
p = snakemake.params
table = evaluate_latents(snakemake.input[0], p.classifiers, p.classifier_params, seed=p.seed)
summary = summarise_latents(table)
write_csv_atomic(with_run_keys(table, w.ds, w.measure, w.held), snakemake.output.scores)
write_csv_atomic(with_run_keys(summary, w.ds, w.measure, w.held), snakemake.output.summary)
write_csv_atomic(results_rows(table, w.ds, w.measure, held_users(w.held)), snakemake.output.rows)
print(summary.to_string())

"""Rules evaluate_cross / evaluate_tau: per-subject metrics of one run on one test variant,
on raw windows (nonorm) or through RunningNorm (norm, or the tau of a sweep point)."""
from script_setup import start

start(snakemake)

from emgcore.config import parse_run_name  # noqa: E402
from emgcore.cross import evaluate_cross_run  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.plots import plot_per_subject  # noqa: E402

w = snakemake.wildcards
p = snakemake.params
norm = w.get("norm", "norm")  # evaluate_tau is always normalised
per_subject, summary = evaluate_cross_run(
    snakemake.input.model, snakemake.input.store, snakemake.input.windows, p.batch_size,
    norm=norm, tau=float(p.tau), population=snakemake.input.population, prior_count=p.prior_count,
)
keys = dict(run=w.run, **parse_run_name(w.run), eval_variant=w.eval_variant, norm=norm,
            tau=float(p.tau) if norm == "norm" else float("nan"))
for i, (key, value) in enumerate(keys.items()):
    summary.insert(i, key, value)
write_csv_atomic(per_subject, snakemake.output.per_subject)
write_csv_atomic(summary, snakemake.output.summary)
if "figure" in snakemake.output.keys():
    plot_per_subject(per_subject, f"{w.run} on {w.eval_variant} ({norm})", snakemake.output.figure)
print(summary.T.to_string())

"""Rules evaluate_cross / evaluate_tau: per-subject metrics of one run on one test variant,
on raw windows (nonorm) or through RunningNorm (norm, or the tau of a sweep point)."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.runs import evaluate_cross_run  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.layout import CrossRun, read_run_info  # noqa: E402
from emgcore.report.plots import plot_per_subject  # noqa: E402
from emgcore.settings import RunningNormSettings  # noqa: E402

w = snakemake.wildcards
running_norm = RunningNormSettings.from_config(snakemake.params.running_norm)
if "tau" in w.keys():  # a point of the tau sweep: always normalised
    norm, running_norm = "norm", running_norm.with_tau(float(w.tau))
else:
    norm = w.norm
run = CrossRun.from_info(read_run_info(Path(snakemake.input.model).parent))
per_subject, summary = evaluate_cross_run(
    snakemake.input.model,
    snakemake.input.store,
    snakemake.input.windows,
    snakemake.params.batch_size,
    norm=norm,
    running_norm=running_norm,
    population=snakemake.input.population,
)
keys = dict(
    run.as_dict(), eval_variant=w.eval_variant, norm=norm, tau=running_norm.tau if norm == "norm" else float("nan")
)
for i, (key, value) in enumerate(keys.items()):
    summary.insert(i, key, value)
write_csv_atomic(per_subject, snakemake.output.per_subject)
write_csv_atomic(summary, snakemake.output.summary)
if "figure" in snakemake.output.keys():
    plot_per_subject(per_subject, f"{run.name} on {w.eval_variant} ({norm})", snakemake.output.figure)
print(summary.T.to_string())

"""Rule evaluate_cross: every evaluation of one run (test variants x norms, the tau sweep) in one job."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.evaluation import Evaluation, evaluate_run  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.plots import plot_run_evaluations  # noqa: E402
from emgcore.report.tables import evaluation_labels  # noqa: E402

p = snakemake.params
evaluations = [Evaluation.parse(label) for label in p.evaluations]
per_subject, summary = evaluate_run(
    Path(snakemake.input.model).parent,
    snakemake.input.store,
    dict(zip(p.variants, snakemake.input.windows)),
    evaluations,
    p.batch_size,
    p.prior_count,
    population=snakemake.input.population,
)
write_csv_atomic(per_subject, snakemake.output.per_subject)
write_csv_atomic(summary, snakemake.output.summary)
labelled = per_subject.assign(evaluation=evaluation_labels(per_subject))
plot_run_evaluations(labelled, f"{summary.run.iloc[0]}: per-subject accuracy", snakemake.output.figure)
print(summary[["eval_variant", "norm", "tau", "bal_acc_mean", "bal_acc_std", "bal_acc_worst10"]].to_string())

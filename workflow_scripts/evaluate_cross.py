"""Rule evaluate_cross: every evaluation of one run (test variants x norms, the tau sweep) in one job."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.evaluation import Evaluation, write_run_evaluation  # noqa: E402

p = snakemake.params
summary = write_run_evaluation(
    Path(snakemake.input.model).parent,
    snakemake.input.store,
    dict(zip(p.variants, snakemake.input.windows)),
    [Evaluation.parse(label) for label in p.evaluations],
    p.batch_size,
    p.prior_count,
    snakemake.input.population,
    snakemake.output.per_subject,
    snakemake.output.summary,
    snakemake.output.figure,
)
print(summary[["eval_variant", "norm", "tau", "bal_acc_mean", "bal_acc_std", "bal_acc_worst10"]].to_string())

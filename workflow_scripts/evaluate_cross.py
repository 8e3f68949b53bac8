"""Rule evaluate_cross: per-subject metrics of one run on one test variant."""
from script_setup import start

start(snakemake)

from emgcore.config import parse_run_name  # noqa: E402
from emgcore.cross import evaluate_cross_run  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402

w = snakemake.wildcards
per_subject, summary = evaluate_cross_run(
    snakemake.input.model, snakemake.input.store, snakemake.input.windows, snakemake.params.batch_size
)
run = parse_run_name(w.run)
summary.insert(0, "norm", w.norm)
summary.insert(0, "eval_variant", w.eval_variant)
for i, key in enumerate(["run", "model", "loss", "train_variant", "seed"]):
    summary.insert(i, key, w.run if key == "run" else run[key])
write_csv_atomic(per_subject, snakemake.output.per_subject)
write_csv_atomic(summary, snakemake.output.summary)
print(summary.T.to_string())

"""Rule stats: Wilcoxon signed-rank tests over the same test subjects against MHCNN/base."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.layout import evaluation_of, read_run_info  # noqa: E402
from emgcore.report.stats import wilcoxon_vs_reference  # noqa: E402


def grouped(paths, key):
    """{(train_variant, seed, eval_variant, norm): {label: per-subject table}} with label = loss or model."""
    groups = {}
    for path in paths:
        run_dir, eval_variant, norm = evaluation_of(path)
        run = read_run_info(run_dir)
        groups.setdefault((run["train_variant"], run["seed"], eval_variant, norm), {})[run[key]] = pd.read_csv(path)
    return groups


frames = []
for experiment, paths, key, reference in (
    ("cross_mhcnn", snakemake.input.losses, "loss", "base"),
    ("cross_models", snakemake.input.models, "model", "mhcnn"),
):
    for (train_variant, seed, eval_variant, norm), tables in grouped(paths, key).items():
        if reference not in tables or len(tables) < 2:
            continue
        extra = {
            label: dict(
                experiment=experiment, train_variant=train_variant, seed=seed, eval_variant=eval_variant, norm=norm
            )
            for label in tables
        }
        frames.append(wilcoxon_vs_reference(tables, reference, metric="bal_acc", extra=extra))
table = (
    pd.concat(frames, ignore_index=True)
    if frames
    else pd.DataFrame(columns=["comparison", "reference", "experiment", "metric", "p_value", "effect_size"])
)
write_csv_atomic(table, snakemake.output[0])
print(table.to_string())

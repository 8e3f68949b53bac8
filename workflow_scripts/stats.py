"""Rule stats: Wilcoxon signed-rank tests over the same test subjects against each experiment's
reference: MHCNN/base (losses), MHCNN (architectures), the reference cell of the feature grid."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.stats import wilcoxon_vs_reference  # noqa: E402
from emgcore.report.tables import evaluation_labels  # noqa: E402


def grouped(paths, key, labels):
    """{(train_variant, seed, evaluation): {label: per-subject table}} with label = key(row) (the loss,
    the model, model@group), for the evaluations `labels` of the experiment."""
    groups = {}
    for path in paths:
        table = pd.read_csv(path)
        table = table.assign(evaluation=evaluation_labels(table))
        for evaluation, rows in table[table.evaluation.isin(labels)].groupby("evaluation", sort=False):
            first = rows.iloc[0]
            groups.setdefault((first.train_variant, first.seed, evaluation), {})[key(first)] = rows
    return groups


def grid_cell(row):
    """A feature-grid run as it is named in stats.csv: ``<model>@<group>``, e.g. ``lda@HTD``."""
    return f"{row.model}@{row.feature_group}"


p = snakemake.params
frames = []
for experiment, paths, key, reference, labels in (
    ("cross_mhcnn", snakemake.input.losses, lambda row: row.loss, "base", p.losses),
    ("cross_models", snakemake.input.models, lambda row: row.model, "mhcnn", p.models),
    (
        "cross_feats",
        snakemake.input.feats,
        grid_cell,
        f"{p.feats_reference['model']}@{p.feats_reference['group']}",
        p.feats,
    ),
):
    for (train_variant, seed, _evaluation), tables in grouped(paths, key, labels).items():
        if reference not in tables or len(tables) < 2:
            continue
        first = tables[reference].iloc[0]
        keys = dict(
            experiment=experiment,
            train_variant=train_variant,
            seed=int(seed),
            eval_variant=first.eval_variant,
            norm=first.norm,
        )
        extra = {label: keys for label in tables}
        frames.append(wilcoxon_vs_reference(tables, reference, metric="bal_acc", extra=extra))
table = (
    pd.concat(frames, ignore_index=True)
    if frames
    else pd.DataFrame(columns=["comparison", "reference", "experiment", "metric", "p_value", "effect_size"])
)
write_csv_atomic(table, snakemake.output[0])
print(table.to_string())

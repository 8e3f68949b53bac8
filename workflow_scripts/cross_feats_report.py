"""Rule cross_feats_report: the feature grid's table (results/cross_feats.csv), its groups x models
heatmaps and per-group distributions, one per training variant and evaluation."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore import layout  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.report.feature_grid import grid_per_subject, grid_table, plot_grid_heatmap, plot_group_distributions  # noqa: E402
from emgcore.report.tables import select  # noqa: E402

p = snakemake.params
per_subject = grid_per_subject(pd.read_csv(path) for path in snakemake.input)
table = grid_table(per_subject)
write_csv_atomic(table, snakemake.output.table)
for train_variant, eval_variant, norm in p.evaluations:
    label = layout.evaluation_label(eval_variant, norm, p.tau)
    cells = select(table[table.train_variant == train_variant], label)
    subjects = select(per_subject[per_subject.train_variant == train_variant], label)
    what = f"trained on {train_variant}, tested on {eval_variant} ({norm})"
    plot_grid_heatmap(
        cells,
        p.groups,
        p.models,
        f"Feature grid, {what}: mean per-subject balanced accuracy ± std over {cells.n_subjects.max()} test users",
        layout.feats_heatmap(train_variant, eval_variant, norm),
    )
    plot_group_distributions(
        subjects,
        p.models,
        f"Per-subject balanced accuracy per feature group, {what}",
        layout.feats_distributions(train_variant, eval_variant, norm),
    )
print(table.to_string())

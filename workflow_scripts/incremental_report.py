"""Rule incremental_report: the incremental sweep's rows for results.csv, users x repetitions heatmaps
per ordering and accuracy against the number of users at the largest R."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.within.report import incremental_cells, plot_incremental_curve, plot_incremental_heatmap  # noqa: E402

p, o = snakemake.params, snakemake.output
rows = pd.concat([pd.read_csv(path) for path in snakemake.input.summaries], ignore_index=True)
write_csv_atomic(rows, o.rows)
per_subject = pd.concat([pd.read_csv(path) for path in snakemake.input.per_subject], ignore_index=True)
cells = incremental_cells(per_subject)
for tag, path in zip(p.tags, o.heatmaps):
    plot_incremental_heatmap(cells, tag, path)
plot_incremental_curve(cells, o.curve)
print(cells.to_string())

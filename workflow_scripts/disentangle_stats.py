"""Rule disentangle_stats: latent-classifier accuracy across input measures (Friedman, then Wilcoxon + Holm)."""

from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.disentangle.stats import compare_measures  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402

scores = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
scores = scores[(scores.task == "gesture") & (scores.code == "p")]
out = []
for ds, part in scores.groupby("dataset"):
    if part.measure.nunique() < 2:
        print(f"{ds}: one input measure only; nothing to compare")
        continue
    stats = compare_measures(part, value="acc", block="subject", group="measure", by=("classifier",))
    out.append(stats.assign(dataset=ds))
table = (
    pd.concat(out, ignore_index=True)
    if out
    else pd.DataFrame(columns=["dataset", "classifier", "test", "measure_a", "measure_b", "p_value", "p_holm"])
)
write_csv_atomic(table, snakemake.output[0])
print(table.to_string())

"""Rule disentangle_stats: latent-classifier accuracy across input measures (Friedman, then Wilcoxon + Holm)."""
from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from emgcore.disentangle.latent import run_keys  # noqa: E402
from emgcore.disentangle.stats import compare_measures  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402

frames = []
for path in map(Path, snakemake.input):
    ds, measure, held = run_keys(path)
    table = pd.read_csv(path)
    table = table[(table.task == "gesture") & (table.code == "p")]
    frames.append(table.assign(dataset=ds, measure=measure, held_out=held))
scores = pd.concat(frames, ignore_index=True)
out = []
for ds, part in scores.groupby("dataset"):
    if part.measure.nunique() < 2:
        print(f"{ds}: one input measure only; nothing to compare")
        continue
    stats = compare_measures(part, value="acc", block="subject", group="measure", by=("classifier",))
    out.append(stats.assign(dataset=ds))
table = pd.concat(out, ignore_index=True) if out else pd.DataFrame(
    columns=["dataset", "classifier", "test", "measure_a", "measure_b", "p_value", "p_holm"])
write_csv_atomic(table, snakemake.output[0])
print(table.to_string())

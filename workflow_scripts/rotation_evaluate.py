"""Rule rotation_evaluate: one arm on the test users (and the extra sets) under every test-time method,
stream order and applied rotation: one per-subject table."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.rotation.evaluation import AlignmentSettings, EvaluationSet, evaluate_rotation  # noqa: E402
from emgcore.rotation.extra_sets import STORE, UNITS, WINDOWS  # noqa: E402

w, p = snakemake.wildcards, snakemake.params
rot = p.rotation
sets = [EvaluationSet("test", snakemake.input.store, snakemake.input.windows)]
for name, folder in zip(p.set_names, snakemake.input.sets):
    folder = Path(folder)
    sets.append(EvaluationSet(name, folder / STORE, folder / WINDOWS, pd.read_csv(folder / UNITS)))
table = evaluate_rotation(
    Path(snakemake.input.model).parent,
    sets,
    snakemake.input.reference,
    rot["methods"],
    rot["stream_orders"],
    rot["applied_shifts"],
    population=snakemake.input.population,
    tau=p.tau,
    prior_count=p.prior_count,
    alignment=AlignmentSettings.from_config(rot["alignment"]),
    batch_size=p.batch_size,
    stream_seed=rot["stream_seed"],
    window_step=rot["window_step"],
    identity={
        "arm": f"{w.model}-{w.augment}",
        "model": w.model,
        "augment": w.augment,
        "train_variant": w.variant,
        "seed": int(w.seed),
    },
)
write_csv_atomic(table, snakemake.output[0])
keys = ["test_set", "rotation_method", "stream_order", "applied_shift"]
print(table.groupby(keys)["bal_acc"].agg(["count", "mean", "std"]).to_string())

"""Rule within_chunk: within-user models of a chunk of subjects, every N and model, one table."""

from script_setup import start

start(snakemake)

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.data.ingest import read_manifest  # noqa: E402
from emgcore.data.splits import SPLIT_NAMES, resolve_splits, split_subjects  # noqa: E402
from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.settings import TrainingSettings, WindowSettings  # noqa: E402
from emgcore.within.fit import fit_chunk  # noqa: E402

p, i, w = snakemake.params, snakemake.input, snakemake.wildcards
manifest = read_manifest(i.manifest)
splits = resolve_splits(p.splits, manifest)
split_of = {s: name for name in SPLIT_NAMES for s in split_subjects(splits, name, manifest["subject"])}
missing = [s for s in p.subjects if s not in split_of]
if missing:
    raise ValueError(f"{i.manifest}: subjects {missing[:10]} of {w.chunk} are in no split of the ingested data")
training = TrainingSettings.from_config(p.training).replace(threads=int(snakemake.threads))
table = fit_chunk(
    i.store,
    p.subjects,
    p.within["n_train_reps"],
    p.within["models"],
    w.variant,
    WindowSettings.from_config(p.windows),
    training,
    split_of=split_of,
    cross_train_subjects=split_subjects(splits, "train", manifest["subject"]),
    checkpoint=i.checkpoint or None,
    threshold=json.loads(Path(i.threshold).read_text())["threshold"] if w.variant == "standard" else None,
    val_rep=p.within["val_rep"],
    test_reps=p.within["test_reps"],
    seed=int(w.seed),
)
write_csv_atomic(table, snakemake.output[0])
print(table.groupby(["model", "ft", "n_train_reps"])["bal_acc"].agg(["mean", "std", "count"]).to_string())

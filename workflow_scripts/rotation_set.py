"""Rule rotation_set: an extra evaluation set (more recordings of the training people, e.g. CIIL's
after-shift trials) as its own store and window index, one unit per person and session."""

from script_setup import start

start(snakemake)

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.rotation.extra_sets import build_extra_set  # noqa: E402
from emgcore.settings import WindowSettings  # noqa: E402

p = snakemake.params
windows = WindowSettings.from_config(p.windows)
table = build_extra_set(
    snakemake.output[0],
    p.root,
    snakemake.wildcards.extra_set,
    p.set_layout,
    p.training_layout,
    p.train_subjects,
    p.variant,
    windows.size,
    windows.stride_of("test"),
    windows.rest_subsample,
    json.loads(Path(snakemake.input.threshold).read_text())["threshold"],
)
print(table.to_string())

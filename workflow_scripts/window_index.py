"""Rule window_index: one split x variant -> window index (small integer arrays, no signal)."""

from script_setup import start

start(snakemake)

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.data.store import iter_store  # noqa: E402
from emgcore.preprocess.window_index import build_window_index, save_window_index  # noqa: E402
from emgcore.settings import WindowSettings  # noqa: E402

p = snakemake.params
windows = WindowSettings.from_config(p.windows)
threshold = json.loads(Path(snakemake.input.threshold).read_text())["threshold"]
index = build_window_index(
    iter_store(snakemake.input.store, p.subjects),
    snakemake.wildcards.variant,
    windows.size,
    windows.stride_of(snakemake.wildcards.split),
    rest_subsample=windows.rest_subsample,
    threshold=threshold if snakemake.wildcards.variant == "standard" else None,
)
save_window_index(snakemake.output[0], index)
print(f"{len(index)} windows from {len(p.subjects)} subjects")

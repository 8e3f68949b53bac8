"""Rule rest_threshold: mean + 3 std of rest-window MAV over the training users only."""

from script_setup import start

start(snakemake)

import json  # noqa: E402

from emgcore.data.store import iter_store  # noqa: E402
from emgcore.io import write_text_atomic  # noqa: E402
from emgcore.preprocess.segmentation import rest_threshold  # noqa: E402
from emgcore.settings import WindowSettings  # noqa: E402

p = snakemake.params
windows = WindowSettings.from_config(p.windows)
value = rest_threshold(iter_store(snakemake.input.store, p.train_subjects), windows.size, windows.stride)
doc = {"threshold": value, "window": windows.size, "stride": windows.stride, "train_subjects": list(p.train_subjects)}
write_text_atomic(snakemake.output[0], json.dumps(doc, indent=1))
print(doc)

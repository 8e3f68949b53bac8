"""Rule synthesize: synthetic users written in the exact EMG-EPN-612 JSON layout."""

from script_setup import start

start(snakemake)

import dataclasses  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.data.synthetic import PRESETS, write_synthetic_dataset  # noqa: E402

p = snakemake.params
config = dataclasses.replace(PRESETS[p.preset](seed=p.seed), **p.overrides)
out = Path(snakemake.output[0])
tmp = out.with_name(out.name + ".partial")  # the folder appears whole or not at all
shutil.rmtree(tmp, ignore_errors=True)
summary = write_synthetic_dataset(tmp, config)
tmp.rename(out)
print(f"{summary['n_users']} users in {summary['seconds']} s")

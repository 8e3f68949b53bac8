"""Rule plot_per_subject: sorted per-subject balanced and active accuracy of one evaluation."""
from script_setup import start

start(snakemake)

import pandas as pd  # noqa: E402

from emgcore.plots import plot_per_subject  # noqa: E402

w = snakemake.wildcards
plot_per_subject(pd.read_csv(snakemake.input[0]), f"{w.run} on {w.eval_variant} ({w.norm})", snakemake.output[0])

"""Rule plot_training: loss and accuracy curves of one run."""
from script_setup import start

start(snakemake)

from emgcore.plots import plot_training_curves  # noqa: E402

plot_training_curves(snakemake.input[0], snakemake.output[0])

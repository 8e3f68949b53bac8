"""Rule hyser_synthetic: a small synthetic set in the Hyser pr_dataset WFDB layout."""

from script_setup import start

start(snakemake)

from emgcore.data.hyser_synthetic import write_synthetic_hyser  # noqa: E402

p = snakemake.params
summary = write_synthetic_hyser(snakemake.output[0], task=p.task, kinds=(p.kind,), **p.settings)
print(summary)

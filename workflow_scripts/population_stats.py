"""Rule population_stats: per-channel mean/std of the training users, RunningNorm's starting point."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.data.store import store_filename  # noqa: E402
from emgcore.preprocess.population import population_stats, save_population_stats  # noqa: E402

subjects = snakemake.params.train_subjects
mean, std = population_stats(Path(snakemake.input.store) / store_filename(s) for s in subjects)
save_population_stats(snakemake.output[0], mean, std, meta={"train_subjects": list(subjects)})
print("mean", mean, "\nstd", std)

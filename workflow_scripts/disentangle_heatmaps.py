"""Rule disentangle_heatmaps: the pattern component alone on the electrode grid, per gesture and subject."""
from script_setup import start

start(snakemake)

from emgcore.disentangle.heatmaps import (  # noqa: E402
    gesture_means, pattern_heatmaps, plot_correlation_matrix, plot_heatmaps, reconstruction_correlation,
)
from emgcore.disentangle.measures import MeasureDataset  # noqa: E402
from emgcore.disentangle.model import load_checkpoint  # noqa: E402
from emgcore.disentangle.train import split_by_protocol  # noqa: E402

held = [int(u) - 1 for u in snakemake.wildcards.held.split("_")]
model, scaler, _ = load_checkpoint(snakemake.input.model)
_, test = split_by_protocol(MeasureDataset.load(snakemake.input.data), held, train_session=1, test_session=2)
X = scaler.transform(test.X)
maps = pattern_heatmaps(model, X, test.gesture, test.subject, plane=None, mode="zero")
names = [f"g{g}" for g in sorted({g for g, _ in maps})]
run = f"{snakemake.wildcards.ds}-{snakemake.wildcards.measure}-h{snakemake.wildcards.held}"
plot_heatmaps(maps, snakemake.output.heatmaps, grid_shape=tuple(test.grid_shape),
              title=f"{run}: pattern component (subject code zeroed)")
means = gesture_means(maps)
plot_correlation_matrix(reconstruction_correlation(means), [f"g{g}" for g in sorted(means)],
                        snakemake.output.correlation)
print(names)

"""Rule disentangle_heatmaps: the pattern component alone on the electrode grid, per gesture and subject."""

from script_setup import start

start(snakemake)

from emgcore.disentangle.heatmaps import (  # noqa: E402
    gesture_means,
    pattern_heatmaps,
    plot_correlation_matrix,
    plot_heatmaps,
    reconstruction_correlation,
)
from emgcore.disentangle.measures import MeasureDataset  # noqa: E402
from emgcore.disentangle.model import load_checkpoint  # noqa: E402
from emgcore.disentangle.recordings import gesture_names  # noqa: E402
from emgcore.disentangle.train import protocol_split  # noqa: E402
from emgcore.layout import dis_run_name, held_users  # noqa: E402

w = snakemake.wildcards
model, scaler, _ = load_checkpoint(snakemake.input.model)
_, test = protocol_split(MeasureDataset.load(snakemake.input.data), held_users(w.held))
X = scaler.transform(test.X)
maps = pattern_heatmaps(model, X, test.gesture, test.subject, plane=None, mode="zero")
names = gesture_names(w.ds, snakemake.params.gestures)  # indexed by Trial.gesture (position in the subset)
plot_heatmaps(
    maps,
    snakemake.output.heatmaps,
    gesture_names=names,
    grid_shape=tuple(test.grid_shape),
    title=f"{dis_run_name(w.ds, w.measure, w.held)}: pattern component (subject code zeroed)",
)
means = gesture_means(maps)
plot_correlation_matrix(
    reconstruction_correlation(means), [names[g] for g in sorted(means)], snakemake.output.correlation
)
print(names)

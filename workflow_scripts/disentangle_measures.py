"""Rule disentangle_measures: every analysis window of a dataset as a (measures, H, W) grid image."""

from script_setup import start

start(snakemake)

from emgcore.disentangle.measures import build_measure_dataset  # noqa: E402
from emgcore.disentangle.recordings import epn_trials, hyser_trials  # noqa: E402

p = snakemake.params
first, last = p.dataset["users"]
subjects = list(range(first - 1, last))  # 1-based users -> 0-based subject ids
if snakemake.wildcards.ds == "epn":
    trials, grid = epn_trials(snakemake.input[0], subjects, gestures=tuple(p.dataset["gestures"]))
else:
    trials, grid = hyser_trials(
        snakemake.input[0],
        subjects,
        p.dataset["gestures"],
        task=p.dataset["task"],
        kind=p.dataset["kind"],
        grid_map=p.dataset.get("grid_map"),
    )
data = build_measure_dataset(
    trials, grid, snakemake.wildcards.measure, window_s=p.window_s, overlap=p.overlap, discard_s=p.discard_s
)
data.save(snakemake.output[0])
print(f"{len(trials)} trials -> {len(data)} windows of shape {data.X.shape[1:]}")

"""Rule pca_sheet: test-window embeddings after every epoch, on the final epoch's two principal axes."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore import layout  # noqa: E402
from emgcore.cross.runs import model_view, run_features  # noqa: E402
from emgcore.layout import read_run_info  # noqa: E402
from emgcore.preprocess.window_dataset import WindowDataset, make_loader  # noqa: E402
from emgcore.preprocess.window_index import load_window_index  # noqa: E402
from emgcore.report.pca import epoch_checkpoints, epoch_embeddings, epoch_number, pca_sheet  # noqa: E402

run_dir = Path(snakemake.input.info).parent
run = read_run_info(run_dir)
dataset = WindowDataset.from_store(load_window_index(snakemake.input.windows), snakemake.input.store)
dataset = model_view(dataset, run["model"], run_features(run_dir / layout.MODEL_FILE))  # features for HCF models
# a seeded shuffle gives a subset spread over all test users, the same for every epoch
loader = make_loader(dataset, 1024, shuffle=True, seed=snakemake.params.seed)
checkpoints = epoch_checkpoints(run_dir)
embeddings, labels = epoch_embeddings(checkpoints, loader, snakemake.params.max_windows)
pca_sheet(
    embeddings,
    labels,
    snakemake.output[0],
    title=f"{run['run']}: test embeddings per epoch",
    epoch_numbers=[epoch_number(p) for p in checkpoints],
)

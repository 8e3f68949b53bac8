"""Rule rotation_train: one arm of the rotation experiment, a model trained with ring-shift augmentation."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.runs import train_cross_run  # noqa: E402
from emgcore.data.store import store_filename  # noqa: E402
from emgcore.layout import CrossRun  # noqa: E402
from emgcore.preprocess.window_index import load_window_index  # noqa: E402
from emgcore.rotation.alignment import ActivationReference, recording_offset  # noqa: E402
from emgcore.rotation.augment import augmentation_for  # noqa: E402
from emgcore.settings import TrainingSettings  # noqa: E402

w = snakemake.wildcards
seed = int(w.seed)
training = TrainingSettings.from_config(snakemake.params.training).replace(threads=snakemake.threads)
augmentation = augmentation_for(w.augment, snakemake.params.max_shift, seed)
shifts = None
if w.augment == "canon":  # every person turned onto the common orientation: training people by the
    # reference's own estimates, validation people by their whole recording's offset against it
    reference = ActivationReference.load(snakemake.input.reference)
    shifts = {s: reference.shift_of(s) for s in load_window_index(snakemake.input.train).subjects()}
    for s in load_window_index(snakemake.input.val).subjects():
        shifts[int(s)] = recording_offset(Path(snakemake.input.store) / store_filename(int(s)), reference).shift
    print("person shifts (rounded when applied):", {s: round(k, 2) for s, k in shifts.items()})
result = train_cross_run(
    CrossRun(w.model, "grl" if w.model == "mhcnn_grl" else "base", w.variant, seed),
    snakemake.input.store,
    snakemake.input.train,
    snakemake.input.val,
    Path(snakemake.output.model).parent,
    training,
    progress=False,
    augmentation=augmentation,
    extra_info={
        "augment": w.augment,
        "augmentation": repr(augmentation),
        "person_shifts": {str(s): round(k) for s, k in shifts.items()} if shifts else None,
    },
    person_shifts=shifts,
)
print(result.history.to_string())
print(f"{augmentation}: best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")

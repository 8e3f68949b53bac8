"""Rule rotation_train: one arm of the rotation experiment, a model trained with ring-shift augmentation."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.runs import train_cross_run  # noqa: E402
from emgcore.layout import CrossRun  # noqa: E402
from emgcore.rotation.augment import augmentation_for  # noqa: E402
from emgcore.settings import TrainingSettings  # noqa: E402

w = snakemake.wildcards
seed = int(w.seed)
training = TrainingSettings.from_config(snakemake.params.training).replace(threads=snakemake.threads)
augmentation = augmentation_for(w.augment, snakemake.params.max_shift, seed)
result = train_cross_run(
    CrossRun(w.model, "grl" if w.model == "mhcnn_grl" else "base", w.variant, seed),
    snakemake.input.store,
    snakemake.input.train,
    snakemake.input.val,
    Path(snakemake.output.model).parent,
    training,
    progress=False,
    augmentation=augmentation,
    extra_info={"augment": w.augment, "augmentation": repr(augmentation)},
)
print(result.history.to_string())
print(f"{augmentation}: best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")

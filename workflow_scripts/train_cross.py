"""Rule train_cross: one cross-user run (model x loss x training variant x seed).

With `training.nproc` > 1 the same training runs under torchrun (DistributedDataParallel).
"""

from script_setup import start

start(snakemake)

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.cross.runs import train_cross_run  # noqa: E402
from emgcore.cross.train_cli import torchrun_command  # noqa: E402
from emgcore.io import write_text_atomic  # noqa: E402
from emgcore.layout import CrossRun  # noqa: E402
from emgcore.report.plots import plot_training_curves  # noqa: E402
from emgcore.settings import TrainingSettings, threads_per_process  # noqa: E402

w = snakemake.wildcards
run = CrossRun(w.model, w.loss, w.train_variant, int(w.seed))
out_dir = Path(snakemake.output.model).parent
training = TrainingSettings.from_config(snakemake.params.training)
training = training.replace(threads=threads_per_process(snakemake.threads, training.nproc, training.num_workers))
if training.nproc > 1:
    cfg = write_text_atomic(out_dir / "training.json", json.dumps(training.as_config()))
    cmd = torchrun_command(
        training.nproc,
        [
            "--model",
            run.model,
            "--loss",
            run.loss,
            "--train-variant",
            run.train_variant,
            "--seed",
            run.seed,
            "--store",
            snakemake.input.store,
            "--train",
            snakemake.input.train,
            "--val",
            snakemake.input.val,
            "--out",
            out_dir,
            "--config",
            cfg,
            "--device",
            training.device,
            "--no-progress",
        ],
    )
    print(" ".join(map(str, cmd)), flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stdout, stderr=sys.stderr)
else:
    result = train_cross_run(run, snakemake.input.store, snakemake.input.train, snakemake.input.val, out_dir, training)
    print(result.history.to_string())
    print(f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")
plot_training_curves(snakemake.output.log_csv, snakemake.output.figure)

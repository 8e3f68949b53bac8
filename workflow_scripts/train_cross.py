"""Rule train_cross: one cross-user run (model x loss x training variant x seed).

With `training.nproc` > 1 the same training runs under torchrun (DistributedDataParallel).
"""
from script_setup import start

start(snakemake)

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from emgcore.cross import train_cross_run  # noqa: E402
from emgcore.io import write_text_atomic  # noqa: E402
from emgcore.plots import plot_training_curves  # noqa: E402
from emgcore.train_cli import torchrun_command  # noqa: E402

w = snakemake.wildcards
out_dir = Path(snakemake.output.model).parent
training = dict(snakemake.params.training, threads=max(1, snakemake.threads // snakemake.params.nproc))
training.setdefault("device", "auto")  # the GPU of the job when it has one
if snakemake.params.nproc > 1:
    cfg = write_text_atomic(out_dir / "training.json", json.dumps(training))
    cmd = torchrun_command(snakemake.params.nproc, [
        "--model", w.model, "--loss", w.loss, "--store", snakemake.input.store, "--train", snakemake.input.train,
        "--val", snakemake.input.val, "--out", out_dir, "--seed", w.seed, "--config", cfg,
        "--device", training["device"], "--no-progress"])
    print(" ".join(map(str, cmd)), flush=True)
    subprocess.run(cmd, check=True, stdout=sys.stdout, stderr=sys.stderr)
else:
    result = train_cross_run(w.model, w.loss, snakemake.input.store, snakemake.input.train, snakemake.input.val,
                             out_dir, training, seed=int(w.seed))
    print(result.history.to_string())
    print(f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")
plot_training_curves(snakemake.output.log_csv, snakemake.output.figure)

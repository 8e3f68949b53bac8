"""Rule train_cross: one cross-user run (model x loss x training variant x seed)."""
from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross import train_cross_run  # noqa: E402

w = snakemake.wildcards
result = train_cross_run(
    w.model, w.loss, snakemake.input.store, snakemake.input.train, snakemake.input.val,
    Path(snakemake.output.model).parent, dict(snakemake.params.training, threads=snakemake.threads),
    seed=int(w.seed),
)
print(result.history.to_string())
print(f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")

"""Rule disentangle_train: dual encoders + shared decoder + discriminator; then export latent codes.

Protocol: the held-out users are left out of training (their session 1 is never seen) and tested
on their session 2; training uses the other users' session 1.
"""
from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.disentangle.measures import MeasureDataset  # noqa: E402
from emgcore.disentangle.train import DisentangleConfig, export_latents, split_by_protocol, train_disentangle  # noqa: E402
from emgcore.distributed import resolve_device  # noqa: E402

held = [int(u) - 1 for u in snakemake.wildcards.held.split("_")]
data = MeasureDataset.load(snakemake.input[0])
train, test = split_by_protocol(data, held, train_session=1, test_session=2)
model = dict(snakemake.params.model)
model["device"] = resolve_device(str(model.get("device", "auto")), 0)  # the job's GPU when it has one
config = DisentangleConfig(seed=snakemake.params.seed, **model)
result = train_disentangle(train, config, Path(snakemake.output.model).parent)
export_latents(snakemake.output.model, train, test, snakemake.output.latents)
print(f"{len(train)} training windows, {len(test)} test windows, {result['seconds_per_epoch']:.1f} s per epoch")

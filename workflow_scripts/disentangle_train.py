"""Rule disentangle_train: dual encoders + shared decoder + discriminator; then export latent codes.

Protocol: the held-out users are left out of training (their session 1 is never seen) and tested
on their session 2; training uses the other users' session 1.
"""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.distributed import resolve_device  # noqa: E402
from emgcore.disentangle.measures import MeasureDataset  # noqa: E402
from emgcore.disentangle.train import DisentangleConfig, export_latents, protocol_split, train_disentangle  # noqa: E402
from emgcore.layout import held_users  # noqa: E402

train, test = protocol_split(MeasureDataset.load(snakemake.input[0]), held_users(snakemake.wildcards.held))
config = DisentangleConfig.from_config(snakemake.params.model, seed=snakemake.params.seed)
config = config.replace(device=resolve_device(config.device, 0))  # the job's GPU when it has one
result = train_disentangle(train, config, Path(snakemake.output.model).parent)
export_latents(snakemake.output.model, train, test, snakemake.output.latents)
print(f"{len(train)} training windows, {len(test)} test windows, {result['seconds_per_epoch']:.1f} s per epoch")

"""Rule ingest: EPN-612-layout JSON folder -> per-user int8 stores + manifest."""

from script_setup import start

start(snakemake)

from emgcore.data.ingest import ingest_epn612  # noqa: E402

manifest = ingest_epn612(
    snakemake.input[0], snakemake.output.store, snakemake.output.manifest, workers=snakemake.threads
)
print(manifest.to_string())

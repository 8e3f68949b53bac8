# Raw dataset files -> one int8 store file per user + manifest.


rule synthesize:
    output:
        directory(layout.DataPaths("synthetic-{preset}").raw),
    log:
        layout.log("data", "synthetic-{preset}_synthesize"),
    benchmark:
        layout.benchmark("data", "synthetic-{preset}_synthesize")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        preset=lambda wc: wc.preset,
        seed=config["synthetic"]["seed"],
        overrides={k: v for k, v in config["synthetic"].items() if k not in ("preset", "seed")},
    script:
        "../workflow_scripts/synthesize.py"


rule libemg_csv_to_epn612:
    output:
        directory(layout.DataPaths(config["libemg_csv"]["name"]).raw),
    log:
        layout.log("data", f"{config['libemg_csv']['name']}_to_epn612"),
    benchmark:
        layout.benchmark("data", f"{config['libemg_csv']['name']}_to_epn612")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        root=config["data_dir"],
        training=config["libemg_csv"]["training"],
        testing=config["libemg_csv"]["testing"],
    script:
        "../workflow_scripts/libemg_csv_to_epn612.py"


rule ingest:
    input:
        raw_input(),
    output:
        store=directory(DATA.store),
        manifest=DATA.manifest,
    log:
        layout.log("data", f"{DATA_TAG}_ingest"),
    benchmark:
        layout.benchmark("data", f"{DATA_TAG}_ingest")
    conda:
        ENV
    threads: config["ingest_workers"]
    resources:
        mem_mb=lambda wc, threads: 600 * threads,
        runtime=60,
    script:
        "../workflow_scripts/ingest.py"

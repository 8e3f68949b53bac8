# Raw dataset files -> one int8 store file per user + manifest.


rule synthesize:
    output:
        directory("results/data/synthetic-{preset}/raw"),
    params:
        preset=lambda wc: wc.preset,
        seed=config.get("synthetic", {}).get("seed", 0),
        overrides={k: v for k, v in config.get("synthetic", {}).items() if k not in ("preset", "seed")},
    log:
        "results/logs/data/synthetic-{preset}_synthesize.log",
    benchmark:
        "results/benchmarks/data/synthetic-{preset}_synthesize.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    conda:
        ENV
    script:
        "../workflow_scripts/synthesize.py"


rule ciil_to_epn612:
    output:
        directory("results/data/ciil/raw"),
    params:
        root=config.get("data_dir") or "../shared/data/ciil",
    log:
        "results/logs/data/ciil_to_epn612.log",
    benchmark:
        "results/benchmarks/data/ciil_to_epn612.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../workflow_scripts/ciil_to_epn612.py"


rule ingest:
    input:
        raw_input(),
    output:
        store=directory(STORE),
        manifest=MANIFEST,
    log:
        f"results/logs/data/{DATA_TAG}_ingest.log",
    benchmark:
        f"results/benchmarks/data/{DATA_TAG}_ingest.tsv"
    threads: config.get("ingest_workers", 1)
    resources:
        mem_mb=lambda wc, threads: 600 * threads,
        runtime=60,
    conda:
        ENV
    script:
        "../workflow_scripts/ingest.py"

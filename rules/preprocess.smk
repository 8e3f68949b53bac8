# Store -> rest threshold (training users only) -> window indexes per split x variant.


rule rest_threshold:
    input:
        store=STORE,
        manifest=MANIFEST,
    output:
        f"{DATA}/rest_threshold.json",
    params:
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
        window=config["windows"]["size"],
        stride=config["windows"]["stride"],
    log:
        f"results/logs/preprocess/{DATA_TAG}_rest_threshold.log",
    benchmark:
        f"results/benchmarks/preprocess/{DATA_TAG}_rest_threshold.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        ENV
    script:
        "../workflow_scripts/rest_threshold.py"


rule window_index:
    input:
        store=STORE,
        manifest=MANIFEST,
        threshold=f"{DATA}/rest_threshold.json",
    output:
        f"{DATA}/windows/{{split}}_{{variant}}.npz",
    params:
        subjects=lambda wc, input: split_of(input.manifest, wc.split),
        window=config["windows"]["size"],
        stride=config["windows"]["stride"],
        rest_subsample=config["windows"]["rest_subsample"],
    log:
        f"results/logs/preprocess/{DATA_TAG}_windows_{{split}}_{{variant}}.log",
    benchmark:
        f"results/benchmarks/preprocess/{DATA_TAG}_windows_{{split}}_{{variant}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    conda:
        ENV
    script:
        "../workflow_scripts/window_index.py"


rule population_stats:
    input:
        store=STORE,
        manifest=MANIFEST,
    output:
        f"{DATA}/population_stats.json",
    params:
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
    log:
        f"results/logs/preprocess/{DATA_TAG}_population_stats.log",
    benchmark:
        f"results/benchmarks/preprocess/{DATA_TAG}_population_stats.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        ENV
    script:
        "../workflow_scripts/population_stats.py"

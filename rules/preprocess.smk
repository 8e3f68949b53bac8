# Store -> rest threshold (training users only) -> window indexes per split x variant, and the
# training population's channel statistics (RunningNorm's starting point).


rule rest_threshold:
    input:
        store=DATA.store,
        manifest=DATA.manifest,
    output:
        DATA.rest_threshold,
    log:
        layout.log("preprocess", f"{DATA_TAG}_rest_threshold"),
    benchmark:
        layout.benchmark("preprocess", f"{DATA_TAG}_rest_threshold")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
        windows=config["windows"],
    script:
        "../workflow_scripts/rest_threshold.py"


rule window_index:
    input:
        store=DATA.store,
        manifest=DATA.manifest,
        threshold=DATA.rest_threshold,
    output:
        DATA.windows("{split}", "{variant}"),
    log:
        layout.log("preprocess", f"{DATA_TAG}_windows_{{split}}_{{variant}}"),
    benchmark:
        layout.benchmark("preprocess", f"{DATA_TAG}_windows_{{split}}_{{variant}}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    params:
        subjects=lambda wc, input: split_of(input.manifest, wc.split),
        windows=config["windows"],
    script:
        "../workflow_scripts/window_index.py"


rule population_stats:
    input:
        store=DATA.store,
        manifest=DATA.manifest,
    output:
        DATA.population_stats,
    log:
        layout.log("preprocess", f"{DATA_TAG}_population_stats"),
    benchmark:
        layout.benchmark("preprocess", f"{DATA_TAG}_population_stats")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
    script:
        "../workflow_scripts/population_stats.py"

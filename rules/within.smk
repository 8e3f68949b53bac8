# Within-user upper bound: one model per subject on its own first N repetitions (every subject of
# every split), MHCNN from scratch (noft) and fine-tuned from the cross-user MHCNN (ft), CNN_HCF,
# MLP and LDA. One job trains a chunk of within.chunk_size subjects and writes one table.


rule within_chunk:
    input:
        store=DATA.store,
        manifest=DATA.manifest,
        threshold=DATA.rest_threshold,
        checkpoint=lambda wc: (
            layout.run_file(loss_run("base", wc.variant, wc.seed), layout.MODEL_FILE)
            if "mhcnn-ft" in WITHIN["models"]
            else []
        ),
    output:
        layout.within_chunk("{variant}", "{seed}", "{chunk}"),
    log:
        layout.log("within", "{variant}-s{seed}", "{chunk}"),
    benchmark:
        layout.benchmark("within", "{variant}-s{seed}", "{chunk}")
    wildcard_constraints:
        chunk=r"chunk\d+",
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=3000,
        runtime=lambda wc: 60 + 10 * len(within_chunks()[wc.chunk]) * len(WITHIN["n_train_reps"]),
    params:
        subjects=lambda wc: within_chunks()[wc.chunk],
        splits=config["splits"],
        within=WITHIN,
        windows=config["windows"],
        training=WITHIN_TRAIN,
    script:
        "../workflow_scripts/within_chunk.py"


rule within_report:
    input:
        tables=lambda wc: [layout.within_chunk(wc.variant, wc.seed, c) for c in within_chunks()],
        cross=lambda wc: layout.per_subject(loss_run("base", wc.variant, wc.seed)),
    output:
        rows=report(
            layout.within_rows("{variant}", "{seed}"),
            caption="../docs/captions/within_table.rst",
            category="Within-user upper bound",
        ),
        curve=report(
            layout.within_curve("{variant}", "{seed}"),
            caption="../docs/captions/within_curve.rst",
            category="Within-user upper bound",
        ),
        scatter=report(
            layout.within_scatter("{variant}", "{seed}"),
            caption="../docs/captions/within_scatter.rst",
            category="Within-user upper bound",
        ),
    log:
        layout.log("report", "within_{variant}-s{seed}"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cross_evaluation=lambda wc: layout.evaluation_label(wc.variant, "nonorm"),
    script:
        "../workflow_scripts/within_report.py"

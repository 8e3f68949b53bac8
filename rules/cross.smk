# Cross-user runs: train on the training users, evaluate per held-out subject, with or without
# RunningNorm. Runs are named <model>-<loss>-<train_variant>-s<seed> (emgcore.layout.run_name).
RUN = layout.run_name("{model}", "{loss}", "{train_variant}", "{seed}")


rule train_cross:
    input:
        store=DATA.store,
        train=DATA.windows("train", "{train_variant}"),
        val=DATA.windows("val", "{train_variant}"),
    output:
        model=layout.run_file(RUN, layout.MODEL_FILE),
        log_csv=layout.run_file(RUN, layout.TRAIN_LOG),
        info=layout.run_file(RUN, layout.RUN_INFO),
        epochs=directory(layout.run_file(RUN, layout.EPOCHS)),
        figure=report(
            layout.training_figure(RUN),
            caption="../docs/captions/training.rst",
            category="Training curves",
        ),
    log:
        layout.log("cross", RUN, "train"),
    benchmark:
        layout.benchmark("cross", RUN, "train")
    conda:
        ENV
    threads: training_job_threads(TRAINING)
    resources:
        mem_mb=lambda wc, threads: 3000 + 1000 * threads,
        runtime=24 * 60,
        nproc=TRAINING.nproc,
    params:
        training=TRAIN,
    script:
        "../workflow_scripts/train_cross.py"


rule evaluate_cross:
    input:
        store=DATA.store,
        model=layout.run_file("{run}", layout.MODEL_FILE),
        info=layout.run_file("{run}", layout.RUN_INFO),
        windows=lambda wc: [DATA.windows("test", v) for v in test_variants_of(wc.run)],
        population=DATA.population_stats,
    output:
        per_subject=layout.per_subject("{run}"),
        summary=layout.summary("{run}"),
        figure=report(
            layout.run_figure("{run}"),
            caption="../docs/captions/per_subject.rst",
            category="Per-subject accuracy",
        ),
    log:
        layout.log("cross", "{run}", "evaluate"),
    benchmark:
        layout.benchmark("cross", "{run}", "evaluate")
    wildcard_constraints:
        run=layout.PLAIN_RUN_PATTERN,  # the feature grid's runs are evaluated by cross_feats_group
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        variants=lambda wc: test_variants_of(wc.run),
        evaluations=lambda wc: evaluations_of(wc.run),
        batch_size=TRAINING.eval_batch_size,
        prior_count=RNORM["prior_count"],
    script:
        "../workflow_scripts/evaluate_cross.py"

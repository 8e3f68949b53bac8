# Per-run summaries -> results/results.csv (written only here), comparison figures, statistics,
# embeddings per epoch (PCA).


rule aggregate:
    input:
        cross=summaries(all_evaluations()),
        disentangle=dis_outputs("results_rows.csv"),
        within=[layout.within_rows(v, s) for v in WITHIN["variants"] for s in SEEDS] if within_chunks() else [],
        incremental=[layout.incremental_rows(INCR["variant"], s) for s in SEEDS] if incremental_chunks() else [],
        rotation=[layout.ROTATION_ROWS] if ROT["arms"] else [],
    output:
        report(layout.RESULTS_TABLE, caption="../docs/captions/results_table.rst", category="Results tables"),
    log:
        layout.log("report", "aggregate"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        keep=[(r, layout.evaluation_label(e, n, RNORM["tau"])) for r, e, n in all_evaluations()],
    script:
        "../workflow_scripts/aggregate.py"


rule plot_summary:
    input:
        layout.RESULTS_TABLE,
    output:
        report(layout.SUMMARY_FIGURE, caption="../docs/captions/summary.rst", category="Summary"),
    log:
        layout.log("report", "plot_summary"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../workflow_scripts/plot_summary.py"


rule plot_losses:
    input:
        lambda wc: per_subject_tables(
            [(loss_run(l, wc.train_variant, s), wc.eval_variant, wc.norm) for s in SEEDS for l in MHCNN_EXP["losses"]]
        ),
    output:
        report(
            layout.loss_figure("{train_variant}", "{eval_variant}", "{norm}"),
            caption="../docs/captions/losses.rst",
            category="Losses (cross_mhcnn)",
        ),
    log:
        layout.log("report", "losses_{train_variant}_{eval_variant}_{norm}"),
    group:
        "figures"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        title=lambda wc: f"MHCNN per loss: trained on {wc.train_variant}, tested on {wc.eval_variant} ({wc.norm})",
        label="loss",
        evaluation=lambda wc: layout.evaluation_label(wc.eval_variant, wc.norm, RNORM["tau"]),
    script:
        "../workflow_scripts/plot_comparison.py"


rule plot_models:
    input:
        lambda wc: per_subject_tables(
            [
                (model_run(m, MODELS_EXP["train_variant"], s), wc.eval_variant, wc.norm)
                for s in SEEDS
                for m in MODELS_EXP["models"]
            ]
        ),
    output:
        report(
            layout.model_figure("{eval_variant}", "{norm}"),
            caption="../docs/captions/models.rst",
            category="Architectures (cross_models)",
        ),
    log:
        layout.log("report", "models_{eval_variant}_{norm}"),
    group:
        "figures"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        title=lambda wc: f"Architectures trained on {MODELS_EXP['train_variant']}, tested on {wc.eval_variant} ({wc.norm})",
        label="model",
        evaluation=lambda wc: layout.evaluation_label(wc.eval_variant, wc.norm, RNORM["tau"]),
    script:
        "../workflow_scripts/plot_comparison.py"


rule tau_sweep:
    input:
        [layout.summary(r) for r in sweep_runs()],
    output:
        table=report(layout.TAU_SWEEP_TABLE, caption="../docs/captions/tau_sweep_table.rst", category="Results tables"),
        figure=report(layout.TAU_SWEEP_FIGURE, caption="../docs/captions/tau_sweep.rst", category="RunningNorm"),
    log:
        layout.log("report", "tau_sweep"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        eval_variant=RNORM["sweep_eval_variant"],
        taus=RNORM["tau_sweep"],
    script:
        "../workflow_scripts/tau_sweep.py"


rule cross_stats:
    input:
        losses=per_subject_tables(mhcnn_evaluations()),
        models=per_subject_tables(models_evaluations()),
        feats=per_subject_tables(feats_evaluations()),
    output:
        report(layout.STATS_TABLE, caption="../docs/captions/stats_table.rst", category="Results tables"),
    log:
        layout.log("report", "stats"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        losses=[
            layout.evaluation_label(e, n, RNORM["tau"]) for e in MHCNN_EXP["eval_variants"] for n in MHCNN_EXP["norms"]
        ],
        models=[
            layout.evaluation_label(e, n, RNORM["tau"])
            for e in MODELS_EXP["eval_variants"]
            for n in MODELS_EXP["norms"]
        ],
        feats=[layout.evaluation_label(e, n, RNORM["tau"]) for e in FEATS["eval_variants"] for n in FEATS["norms"]],
        feats_reference=FEATS["reference"],
    script:
        "../workflow_scripts/stats.py"


rule pca_sheet:
    input:
        store=DATA.store,
        info=layout.run_file("{run}", layout.RUN_INFO),
        epochs=layout.run_file("{run}", layout.EPOCHS),
        windows=DATA.windows("test", PCA["eval_variant"]),
    output:
        report(
            layout.pca_figure("{run}"),
            caption="../docs/captions/pca.rst",
            category="PCA of embeddings",
        ),
    log:
        layout.log("figures", "pca", "{run}"),
    benchmark:
        layout.benchmark("figures", "pca", "{run}")
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        max_windows=PCA["max_windows"],
        seed=config["seed"],
    script:
        "../workflow_scripts/pca_sheet.py"

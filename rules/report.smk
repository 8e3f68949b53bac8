# Per-run summaries -> results/results.csv (written only here), comparison figures, statistics.


rule aggregate:
    input:
        summaries(all_evaluations()),
        dis_outputs("results_rows.csv"),
    output:
        report("results/results.csv", caption="../docs/captions/results_table.rst", category="Results tables"),
    log:
        "results/logs/report/aggregate.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/aggregate.py"


rule plot_summary:
    input:
        per_subject=per_subject_tables(all_evaluations()),
    output:
        report("results/figures/summary_bal_acc.png", caption="../docs/captions/summary.rst", category="Summary"),
    log:
        "results/logs/report/plot_summary.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/plot_summary.py"


rule plot_losses:
    input:
        lambda wc: per_subject_tables(
            [(loss_run(l, wc.train_variant, s), wc.eval_variant, wc.norm) for s in SEEDS for l in MHCNN_EXP["losses"]]
        ),
    output:
        report(
            "results/figures/cross_mhcnn/losses_{train_variant}_{eval_variant}_{norm}.png",
            caption="../docs/captions/losses.rst",
            category="Losses (cross_mhcnn)",
        ),
    params:
        title=lambda wc: f"MHCNN per loss: trained on {wc.train_variant}, tested on {wc.eval_variant} ({wc.norm})",
        label="loss",
    log:
        "results/logs/report/losses_{train_variant}_{eval_variant}_{norm}.log",
    group:
        "figures"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/plot_comparison.py"


rule plot_models:
    input:
        lambda wc: per_subject_tables(
            [(model_run(m, MODELS_EXP["train_variant"], s), wc.eval_variant, wc.norm) for s in SEEDS for m in MODELS_EXP["models"]]
        ),
    output:
        report(
            "results/figures/cross_models/models_{eval_variant}_{norm}.png",
            caption="../docs/captions/models.rst",
            category="Architectures (cross_models)",
        ),
    params:
        title=lambda wc: f"Architectures trained on {MODELS_EXP['train_variant']}, tested on {wc.eval_variant} ({wc.norm})",
        label="model",
    log:
        "results/logs/report/models_{eval_variant}_{norm}.log",
    group:
        "figures"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/plot_comparison.py"


rule tau_sweep:
    input:
        sweep=tau_sweep_tables(),
        nonorm=per_subject_tables([(r, RNORM["sweep_eval_variant"], "nonorm") for r in sweep_runs()]),
    output:
        table=report("results/tau_sweep.csv", caption="../docs/captions/tau_sweep_table.rst", category="Results tables"),
        figure=report("results/figures/tau_sweep.png", caption="../docs/captions/tau_sweep.rst", category="RunningNorm"),
    log:
        "results/logs/report/tau_sweep.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/tau_sweep.py"


rule cross_stats:
    input:
        losses=per_subject_tables(mhcnn_evaluations()),
        models=per_subject_tables(models_evaluations()),
    output:
        report("results/stats.csv", caption="../docs/captions/stats_table.rst", category="Results tables"),
    log:
        "results/logs/report/stats.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/stats.py"

# Per-run summaries -> results/results.csv (written only here) and summary figures.


rule aggregate:
    input:
        cross_summaries(),
    output:
        "results/results.csv",
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
        results="results/results.csv",
        per_subject=expand(
            "results/cross/{run}/per_subject_{eval_variant}_{norm}.csv",
            run=cross_runs(),
            eval_variant=CROSS["eval_variants"],
            norm=CROSS["norms"],
        ),
    output:
        "results/figures/summary_bal_acc.png",
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

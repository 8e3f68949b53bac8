# Disentangling pattern- from subject-specific components: measure images per (dataset, measure),
# one model per held-out group, latent codes, latent classifiers, heat maps, statistics.
DIS_RUN = layout.dis_run_name("{ds}", "{measure}", "{held}")


rule hyser_synthetic:
    output:
        directory(layout.HYSER_SYNTHETIC),
    log:
        layout.log("data", "hyser_synthetic"),
    benchmark:
        layout.benchmark("data", "hyser_synthetic")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        settings=DIS["hyser"]["synthetic"],
        task=DIS["hyser"]["task"],
        kind=DIS["hyser"]["kind"],
    script:
        "../workflow_scripts/hyser_synthetic.py"


rule disentangle_measures:
    input:
        dis_source,
    output:
        layout.dis_measures("{ds}", "{measure}"),
    log:
        layout.log("disentangle", "measures_{ds}_{measure}"),
    benchmark:
        layout.benchmark("disentangle", "measures_{ds}_{measure}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dataset=lambda wc: DIS[wc.ds],
        window_s=DIS["window_s"],
        overlap=DIS["overlap"],
        discard_s=DIS["discard_s"],
    script:
        "../workflow_scripts/disentangle_measures.py"


rule disentangle_train:
    input:
        layout.dis_measures("{ds}", "{measure}"),
    output:
        model=f"{layout.dis_dir(DIS_RUN)}/model.pt",
        log_csv=f"{layout.dis_dir(DIS_RUN)}/train_log.csv",
        latents=f"{layout.dis_dir(DIS_RUN)}/latents.npz",
    log:
        layout.log("disentangle", DIS_RUN, "train"),
    benchmark:
        layout.benchmark("disentangle", DIS_RUN, "train")
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=4000,
        runtime=24 * 60,
    params:
        model=DIS["model"],
        seed=config["seed"],
    script:
        "../workflow_scripts/disentangle_train.py"


rule classify_latents:
    input:
        f"{layout.dis_dir(DIS_RUN)}/latents.npz",
    output:
        scores=f"{layout.dis_dir(DIS_RUN)}/latent_scores.csv",
        summary=f"{layout.dis_dir(DIS_RUN)}/latent_summary.csv",
        rows=f"{layout.dis_dir(DIS_RUN)}/results_rows.csv",
    log:
        layout.log("disentangle", DIS_RUN, "latent_classify"),
    benchmark:
        layout.benchmark("disentangle", DIS_RUN, "latent_classify")
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        classifiers=DIS["classifiers"],
        classifier_params=DIS["classifier_params"],
        seed=config["seed"],
    script:
        "../workflow_scripts/latent_classify.py"


rule disentangle_heatmaps:
    input:
        model=f"{layout.dis_dir(DIS_RUN)}/model.pt",
        data=layout.dis_measures("{ds}", "{measure}"),
    output:
        heatmaps=report(
            layout.dis_figure(DIS_RUN, "heatmaps"),
            caption="../docs/captions/heatmaps.rst",
            category="Disentangling",
        ),
        correlation=report(
            layout.dis_figure(DIS_RUN, "correlation"),
            caption="../docs/captions/correlation.rst",
            category="Disentangling",
        ),
    log:
        layout.log("disentangle", DIS_RUN, "heatmaps"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        gestures=lambda wc: DIS[wc.ds]["gestures"],
    script:
        "../workflow_scripts/disentangle_heatmaps.py"


rule latent_table:
    input:
        dis_outputs("latent_summary.csv"),
    output:
        table=report(
            layout.LATENT_SUMMARY_TABLE, caption="../docs/captions/latent_table.rst", category="Results tables"
        ),
        figure=report(
            layout.LATENT_SUMMARY_FIGURE,
            caption="../docs/captions/latent_summary.rst",
            category="Disentangling",
        ),
    log:
        layout.log("report", "latent_table"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/latent_table.py"


rule disentangle_stats:
    input:
        dis_outputs("latent_scores.csv"),
    output:
        report(
            layout.STATS_DISENTANGLE_TABLE, caption="../docs/captions/stats_disentangle.rst", category="Results tables"
        ),
    log:
        layout.log("report", "stats_disentangle"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../workflow_scripts/disentangle_stats.py"

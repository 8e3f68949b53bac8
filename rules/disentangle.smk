# Disentangling pattern- from subject-specific components: measure images per (dataset, measure),
# one model per held-out group, latent codes, latent classifiers, heat maps, statistics.


def hyser_root():
    """The Hyser pr_dataset folder: given in the config, or written by the synthetic writer."""
    return DIS.get("hyser", {}).get("data_dir") or "results/data/hyser-synthetic/pr_dataset"


def dis_source(wc):
    return {"epn": STORE, "hyser": hyser_root()}[wc.ds]


rule hyser_synthetic:
    output:
        directory("results/data/hyser-synthetic/pr_dataset"),
    params:
        settings=DIS.get("hyser", {}).get("synthetic", {}),
        task=DIS.get("hyser", {}).get("task", "dynamic"),
        kind=DIS.get("hyser", {}).get("kind", "preprocess"),
    log:
        "results/logs/data/hyser_synthetic.log",
    benchmark:
        "results/benchmarks/data/hyser_synthetic.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        ENV
    script:
        "../workflow_scripts/hyser_synthetic.py"


rule disentangle_measures:
    input:
        dis_source,
    output:
        "results/disentangle/data/{ds}_{measure}.npz",
    params:
        dataset=lambda wc: DIS[wc.ds],
        window_s=DIS.get("window_s", 0.25),
        overlap=DIS.get("overlap", 0.5),
        discard_s=DIS.get("discard_s", 0.25),
    log:
        "results/logs/disentangle/measures_{ds}_{measure}.log",
    benchmark:
        "results/benchmarks/disentangle/measures_{ds}_{measure}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        "../workflow_scripts/disentangle_measures.py"


rule disentangle_train:
    input:
        "results/disentangle/data/{ds}_{measure}.npz",
    output:
        model="results/disentangle/{ds}-{measure}-h{held}/model.pt",
        log_csv="results/disentangle/{ds}-{measure}-h{held}/train_log.csv",
        latents="results/disentangle/{ds}-{measure}-h{held}/latents.npz",
    params:
        model=DIS.get("model", {}),
        seed=config.get("seed", 0),
    log:
        "results/logs/disentangle/{ds}-{measure}-h{held}/train.log",
    benchmark:
        "results/benchmarks/disentangle/{ds}-{measure}-h{held}/train.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=4000,
        runtime=24 * 60,
    conda:
        ENV
    script:
        "../workflow_scripts/disentangle_train.py"


rule classify_latents:
    input:
        "results/disentangle/{ds}-{measure}-h{held}/latents.npz",
    output:
        scores="results/disentangle/{ds}-{measure}-h{held}/latent_scores.csv",
        summary="results/disentangle/{ds}-{measure}-h{held}/latent_summary.csv",
        rows="results/disentangle/{ds}-{measure}-h{held}/results_rows.csv",
    params:
        classifiers=DIS.get("classifiers", []),
        seed=config.get("seed", 0),
    log:
        "results/logs/disentangle/{ds}-{measure}-h{held}/latent_classify.log",
    benchmark:
        "results/benchmarks/disentangle/{ds}-{measure}-h{held}/latent_classify.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    script:
        "../workflow_scripts/latent_classify.py"


rule disentangle_heatmaps:
    input:
        model="results/disentangle/{ds}-{measure}-h{held}/model.pt",
        data="results/disentangle/data/{ds}_{measure}.npz",
    output:
        heatmaps=report(
            "results/figures/disentangle/{ds}-{measure}-h{held}_heatmaps.png",
            caption="../docs/captions/heatmaps.rst",
            category="Disentangling",
        ),
        correlation=report(
            "results/figures/disentangle/{ds}-{measure}-h{held}_correlation.png",
            caption="../docs/captions/correlation.rst",
            category="Disentangling",
        ),
    log:
        "results/logs/disentangle/{ds}-{measure}-h{held}/heatmaps.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        ENV
    script:
        "../workflow_scripts/disentangle_heatmaps.py"


rule latent_table:
    input:
        dis_outputs("latent_summary.csv"),
    output:
        table=report("results/latent_summary.csv", caption="../docs/captions/latent_table.rst", category="Results tables"),
        figure=report(
            "results/figures/disentangle/latent_summary.png",
            caption="../docs/captions/latent_summary.rst",
            category="Disentangling",
        ),
    log:
        "results/logs/report/latent_table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/latent_table.py"


rule disentangle_stats:
    input:
        dis_outputs("latent_scores.csv"),
    output:
        report("results/stats_disentangle.csv", caption="../docs/captions/stats_disentangle.rst", category="Results tables"),
    log:
        "results/logs/report/stats_disentangle.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/disentangle_stats.py"

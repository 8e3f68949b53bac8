# Cross-user runs: train on the training users, evaluate per held-out subject, with or without
# RunningNorm. Runs are named <model>-<loss>-<train_variant>-s<seed>.


rule train_cross:
    input:
        store=STORE,
        train=f"{DATA}/windows/train_{{train_variant}}.npz",
        val=f"{DATA}/windows/val_{{train_variant}}.npz",
    output:
        model="results/cross/{model}-{loss}-{train_variant}-s{seed}/model.pt",
        log_csv="results/cross/{model}-{loss}-{train_variant}-s{seed}/train_log.csv",
        info="results/cross/{model}-{loss}-{train_variant}-s{seed}/run.json",
        epochs=directory("results/cross/{model}-{loss}-{train_variant}-s{seed}/epochs"),
        figure=report(
            "results/figures/cross/{model}-{loss}-{train_variant}-s{seed}_training.png",
            caption="../docs/captions/training.rst",
            category="Training curves",
        ),
    params:
        training=TRAIN,
        nproc=TRAIN.get("nproc", 1),  # > 1: DistributedDataParallel under torchrun
    log:
        "results/logs/cross/{model}-{loss}-{train_variant}-s{seed}/train.log",
    benchmark:
        "results/benchmarks/cross/{model}-{loss}-{train_variant}-s{seed}/train.tsv"
    threads: (TRAIN["threads"] + TRAIN.get("num_workers", 0)) * TRAIN.get("nproc", 1)  # + loader workers
    resources:
        mem_mb=lambda wc, threads: 3000 + 1000 * threads,
        runtime=24 * 60,
        nproc=TRAIN.get("nproc", 1),
    conda:
        ENV
    script:
        "../workflow_scripts/train_cross.py"


rule evaluate_cross:
    input:
        store=STORE,
        model="results/cross/{run}/model.pt",
        windows=f"{DATA}/windows/test_{{eval_variant}}.npz",
        population=f"{DATA}/population_stats.json",
    output:
        per_subject="results/cross/{run}/per_subject_{eval_variant}_{norm}.csv",
        summary="results/cross/{run}/summary_{eval_variant}_{norm}.csv",
        figure=report(
            "results/figures/cross/{run}_{eval_variant}_{norm}.png",
            caption="../docs/captions/per_subject.rst",
            category="Per-subject accuracy",
        ),
    params:
        batch_size=TRAIN["eval_batch_size"],
        tau=RNORM["tau"],
        prior_count=RNORM["prior_count"],
    log:
        "results/logs/cross/{run}/evaluate_{eval_variant}_{norm}.log",
    benchmark:
        "results/benchmarks/cross/{run}/evaluate_{eval_variant}_{norm}.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        ENV
    script:
        "../workflow_scripts/evaluate_cross.py"


rule evaluate_tau:
    input:
        store=STORE,
        model="results/cross/{run}/model.pt",
        windows=f"{DATA}/windows/test_{{eval_variant}}.npz",
        population=f"{DATA}/population_stats.json",
    output:
        per_subject="results/cross/{run}/tau/per_subject_{eval_variant}_tau{tau}.csv",
        summary="results/cross/{run}/tau/summary_{eval_variant}_tau{tau}.csv",
    params:
        batch_size=TRAIN["eval_batch_size"],
        tau=lambda wc: float(wc.tau),
        prior_count=RNORM["prior_count"],
    log:
        "results/logs/cross/{run}/evaluate_{eval_variant}_tau{tau}.log",
    benchmark:
        "results/benchmarks/cross/{run}/evaluate_{eval_variant}_tau{tau}.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        ENV
    script:
        "../workflow_scripts/evaluate_cross.py"


rule pca_sheet:
    input:
        store=STORE,
        epochs="results/cross/{run}/epochs",
        windows=f"{DATA}/windows/test_{PCA['eval_variant']}.npz",
    output:
        report(
            "results/figures/pca/{run}.png",
            caption="../docs/captions/pca.rst",
            category="PCA of embeddings",
        ),
    params:
        max_windows=PCA["max_windows"],
        seed=config.get("seed", 0),
    log:
        "results/logs/figures/pca/{run}.log",
    benchmark:
        "results/benchmarks/figures/pca/{run}.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        ENV
    script:
        "../workflow_scripts/pca_sheet.py"

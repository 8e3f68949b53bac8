# Cross-user runs: train on the training users, evaluate per test subject on every variant.


rule train_cross:
    input:
        store=STORE,
        train=f"{DATA}/windows/train_{{train_variant}}.npz",
        val=f"{DATA}/windows/val_{{train_variant}}.npz",
    output:
        model="results/cross/{model}-{loss}-{train_variant}-s{seed}/model.pt",
        log_csv="results/cross/{model}-{loss}-{train_variant}-s{seed}/train_log.csv",
        epochs=directory("results/cross/{model}-{loss}-{train_variant}-s{seed}/epochs"),
    params:
        training=TRAIN,
    log:
        "results/logs/cross/{model}-{loss}-{train_variant}-s{seed}/train.log",
    benchmark:
        "results/benchmarks/cross/{model}-{loss}-{train_variant}-s{seed}/train.tsv"
    threads: TRAIN["threads"]
    resources:
        mem_mb=4000,
        runtime=24 * 60,
    conda:
        ENV
    script:
        "../workflow_scripts/train_cross.py"


rule evaluate_cross:
    input:
        store=STORE,
        model="results/cross/{run}/model.pt",
        windows=f"{DATA}/windows/test_{{eval_variant}}.npz",
    output:
        per_subject="results/cross/{run}/per_subject_{eval_variant}_{norm}.csv",
        summary="results/cross/{run}/summary_{eval_variant}_{norm}.csv",
    params:
        batch_size=TRAIN["eval_batch_size"],
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


rule plot_per_subject:
    input:
        "results/cross/{run}/per_subject_{eval_variant}_{norm}.csv",
    output:
        "results/figures/cross/{run}_{eval_variant}_{norm}.png",
    log:
        "results/logs/figures/cross/{run}_{eval_variant}_{norm}.log",
    group:
        "figures"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/plot_per_subject.py"


rule plot_training:
    input:
        "results/cross/{run}/train_log.csv",
    output:
        "results/figures/cross/{run}_training.png",
    log:
        "results/logs/figures/cross/{run}_training.log",
    group:
        "figures"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../workflow_scripts/plot_training.py"

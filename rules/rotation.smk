# Armband rotation: arms (a model x a training augmentation; the rotation-equivariant MHCNN is the
# model mhcnn_eq) evaluated per test person under test-time methods (as recorded, calibration-free
# alignment, RunningNorm, both), stream orders and applied rotations; extra sets (CIIL's
# after-shift trials) evaluated the same way. emgcore.rotation.
ARM = layout.rotation_arm("{model}", "{augment}", "{variant}", "{seed}")


rule rotation_reference:
    input:
        store=DATA.store,
        manifest=DATA.manifest,
    output:
        layout.ROTATION_REFERENCE,
    log:
        layout.log("rotation", "reference"),
    benchmark:
        layout.benchmark("rotation", "reference")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
    script:
        "../workflow_scripts/rotation_reference.py"


rule rotation_train:
    input:
        store=DATA.store,
        train=DATA.windows("train", "{variant}"),
        val=DATA.windows("val", "{variant}"),
        reference=layout.ROTATION_REFERENCE,
    output:
        model=layout.rotation_file(ARM, layout.MODEL_FILE),
        log_csv=layout.rotation_file(ARM, layout.TRAIN_LOG),
        info=layout.rotation_file(ARM, layout.RUN_INFO),
        epochs=directory(layout.rotation_file(ARM, layout.EPOCHS)),
    log:
        layout.log("rotation", ARM, "train"),
    benchmark:
        layout.benchmark("rotation", ARM, "train")
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=4000,
        runtime=24 * 60,
    params:
        training=ROT_TRAIN,
        max_shift=lambda wc: ROT["max_shift"].get(wc.augment, 0),
    script:
        "../workflow_scripts/rotation_train.py"


rule rotation_set:
    input:
        manifest=DATA.manifest,
        threshold=DATA.rest_threshold,
    output:
        directory(layout.rotation_set("{extra_set}")),
    log:
        layout.log("rotation", "set_{extra_set}"),
    benchmark:
        layout.benchmark("rotation", "set_{extra_set}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        root=config["data_dir"],
        set_layout=lambda wc: ROT["extra_sets"][wc.extra_set],
        training_layout=config["libemg_csv"]["training"],
        train_subjects=lambda wc, input: split_of(input.manifest, "train"),
        variant=ROT["variant"],
        windows=config["windows"],
    script:
        "../workflow_scripts/rotation_set.py"


rule rotation_evaluate:
    input:
        model=lambda wc: f"{rotation_model_dir(wc.model, wc.augment, wc.variant, wc.seed)}/{layout.MODEL_FILE}",
        info=lambda wc: f"{rotation_model_dir(wc.model, wc.augment, wc.variant, wc.seed)}/{layout.RUN_INFO}",
        store=DATA.store,
        windows=DATA.windows("test", "{variant}"),
        population=DATA.population_stats,
        reference=layout.ROTATION_REFERENCE,
        sets=[layout.rotation_set(name) for name in ROT["extra_sets"]],
    output:
        layout.rotation_file(ARM, "rotation_per_subject.csv"),
    log:
        layout.log("rotation", ARM, "evaluate"),
    benchmark:
        layout.benchmark("rotation", ARM, "evaluate")
    conda:
        ENV
    threads: TRAINING.threads
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        rotation=ROT,
        tau=RNORM["tau"],
        prior_count=RNORM["prior_count"],
        batch_size=TRAINING.eval_batch_size,
        set_names=list(ROT["extra_sets"]),
    script:
        "../workflow_scripts/rotation_evaluate.py"


rule rotation_report:
    input:
        tables=[layout.rotation_file(arm, "rotation_per_subject.csv") for arm in rotation_arm_names()],
    output:
        table=report(layout.ROTATION_TABLE, caption="../docs/captions/rotation_table.rst", category="Rotation"),
        rows=layout.ROTATION_ROWS,
        offsets=[
            report(
                layout.rotation_offsets_figure(s), caption="../docs/captions/rotation_offsets.rst", category="Rotation"
            )
            for s in ["test", *ROT["extra_sets"]]
        ],
        shifts=(
            report(
                layout.rotation_shift_figure("test"),
                caption="../docs/captions/rotation_shifts.rst",
                category="Rotation",
            )
            if len(ROT["applied_shifts"]) > 1
            else []
        ),
    log:
        layout.log("report", "rotation"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        rotated_threshold=ROT["rotated_threshold"],
        sets=["test", *ROT["extra_sets"]],
    script:
        "../workflow_scripts/rotation_report.py"

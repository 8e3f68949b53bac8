# Incremental training: the cross-user MHCNN on the first K training users (worst-first, best-first
# by their within-user accuracy, or seeded shuffles) with the first R repetitions per gesture,
# evaluated on the fixed test users. One job per incremental.runs_per_job runs (the thesis preset
# 1; the demo all of them). Runs are incr-<ordering>-k<K>-r<R>-<variant>-s<seed>.

for i, chunk in enumerate(incremental_chunks()):

    rule:
        name:
            f"incremental_{i}"
        input:
            store=DATA.store,
            train=DATA.windows("train", INCR["variant"]),
            val=DATA.windows("val", INCR["variant"]),
            test=DATA.windows("test", INCR["variant"]),
            within=[layout.within_chunk(INCR["variant"], chunk[0].seed, c) for c in within_chunks()],
        output:
            models=[layout.incremental_file(r.name, layout.MODEL_FILE) for r in chunk],
            infos=[layout.incremental_file(r.name, layout.RUN_INFO) for r in chunk],
            logs=[layout.incremental_file(r.name, layout.TRAIN_LOG) for r in chunk],
            epochs=[directory(layout.incremental_file(r.name, layout.EPOCHS)) for r in chunk],
            per_subject=[layout.incremental_file(r.name, "per_subject.csv") for r in chunk],
            summaries=[layout.incremental_file(r.name, "summary.csv") for r in chunk],
        log:
            layout.log("incremental", f"job{i}"),
        benchmark:
            layout.benchmark("incremental", f"job{i}")
        conda:
            ENV
        threads: TRAINING.threads
        resources:
            mem_mb=lambda wc, threads: 3000 + 1000 * threads,
            runtime=24 * 60 * len(chunk),
        params:
            runs=[dataclasses.asdict(r) for r in chunk],
            rank_by=INCR["rank_by"],
            training=INCR_TRAIN,
            batch_size=TRAINING.eval_batch_size,
        script:
            "../workflow_scripts/incremental_runs.py"


if incremental_chunks():

    rule incremental_report:
        input:
            per_subject=lambda wc: [
                layout.incremental_file(r.name, "per_subject.csv") for r in incremental_runs(int(wc.seed))
            ],
            summaries=lambda wc: [
                layout.incremental_file(r.name, "summary.csv") for r in incremental_runs(int(wc.seed))
            ],
        output:
            rows=report(
                layout.incremental_rows(INCR["variant"], "{seed}"),
                caption="../docs/captions/incremental_table.rst",
                category="Incremental training",
            ),
            curve=report(
                layout.incremental_curve(INCR["variant"], "{seed}"),
                caption="../docs/captions/incremental_curve.rst",
                category="Incremental training",
            ),
            heatmaps=[
                report(
                    layout.incremental_heatmap(t, INCR["variant"], "{seed}"),
                    caption="../docs/captions/incremental_heatmap.rst",
                    category="Incremental training",
                )
                for t in dict.fromkeys(r.order_tag for r in incremental_runs(0))
            ],
        log:
            layout.log("report", "incremental_s{seed}"),
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            tags=list(dict.fromkeys(r.order_tag for r in incremental_runs(0))),
        script:
            "../workflow_scripts/incremental_report.py"

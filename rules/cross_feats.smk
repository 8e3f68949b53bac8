# The feature grid (cross_feats): every hand-crafted feature group x feature model, trained
# cross-user and evaluated per test subject like every other run. Features are computed on the
# fly on the training device (BENCHMARKS.md section 10: at thesis scale stored tables would take
# 0.4 TB per training variant and read back slower than they are computed). One job per chunk of
# cross_feats.groups_per_job groups (x training variant x seed) trains and evaluates every model
# of the grid on those groups, each split's features computed once per group for all its models
# (cross_feats.cache_mb): the thesis preset has one group per job (44 jobs), the demo all 44
# runs in one. Runs are <model>-base-<train_variant>-s<seed>-<group>.
for chunk in feats_chunks():
    chunk_runs = feats_chunk_runs(chunk)
    chunk_tag = chunk[0] if len(chunk) == 1 else f"{chunk[0]}_to_{chunk[-1]}"

    rule:
        name:
            f"cross_feats_{chunk_tag}"
        input:
            store=DATA.store,
            train=DATA.windows("train", "{train_variant}"),
            val=DATA.windows("val", "{train_variant}"),
            windows=[DATA.windows("test", v) for v in FEATS["eval_variants"]],
            population=DATA.population_stats,
        output:
            models=[layout.run_file(r, layout.MODEL_FILE) for *_, r in chunk_runs],
            infos=[layout.run_file(r, layout.RUN_INFO) for *_, r in chunk_runs],
            logs=[layout.run_file(r, layout.TRAIN_LOG) for *_, r in chunk_runs],
            epochs=[directory(layout.run_file(r, layout.EPOCHS)) for *_, r in chunk_runs],
            per_subject=[layout.per_subject(r) for *_, r in chunk_runs],
            summaries=[layout.summary(r) for *_, r in chunk_runs],
            figures=[
                report(
                    layout.run_figure(r), caption="../docs/captions/per_subject.rst", category="Per-subject accuracy"
                )
                for *_, r in chunk_runs
            ],
        log:
            layout.log("cross_feats", f"{chunk_tag}-{{train_variant}}-s{{seed}}"),
        benchmark:
            layout.benchmark("cross_feats", f"{chunk_tag}-{{train_variant}}-s{{seed}}")
        conda:
            ENV
        threads: TRAINING.threads
        resources:
            mem_mb=lambda wc, threads: 3000 + 1000 * threads + FEATS["cache_mb"],
            runtime=24 * 60 * len(chunk),
        params:
            runs=[(g, m) for g, m, _ in chunk_runs],
            training=FEATS_TRAIN,
            variants=FEATS["eval_variants"],
            evaluations=[
                layout.evaluation_label(e, n, RNORM["tau"]) for e in FEATS["eval_variants"] for n in FEATS["norms"]
            ],
            batch_size=TRAINING.eval_batch_size,
            prior_count=RNORM["prior_count"],
            cache_mb=FEATS["cache_mb"],
        script:
            "../workflow_scripts/cross_feats_group.py"


if feats_chunks():

    rule cross_feats_report:
        input:
            per_subject_tables(feats_evaluations()),
        output:
            table=report(
                layout.FEATS_TABLE, caption="../docs/captions/feats_table.rst", category="Feature grid (cross_feats)"
            ),
            figures=[
                report(f, caption="../docs/captions/feats_figures.rst", category="Feature grid (cross_feats)")
                for f in feats_figures()
            ],
        log:
            layout.log("report", "cross_feats"),
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            groups=FEATS["groups"],
            models=FEATS["models"],
            evaluations=[
                (v, e, n) for v in FEATS["train_variants"] for e in FEATS["eval_variants"] for n in FEATS["norms"]
            ],
            tau=RNORM["tau"],
        script:
            "../workflow_scripts/cross_feats_report.py"

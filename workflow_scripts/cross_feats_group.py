"""Rules cross_feats_<groups>: every model of the feature grid on a chunk of feature groups (one
training variant and seed): train cross-user, then evaluate per test subject, one run folder per
(group, model); each split's features are computed once per group for all its models."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.cross.evaluation import Evaluation, write_run_evaluation  # noqa: E402
from emgcore.cross.runs import train_cross_run  # noqa: E402
from emgcore.features.datasets import FeatureCache  # noqa: E402
from emgcore.layout import CrossRun  # noqa: E402
from emgcore.settings import TrainingSettings  # noqa: E402

w, p, i, o = snakemake.wildcards, snakemake.params, snakemake.input, snakemake.output
training = TrainingSettings.from_config(p.training).replace(threads=int(snakemake.threads))
evaluations = [Evaluation.parse(label) for label in p.evaluations]


def report_cache(group, cache):
    kept = f"{len(cache.tables)} feature tables kept ({cache.used / 2**20:.0f} MB)"
    print(f"{group}: {kept}, {len(cache.on_the_fly)} on the fly")


cache, cached_group = None, None
for k, (group, model) in enumerate(p.runs):
    if group != cached_group:  # each split's features once, for every model of the group
        if cache is not None:
            report_cache(cached_group, cache)
        cache, cached_group = FeatureCache(int(p.cache_mb) * 2**20), group
    run = CrossRun(model, "base", w.train_variant, int(w.seed), group)
    out_dir = Path(o.models[k]).parent
    print(f"== {run.name}", flush=True)
    result = train_cross_run(run, i.store, i.train, i.val, out_dir, training, progress=False, feature_cache=cache)
    print(f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}")
    summary = write_run_evaluation(
        out_dir,
        i.store,
        dict(zip(p.variants, i.windows)),
        evaluations,
        p.batch_size,
        p.prior_count,
        i.population,
        o.per_subject[k],
        o.summaries[k],
        o.figures[k],
        feature_cache=cache,
    )
    print(summary[["eval_variant", "norm", "bal_acc_mean", "bal_acc_std", "bal_acc_worst10"]].to_string(), flush=True)
report_cache(cached_group, cache)

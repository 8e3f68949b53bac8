"""Rules incremental_<i>: runs of the incremental sweep (K users of an ordering x R repetitions), each
trained cross-user and evaluated on the test users; the ordering ranks the training users by their
within-user accuracy (incremental.rank_by)."""

from script_setup import start

start(snakemake)

from pathlib import Path  # noqa: E402

from emgcore.io import write_csv_atomic  # noqa: E402
from emgcore.layout import IncrementalRun  # noqa: E402
from emgcore.preprocess.window_index import load_window_index  # noqa: E402
from emgcore.settings import TrainingSettings  # noqa: E402
from emgcore.within.incremental import train_incremental_run, within_ranking  # noqa: E402
from emgcore.within.report import read_within_tables  # noqa: E402

p, i, o = snakemake.params, snakemake.input, snakemake.output
training = TrainingSettings.from_config(p.training).replace(threads=int(snakemake.threads))
ranking = within_ranking(read_within_tables(i.within), p.rank_by["model"], int(p.rank_by["n_train_reps"]))
print(f"ranking of {len(ranking)} training users by {p.rank_by}: worst {ranking.idxmin()}, best {ranking.idxmax()}")
train_index, val_index, test_index = (load_window_index(path) for path in (i.train, i.val, i.test))
for k, fields in enumerate(p.runs):
    run = IncrementalRun(**fields)
    print(f"== {run.name}", flush=True)
    per_subject, summary = train_incremental_run(
        run, ranking, i.store, train_index, val_index, test_index, Path(o.models[k]).parent, training, p.batch_size
    )
    write_csv_atomic(per_subject, o.per_subject[k])
    write_csv_atomic(summary, o.summaries[k])
    print(summary[["n_users", "n_reps", "bal_acc_mean", "bal_acc_std"]].to_string(), flush=True)

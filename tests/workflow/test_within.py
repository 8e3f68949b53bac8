"""The within-user and incremental sweeps as targets: chunks, one table each, rows, figures; the
incremental orderings select the K first training users of the within-user ranking."""

import json

import pandas as pd
import pytest

from tests.helpers.workflow import TINY, merged, snakemake, workdir_with

#: TINY with 4 repetitions per gesture (N in 1, 2; repetition 2 validates, 3 tests), 7 users in 3 chunks
WITHIN = merged(
    TINY,
    {
        "synthetic": {"reps_per_gesture": 4},
        "within": {
            "n_train_reps": [1, 2],
            "val_rep": 2,
            "test_reps": [3],
            "variants": ["standard"],
            "models": ["mhcnn-ft", "lda"],
            "chunk_size": 3,
            "training": {"max_epochs": 1, "max_train_batches_per_epoch": 2},
        },
        "incremental": {
            "users": [1, 4],
            "reps": [1, 8],
            "orderings": ["worst", "best", "random"],
            "random_seeds": [0],
            "rank_by": {"model": "lda", "n_train_reps": 2},
            "variant": "standard",
            "runs_per_job": 12,
            "training": {"max_epochs": 1, "max_train_batches_per_epoch": 2},
        },
    },
)


def test_dry_run_chunks_every_subject_of_every_split(tmp_path):
    res = snakemake(workdir_with(tmp_path, WITHIN), "-n", "within")
    assert res.returncode == 0, res.stderr
    for chunk in ("chunk000", "chunk001", "chunk002"):
        assert f"results/within/standard-s0/{chunk}.csv" in res.stdout
    assert "chunk003" not in res.stdout and "mhcnn-base-standard-s0/model.pt" in res.stdout  # ft's start
    res = snakemake(
        workdir_with(tmp_path / "i", merged(WITHIN, {"incremental": {"runs_per_job": 5}})), "-n", "incremental"
    )
    assert res.returncode == 0, res.stderr
    for job in ("incremental_0", "incremental_1", "incremental_2"):  # 12 runs, 5 per job
        assert job in res.stdout
    assert (
        "incremental_3" not in res.stdout
        and "results/incremental/incr-random0-k4-r8-standard-s0/model.pt" in res.stdout
    )
    bad = merged(WITHIN, {"incremental": {"rank_by": {"model": "mlp", "n_train_reps": 2}}})
    res = snakemake(workdir_with(tmp_path / "b", bad), "-n", "incremental")
    assert res.returncode != 0 and "incremental.rank_by" in res.stdout + res.stderr


@pytest.mark.slow
def test_within_target_end_to_end(tmp_path):
    work = workdir_with(tmp_path, WITHIN)
    res = snakemake(work, "--cores", "2", "within")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    tables = [
        pd.read_csv(work / f"results/within/standard-s0/chunk{i:03d}.csv", keep_default_na=False) for i in range(3)
    ]
    table = pd.concat(tables)
    assert sorted(table.subject.unique()) == list(range(7))  # every subject exactly once per (model, N)
    assert len(table) == 7 * 2 * 2 and not table.duplicated(["subject", "model", "n_train_reps"]).any()
    assert (
        set(table[table.split == "train"].subject) == {0, 1, 2, 3}
        and table[table.split == "train"].in_cross_training.all()
    )
    assert not table[table.split != "train"].in_cross_training.any()
    assert set(table.ft) == {"ft", ""} and table.bal_acc.between(0, 1).all()
    rows = pd.read_csv(work / "results/within/standard-s0/results_rows.csv", keep_default_na=False)
    assert len(rows) == 2 * 2 * 3 and set(rows.loss) == {"within"}  # models x N x splits
    for fig in ("accuracy_vs_n_standard_s0.png", "within_vs_cross_standard_s0.png"):
        assert (work / "results/figures/within" / fig).stat().st_size > 0


@pytest.mark.slow
def test_incremental_target_end_to_end(tmp_path):
    work = workdir_with(tmp_path, WITHIN)
    res = snakemake(work, "--cores", "2", "incremental")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    within = pd.concat(
        pd.read_csv(p, keep_default_na=False) for p in (work / "results/within/standard-s0").glob("chunk*.csv")
    )
    train = within[(within.model == "lda") & (within.n_train_reps == 2) & (within.split == "train")]
    order = train.sort_values(["bal_acc", "subject"]).subject.tolist()  # worst first, ties by id
    for ordering, expected in (
        ("worst", order[:1]),
        ("best", sorted(order, key=lambda s: (-train.set_index("subject").bal_acc[s], s))[:1]),
    ):
        info = json.loads((work / f"results/incremental/incr-{ordering}-k1-r1-standard-s0/run.json").read_text())
        assert info["incremental"]["users"] == expected and info["incremental"]["k_used"] == 1
    info = json.loads((work / "results/incremental/incr-worst-k4-r8-standard-s0/run.json").read_text())
    assert sorted(info["incremental"]["users"]) == [0, 1, 2, 3] and info["incremental"]["r"] == 8
    rows = pd.read_csv(work / "results/incremental/standard-s0_rows.csv")
    assert len(rows) == 12 and set(rows.ordering) == {"worst", "best", "random"}
    assert (
        set(zip(rows.n_users, rows.n_reps)) == {(1, 1), (1, 8), (4, 1), (4, 8)}
        and rows.bal_acc_mean.between(0, 1).all()
    )
    for tag in ("worst", "best", "random0"):
        assert (work / f"results/figures/incremental/heatmap_{tag}_standard_s0.png").stat().st_size > 0
    assert (work / "results/figures/incremental/accuracy_vs_users_standard_s0.png").stat().st_size > 0

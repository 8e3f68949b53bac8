"""The within-user sweep as a target of its own: chunks, one table each, rows in results.csv, figures."""

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
    },
)


def test_dry_run_chunks_every_subject_of_every_split(tmp_path):
    res = snakemake(workdir_with(tmp_path, WITHIN), "-n", "within")
    assert res.returncode == 0, res.stderr
    for chunk in ("chunk000", "chunk001", "chunk002"):
        assert f"results/within/standard-s0/{chunk}.csv" in res.stdout
    assert "chunk003" not in res.stdout and "mhcnn-base-standard-s0/model.pt" in res.stdout  # ft's start


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

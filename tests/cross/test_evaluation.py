"""Every evaluation of a run in one job: one model load, one read of the test users, tables with identity."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross import evaluation
from emgcore.cross.evaluation import Evaluation, evaluate_run
from emgcore.data.store import UserRecording, store_filename, write_user_store
from emgcore.layout import CrossRun
from emgcore.models import build_model, model_spec
from emgcore.preprocess.population import save_population_stats
from emgcore.preprocess.window_index import WindowIndex, save_window_index
from emgcore.report.tables import evaluation_labels, select

W = 40


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder (model.pt + run.json), a store of two users and a raw and a 'standard' test index."""
    root = tmp_path_factory.mktemp("evaluation")
    rng = np.random.default_rng(8)
    store, sids = root / "store", (0, 1)
    for sid in sids:
        sig = (rng.integers(-30, 31, size=(800, 8)) * (1 + 2 * sid)).clip(-128, 127).astype(np.int8)
        reps = pd.DataFrame(
            dict(
                offset=[0, 400],
                length=[400, 400],
                label=[0, 1],
                rep_index=[0, 0],
                block=[0, 0],
                pb=[-1, -1],
                pe=[-1, -1],
                subject=[sid, sid],
            )
        )
        write_user_store(store / store_filename(sid), UserRecording(sid, f"u{sid}", "t", sig, reps))
    starts = np.tile(np.arange(0, 760, 40), 2)
    full = WindowIndex(np.repeat(sids, 19), np.zeros(38, np.int32), starts, (starts >= 400).astype(np.int8), W, 40)
    save_window_index(root / "test_raw.npz", full)
    keep = np.arange(38) % 2 == 0
    save_window_index(
        root / "test_standard.npz",
        WindowIndex(full.subject[keep], full.rep[keep], full.start[keep], full.label[keep], W, 40),
    )
    torch.manual_seed(0)
    model = build_model("mhcnn")
    folder = root / "mhcnn-base-standard-s3"
    folder.mkdir()
    torch.save({"state_dict": model.state_dict(), "model": model_spec(model)}, folder / "model.pt")
    (folder / "run.json").write_text(json.dumps(CrossRun("mhcnn", "base", "standard", 3).as_dict()))
    save_population_stats(root / "pop.json", np.zeros(8), np.full(8, 30.0))
    indexes = {"raw": root / "test_raw.npz", "standard": root / "test_standard.npz"}
    return folder, store, indexes, root / "pop.json"


EVALUATIONS = [
    Evaluation("raw", "nonorm"),
    Evaluation("raw", "norm", 100.0),
    Evaluation("standard", "norm", 100.0),
    Evaluation("raw", "norm", float("inf")),
    Evaluation("standard", "nonorm"),
]


def test_one_call_equals_each_evaluation_alone_and_reads_each_user_once(run, monkeypatch):
    folder, store, indexes, pop = run
    reads = []
    load = evaluation.load_signal
    monkeypatch.setattr(evaluation, "load_signal", lambda path: reads.append(path) or load(path))
    per_subject, summary = evaluate_run(folder, store, indexes, EVALUATIONS, 16, 200, population=pop)
    assert len(reads) == 2  # two test users, each read once for five evaluations over two indexes
    assert evaluation_labels(summary) == [e.label for e in EVALUATIONS]
    identity = ["run", "model", "loss", "train_variant", "seed", "feature_group"]
    assert list(summary.columns[:9]) == identity + ["eval_variant", "norm", "tau"]
    assert set(summary.run) == {"mhcnn-base-standard-s3"} and set(summary.seed) == {3}  # from run.json
    assert summary.n_subjects.tolist() == [2] * 5 and summary.n_windows.tolist() == [38, 38, 19, 38, 19]
    for e in EVALUATIONS:
        alone, _ = evaluate_run(folder, store, indexes, [e], 16, 200, population=pop)
        pd.testing.assert_frame_equal(select(per_subject, e.label).reset_index(drop=True), alone)
    normed = select(per_subject, "raw/norm/100")
    assert normed.subject.tolist() == [0, 1] and normed.n_windows.tolist() == [19, 19]


def test_population_from_a_path_or_a_pair_and_bad_requests(run):
    folder, store, indexes, pop = run
    one = [Evaluation("raw", "norm", 100.0)]
    by_path, _ = evaluate_run(folder, store, indexes, one, 16, 200, population=pop)
    by_pair, _ = evaluate_run(folder, store, indexes, one, 16, 200, population=(np.zeros(8), np.full(8, 30.0)))
    pd.testing.assert_frame_equal(by_path, by_pair)
    with pytest.raises(ValueError, match="population"):
        evaluate_run(folder, store, indexes, one, 16, 200)
    with pytest.raises(ValueError, match="listed twice"):
        evaluate_run(folder, store, indexes, one + one, 16, 200, population=pop)
    with pytest.raises(ValueError, match=r"no test window index given for variants \['segmented'\]"):
        evaluate_run(folder, store, indexes, [Evaluation("segmented", "nonorm")], 16, 200)
    with pytest.raises(ValueError, match="no evaluations"):
        evaluate_run(folder, store, indexes, [], 16, 200)


def test_evaluations_are_checked_and_their_labels_round_trip():
    for e in EVALUATIONS:
        assert Evaluation.parse(e.label) == e or (np.isnan(e.tau) and Evaluation.parse(e.label).norm == "nonorm")
    assert Evaluation("raw", "norm", float("inf")).label == "raw/norm/inf"
    assert Evaluation("raw", "norm", 2000).label == "raw/norm/2000"
    with pytest.raises(ValueError, match="unknown norm"):
        Evaluation("raw", "zscore")
    with pytest.raises(ValueError, match="needs tau"):
        Evaluation("raw", "norm")
    with pytest.raises(ValueError, match="no tau"):
        Evaluation("raw", "nonorm", 100.0)
    with pytest.raises(ValueError, match="is not <eval_variant>/nonorm"):
        Evaluation.parse("raw/norm")

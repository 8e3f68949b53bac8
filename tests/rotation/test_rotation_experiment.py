"""The rotation experiment's library: augmented training batches, evaluation under methods x orders x
applied rotations, the report table, and extra evaluation sets from CSV recordings."""

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross.training import seed_everything
from emgcore.data.store import iter_store, store_filename, write_user_store
from emgcore.models import build_model, model_spec
from emgcore.preprocess.window_dataset import WindowDataset
from emgcore.preprocess.window_index import build_window_index
from emgcore.rotation.alignment import reference_pattern
from emgcore.rotation.augment import (
    RandomRingShift,
    RingShiftedDataset,
    augmentation_for,
    rotate_batch,
)
from emgcore.rotation.evaluation import EvaluationSet, evaluate_rotation
from emgcore.rotation.report import rotation_results_rows, rotation_table
from tests.helpers.windows import random_index, random_signals
from tests.within.users import recording

TRAIN, TEST = (0, 1, 2, 3), (4, 5)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Six users (gesture c bursts on channel c - 1: an activation pattern without rotation symmetry),
    their store, the test users' raw windows and the training users' reference pattern."""
    root = tmp_path_factory.mktemp("rotation_store")
    for subject in TRAIN + TEST:
        write_user_store(root / store_filename(subject), recording(subject, (6, 0)))
    index = build_window_index(iter_store(root, list(TEST)), "raw", 40, 10, rest_subsample=1)
    reference = reference_pattern(root / store_filename(s) for s in TRAIN)
    return root, index, reference


def checkpoint(tmp_path, name, **kwargs):
    seed_everything(5)
    model = build_model(name, window=40, dropout=0.0, **kwargs)
    run = tmp_path / name
    run.mkdir()
    torch.save(
        {"state_dict": model.state_dict(), "epoch": 1, "val_loss": 0.0, "model": model_spec(model)}, run / "model.pt"
    )
    return run


def test_ring_shifted_batches_are_each_window_rotated_by_its_draw():
    signals = random_signals()
    dataset = WindowDataset(random_index(signals, n=64), signals)
    shifted = RingShiftedDataset(dataset, RandomRingShift(max_shift=2, fractional=True, seed=3))
    x, y, subject = dataset.__getitems__(list(range(32)))
    sx, sy, ssubject = shifted.__getitems__(list(range(32)))
    draws = RandomRingShift(max_shift=2, fractional=True, seed=3).sample(32)
    torch.testing.assert_close(sx, rotate_batch(x, draws))
    assert torch.equal(sy, y) and torch.equal(ssubject, subject) and len(shifted) == len(dataset)
    assert not torch.allclose(sx, x)
    assert augmentation_for("none", 1, 0) is None
    roll = augmentation_for("roll", 1, 0)
    assert not roll.fractional and set(roll.sample(200).tolist()) == {-1.0, 0.0, 1.0}
    assert augmentation_for("frac", 1.5, 0).fractional
    with pytest.raises(ValueError, match="augmentation"):
        augmentation_for("flip", 1, 0)


def test_every_method_order_and_shift_is_one_row_per_person(data, tmp_path):
    root, index, reference = data
    run = checkpoint(tmp_path, "mhcnn")
    table = evaluate_rotation(
        run,
        [EvaluationSet("test", root, index)],
        reference,
        ["plain", "align", "norm", "align_norm"],
        ["recording", "interleaved"],
        [0, 1.5],
        population=(np.zeros(8), np.full(8, 20.0)),
        tau=400,
        prior_count=20,
        identity={"arm": "mhcnn-none"},
    )
    evaluations = table[["rotation_method", "stream_order", "applied_shift"]].drop_duplicates()
    assert len(evaluations) == 2 * (1 + 3 * 2)  # plain once (order 'none'), three streaming methods x two orders
    assert set(table.loc[table.rotation_method == "plain", "stream_order"]) == {"none"}
    groups = table.groupby(["rotation_method", "stream_order", "applied_shift"]).subject
    assert groups.apply(lambda subjects: sorted(subjects) == [4, 5]).all()
    assert table.arm.eq("mhcnn-none").all() and table.bal_acc.between(0, 1).all()
    assert table.loc[table.rotation_method.isin(["plain", "norm"]), "estimated_shift"].isna().all()
    assert table.loc[table.rotation_method.isin(["align", "align_norm"]), "estimated_shift"].notna().all()
    assert table.groupby("subject").offset.nunique().eq(1).all()  # a person's offset: their recording's, once
    assert table.loc[table.rotation_method.isin(["norm", "align_norm"]), "tau"].eq(400).all()


def test_alignment_follows_an_applied_rotation_and_the_equivariant_model_ignores_it(data, tmp_path):
    root, index, reference = data
    run = checkpoint(tmp_path, "mhcnn_eq")
    table = evaluate_rotation(
        run, [EvaluationSet("test", root, index)], reference, ["plain", "align"], ["interleaved"], [0, 3]
    )
    plain = table[table.rotation_method == "plain"].pivot(index="subject", columns="applied_shift", values="bal_acc")
    np.testing.assert_allclose(plain[0.0], plain[3.0])  # identical predictions under a whole-electrode rotation
    align = table[table.rotation_method == "align"].pivot(
        index="subject", columns="applied_shift", values="estimated_shift"
    )
    np.testing.assert_allclose(align[3.0] - align[0.0], 3.0, atol=0.25)  # the estimate moves with the band
    with pytest.raises(ValueError, match="rotation methods"):
        evaluate_rotation(run, [EvaluationSet("test", root, index)], reference, ["tilt"], [], [0])


def test_report_table_worst_decile_and_rotated_subgroup():
    people = pd.DataFrame(
        {
            "subject": range(10),
            "offset": [0.0, 0.1, -0.2, 0.3, 1.0, -1.2, 2.0, 0.0, 0.4, -0.6],
            "bal_acc": [0.9, 0.8, 0.85, 0.7, 0.4, 0.5, 0.3, 0.75, 0.8, 0.45],
        }
    )
    keys = dict(arm="mhcnn-none", model="mhcnn", augment="none", train_variant="standard", seed=0, test_set="test")
    table = pd.concat(
        [people.assign(**keys, rotation_method="plain", stream_order="none", applied_shift=0.0, tau=np.nan)]
        + [
            people.assign(
                **keys, rotation_method="align", stream_order="interleaved", applied_shift=0.0, tau=np.nan
            ).assign(bal_acc=lambda t: t.bal_acc.clip(lower=0.6))
        ],
        ignore_index=True,
    )
    for column in ("n_windows", "acc", "act_acc", "f1"):
        table[column] = 1 if column == "n_windows" else table["bal_acc"]
    summary = rotation_table(table, rotated_threshold=0.5).set_index("rotation_method")
    plain = summary.loc["plain"]
    assert plain.n_subjects == 10 and plain.n_rotated == 4
    assert plain.bal_acc_worst10 == pytest.approx(0.3)
    assert plain.bal_acc_rotated_mean == pytest.approx(np.mean([0.4, 0.5, 0.3, 0.45]))
    assert plain.bal_acc_aligned_mean == pytest.approx(np.mean([0.9, 0.8, 0.85, 0.7, 0.75, 0.8]))
    assert summary.loc["align"].bal_acc_worst10 == pytest.approx(0.6)
    assert summary.loc["align"].method == "mhcnn-none / align (interleaved)"
    rows = rotation_results_rows(table)
    assert rows.run.is_unique and set(rows.loss) == {"rotation"} and rows.bal_acc_mean.notna().all()
    assert rows.n_subjects.dtype.kind == "i" and (rows.n_subjects == 10).all()


CLASSES = {0: "noGesture", 1: "fist", 2: "open", 3: "waveIn", 4: "waveOut"}
FILE = r"R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"


def write_csv_people(root, people=("1", "2", "3"), sessions=("main", "trial_1", "trial_2"), seed=0):
    rng = np.random.default_rng(seed)
    for person in people:
        for session in sessions:
            for rep in range(2):
                for c in CLASSES:
                    x = rng.normal(0, 2, size=(120, 8))
                    if c:
                        x[20:100, c] += rng.normal(0, 30, size=80)
                    path = root / f"p{person}" / session / f"R_{rep}_C_{c}.csv"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savetxt(path, np.clip(x, -128, 127).astype(int), fmt="%d", delimiter=",")


def test_extra_set_units_are_person_sessions_of_the_training_people(tmp_path):
    from emgcore.preprocess.window_index import load_window_index
    from emgcore.rotation.extra_sets import STORE, UNITS, WINDOWS, build_extra_set

    root = tmp_path / "recordings"
    write_csv_people(root)
    training = {"patterns": [rf"p(?P<subject>\d+)/main/{FILE}"], "classes": CLASSES}
    trials = {"patterns": [rf"p(?P<subject>[23])/(?P<session>trial_\d+)/{FILE}"], "classes": CLASSES}
    out = tmp_path / "sets" / "after_shift"
    units = build_extra_set(out, root, "after_shift", trials, training, [0, 1], "raw", 40, 10, 1, None)
    assert units.unit.tolist() == ["2/trial_1", "2/trial_2", "3/trial_1", "3/trial_2"]
    assert units.person_subject.tolist() == [1, 1, 2, 2] and units.in_training.tolist() == [True, True, False, False]
    assert pd.read_csv(out / UNITS, dtype={"person": str}).equals(units) and sorted(p.name for p in out.iterdir()) == [
        STORE,
        UNITS,
        WINDOWS,
    ]
    index = load_window_index(out / WINDOWS)
    assert index.subjects().tolist() == [0, 1, 2, 3] and len(index) == 4 * 10 * 9  # 10 repetitions x 9 windows each
    strangers = {"patterns": [rf"q(?P<subject>\d+)/(?P<session>trial_\d+)/{FILE}"], "classes": CLASSES}
    write_csv_people(root, people=("9",), sessions=("trial_1",))
    (root / "p9").rename(root / "q9")
    with pytest.raises(ValueError, match="not training people"):
        build_extra_set(tmp_path / "sets" / "bad", root, "bad", strangers, training, [0], "raw", 40, 10, 1, None)
    assert not (tmp_path / "sets" / "bad").exists() and not (tmp_path / "sets" / "bad.partial").exists()


def test_canonical_signals_turn_each_person_by_their_rounded_shift(data):
    from emgcore.data.store import load_signal
    from emgcore.rotation.augment import CanonicalSignals

    root, _, _ = data
    signals = CanonicalSignals(root, {0: 2.2, 1: -0.6, 4: 0.3})
    raw = {s: load_signal(root / store_filename(s)) for s in (0, 1, 2, 4)}
    np.testing.assert_array_equal(signals[0], np.roll(raw[0], -2, axis=1))
    np.testing.assert_array_equal(signals[1], np.roll(raw[1], 1, axis=1))
    np.testing.assert_array_equal(signals[2], raw[2])  # no shift given: as stored
    np.testing.assert_array_equal(signals[4], raw[4])  # 0.3 rounds to 0
    assert signals[0].dtype == np.int8 and 0 in signals and sorted(signals) == list(TRAIN + TEST)
    assert augmentation_for("canon", 1, 0) is None  # canon turns people, not windows

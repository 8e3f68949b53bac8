"""The rotation target end to end on a few real CIIL people: arms trained (augmented, equivariant) or reused
(the cross-user run), every test-time method and stream order, an applied rotation, the after-shift trials."""

import json

import pandas as pd
import pytest
import yaml

from emgcore.data import ciil
from tests.helpers.workflow import REPO, TINY, merged, snakemake, workdir_with

CIIL_ROOT = ciil.default_ciil_root()
pytestmark = pytest.mark.skipif(not CIIL_ROOT.is_dir(), reason=f"the CIIL recordings are not at {CIIL_ROOT}")
TRIALS = r"ElectrodeShift/subject(?P<subject>[15])/(?P<session>trial_\d+)/R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"


def test_rotation_target_on_ciil_people(tmp_path):
    preset = yaml.safe_load((REPO / "presets/ciil.yaml").read_text())
    config = merged(
        merged(TINY, preset),
        {
            "data_dir": str(CIIL_ROOT),
            "splits": {"train": [1, 4], "val": [5, 5], "test": [22, 23]},  # ElectrodeShift 0-3 / 4 / two others
            "training": {"max_epochs": 2},  # TINY's 2 x 3 batches, not the preset's convergence
            "rotation": {
                "arms": ["mhcnn-none", "lda-roll", "mhcnn_eq-none"],
                "methods": ["plain", "align", "norm", "align_norm"],
                "stream_orders": ["recording", "interleaved"],
                "applied_shifts": [0, 2],
                "window_step": 2,
                "extra_sets": {"after_shift": dict(preset["rotation"]["extra_sets"]["after_shift"], patterns=[TRIALS])},
            },
        },
    )
    work = workdir_with(tmp_path, config)
    res = snakemake(work, "--cores", "2", "rotation", timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = work / "results"
    # the none arm is the cross-user run itself; the augmented arm trains in its own folder and says how
    assert (results / "cross/mhcnn-base-standard-s0/model.pt").is_file()
    assert not (results / "rotation/rot-mhcnn-none-standard-s0/model.pt").exists()
    info = json.loads((results / "rotation/rot-lda-roll-standard-s0/run.json").read_text())
    assert info["augment"] == "roll" and "RandomRingShift([-1.0, 1.0], whole" in info["augmentation"]
    table = pd.read_csv(results / "rotation.csv")
    # 3 arms x (plain + 3 streaming methods x 2 orders) x 2 applied shifts x 2 test sets
    assert len(table) == 3 * 7 * 2 * 2 and set(table.test_set) == {"test", "after_shift"}
    assert (table[table.test_set == "test"].n_subjects == 2).all()
    units = pd.read_csv(results / "rotation/sets/after_shift/units.csv")
    assert set(units.person) == {1, 5} and units.groupby("person").in_training.first().to_dict() == {1: True, 5: False}
    assert (table[table.test_set == "after_shift"].n_subjects == len(units)).all()
    rows = pd.read_csv(results / "rotation/results_rows.csv")
    assert len(rows) == len(table) and rows.run.is_unique and set(rows.loss) == {"rotation"}
    # the equivariant arm scores a whole-electrode rotation exactly as the recording
    per_subject = pd.read_csv(results / "rotation/rot-mhcnn_eq-none-standard-s0/rotation_per_subject.csv")
    plain = per_subject[per_subject.rotation_method == "plain"]
    pivot = plain.pivot_table(index=["test_set", "subject"], columns="applied_shift", values="bal_acc")
    pd.testing.assert_series_equal(pivot[0.0], pivot[2.0], check_names=False, atol=1e-9)
    for name in ("offset_vs_accuracy_test.png", "offset_vs_accuracy_after_shift.png", "accuracy_vs_shift_test.png"):
        assert (results / "figures/rotation" / name).stat().st_size > 0

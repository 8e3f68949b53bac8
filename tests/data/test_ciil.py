"""Tests of the CIIL Myo reader and its conversion to the EPN-612 layout."""

import json

import numpy as np
import orjson
import pytest

from emgcore.data import ciil
from emgcore.data.labels import LABEL_OF

CIIL_ROOT = ciil.default_ciil_root()
needs_ciil = pytest.mark.skipif(
    not CIIL_ROOT.is_dir(), reason=f"real CIIL recordings not found at {CIIL_ROOT} (../shared/data/ciil)"
)


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")


def make_subject(folder, n_reps=2, length=120, seed=0):
    """A small ElectrodeShift-style person: rest is quiet, class c has a burst on channel c."""
    rng = np.random.default_rng(seed)
    for rep in range(n_reps):
        for ciil_class in range(5):
            rows = rng.integers(-3, 4, size=(length, 8))
            if ciil_class != 2:
                rows[30:90, ciil_class] = rng.integers(-60, 61, size=60)
            write_csv(folder / "training" / f"R_{rep}_C_{ciil_class}.csv", rows)
    return folder


def test_reads_rows_as_int8_and_maps_classes_to_epn_labels(tmp_path):
    subject = make_subject(tmp_path / "ElectrodeShift" / "subject0")
    reps = ciil.read_ciil_subject(subject)
    assert len(reps) == 10
    assert all(r.emg.dtype == np.int8 and r.emg.shape == (120, 8) for r in reps)
    by_label = {}
    for r in reps:
        by_label.setdefault(r.label, []).append(r.rep)
    assert by_label == {label: [0, 1] for label in range(5)}
    # CIIL class 0 (Hand_Close) is fist, 4 (Wrist_Flexion) waveIn: their burst channels show it
    fist = next(r for r in reps if r.label == LABEL_OF["fist"])
    wave_in = next(r for r in reps if r.label == LABEL_OF["waveIn"])
    assert np.abs(fist.emg[:, 0]).max() > 10 and np.abs(wave_in.emg[:, 4]).max() > 10
    raw = np.loadtxt(subject / "training" / "R_1_C_3.csv", delimiter=",", dtype=int)
    wave_out_rep1 = next(r for r in reps if r.label == LABEL_OF["waveOut"] and r.rep == 1)
    np.testing.assert_array_equal(wave_out_rep1.emg, raw)


@pytest.mark.parametrize(
    "content, message",
    [
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7\n", r"row 2: expected 8 comma-separated integers, got 7 fields"),
        ("1,2,3,4,5,6,7,8\n1,2,x,4,5,6,7,8\n", r"row 2, column 3: expected an integer, got 'x'"),
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,200\n", r"row 2: values .* outside the int8 range"),
        ("\n\n", r"empty CSV"),
    ],
)
def test_malformed_csv_errors_name_file_and_row(tmp_path, content, message):
    path = tmp_path / "R_0_C_0.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        ciil.read_ciil_csv(path)
    assert str(path) in str(error.value)


def test_structure_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="not a CIIL subject folder"):
        ciil.read_ciil_subject(tmp_path)
    write_csv(tmp_path / "training" / "R_0_C_7.csv", [[0] * 8])
    with pytest.raises(ValueError, match="class 7 in the file name"):
        ciil.read_ciil_subject(tmp_path)
    with pytest.raises(FileNotFoundError, match="CIIL root folder not found"):
        ciil.list_ciil_subjects(tmp_path / "missing")


def test_metadata_class_names_are_checked(tmp_path):
    subject = make_subject(tmp_path / "s", n_reps=1)
    meta = {"data/s/training/R_0_C_1.csv": {"rep_idx": 0, "class_idx": 1, "class_name": "Hand_Close"}}
    (subject / "training" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="R_0_C_1.csv has class_name 'Hand_Close', expected 'Hand_Open'"):
        ciil.read_ciil_subject(subject)


def test_activity_bounds_find_the_burst():
    emg = np.zeros((200, 8), dtype=np.int8)
    emg[80:140] = np.random.default_rng(1).integers(-50, 51, size=(60, 8))
    first, last = ciil.activity_bounds(emg, rest_level=2.0)
    assert 55 <= first <= 85 and 135 <= last <= 165
    assert ciil.activity_bounds(np.zeros((50, 8), dtype=np.int8), rest_level=2.0) is None


def test_write_ciil_as_epn612_layout(tmp_path):
    root = tmp_path / "ciil"
    for number in range(3):
        make_subject(root / "ElectrodeShift" / f"subject{number}", seed=number)
    subjects = [f"ElectrodeShift/subject{n}" for n in range(3)]
    summary = ciil.write_ciil_as_epn612(root, tmp_path / "out", subjects, n_train_users=2)
    assert [u["user"] for u in summary["users"]] == ["training/user1", "training/user2", "testing/user1"]
    document = orjson.loads((tmp_path / "out/testingJSON/user1/user1.json").read_bytes())
    assert document["testingSamples"] == {}
    samples = list(document["trainingSamples"].values())
    assert list(document["trainingSamples"]) == [f"idx_{k}" for k in range(1, 11)]
    epn_order = ("noGesture", "fist", "waveIn", "waveOut", "open")
    assert [s["gestureName"] for s in samples] == [g for g in epn_order for _ in range(2)]
    for sample in samples:
        length = len(sample["emg"]["ch1"])
        if sample["gestureName"] == "noGesture":
            assert "groundTruth" not in sample
        else:
            truth = np.array(sample["groundTruth"])
            first, last = sample["groundTruthIndex"]
            assert truth.size == length and truth.sum() == last - first + 1
            # the burst is at samples 30..89 (0-based); the 40-sample moving RMS may widen it by 20
            assert 10 <= first <= 45 and 80 <= last <= 111
    raw = np.loadtxt(root / "ElectrodeShift/subject2/training/R_0_C_0.csv", delimiter=",", dtype=int)
    fist = next(s for s in samples if s["gestureName"] == "fist")
    np.testing.assert_array_equal(np.array([fist["emg"][f"ch{c}"] for c in range(1, 9)]).T, raw)
    with pytest.raises(ValueError, match="n_train_users=4"):
        ciil.write_ciil_as_epn612(root, tmp_path / "bad", subjects, n_train_users=4)


@needs_ciil
def test_real_ciil_people_are_listed_and_read():
    subjects = ciil.list_ciil_subjects(CIIL_ROOT)
    assert len(subjects) == 32
    assert subjects[0].parent.name == "ElectrodeShift" and subjects[-1].parent.name == "MinimalTrainingData"
    shift = ciil.read_ciil_subject(CIIL_ROOT / "ElectrodeShift" / "subject1")
    assert len(shift) == 25 and {r.label for r in shift} == set(range(5))
    assert all(r.emg.shape[1] == 8 and 150 <= len(r.emg) <= 700 for r in shift)
    with_trials = ciil.read_ciil_subject(CIIL_ROOT / "ElectrodeShift" / "subject1", include_shift_trials=True)
    assert len(with_trials) > len(shift)
    minimal = ciil.read_ciil_subject(CIIL_ROOT / "MinimalTrainingData" / "subject0")
    assert len(minimal) > 50 and len(minimal[0].emg) == 200  # train/ first: 1 s per class
    rest = np.concatenate([r.emg for r in shift if r.label == LABEL_OF["noGesture"]]).astype(float)
    active = np.concatenate([r.emg for r in shift if r.label != LABEL_OF["noGesture"]]).astype(float)
    assert np.sqrt(np.mean(active**2)) > 3 * np.sqrt(np.mean(rest**2))


@needs_ciil
def test_real_ciil_converts_to_epn612(tmp_path):
    subjects = ["ElectrodeShift/subject0", "MinimalTrainingData/subject1"]
    ciil.write_ciil_as_epn612(CIIL_ROOT, tmp_path, subjects, n_train_users=1)
    document = orjson.loads((tmp_path / "testingJSON/user1/user1.json").read_bytes())
    samples = list(document["trainingSamples"].values())
    assert len(samples) > 50
    active = [s for s in samples if s["gestureName"] != "noGesture"]
    coverage = np.mean([np.mean(s["groundTruth"]) for s in active])
    assert coverage > 0.8  # steady contractions: nearly the whole repetition is active
    assert len(document["synchronizationGesture"]["samples"]) == 5

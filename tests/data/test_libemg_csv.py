"""Tests of the generic libemg-CSV reader, its layout description, its EPN-612 writer and the CIIL preset."""

import dataclasses

import numpy as np
import orjson
import pytest

from emgcore.data import ciil
from emgcore.data.labels import LABEL_OF
from emgcore.data.libemg_csv import (
    RecordingLayout,
    discover_recording_files,
    natural_key,
    read_recording_csv,
    read_recordings,
    split_by_session,
    write_recordings_as_epn612,
)

CIIL_ROOT = ciil.default_ciil_root()
needs_ciil = pytest.mark.skipif(
    not CIIL_ROOT.is_dir(), reason=f"real CIIL recordings not found at {CIIL_ROOT} (../shared/data/ciil)"
)
#: a libemg-style data set whose class numbers differ from CIIL's
CLASSES = {0: "noGesture", 1: "fist", 2: "waveIn", 3: "waveOut", 4: "open"}
TRAINING = r"people/subject(?P<subject>\d+)/training/R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"
TRIALS = r"people/subject(?P<subject>\d+)/trial_(?P<session>\d+)/R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")


def make_person(folder, n_reps=2, length=60, channels=8, seed=0, classes=range(5)):
    """One person's folder of R_<rep>_C_<class>.csv files; class c > 0 has a burst on channel c."""
    rng = np.random.default_rng(seed)
    for rep in range(n_reps):
        for number in classes:
            rows = rng.integers(-3, 4, size=(length, channels))
            if number != 0:
                rows[15:45, number % channels] = rng.integers(-60, 61, size=30)
            write_csv(folder / f"R_{rep}_C_{number}.csv", rows)
    return folder


def make_dataset(root):
    """subject2 and subject10, each with training (2 reps) and trial_1 (1 rep) sessions, plus noise files."""
    for seed, subject in enumerate((10, 2)):
        make_person(root / f"people/subject{subject}/training", seed=seed)
        make_person(root / f"people/subject{subject}/trial_1", n_reps=1, seed=10 + seed)
    (root / "people/subject2/training/metadata.json").write_text("{}")
    (root / "people/README.txt").write_text("not a recording")
    return root


def layout_of(root, patterns=(TRAINING,), classes=CLASSES, channels=8):
    return RecordingLayout.from_config(
        {"root": str(root), "patterns": list(patterns), "classes": classes, "channels": channels}
    )


# --------------------------------------------------------------------------------------------
# layout description


def test_from_config_normalises_and_is_frozen(tmp_path):
    layout = RecordingLayout.from_config(
        {"root": "data", "patterns": TRAINING, "classes": {"1": "fist", 0: "noGesture"}, "name": "demo"},
        base_dir=tmp_path,
    )
    assert layout.root == tmp_path / "data"
    assert layout.patterns == (TRAINING,)
    assert layout.class_map == ((0, "noGesture"), (1, "fist"))
    assert layout.label_of_class == {0: LABEL_OF["noGesture"], 1: LABEL_OF["fist"]}
    assert layout.channels == 8 and layout.name == "demo"
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.channels = 4
    assert layout == RecordingLayout(tmp_path / "data", TRAINING, {0: "noGesture", 1: "fist"}, name="demo")
    assert hash(layout) == hash(RecordingLayout(tmp_path / "data", [TRAINING], {1: "fist", 0: "noGesture"}, 8, "demo"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"root_dir": "x"}, r"unknown keys \['root_dir'\]; allowed keys are"),
        ({"patterns": None}, r"patterns=None, expected a regular expression"),
        ({"patterns": []}, r"patterns is empty"),
        ({"patterns": [r"R_(?P<rep>\d+"]}, r"pattern 1: .* is not a valid regular expression"),
        ({"patterns": [TRAINING, r"R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"]}, r"pattern 2: .* lacks .*\['subject'\]"),
        ({"patterns": [TRAINING.replace("subject>", "subj>")]}, r"lacks the named groups \['subject'\]"),
        ({"patterns": [TRAINING + r"(?P<sesion>x)?"]}, r"unknown named groups \['sesion'\]"),
        ({"classes": [1, 2]}, r"classes=\[1, 2\], expected a mapping"),
        ({"classes": {}}, r"class map is empty"),
        ({"classes": {0: "rest"}}, r"class 0 maps to 'rest', expected one of \['noGesture', 'fist'"),
        ({"classes": {0: "pinch"}}, r"class 0 maps to 'pinch'"),
        ({"classes": {"a": "fist"}}, r"class 'a' in the class map, expected a non-negative integer"),
        ({"classes": {0: "fist", "0": "open"}}, r"class 0 appears twice"),
        ({"classes": {0: "fist", 3: "fist"}}, r"map to the same gesture \{'fist': \[0, 3\]\}"),
        ({"channels": 0}, r"channels=0, expected a positive integer"),
        ({"channels": True}, r"channels=True"),
        ({"root": ""}, r"root='', expected a folder path"),
    ],
)
def test_from_config_rejects_bad_configs(change, message):
    config = {"root": "data", "patterns": [TRAINING], "classes": CLASSES, **change}
    with pytest.raises(ValueError, match=message):
        RecordingLayout.from_config(config)


def test_from_config_names_missing_keys_and_non_mappings():
    with pytest.raises(ValueError, match=r"missing keys \['patterns', 'classes'\] \(patterns: regular expression"):
        RecordingLayout.from_config({"root": "data"})
    with pytest.raises(ValueError, match="expected a mapping with keys"):
        RecordingLayout.from_config(["root", "patterns"])


def test_natural_key_orders_numbers_numerically():
    names = ["trial_10", "trial_2", "training", "10", "2", ""]
    assert sorted(names, key=natural_key) == ["", "2", "10", "training", "trial_2", "trial_10"]


# --------------------------------------------------------------------------------------------
# discovery and reading


def test_reads_people_in_recording_order_with_labels_sessions_and_samples(tmp_path):
    root = make_dataset(tmp_path)
    recordings = read_recordings(layout_of(root, (TRAINING, TRIALS)))
    assert list(recordings) == ["2", "10"]  # numbers in names sort numerically
    person = recordings["2"]
    assert len(person) == 15
    order = [(r.session, r.rep, r.label) for r in person]
    expected = [("", rep, label) for rep in range(2) for label in range(5)] + [("1", 0, label) for label in range(5)]
    assert order == expected  # training before the trials: pattern order, then session, rep, class
    assert all(r.emg.dtype == np.int8 and r.emg.shape == (60, 8) for r in person)
    raw = np.loadtxt(root / "people/subject2/trial_1/R_0_C_3.csv", delimiter=",", dtype=int)
    np.testing.assert_array_equal(person[13].emg, raw)
    # class 3 has its burst on channel 3; the label is the class map's
    assert person[13].label == LABEL_OF["waveOut"] and np.abs(person[13].emg[:, 3]).max() > 10


def test_class_map_decides_labels_and_channel_count_is_configurable(tmp_path):
    make_person(tmp_path / "people/subject0/training", channels=4, n_reps=1)
    swapped = {0: "noGesture", 1: "open", 2: "fist", 3: "waveIn", 4: "waveOut"}
    (person,) = read_recordings(layout_of(tmp_path, classes=swapped, channels=4)).values()
    assert [r.label for r in person] == [LABEL_OF[g] for g in swapped.values()]
    assert all(r.emg.shape == (60, 4) for r in person)
    with pytest.raises(ValueError, match="row 1: expected 8 comma-separated integers, got 4 fields"):
        read_recordings(layout_of(tmp_path, classes=swapped, channels=8))


def test_subject_filter_and_missing_subjects(tmp_path):
    root = make_dataset(tmp_path)
    layout = layout_of(root, (TRAINING, TRIALS))
    assert list(read_recordings(layout, subjects=["10"])) == ["10"]
    files = discover_recording_files(layout, subjects=[2])
    assert len(files) == 15 and {f.subject for f in files} == {"2"}
    assert [f.pattern for f in files] == [0] * 10 + [1] * 5
    with pytest.raises(ValueError, match=r"no files of subjects \['7'\]"):
        read_recordings(layout, subjects=["2", "7"])
    with pytest.raises(ValueError, match="no files match the layout's patterns"):
        read_recordings(layout_of(root, (TRAINING.replace("training", "nothing"),)))
    with pytest.raises(FileNotFoundError, match="recordings root folder not found"):
        read_recordings(layout_of(root / "missing"))


def test_split_by_session_makes_each_session_its_own_person(tmp_path):
    recordings = read_recordings(layout_of(make_dataset(tmp_path), (TRAINING, TRIALS)))
    split = split_by_session(recordings)
    assert list(split) == ["2", "2/1", "10", "10/1"]
    assert [len(reps) for reps in split.values()] == [10, 5, 10, 5]
    assert all(r.session == "1" for r in split["10/1"])
    assert split["2/1"][0].emg is recordings["2"][10].emg


@pytest.mark.parametrize(
    "content, message",
    [
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7\n", r"row 2: expected 8 comma-separated integers, got 7 fields"),
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,9\n", r"row 2: expected 8 comma-separated integers, got 9 fields"),
        ("1,2,3,4,5,6,7,8\n1,2,x,4,5,6,7,8\n", r"row 2, column 3: expected an integer, got 'x'"),
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,2.5\n", r"row 3, column 8: expected an integer, got '2.5'"),
        ("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,200\n", r"row 2: values .* outside the int8 range \[-128, 127\]"),
        ("-129,2,3,4,5,6,7,8\n", r"row 1: values \[-129, .* outside the int8 range"),
        ("1,2,3,4,5,6,7,99999999999999999999999\n", r"row 1: values .* outside the int8 range"),
        ("", r"empty CSV, expected rows of 8 integers"),
        ("\n\n", r"empty CSV"),
    ],
)
def test_malformed_files_name_file_and_row(tmp_path, content, message):
    make_person(tmp_path / "people/subject0/training", n_reps=1)
    bad = tmp_path / "people/subject0/training/R_0_C_2.csv"
    bad.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        read_recordings(layout_of(tmp_path))
    assert str(bad) in str(error.value)


def test_good_csv_reads_exactly_with_crlf_and_trailing_blank_lines(tmp_path):
    path = tmp_path / "R_0_C_0.csv"
    path.write_text("-128,127,0,1,-1,2,-2,3\r\n4,5,6,7,8,9,10,11\r\n\r\n")
    np.testing.assert_array_equal(
        read_recording_csv(path), np.array([[-128, 127, 0, 1, -1, 2, -2, 3], [4, 5, 6, 7, 8, 9, 10, 11]], np.int8)
    )
    assert read_recording_csv(path).dtype == np.int8


def test_unknown_class_missing_class_and_duplicates_are_named(tmp_path):
    folder = make_person(tmp_path / "people/subject0/training", n_reps=1)
    write_csv(folder / "R_0_C_7.csv", [[0] * 8])
    with pytest.raises(ValueError, match=r"R_0_C_7.csv: class 7 in the file name, expected one of \[0, 1, 2, 3, 4\]"):
        read_recordings(layout_of(tmp_path))
    (folder / "R_0_C_7.csv").unlink()
    (folder / "R_0_C_4.csv").unlink()
    with pytest.raises(ValueError, match=r"training: subject '0' has no recordings of class 4 \(open\)") as error:
        read_recordings(layout_of(tmp_path))
    assert str(folder) in str(error.value)
    # a pattern without a session group that matches two folders reads the same repetition twice
    make_person(tmp_path / "people/subject0/training", n_reps=1)
    make_person(tmp_path / "people/subject0/trial_1", n_reps=1)
    any_folder = r"people/subject(?P<subject>\d+)/\w+/R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"
    with pytest.raises(ValueError, match=r"rep 0, class 0 was already read from .*training/R_0_C_0.csv"):
        read_recordings(layout_of(tmp_path, (any_folder,)))


def test_rep_group_must_capture_a_number(tmp_path):
    make_person(tmp_path / "people/subject0/training", n_reps=1)
    loose = r"people/subject(?P<subject>\d+)/training/R_(?P<rep>\w+)_C_(?P<class>\d+)\.csv"
    (tmp_path / "people/subject0/training/R_a_C_0.csv").write_text("0,0,0,0,0,0,0,0\n")
    with pytest.raises(ValueError, match=r"R_a_C_0.csv: the 'rep' group captured 'a', expected a non-negative"):
        read_recordings(layout_of(tmp_path, (loose,)))


# --------------------------------------------------------------------------------------------
# EPN-612 writer


def test_writer_matches_the_ciil_converter(tmp_path):
    root = tmp_path / "ciil"
    for number in range(3):
        make_person(root / f"ElectrodeShift/subject{number}/training", length=120, seed=number)
    subjects = [f"ElectrodeShift/subject{n}" for n in range(3)]
    ciil.write_ciil_as_epn612(root, tmp_path / "ciil_out", subjects, n_train_users=2)
    recordings = read_recordings(ciil.ciil_layout(root))
    assert list(recordings) == ["0", "1", "2"]
    summary = write_recordings_as_epn612(
        tmp_path / "generic_out", training={k: recordings[k] for k in "01"}, testing={"2": recordings["2"]}
    )
    assert [u["user"] for u in summary["users"]] == ["training/user1", "training/user2", "testing/user1"]
    assert [u["subject"] for u in summary["users"]] == ["0", "1", "2"]
    for user in ("trainingJSON/user1/user1.json", "trainingJSON/user2/user2.json", "testingJSON/user1/user1.json"):
        generic = orjson.loads((tmp_path / "generic_out" / user).read_bytes())
        reference = orjson.loads((tmp_path / "ciil_out" / user).read_bytes())
        assert generic.pop("userInfo")["source"].startswith("libemg-csv ")
        assert reference.pop("userInfo")["source"].startswith("CIIL ElectrodeShift/subject")
        assert generic == reference
    document = orjson.loads((tmp_path / "generic_out/trainingJSON/user2/user2.json").read_bytes())
    assert document["userInfo"] == {"name": "user2", "handedness": "right", "source": "libemg-csv 1"}
    samples = list(document["trainingSamples"].values())
    assert [s["gestureName"] for s in samples] == [
        g for g in ("noGesture", "fist", "waveIn", "waveOut", "open") for _ in "ab"
    ]


def test_writer_writes_nothing_when_a_person_is_bad(tmp_path):
    recordings = read_recordings(layout_of(make_dataset(tmp_path / "data"), (TRAINING, TRIALS)))
    no_rest = [r for r in recordings["10"] if r.label != LABEL_OF["noGesture"]]
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="subject '10': no noGesture"):
        write_recordings_as_epn612(out, training={"2": recordings["2"]}, testing={"10": no_rest})
    assert not out.exists() or not list(out.rglob("*.json"))
    wide = [r._replace(emg=np.zeros((5, 9), np.int8)) for r in recordings["2"]]
    with pytest.raises(ValueError, match=r"subject '2': a repetition is int8 \(5, 9\), expected int8 \(T>0, 8\)"):
        write_recordings_as_epn612(out, training={"2": wide})
    with pytest.raises(ValueError, match="subject '2': no repetitions to write"):
        write_recordings_as_epn612(out, training={"2": []})
    assert not out.exists() or not list(out.rglob("*.json"))


def test_ciil_presets_are_checked(tmp_path):
    with pytest.raises(
        ValueError, match=r"dataset='Other': expected one of \['ElectrodeShift', 'MinimalTrainingData'\]"
    ):
        ciil.ciil_layout(tmp_path, "Other")
    layout = ciil.ciil_shift_trials_layout(tmp_path)
    assert dict(layout.class_map) == {0: "fist", 1: "open", 2: "noGesture", 3: "waveOut", 4: "waveIn"}
    make_person(tmp_path / "a/s/training")
    with pytest.raises(ValueError, match="subjects: a/s is given twice"):
        ciil.write_ciil_as_epn612(tmp_path, tmp_path / "o", ["a/s", tmp_path / "a/s"], 1)
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------------------------
# real CIIL recordings


def assert_same_repetitions(generic, reference):
    assert len(generic) == len(reference)
    counts = {}
    for got, expected in zip(generic, reference):
        assert got.label == expected.label and got.rep >= 0
        assert counts.get(got.label, 0) == expected.rep  # the CIIL running count is recording order per class
        counts[got.label] = counts.get(got.label, 0) + 1
        np.testing.assert_array_equal(got.emg, expected.emg)


@needs_ciil
def test_real_ciil_generic_reader_equals_the_ciil_reader():
    shift = read_recordings(ciil.ciil_layout(CIIL_ROOT, "ElectrodeShift"), subjects=["1"])["1"]
    assert len(shift) == 25 and {r.session for r in shift} == {"training"}
    assert_same_repetitions(shift, ciil.read_ciil_subject(CIIL_ROOT / "ElectrodeShift/subject1"))
    raw = np.loadtxt(CIIL_ROOT / "ElectrodeShift/subject1/training/R_3_C_4.csv", delimiter=",", dtype=int)
    (wave_in_3,) = [r for r in shift if r.label == LABEL_OF["waveIn"] and r.rep == 3]
    np.testing.assert_array_equal(wave_in_3.emg, raw)

    with_trials = read_recordings(ciil.ciil_layout(CIIL_ROOT, include_shift_trials=True), subjects=["1"])["1"]
    reference = ciil.read_ciil_subject(CIIL_ROOT / "ElectrodeShift/subject1", include_shift_trials=True)
    assert_same_repetitions(with_trials, reference)
    trials = read_recordings(ciil.ciil_shift_trials_layout(CIIL_ROOT), subjects=["1"])["1"]
    assert [r.session for r in trials] == [r.session for r in with_trials[25:]]
    assert {r.session for r in trials} == {"trial_1", "trial_2", "trial_3", "trial_4"}
    assert all(np.array_equal(a.emg, b.emg) for a, b in zip(trials, with_trials[25:]))

    minimal = read_recordings(ciil.ciil_layout(CIIL_ROOT, "MinimalTrainingData"), subjects=["0"])["0"]
    assert minimal[0].session == "train" and minimal[-1].session == "test/trial_6"
    assert_same_repetitions(minimal, ciil.read_ciil_subject(CIIL_ROOT / "MinimalTrainingData/subject0"))

"""EPN-612 JSON reader, ingestion and store: layout, labels, bounds, ids and every bad-input case."""

import numpy as np
import orjson
import pytest

from emgcore.data.epn612 import EPNFormatError, discover_users, read_user_json
from emgcore.data.ingest import ingest_epn612, read_manifest
from emgcore.data.store import read_user_store, store_filename, write_user_store
from tests.helpers.epn_json import make_sample, make_user, write_json


@pytest.fixture
def epn_dir(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "epn"
    for n in (1, 2, 3):
        write_json(root / f"trainingJSON/user{n}/user{n}.json", make_user(rng))
    for n in (1, 2):
        write_json(root / f"testingJSON/user{n}/user{n}.json", make_user(rng, testing=True))
    return root


def test_discover_assigns_global_zero_based_ids(epn_dir):
    users = discover_users(epn_dir)
    assert [(u.group, u.number, u.subject) for u in users] == [
        ("training", 1, 0),
        ("training", 2, 1),
        ("training", 3, 2),
        ("testing", 1, 3),
        ("testing", 2, 4),
    ]


def test_training_user_reads_both_blocks_with_labels_and_bounds(epn_dir):
    path = epn_dir / "trainingJSON/user2/user2.json"
    doc = orjson.loads(path.read_bytes())
    rec = read_user_json(path, 1, "training")
    assert len(rec.reps) == 2 * 6 * 2  # both blocks, pinch kept
    assert rec.signal.dtype == np.int8 and rec.signal.shape == (24 * 60, 8)
    assert rec.reps["label"].tolist()[:12] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rec.reps["block"].tolist() == [0] * 12 + [1] * 12
    # running count per gesture across the two blocks
    assert rec.reps["rep_index"].tolist()[:2] == [0, 1] and rec.reps["rep_index"].tolist()[12:14] == [2, 3]
    rest = rec.reps[rec.reps.label == 0]
    act = rec.reps[rec.reps.label != 0]
    assert (rest.pb == -1).all() and (rest.pe == -1).all()
    assert (act.pb == 20).all() and (act.pe == 45).all()
    assert (rec.reps.subject == 1).all()
    # channels land in columns ch1..ch8, in sample order idx_1, idx_2, ...
    first = doc["trainingSamples"]["idx_1"]["emg"]
    np.testing.assert_array_equal(rec.repetition(0), np.array([first[f"ch{c}"] for c in range(1, 9)]).T)
    third = doc["trainingSamples"]["idx_3"]["emg"]
    np.testing.assert_array_equal(rec.repetition(2)[:, 4], third["ch5"])


def test_samples_are_ordered_by_index_number_not_text(tmp_path):
    rng = np.random.default_rng(1)
    doc = make_user(rng, reps=1)
    block = doc["trainingSamples"]
    # idx_10 must come after idx_9 even though "idx_10" < "idx_9" as text
    for k in range(7, 11):
        block[f"idx_{k}"] = make_sample(rng, "fist")
    block["idx_10"] = make_sample(rng, "open")
    path = write_json(tmp_path / "trainingJSON/user1/user1.json", doc)
    rec = read_user_json(path, 0, "training")
    assert rec.reps["label"].tolist()[:10] == [0, 1, 2, 3, 4, 5, 1, 1, 1, 4]


def test_testing_user_uses_training_block_only_and_skips_unlabelled(epn_dir):
    rec = read_user_json(epn_dir / "testingJSON/user1/user1.json", 3, "testing")
    assert len(rec.reps) == 12 and (rec.reps.block == 0).all()


def test_training_user_testing_block_skips_unlabelled_samples(tmp_path):
    rng = np.random.default_rng(2)
    doc = make_user(rng)
    del doc["testingSamples"]["idx_1"]["gestureName"]
    path = write_json(tmp_path / "trainingJSON/user1/user1.json", doc)
    assert len(read_user_json(path, 0, "training").reps) == 23


def test_groundtruth_without_ones_gives_minus_one(tmp_path):
    rng = np.random.default_rng(3)
    doc = make_user(rng, reps=1)
    doc["trainingSamples"]["idx_2"]["groundTruth"] = [0] * 60
    path = write_json(tmp_path / "u.json", doc)
    rec = read_user_json(path, 0, "training")
    assert (rec.reps.pb[1], rec.reps.pe[1]) == (-1, -1)


def test_store_round_trip(epn_dir, tmp_path):
    rec = read_user_json(epn_dir / "trainingJSON/user1/user1.json", 0, "training")
    out = tmp_path / "store" / store_filename(0)
    write_user_store(out, rec)
    back = read_user_store(out)
    np.testing.assert_array_equal(back.signal, rec.signal)
    assert back.signal.dtype == np.int8
    assert back.reps.equals(rec.reps)
    assert (back.subject, back.user) == (0, "training/user1")
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left


def test_ingest_writes_stores_and_manifest(epn_dir, tmp_path):
    store = tmp_path / "store"
    manifest = ingest_epn612(epn_dir, store, tmp_path / "manifest.csv", progress=False)
    assert manifest.subject.tolist() == [0, 1, 2, 3, 4]
    assert manifest.n_reps.tolist() == [24, 24, 24, 12, 12]
    assert manifest.n_pinch.tolist() == [4, 4, 4, 2, 2]
    assert manifest.n_rest.tolist() == [4, 4, 4, 2, 2]
    assert manifest.n_active.tolist() == [16, 16, 16, 8, 8]
    assert sorted(p.name for p in store.iterdir()) == [store_filename(s) for s in range(5)]
    assert read_manifest(tmp_path / "manifest.csv").equals(manifest)


def test_ingest_in_parallel_matches_serial(epn_dir, tmp_path):
    a = ingest_epn612(epn_dir, tmp_path / "a", tmp_path / "a.csv", progress=False)
    b = ingest_epn612(epn_dir, tmp_path / "b", tmp_path / "b.csv", workers=2, progress=False)
    assert a.drop(columns="store").equals(b.drop(columns="store"))
    np.testing.assert_array_equal(
        read_user_store(tmp_path / "a" / store_filename(4)).signal,
        read_user_store(tmp_path / "b" / store_filename(4)).signal,
    )


# ---- bad input: a clear error naming file and sample key, and no store file for that user ----


def _corrupt(doc, kind):
    s = doc["trainingSamples"]["idx_3"]
    if kind == "missing_channel":
        del s["emg"]["ch5"]
    elif kind == "unequal":
        s["emg"]["ch2"] = s["emg"]["ch2"][:-3]
    elif kind == "empty":
        s["emg"] = {f"ch{c}": [] for c in range(1, 9)}
    elif kind == "float":
        s["emg"]["ch4"][7] = 1.5
    elif kind == "string":
        s["emg"]["ch4"][7] = "12"
    elif kind == "too_big":
        s["emg"]["ch6"][3] = 128
    elif kind == "too_small":
        s["emg"]["ch1"][0] = -129
    elif kind == "unknown_gesture":
        s["gestureName"] = "thumbsUp"
    elif kind == "missing_gesture":
        del s["gestureName"]
    elif kind == "gt_length":
        doc["trainingSamples"]["idx_3"]["groundTruth"] = [0, 1]
    return doc


@pytest.mark.parametrize(
    "kind, expect",
    [
        ("missing_channel", "emg.ch5 missing"),
        ("unequal", "unequal lengths"),
        ("empty", "empty"),
        ("float", "emg.ch4[7] = 1.5 is not an integer"),
        ("string", "is not an integer"),
        ("too_big", "emg.ch6[3] = 128 outside [-128, 127]"),
        ("too_small", "emg.ch1[0] = -129 outside"),
        ("unknown_gesture", "unknown gestureName 'thumbsUp'"),
        ("missing_gesture", "gestureName missing"),
        ("gt_length", "groundTruth"),
    ],
)
def test_bad_sample_names_file_and_key_and_writes_nothing(epn_dir, tmp_path, kind, expect):
    path = epn_dir / "trainingJSON/user2/user2.json"
    doc = _corrupt(orjson.loads(path.read_bytes()), kind)
    path.write_bytes(orjson.dumps(doc))
    store = tmp_path / "store"
    with pytest.raises(EPNFormatError) as err:
        ingest_epn612(epn_dir, store, tmp_path / "manifest.csv", progress=False)
    msg = str(err.value)
    assert str(path) in msg and "trainingSamples/idx_3" in msg and expect in msg
    assert not (store / store_filename(1)).exists()
    assert not (tmp_path / "manifest.csv").exists()
    assert not [p for p in store.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("cut", [0, 10, 1000])
def test_truncated_or_invalid_json(epn_dir, tmp_path, cut):
    path = epn_dir / "testingJSON/user2/user2.json"
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else b"{not json")
    with pytest.raises(EPNFormatError, match="invalid or truncated JSON") as err:
        ingest_epn612(epn_dir, tmp_path / "store", tmp_path / "m.csv", progress=False)
    assert str(path) in str(err.value)
    assert not (tmp_path / "store" / store_filename(4)).exists()


def test_same_user_twice(epn_dir):
    dup = epn_dir / "trainingJSON/user02/user02.json"
    write_json(dup, orjson.loads((epn_dir / "trainingJSON/user2/user2.json").read_bytes()))
    with pytest.raises(EPNFormatError, match="same user appears twice"):
        discover_users(epn_dir)


def test_missing_user_file_and_folder(epn_dir, tmp_path):
    (epn_dir / "testingJSON/user3").mkdir()
    with pytest.raises(EPNFormatError, match=r"user3\.json: user file not found"):
        discover_users(epn_dir)
    with pytest.raises(EPNFormatError, match="trainingJSON: folder not found"):
        discover_users(tmp_path / "nowhere")

"""The store seen through libemg: its own parse_windows and FeatureExtractor are the client."""

import numpy as np
import pytest

FeatureExtractor = pytest.importorskip("libemg.feature_extractor", reason="libemg extra not installed").FeatureExtractor

from emgcore.data.ingest import ingest_epn612  # noqa: E402
from emgcore.data.libemg_dataset import EPN612Store  # noqa: E402
from emgcore.data.store import read_user_store, store_filename  # noqa: E402
from tests.helpers.epn_json import make_user, write_json  # noqa: E402


def test_prepare_data_feeds_libemg_windows_and_features(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "epn"
    for n in (1, 2):
        write_json(root / f"trainingJSON/user{n}/user{n}.json", make_user(rng))
    for n in (1, 2):
        write_json(root / f"testingJSON/user{n}/user{n}.json", make_user(rng, testing=True))
    ingest_epn612(root, tmp_path / "store", tmp_path / "manifest.csv", progress=False)
    splits = {"train": (1, 2), "val": (3, 3), "test": (4, 4)}
    ds = EPN612Store(tmp_path / "store", tmp_path / "manifest.csv", splits=splits)
    data = ds.prepare_data(split=True)
    assert set(data) == {"All", "Train", "Test"}
    train, test = data["Train"], data["Test"]
    # two training users x 2 blocks x 5 used gestures x 2 reps; pinch left out
    assert len(train.data) == 40 and len(test.data) == 10
    assert {int(c[0, 0]) for c in train.classes} == {0, 1, 2, 3, 4}
    assert {int(s[0, 0]) for s in train.subjects} == {0, 1} and {int(s[0, 0]) for s in test.subjects} == {3}
    # the first repetition equals the store's signal
    rec = read_user_store(tmp_path / "store" / store_filename(0))
    np.testing.assert_array_equal(train.data[0], rec.repetition(0))

    windows, meta = train.parse_windows(20, 10)
    assert windows.shape == (40 * 5, 8, 20)  # 60 samples -> 5 windows per repetition
    assert set(meta) == {"classes", "subjects", "reps"}
    assert meta["classes"].shape[0] == windows.shape[0]
    feats = FeatureExtractor().extract_features(["MAV", "WL", "ZC"], windows, array=True)
    assert feats.shape == (200, 24) and np.isfinite(feats).all()
    np.testing.assert_allclose(feats[0, :8], np.abs(windows[0]).mean(axis=1))
    assert len(data["All"].data) == 50
    assert len(ds.prepare_data(split=False).data) == 40 + 10 + 10  # val user included in All

"""Tests of the synthetic EPN-612-layout generator: layout, determinism and cross-user structure."""

import dataclasses

import numpy as np
import orjson
import pytest
from scipy.signal import welch

from emgcore.data import synthetic
from emgcore.data.labels import GESTURES, LABEL_OF, N_CHANNELS

TOP_KEYS = {"userInfo", "generalInfo", "synchronizationGesture", "trainingSamples", "testingSamples"}
SAMPLE_KEYS = {"quaternion", "gyro", "accelerometer", "startPointforGestureExecution", "myoDetection", "emg"}
SMALL = dict(duration_range_s=(2.0, 2.4), activity_range_s=(0.6, 1.2), ramp_range_s=(0.1, 0.2))


def small_config(**overrides) -> synthetic.SyntheticConfig:
    """A tiny data set that writes in well under a second."""
    settings = dict(n_train_users=2, n_test_users=2, reps_per_gesture=2, seed=7, **SMALL)
    settings.update(overrides)
    return synthetic.SyntheticConfig(**settings)


def load(path):
    return orjson.loads(path.read_bytes())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    summary = synthetic.write_synthetic_dataset(out, small_config())
    return out, summary


def test_writer_produces_the_epn612_layout(written):
    out, summary = written
    assert summary["n_users"] == 4
    for group, folder in (("training", "trainingJSON"), ("testing", "testingJSON")):
        for number in (1, 2):
            path = out / folder / f"user{number}" / f"user{number}.json"
            document = load(path)
            assert set(document) == TOP_KEYS
            assert document["generalInfo"]["samplingFrequencyInHertz"] == 200
            sync = document["synchronizationGesture"]["samples"]
            assert list(sync) == [f"idx_{k}" for k in range(1, synthetic.SYNC_REPETITIONS + 1)]
            for block in ("trainingSamples", "testingSamples"):
                samples = document[block]
                assert list(samples) == [f"idx_{k}" for k in range(1, 2 * len(GESTURES) + 1)]
                labelled = not (group == "testing" and block == "testingSamples")
                for k, sample in enumerate(samples.values()):
                    channels = [sample["emg"][f"ch{c}"] for c in range(1, N_CHANNELS + 1)]
                    length = len(channels[0])
                    assert all(len(ch) == length for ch in channels)
                    values = np.array(channels)
                    assert all(type(v) is int for v in channels[0][:20])
                    assert values.min() >= -128 and values.max() <= 127
                    assert 65535 in sample["myoDetection"]
                    assert SAMPLE_KEYS <= set(sample)
                    if not labelled:
                        assert "gestureName" not in sample and "groundTruth" not in sample
                        assert "groundTruthIndex" not in sample
                        continue
                    expected = GESTURES[k // 2]  # blocks of reps_per_gesture per gesture, EPN order
                    assert sample["gestureName"] == expected
                    if expected == "noGesture":
                        assert "groundTruth" not in sample and "groundTruthIndex" not in sample
                    else:
                        truth = np.array(sample["groundTruth"])
                        assert truth.size == length and set(np.unique(truth)) == {0, 1}
                        first, last = sample["groundTruthIndex"]
                        ones = np.flatnonzero(truth)
                        assert (first, last) == (ones[0] + 1, ones[-1] + 1)  # 1-based, contiguous
                        assert ones.size == last - first + 1
    names = [s["gestureName"] for s in load(out / "trainingJSON/user1/user1.json")["trainingSamples"].values()]
    assert "pinch" in names


def test_activity_is_where_ground_truth_says(written):
    out, _ = written
    inside, outside = [], []
    for sample in load(out / "trainingJSON/user1/user1.json")["trainingSamples"].values():
        if "groundTruth" in sample:
            emg = np.array([sample["emg"][f"ch{c}"] for c in range(1, 9)], dtype=float)
            truth = np.array(sample["groundTruth"], dtype=bool)
            inside.append(np.sqrt(np.mean(emg[:, truth] ** 2)))
            outside.append(np.sqrt(np.mean(emg[:, ~truth] ** 2)))
    assert np.median(inside) > 3 * np.median(outside)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, written):
    out, _ = written
    synthetic.write_synthetic_dataset(tmp_path / "again", small_config())
    synthetic.write_synthetic_dataset(tmp_path / "other", small_config(seed=8))
    for relative in ("trainingJSON/user2/user2.json", "testingJSON/user1/user1.json", "synthetic_summary.json"):
        assert (tmp_path / "again" / relative).read_bytes() == (out / relative).read_bytes()
    relative = "trainingJSON/user2/user2.json"
    assert (tmp_path / "other" / relative).read_bytes() != (out / relative).read_bytes()


def test_a_user_does_not_depend_on_how_many_users_are_written(tmp_path, written):
    out, _ = written
    synthetic.write_synthetic_dataset(tmp_path, small_config(n_train_users=1, n_test_users=3))
    for relative in ("trainingJSON/user1/user1.json", "testingJSON/user2/user2.json"):
        assert (tmp_path / relative).read_bytes() == (out / relative).read_bytes()


def test_writer_api_and_cli(tmp_path):
    summary = synthetic.write_synthetic_dataset(
        tmp_path / "api", small_config(n_train_users=1, n_test_users=1, reps_per_gesture=1, seed=3)
    )
    assert [u["user"] for u in summary["users"]] == ["training/user1", "testing/user1"]
    args = ["--out", str(tmp_path / "cli"), "--preset", "demo", "--n-train", "1", "--n-test", "0", "--reps", "1"]
    synthetic.main(args)
    document = load(tmp_path / "cli/trainingJSON/user1/user1.json")
    assert len(document["trainingSamples"]) == len(GESTURES)
    assert list((tmp_path / "cli/testingJSON").iterdir()) == []  # present, as readers expect, but empty


def test_presets_have_the_documented_scale():
    demo, full = synthetic.demo_config(), synthetic.epn612_scale_config()
    assert (demo.n_train_users, demo.n_test_users) == (40, 20)
    assert (full.n_train_users, full.n_test_users, full.reps_per_gesture) == (306, 306, 25)
    assert 2 * full.reps_per_gesture * len(full.gestures) == 300
    assert full.duration_range_s[1] * 200 == pytest.approx(1000)


@pytest.mark.parametrize(
    "field, value",
    [
        ("reps_per_gesture", 0),
        ("hard_user_fraction", 1.5),
        ("channel_gain", (1.0,) * 7),
        ("duration_range_s", (1.0, 2.0)),
        ("rotation_probabilities", ((0, 0.5),)),
    ],
)
def test_bad_settings_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"SyntheticConfig.{field}"):
        small_config(**{field: value})


def test_rotation_is_a_circular_channel_shift_of_the_same_user():
    straight = synthetic.generate_user(small_config(rotation_probabilities=((0, 1.0),)), "training", 1)
    rotated = synthetic.generate_user(small_config(rotation_probabilities=((2, 1.0),)), "training", 1)
    assert rotated.rotation == 2
    np.testing.assert_allclose(rotated.patterns, np.roll(straight.patterns, 2, axis=1))


def test_hard_users_have_overlapping_gesture_patterns():
    easy = synthetic.generate_user(small_config(hard_user_fraction=0.0), "training", 1)
    hard = synthetic.generate_user(small_config(hard_user_fraction=1.0), "training", 1)
    assert hard.hard and not easy.hard
    spread = lambda user: np.std(np.log(user.patterns[1:]), axis=0).mean()  # noqa: E731
    assert spread(hard) < 0.6 * spread(easy)


def test_median_frequency_filter_hits_its_target():
    rng = np.random.default_rng(0)
    for target in (42.0, 65.0):  # away from the 50 Hz notch, where the cumulative power is flat
        noise = synthetic.filtered_noise(rng, synthetic.filter_for_median_frequency(target), 40_000)
        freqs, power = welch(noise[0], fs=200, nperseg=256)
        cumulative = np.cumsum(power)
        assert np.interp(cumulative[-1] / 2, cumulative, freqs) == pytest.approx(target, abs=1.5)
        assert noise.std() == pytest.approx(1.0, rel=0.05)


def repetition_features(user):
    """(labels, log RMS per channel over the activity span) of a user's labelled repetitions (classes 0..4)."""
    labels, features = [], []
    for rep in user.repetitions:
        if rep.block == synthetic.SYNC_BLOCK or rep.label == LABEL_OF["pinch"]:
            continue
        segment = rep.emg if rep.activity is None else rep.emg[rep.activity[0] : rep.activity[1] + 1]
        labels.append(rep.label)
        features.append(np.log(np.sqrt(np.mean(segment.astype(float) ** 2, axis=0)) + 1))
    return np.array(labels), np.array(features)


def nearest_centroid_accuracy(train_labels, train_features, labels, features):
    classes = np.unique(train_labels)
    centroids = np.array([train_features[train_labels == c].mean(axis=0) for c in classes])
    predicted = classes[np.argmin(((features[:, None] - centroids[None]) ** 2).sum(axis=2), axis=1)]
    return np.mean(predicted == labels)


def test_cross_user_is_harder_than_within_user():
    config = small_config(reps_per_gesture=3)
    users = [synthetic.generate_user(config, "training", n) for n in range(1, 13)]
    gains = np.array([u.gain for u in users])
    assert np.std(np.log(gains)) > 0.15
    assert any(u.rotation != 0 for u in users) and any(u.rotation == 0 for u in users)
    data = [repetition_features(u) for u in users]
    within, cross = [], []
    for index, (labels, features) in enumerate(data):
        blocks = np.array(
            [rep.block for rep in users[index].repetitions if rep.block != synthetic.SYNC_BLOCK and rep.label != 5]
        )
        train, test = blocks == 0, blocks == 1  # within: trainingSamples -> testingSamples of the same user
        within.append(nearest_centroid_accuracy(labels[train], features[train], labels[test], features[test]))
        others = [d for j, d in enumerate(data) if j != index]
        other_labels = np.concatenate([d[0] for d in others])
        other_features = np.concatenate([d[1] for d in others])
        cross.append(nearest_centroid_accuracy(other_labels, other_features, labels[test], features[test]))
    assert np.mean(within) > 0.8
    assert np.mean(within) > np.mean(cross) + 0.15


def test_epn_scale_repetitions_last_about_five_seconds():
    config = dataclasses.replace(synthetic.epn612_scale_config(), reps_per_gesture=5)
    user = synthetic.generate_user(config, "testing", 1)
    lengths = [len(rep.emg) for rep in user.repetitions]
    assert min(lengths) >= 960 and max(lengths) <= 1000
    assert all(rep.emg.dtype == np.int8 and rep.emg.shape[1] == N_CHANNELS for rep in user.repetitions)

"""Disentangling model: shapes, ring padding, triplets / cross pairs, training, checkpoints, export."""

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.disentangle.measures import build_measure_dataset
from emgcore.disentangle.model import (
    DECODER_TYPES,
    Discriminator,
    DisentangleModel,
    GridConv2d,
    load_checkpoint,
)
from emgcore.disentangle.recordings import GridSpec, Trial
from emgcore.disentangle.train import (
    LATENT_KEYS,
    LOG_COLUMNS,
    export_latents,
    split_by_protocol,
    train_disentangle,
)
from emgcore.disentangle.triplets import (
    GestureSubjectBatchSampler,
    NoCrossPairs,
    NoValidTriplets,
    cross_reconstruction_pairs,
    pattern_triplets,
    subject_triplets,
)
from emgcore.settings import SettingAdapted
from tests.helpers.settings import disentangle_config

torch.set_num_threads(1)
RING = GridSpec(shape=(1, 8), channel_map=np.arange(8)[None, :], ring=True)
GRIDS = [((16, 16), 7, False), ((1, 8), 3, True)]


def model_config(**changes):
    """Disentangling settings for these tests (config.yaml's, with a longer schedule and wider codes
    on the CPU), plus `changes`."""
    base = dict(epochs=50, subjects_per_batch=4, batches_per_epoch=None, pattern_dim=64, subject_dim=64, device="cpu")
    return disentangle_config(**{**base, **changes})


def synthetic_trials(n_subjects=4, n_gestures=4, sessions=(1,), seconds=1.5, seed=0):
    """Gaussian noise with a per-gesture x per-subject channel gain: the RMS image is learnable."""
    rng = np.random.default_rng(seed)
    gesture_gain = rng.gamma(2.0, 1.0, (n_gestures, 8))
    subject_gain = rng.uniform(0.5, 2.0, (n_subjects, 8))
    trials = []
    for subject in range(n_subjects):
        for session in sessions:
            for gesture in range(n_gestures):
                noise = rng.standard_normal((int(seconds * 200), 8))
                signal = (noise * gesture_gain[gesture] * subject_gain[subject]).astype(np.float32)
                trials.append(Trial(subject, session, gesture, signal, 200.0))
    return trials


SMALL = {
    "gestures_per_batch": 3,
    "subjects_per_batch": 3,
    "windows_per_cell": 2,
    "batches_per_epoch": 20,
    "lr": 3e-3,
    "base_channels": 8,
    "pattern_dim": 8,
    "subject_dim": 8,
}


# ---------------------------------------------------------------------------------------------
# model


@pytest.mark.parametrize("decoder_type", DECODER_TYPES)
@pytest.mark.parametrize("grid_shape, planes, ring", GRIDS)
def test_shapes_on_both_grids(grid_shape, planes, ring, decoder_type):
    model = DisentangleModel(
        planes, grid_shape, ring, pattern_dim=16, subject_dim=12, decoder_type=decoder_type, base_channels=8
    )
    x = torch.randn(5, planes, *grid_shape)
    p, s, x_hat = model(x)
    assert p.shape == (5, 16) and s.shape == (5, 12) and x_hat.shape == x.shape
    assert model.decode(p[:2], s[3:]).shape == (2, planes) + grid_shape
    assert Discriminator(planes, grid_shape, ring, base_channels=8)(x).shape == (5,)
    with pytest.raises(ValueError, match="expected input"):
        model(torch.randn(5, planes + 1, *grid_shape))


def test_odd_grid_with_empty_cells_is_reconstructed_exactly_in_shape():
    mask = np.ones((5, 7), bool)
    mask[0, 0] = mask[4, 6] = False
    for decoder_type in DECODER_TYPES:
        model = DisentangleModel(2, (5, 7), cell_mask=mask, decoder_type=decoder_type, base_channels=8)
        x_hat = model(torch.randn(3, 2, 5, 7))[2]
        assert x_hat.shape == (3, 2, 5, 7)
        assert (x_hat[:, :, 0, 0] == 0).all() and (x_hat[:, :, 4, 6] == 0).all()
        assert (x_hat[:, :, 2, 3] != 0).all()


def test_ring_padding_is_circular():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 1, 8)
    ring = GridConv2d(3, 4, (1, 8), ring=True)
    flat = GridConv2d(3, 4, (1, 8), ring=False)
    flat.load_state_dict(ring.state_dict())
    # rotating the armband rotates the output: the first and last electrodes are neighbours
    torch.testing.assert_close(ring(torch.roll(x, 1, dims=3)), torch.roll(ring(x), 1, dims=3))
    assert not torch.allclose(flat(torch.roll(x, 1, dims=3)), torch.roll(flat(x), 1, dims=3))
    # the ring decoder can still draw a pattern that varies around the ring
    model = DisentangleModel(3, (1, 8), ring=True, base_channels=8)
    out = model.decode(torch.randn(4, 64), torch.randn(4, 64))
    assert (out.std(dim=3) > 1e-4).all()


# ---------------------------------------------------------------------------------------------
# triplets and cross pairs


def batch_labels(seed=0):
    rng = np.random.default_rng(seed)
    gesture = rng.integers(0, 4, 40)
    subject = rng.integers(0, 5, 40)
    return gesture, subject


def test_pattern_and_subject_triplets_satisfy_their_conditions():
    for seed in range(5):
        g, s = batch_labels(seed)
        a, p, n = pattern_triplets(g, s, np.random.default_rng(seed))
        assert len(a) > 0 and len(set(a.tolist())) == len(a)
        assert (g[a] == g[p]).all() and (s[a] != s[p]).all() and (g[a] != g[n]).all()
        a, p, n = subject_triplets(g, s, np.random.default_rng(seed), hard_negatives=False)
        assert len(a) > 0
        assert (s[a] == s[p]).all() and (g[a] != g[p]).all() and (s[a] != s[n]).all()
        # every anchor that has both a positive and a negative is used
        valid = [i for i in range(40) if ((s == s[i]) & (g != g[i])).any() and (s != s[i]).any()]
        assert sorted(a.tolist()) == valid


def test_hard_negatives_share_the_nuisance_label_when_possible():
    g, s = batch_labels(1)
    a, _, n = pattern_triplets(g, s, np.random.default_rng(0), hard_negatives=True)
    has_hard = np.array([((s == s[i]) & (g != g[i])).any() for i in a])
    assert has_hard.any() and (s[a][has_hard] == s[n][has_hard]).all()
    a, _, n = subject_triplets(g, s, np.random.default_rng(0), hard_negatives=True)
    has_hard = np.array([((g == g[i]) & (s != s[i])).any() for i in a])
    assert (g[a][has_hard] == g[n][has_hard]).all()


def test_triplets_are_deterministic_given_the_generator():
    g, s = batch_labels(2)
    first = pattern_triplets(g, s, np.random.default_rng(7))
    again = pattern_triplets(torch.from_numpy(g), torch.from_numpy(s), np.random.default_rng(7))
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    other = pattern_triplets(g, s, np.random.default_rng(8))
    assert any((x != y).any() for x, y in zip(first, other))


def test_batches_without_triplets_say_why():
    one_subject = np.zeros(6, int)
    with pytest.raises(NoValidTriplets, match="pattern.*same gesture and different subjects"):
        pattern_triplets(np.array([0, 0, 1, 1, 2, 2]), one_subject)
    with pytest.raises(NoValidTriplets, match="subject.*all windows have the same subject"):
        subject_triplets(np.array([0, 1, 2, 0, 1, 2]), one_subject)
    with pytest.raises(NoValidTriplets, match="pattern.*all windows have the same gesture"):
        pattern_triplets(np.zeros(4, int), np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="equal length"):
        pattern_triplets(np.zeros(4, int), np.zeros(3, int))


def test_cross_reconstruction_pairs_satisfy_their_conditions():
    for seed in range(5):
        g, s = batch_labels(seed)
        i, j, k = cross_reconstruction_pairs(g, s, np.random.default_rng(seed))
        assert len(i) > 0
        assert (g[j] != g[i]).all() and (s[j] != s[i]).all()
        assert (g[k] == g[i]).all() and (s[k] == s[j]).all()
    # gesture 0 only by subject 0, gesture 1 only by subject 1: nothing to swap
    with pytest.raises(NoCrossPairs, match="i's gesture performed by j's subject"):
        cross_reconstruction_pairs(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))


def test_batch_sampler_draws_batches_with_triplets_and_pairs():
    ds = build_measure_dataset(synthetic_trials(n_subjects=5, n_gestures=5), RING, "rms")
    sampler = GestureSubjectBatchSampler(ds.gesture, ds.subject, 3, 4, 2, n_batches=6, seed=1)
    sampler.set_epoch(1)
    batches = list(sampler)
    assert len(batches) == 6 and all(len(b) == 24 for b in batches)
    for batch in batches:
        g, s = ds.gesture[batch], ds.subject[batch]
        assert len(np.unique(g)) == 3 and len(np.unique(s)) == 4
        for draw in (pattern_triplets, subject_triplets, cross_reconstruction_pairs):
            assert len(draw(g, s)[0]) == 24  # every window is an anchor
    sampler.set_epoch(1)
    assert list(sampler) == batches


# ---------------------------------------------------------------------------------------------
# training, checkpoints, export


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    ds = build_measure_dataset(synthetic_trials(), RING, "rms")
    result = train_disentangle(ds, model_config(epochs=4, **SMALL), out, progress=False)
    return ds, out, result


def test_training_reduces_the_reconstruction_loss_and_logs(trained):
    _, out, result = trained
    log = pd.read_csv(out / "train_log.csv")
    assert tuple(log.columns) == LOG_COLUMNS and log["epoch"].tolist() == [1, 2, 3, 4]
    assert log["recon"].iloc[-1] < 0.6 * log["recon"].iloc[0]
    assert log["cross"].iloc[-1] < log["cross"].iloc[0]
    assert log[["trip_p", "trip_s", "adv_g", "adv_d"]].notna().all().all()
    assert result["skipped"] == {"trip_p": 0, "trip_s": 0, "cross": 0}
    assert result["seconds_per_epoch"] > 0 and (out / "model.pt").is_file()


def test_training_is_deterministic(tmp_path):
    ds = build_measure_dataset(synthetic_trials(seed=3), RING, "rms")
    config = model_config(epochs=1, **{**SMALL, "batches_per_epoch": 4})
    first = train_disentangle(ds, config, tmp_path / "a", progress=False)["history"]
    second = train_disentangle(ds, config, tmp_path / "b", progress=False)["history"]
    columns = ["recon", "trip_p", "trip_s", "cross", "adv_g", "adv_d"]
    assert [[r[c] for c in columns] for r in first] == [[r[c] for c in columns] for r in second]


def test_checkpoint_round_trip_gives_identical_outputs(trained):
    ds, out, _ = trained
    model, scaler, config = load_checkpoint(out / "model.pt")
    assert config["measure"] == "rms" and config["grid_shape"] == [1, 8] and config["ring"] is True
    x = torch.from_numpy(scaler.transform(ds.X[:10]))
    again, _, _ = load_checkpoint(out / "model.pt")
    for a, b in zip(model(x), again(x)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    checkpoint = torch.load(out / "model.pt", weights_only=True)  # the discriminator is saved beside the model
    disc = Discriminator(**checkpoint["disc_kwargs"])
    disc.load_state_dict(checkpoint["disc_state"])
    assert disc.eval()(x).shape == (10,)
    # the scaler was fitted on the training windows
    z = scaler.transform(ds.X)
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1) < 1e-3


def test_split_and_export_latents(trained, tmp_path):
    _, out, _ = trained
    ds = build_measure_dataset(synthetic_trials(sessions=(1, 2), seed=5), RING, "rms")
    train, test = split_by_protocol(ds, [3], 1, 2)
    assert set(train.subject) == {0, 1, 2} and set(train.session) == {1}
    assert set(test.subject) == {3} and set(test.session) == {2}
    path = export_latents(out / "model.pt", train, test, tmp_path / "latents.npz")
    with np.load(path) as data:
        assert set(LATENT_KEYS) <= set(data.files)
        assert data["p_train"].shape == (len(train), 8) and data["s_train"].shape == (len(train), 8)
        assert data["p_test"].shape == (len(test), 8) and data["s_test"].shape == (len(test), 8)
        np.testing.assert_array_equal(data["gesture_test"], test.gesture)
        np.testing.assert_array_equal(data["subject_train"], train.subject)
    env = build_measure_dataset(synthetic_trials(), RING, "envelope")
    with pytest.raises(ValueError, match="measure 'envelope'"):
        export_latents(out / "model.pt", env, env, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"test subjects \[9\]"):
        split_by_protocol(ds, [9], 1, 2)
    with pytest.raises(ValueError, match="no test windows"):
        split_by_protocol(ds, [3], 1, 3)


def test_bad_config_and_infeasible_batches_raise(tmp_path):
    with pytest.raises(ValueError, match="decoder_type"):
        model_config(decoder_type="pixelshuffle")
    with pytest.raises(ValueError, match="subjects_per_batch must be >= 2"):
        model_config(subjects_per_batch=1)
    one = build_measure_dataset(synthetic_trials(n_subjects=1), RING, "rms")
    with pytest.raises(ValueError, match=r"subjects_per_batch=3 cannot be met: the data has only 1 training subjects"):
        train_disentangle(one, model_config(**SMALL), tmp_path / "never-written", progress=False)
    assert not (tmp_path / "never-written").exists()


def test_a_batch_setting_larger_than_the_data_is_clipped_and_recorded(tmp_path):
    ds = build_measure_dataset(synthetic_trials(n_subjects=2), RING, "rms")
    with pytest.warns(SettingAdapted, match="subjects_per_batch=3 does not fit the data \\(2 training subjects\\)"):
        train_disentangle(ds, model_config(**{**SMALL, "epochs": 1}), tmp_path, progress=False)
    saved = torch.load(tmp_path / "model.pt", weights_only=True)["config"]
    assert saved["subjects_per_batch"] == 2
    assert saved["adapted"] == {
        "disentangle.model.subjects_per_batch": {"configured": 3, "used": 2, "why": "2 training subjects"}
    }

"""Running normalisation: hand-computed statistics, vectorised == real time, causality, datasets."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross.running_norm import MIN_STD, NormalizedWindowDataset, RunningNorm, running_stats
from emgcore.data.store import UserRecording, iter_store, store_filename, write_user_store
from emgcore.preprocess.population import load_population_stats, population_stats, save_population_stats
from emgcore.preprocess.window_dataset import WindowDataset
from emgcore.preprocess.window_index import WindowIndex

W = 40


def reference_stats(x, mean0, var0, tau, n0):
    """The definition, step by step: Welford update with alpha_k = max(1/tau, 1/(n0 + k))."""
    mu, var = np.array(mean0, float), np.array(var0, float)
    means, variances = [], []
    for k, sample in enumerate(np.asarray(x, float), start=1):
        alpha = max(1.0 / tau, 1.0 / (n0 + k))
        d = sample - mu
        mu = mu + alpha * d
        var = (1 - alpha) * (var + alpha * d * d)
        means.append(mu)
        variances.append(var)
    return np.array(means), np.array(variances)


def feed(norm, x):
    """Stats after each sample when feeding RunningNorm one sample at a time."""
    means, stds = [], []
    for sample in x:
        norm.update(sample)
        means.append(norm.mean)
        stds.append(norm.std)
    return np.array(means), np.array(stds)


def test_ema_by_hand_on_a_tiny_stream():
    # tau = 4 (alpha 1/4), prior mean 0, std 2; prior_count >= tau keeps it a plain EMA throughout.
    # k=1: d=4    mu=1        var=.75*(4 + .25*16)          = 6
    # k=2: d=-1   mu=.75      var=.75*(6 + .25*1)           = 4.6875
    # k=3: d=7.25 mu=2.5625   var=.75*(4.6875 + .25*52.5625) = 13.37109375
    mean, std = running_stats(np.array([[4], [0], [8]], np.int8), [0.0], [2.0], tau=4, prior_count=10)
    np.testing.assert_allclose(mean[:, 0], [1, 0.75, 2.5625], rtol=1e-7)
    np.testing.assert_allclose(std[:, 0] ** 2, [6, 4.6875, 13.37109375], rtol=1e-6)


def test_tau_inf_is_the_pooled_cumulative_mean_and_variance_with_the_prior():
    # prior_count=2 with mean 0 and std 2 behaves like two pseudo-samples {-2, 2}
    x = np.array([[4], [0], [8]], np.int8)
    mean, std = running_stats(x, [0.0], [2.0], tau=math.inf, prior_count=2)
    pooled = [np.array([-2, 2, 4]), np.array([-2, 2, 4, 0]), np.array([-2, 2, 4, 0, 8])]
    np.testing.assert_allclose(mean[:, 0], [p.mean() for p in pooled], rtol=1e-6)  # 4/3, 1, 2.4
    np.testing.assert_allclose(std[:, 0] ** 2, [p.var() for p in pooled], rtol=1e-6)

    rng = np.random.default_rng(0)
    x = rng.integers(-60, 61, size=(500, 8)).astype(np.int8) + np.arange(8, dtype=np.int8)
    mean0, std0 = rng.normal(size=8) * 5, rng.uniform(5, 20, size=8)
    mean, std = running_stats(x, mean0, std0, tau=math.inf, prior_count=50)
    pseudo = mean0 + std0 * np.where(np.arange(50) % 2, 1.0, -1.0)[:, None]  # exact mean0, std0
    for t in (0, 9, 199, 499):
        pooled = np.vstack([pseudo, x[: t + 1]])
        np.testing.assert_allclose(mean[t], pooled.mean(axis=0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(std[t], pooled.std(axis=0), rtol=1e-5)


@pytest.mark.parametrize("tau,n0", [(4, 10), (5, 2), (300.5, 20), (math.inf, 7), (1, 3)])
def test_running_stats_follow_the_definition(tau, n0):
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, size=(700, 3)).astype(np.int8)
    mean0, std0 = np.array([1.0, -3.0, 0.5]), np.array([10.0, 30.0, 4.0])
    mean, std = running_stats(x, mean0, std0, tau=tau, prior_count=n0)
    ref_mean, ref_var = reference_stats(x, mean0, std0**2, tau, n0)
    np.testing.assert_allclose(mean, ref_mean.astype(np.float32), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(std, np.maximum(np.sqrt(ref_var), MIN_STD).astype(np.float32), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("tau", [1, 3.5, 50, 1000, math.inf])
@pytest.mark.parametrize("n0", [1, 200])
def test_vectorised_equals_sample_by_sample_exactly(tau, n0):
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, size=(1500, 8)).astype(np.int8)
    mean0, std0 = rng.normal(size=8), rng.uniform(3, 30, size=8)
    mean, std = running_stats(x, mean0, std0, tau=tau, prior_count=n0)
    mean_rt, std_rt = feed(RunningNorm(mean0, std0, tau=tau, prior_count=n0), x)
    assert mean.dtype == std.dtype == np.float32 and mean.shape == x.shape
    np.testing.assert_array_equal(mean, mean_rt)
    np.testing.assert_array_equal(std, std_rt)


def test_reset_returns_to_the_prior_and_chunks_equal_single_samples():
    rng = np.random.default_rng(3)
    x = rng.integers(-50, 51, size=(300, 8)).astype(np.int8)
    norm = RunningNorm(np.zeros(8), np.full(8, 10.0), tau=64, prior_count=200)
    norm.update(x)  # a chunk, in order
    chunk_mean, chunk_std = norm.mean, norm.std
    norm.reset()
    assert norm.n_seen == 0
    np.testing.assert_array_equal(norm.std, np.full(8, 10.0, np.float32))
    means, stds = feed(norm, x)
    np.testing.assert_array_equal(means[-1], chunk_mean)
    np.testing.assert_array_equal(stds[-1], chunk_std)


def population_signal(rng, n, scale):
    """Int8 EMG-like noise with per-channel scale and offset."""
    return np.clip(np.round(rng.normal(size=(n, 8)) * scale + np.arange(8) - 3), -128, 127).astype(np.int8)


def test_gain_scaled_user_is_mapped_to_the_population_scale():
    rng = np.random.default_rng(4)
    scale = np.linspace(6, 25, 8)
    mean0, std0 = population_stats([population_signal(rng, 20000, scale) for _ in range(2)])
    gain = 0.3
    user = np.round(population_signal(rng, 30000, scale).astype(float) * gain).astype(np.int8)
    starts = np.arange(0, len(user) - W + 1, 10)
    index = WindowIndex(
        np.zeros(len(starts), np.int32), np.zeros(len(starts), np.int32), starts, np.zeros(len(starts), np.int8), W, 10
    )
    raw = WindowDataset(index, {0: user})
    late = np.arange(len(index) // 2, len(index))  # after ~15000 samples of adaptation
    x_raw = raw.__getitems__(late)[0].numpy()
    assert np.allclose(x_raw.std(axis=(0, 2)) / std0, gain, rtol=0.1)  # far from the scale
    # tau = inf keeps the 200 prior pseudo-samples in the pool: at t ~ 15000 they still inflate
    # the user's variance by ~200 * (1/0.09 - 1) / 15000 = 13%, so its scale lands ~6% low
    for tau, tolerance in ((2000.0, 0.02), (math.inf, 0.06)):
        normed = NormalizedWindowDataset(index, {0: user}, mean0, std0, tau=tau, prior_count=200)
        x = normed.__getitems__(late)[0].numpy()
        np.testing.assert_allclose(x.std(axis=(0, 2)) / std0, 1.0, atol=tolerance)
        assert np.all(np.abs(x.mean(axis=(0, 2)) - mean0) < 0.03 * std0)
        early = normed.__getitems__(np.arange(3))[0].numpy()  # prior still dominates: near raw
        assert np.all(early.std(axis=(0, 2)) / std0 < 0.4)


def test_windows_only_see_statistics_up_to_their_end():
    rng = np.random.default_rng(5)
    signal = rng.integers(-40, 41, size=(2000, 8)).astype(np.int8)
    starts = np.arange(0, 2000 - W + 1, 20)
    index = WindowIndex(
        np.zeros(len(starts), np.int32), np.zeros(len(starts), np.int32), starts, np.zeros(len(starts), np.int8), W, 20
    )
    mean0, std0 = np.zeros(8), np.full(8, 20.0)
    before = NormalizedWindowDataset(index, {0: signal}, mean0, std0, tau=100, prior_count=200)
    changed = signal.copy()
    cut = 1000  # windows ending at sample <= 999 must not change
    changed[cut:] = rng.integers(-120, 121, size=(2000 - cut, 8))
    after = NormalizedWindowDataset(index, {0: changed}, mean0, std0, tau=100, prior_count=200)
    all_windows = np.arange(len(index))
    xb, xa = before.__getitems__(all_windows)[0].numpy(), after.__getitems__(all_windows)[0].numpy()
    ends = starts + W - 1
    np.testing.assert_array_equal(xb[ends < cut], xa[ends < cut])
    assert not np.array_equal(xb[ends >= cut], xa[ends >= cut])


def test_dataset_equals_real_time_transform_per_subject():
    rng = np.random.default_rng(6)
    signals = {
        3: rng.integers(-90, 91, size=(600, 8)).astype(np.int8),
        7: rng.integers(-20, 21, size=(400, 8)).astype(np.int8),
    }
    subject = np.array([3] * 10 + [7] * 6, np.int32)
    starts = np.concatenate([np.arange(0, 550, 55), np.arange(0, 360, 60)])
    index = WindowIndex(subject, np.zeros(16, np.int32), starts, np.arange(16) % 5, W, 5)
    mean0, std0 = np.arange(8.0), np.full(8, 15.0)
    dataset = NormalizedWindowDataset(index, signals, mean0, std0, tau=128, prior_count=50)
    x, y, s = dataset.__getitems__(np.arange(16))
    assert x.dtype == torch.float32 and x.shape == (16, 8, W) and y.dtype == s.dtype == torch.int64
    np.testing.assert_array_equal(s.numpy(), subject)
    norm = RunningNorm(mean0, std0, tau=128, prior_count=50)
    for i in range(16):
        sig = signals[int(subject[i])]
        if i in (0, 10):
            norm.reset()  # each subject is its own stream
            position = 0
        end = starts[i] + W
        norm.update(sig[position:end])
        position = end
        np.testing.assert_array_equal(x[i].numpy(), norm.transform(sig[starts[i] : end].T))
    np.testing.assert_array_equal(dataset[4][0].numpy(), x[4].numpy())


def test_population_stats_from_paths_json_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(7)
    signals = [rng.integers(-100, 101, size=(n, 8)).astype(np.int8) for n in (300, 500)]
    for sid, sig in enumerate(signals):
        reps = pd.DataFrame(
            dict(offset=[0], length=[len(sig)], label=[0], rep_index=[0], block=[0], pb=[-1], pe=[-1], subject=[sid])
        )
        write_user_store(tmp_path / store_filename(sid), UserRecording(sid, "u", "t", sig, reps))
    mean, std = population_stats([tmp_path / store_filename(s) for s in (0, 1)])
    both = np.vstack(signals).astype(float)
    np.testing.assert_allclose(mean, both.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, both.std(axis=0), rtol=1e-12)
    same = population_stats(iter_store(tmp_path, (0, 1)))  # recordings work too
    np.testing.assert_array_equal(same[0], mean)
    np.testing.assert_array_equal(same[1], std)

    path = save_population_stats(tmp_path / "pop.json", mean, std, meta={"subjects": [0, 1]})
    loaded = load_population_stats(path)
    np.testing.assert_array_equal(loaded[0], mean)
    np.testing.assert_array_equal(loaded[1], std)
    assert json.loads(path.read_text())["meta"] == {"subjects": [0, 1]}

    with pytest.raises(ValueError, match="constant"):
        population_stats([np.zeros((10, 8), np.int8)])
    with pytest.raises(ValueError, match="channels"):
        population_stats([signals[0], signals[1][:, :4]])
    with pytest.raises(ValueError, match="no samples"):
        population_stats([])
    with pytest.raises(ValueError, match="folder"):
        population_stats([tmp_path])
    (tmp_path / "bad.json").write_text(json.dumps({"mean": [0.0]}))
    with pytest.raises(ValueError, match="population statistics"):
        load_population_stats(tmp_path / "bad.json")


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="tau"):
        RunningNorm(np.zeros(8), np.ones(8), tau=0.5, prior_count=200)
    with pytest.raises(ValueError, match="std"):
        RunningNorm(np.zeros(8), np.zeros(8), tau=math.inf, prior_count=200)
    with pytest.raises(ValueError, match="prior_count"):
        running_stats(np.zeros((4, 8), np.int8), np.zeros(8), np.ones(8), tau=math.inf, prior_count=0)
    with pytest.raises(ValueError, match="signal"):
        running_stats(np.zeros((4, 3), np.int8), np.zeros(8), np.ones(8), tau=math.inf, prior_count=200)
    with pytest.raises(ValueError, match="transform"):
        RunningNorm(np.zeros(8), np.ones(8), tau=math.inf, prior_count=200).transform(np.zeros((3, 40)))

"""Ring shifts: whole shifts are np.roll, fractional ones interpolate neighbours, batches and seeded draws."""

import numpy as np
import pytest
import torch

from emgcore.rotation.augment import RandomRingShift, rotate, rotate_batch, split_shift

C = 8


def window(seed=0, w=5):
    return np.random.default_rng(seed).integers(-128, 128, size=(C, w)).astype(np.int8)


@pytest.mark.parametrize("k", [-9, -3, -1, 0, 1, 2, 5, 7, 8, 11])
def test_whole_shifts_equal_np_roll_for_numpy_and_torch(k):
    x = window()
    np.testing.assert_array_equal(rotate(x, k), np.roll(x, k, axis=0))
    assert rotate(x, k).dtype == np.int8  # a permutation keeps the dtype
    t = torch.from_numpy(x.astype(np.float32))
    torch.testing.assert_close(rotate(t, k), torch.from_numpy(np.roll(x, k, axis=0).astype(np.float32)))
    stream = x.T  # (T, C): channels on the last axis
    np.testing.assert_array_equal(rotate(stream, k, axis=-1), np.roll(stream, k, axis=1))
    assert rotate(x, float(k) + 1e-12).dtype == np.int8  # float round-off of a whole shift stays whole


def test_channel_c_moves_to_c_plus_k():
    x = np.arange(C)[:, None] * np.ones((1, 3))
    assert rotate(x, 2)[:, 0].tolist() == [6, 7, 0, 1, 2, 3, 4, 5]  # out[c] = x[c - 2]


def test_half_shift_is_the_mean_of_neighbours():
    x = window(1).astype(np.float64)
    expected = (x + np.roll(x, 1, axis=0)) / 2  # out[c] = (x[c] + x[c - 1]) / 2
    np.testing.assert_allclose(rotate(x, 0.5), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rotate(x, -0.5), (x + np.roll(x, -1, axis=0)) / 2, rtol=0, atol=1e-12)
    torch.testing.assert_close(rotate(torch.from_numpy(x), 0.5), torch.from_numpy(expected))


def test_fractional_shift_interpolates_linearly_and_int_input_gives_float32():
    x = window(2)
    out = rotate(x, 2.25)
    assert out.dtype == np.float32
    expected = 0.75 * np.roll(x, 2, axis=0).astype(np.float64) + 0.25 * np.roll(x, 3, axis=0)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-4)
    assert rotate(torch.from_numpy(x), 2.25).dtype == torch.float32


def test_shift_by_the_channel_count_is_identity():
    x = window(3).astype(np.float32)
    for k in (C, -C, 2 * C, C + 0.0):
        np.testing.assert_array_equal(rotate(x, k), x)
    np.testing.assert_allclose(rotate(x, C + 0.5), rotate(x, 0.5), rtol=0, atol=1e-5)


@pytest.mark.parametrize("k1, k2", [(1, 2), (-3, 5), (3, 0.5), (-2, 1.25), (0.75, 4)])
def test_composition_when_one_shift_is_whole(k1, k2):
    x = window(4).astype(np.float64)
    np.testing.assert_allclose(rotate(rotate(x, k1), k2), rotate(x, k1 + k2), rtol=0, atol=1e-12)


def test_two_fractional_shifts_blur():
    x = np.eye(C)  # a spike on each channel
    twice = rotate(rotate(x, 0.5), 0.5)
    assert not np.allclose(twice, rotate(x, 1))
    np.testing.assert_allclose(twice[:, 0], [0.25, 0.5, 0.25, 0, 0, 0, 0, 0])  # 0.5 then 0.5: a [1, 2, 1]/4 blur


def test_split_shift_and_bad_shifts():
    assert split_shift(2.25) == (2, 0.25)
    assert split_shift(-0.5) == (-1, 0.5)
    assert split_shift(3.0 - 1e-12) == (3, 0.0)
    with pytest.raises(ValueError, match="finite"):
        rotate(window(), float("nan"))
    with pytest.raises(ValueError, match="channel axis"):
        rotate(np.float32(1.0), 1)


def test_rotate_batch_equals_rotate_per_window():
    x = torch.randn(6, C, 10, generator=torch.Generator().manual_seed(0))
    shifts = torch.tensor([0.0, 1.0, -1.0, 0.5, 2.75, -3.25])
    out = rotate_batch(x, shifts)
    for n in range(6):
        torch.testing.assert_close(out[n], rotate(x[n], float(shifts[n])), rtol=0, atol=1e-6)
    torch.testing.assert_close(rotate_batch(x, torch.zeros(6)), x, rtol=0, atol=0)
    with pytest.raises(ValueError, match="one shift per window"):
        rotate_batch(x, torch.zeros(5))
    with pytest.raises(ValueError, match=r"float tensor \(N, C, W\)"):
        rotate_batch(x[0], torch.zeros(1))


def test_random_whole_shifts_cover_the_range_and_are_rolls():
    x = torch.randn(300, C, 4, generator=torch.Generator().manual_seed(1))
    augment = RandomRingShift(max_shift=1)
    shifts = augment.sample(300)
    assert set(shifts.tolist()) == {-1.0, 0.0, 1.0}
    out = RandomRingShift(max_shift=1)(x)  # same seed: the same draws
    for n in range(300):
        torch.testing.assert_close(out[n], torch.roll(x[n], int(shifts[n]), dims=0), rtol=0, atol=0)
    assert set(RandomRingShift(max_shift=2.5, min_shift=0.5).sample(200).tolist()) == {1.0, 2.0}


def test_random_fractional_shifts_are_seeded_and_in_range():
    first = RandomRingShift(max_shift=1.5, fractional=True, seed=7).sample(500)
    again = RandomRingShift(max_shift=1.5, fractional=True, seed=7).sample(500)
    other = RandomRingShift(max_shift=1.5, fractional=True, seed=8).sample(500)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)
    assert first.min() >= -1.5 and first.max() <= 1.5 and first.min() < -1.3 and first.max() > 1.3
    assert (first != first.round()).float().mean() > 0.99
    torch.manual_seed(0)  # the global generator does not influence the draws
    torch.testing.assert_close(RandomRingShift(max_shift=1.5, fractional=True, seed=7).sample(500), first)


def test_random_shift_settings_are_checked():
    with pytest.raises(ValueError, match="min <= max"):
        RandomRingShift(max_shift=1, min_shift=2)
    with pytest.raises(ValueError, match="no whole shift"):
        RandomRingShift(max_shift=0.6, min_shift=0.2)
    with pytest.raises(ValueError, match=r"\(N, C, W\)"):
        RandomRingShift()(torch.zeros(C, 4))

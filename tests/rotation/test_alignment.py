"""Test-time ring alignment: patterns, the shift estimator, recovery on a synthetic population, causality."""

import numpy as np
import pandas as pd
import pytest

from emgcore.cross.running_norm import RunningNorm, normalize, running_stats
from emgcore.data.store import REP_COLUMNS, UserRecording, write_user_store
from emgcore.preprocess.population import population_stats
from emgcore.rotation.alignment import (
    ActivationReference,
    StreamAligner,
    activation_pattern,
    active_windows,
    align_stream,
    alignment_shifts,
    circular_distance,
    estimate_shift,
    recording_offset,
    reference_pattern,
    window_sum_squares,
)
from emgcore.rotation.augment import rotate

C, FS = 8, 200


def gain(theta):
    """A smooth, clearly asymmetric gain profile around the ring (theta in electrodes)."""
    angle = 2 * np.pi * np.asarray(theta, dtype=float) / C
    return (
        1
        + 3 * np.exp(2 * (np.cos(angle - 2 * np.pi * 2 / C) - 1))
        + 1.5 * np.exp(3 * (np.cos(angle - 2 * np.pi * 5.5 / C) - 1))
    )


def person_stream(seed, shift=0.0, reps=3, rest_s=1.0, active_s=2.0, amplitude=7.0):
    """Rest and 5 gestures in turn; the whole spatial field is rotated by ``shift`` electrodes.

    Electrode c of this person sits where electrode c - shift sits on the population's arm, so for whole
    shifts the stream is np.roll(population-like stream, shift, axis=1). Each gesture modulates the
    pattern its own way; each person has its own contact gains (+-10 %) and noise.
    """
    rng = np.random.default_rng(seed)
    position = np.arange(C) - shift
    contact = rng.uniform(0.9, 1.1, C)
    pieces = []
    for _ in range(reps):
        for g in range(5):
            pieces.append(rng.normal(0, 1.2, (int(rest_s * FS), C)))
            profile = gain(position) * contact * (1 + 0.3 * np.cos(2 * np.pi * (position - 1.6 * g) / C))
            pieces.append(rng.normal(0, 1, (int(active_s * FS), C)) * amplitude * profile)
    return np.clip(np.round(np.concatenate(pieces)), -128, 127).astype(np.int8)


@pytest.fixture(scope="module")
def reference():
    return reference_pattern([person_stream(seed) for seed in range(6)])


# --------------------------------------------------------------------------------------------
# patterns and the estimator


def test_activation_pattern_is_the_relative_rms_of_active_windows():
    amplitudes = np.arange(1, C + 1) * 4.0
    signs = np.where(np.arange(400) % 2 == 0, 1.0, -1.0)[:, None]
    signal = np.concatenate([np.zeros((200, C)), signs * amplitudes]).astype(np.int8)  # 5 quiet, 10 active windows
    pattern, n_active = activation_pattern(signal)
    assert n_active == 10
    np.testing.assert_allclose(pattern, amplitudes / amplitudes.mean())
    sums = window_sum_squares(signal, 40)
    assert sums.shape == (15, C) and sums.dtype == np.int64 and sums[5, 7] == 40 * 32**2
    # the rest level is the lowest window RMS so far: a window at 2.5 x the first windows' RMS is active,
    # one at 1.5 x is not (floor 0 so only the factor decides)
    quiet, loud, mild = np.full((40, C), 2), np.full((40, C), 5), np.full((40, C), 3)
    mask = active_windows(window_sum_squares(np.concatenate([quiet, loud, mild]), 40), 40, 0.0, 2.0)
    assert mask.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="no active window"):
        activation_pattern(np.ones((400, C), dtype=np.int8))


def test_estimate_shift_on_known_patterns():
    r = gain(np.arange(C))
    for k in (-3, -1, 0, 1, 2, 4):
        estimate = estimate_shift(np.roll(r, k), r)
        assert estimate.shift == pytest.approx(((k + 3) % C) - 3)  # reported in (-C/2, C/2]
        assert estimate.correlation == pytest.approx(1.0)
    assert estimate_shift(rotate(r, 0.5, axis=-1), r).shift == pytest.approx(0.5, abs=0.01)
    assert estimate_shift(rotate(r, -2.5, axis=-1), r).shift == pytest.approx(-2.5, abs=0.01)
    assert estimate_shift(gain(np.arange(C) - 1.3), r).shift == pytest.approx(1.3, abs=0.05)
    assert estimate_shift(3 * np.roll(r, 2) + 7, r).shift == pytest.approx(2.0)  # gain and offset do not matter
    assert estimate_shift(np.ones(C), r) == (0.0, 0.0)  # flat: nothing to align
    with pytest.raises(ValueError, match="equal length"):
        estimate_shift(np.ones(C), np.ones(C - 1))
    with pytest.raises(ValueError, match="steps_per_electrode"):
        estimate_shift(r, r, steps_per_electrode=0)


def test_circular_distance():
    assert circular_distance(7.5, -0.5, C) == 0
    assert circular_distance(0.25, 7.75, C) == pytest.approx(0.5)
    assert circular_distance(1, 5, C) == 4


# --------------------------------------------------------------------------------------------
# recovery on a synthetic population


@pytest.mark.parametrize("k", [0, 1, 3, 4, 6, 7, 0.5, 2.5, 5.5, -1.5])
def test_rotation_of_a_new_person_is_recovered_from_unlabelled_data(reference, k):
    signal = person_stream(seed=100 + int(2 * k), shift=k)
    shifts, estimate = alignment_shifts(signal, reference)
    assert estimate is not None
    assert circular_distance(estimate.shift, k, C) < 0.25
    assert estimate.correlation > 0.9
    assert set(np.unique(shifts)) <= {0.0, estimate.shift}


def test_aligning_undoes_a_whole_rotation(reference):
    population_like = person_stream(seed=200)
    rotated = np.roll(population_like, 3, axis=1)
    aligned, shifts = align_stream(rotated, reference, steps_per_electrode=1)  # whole shifts only
    assert shifts[-1] == 3.0
    after = shifts != 0
    np.testing.assert_array_equal(aligned[after], population_like[after].astype(np.float32))
    np.testing.assert_array_equal(aligned[~after], rotated[~after].astype(np.float32))  # identity before


def test_reference_properties_and_the_symmetric_failure_case(reference):
    assert reference.n_people == 6 and reference.channels == C
    assert reference.pattern.mean() == pytest.approx(1.0)
    assert int(np.argmax(reference.pattern)) == 2  # the main bump of the gain profile
    assert reference.contrast > 0.3
    # a population wearing the band at all orientations averages to a nearly flat, useless reference
    spread = reference_pattern([person_stream(seed, shift=seed) for seed in range(C)])
    assert spread.contrast < 0.25 * reference.contrast


def test_aligned_reference_recovers_a_rotated_population():
    true_shifts = [0, 3, 5, 1, 6, 2]
    people = [person_stream(seed, shift=s) for seed, s in enumerate(true_shifts)]
    plain = reference_pattern(people)
    aligned = reference_pattern(people, align=True)
    assert aligned.contrast > 2 * plain.contrast
    offset = aligned.person_shifts[0] - true_shifts[0]
    for found, true in zip(aligned.person_shifts, true_shifts):
        assert circular_distance(found - offset, true, C) < 0.25
    new_person = person_stream(seed=300, shift=4)
    _, estimate = alignment_shifts(new_person, aligned)
    assert circular_distance(estimate.shift, 4 - true_shifts[0] + offset, C) < 0.25
    assert plain.person_shifts == (0.0,) * 6


def test_canonical_reference_is_sharp_and_points_where_the_majority_wore_the_band(tmp_path):
    true_shifts = [0, 0, 0, 1, -1, 3]  # most people at 0: the canonical orientation is theirs
    people = [person_stream(seed, shift=s) for seed, s in enumerate(true_shifts)]
    plain = reference_pattern(people)
    canonical = reference_pattern(people, canonical=True, people=[10, 11, 12, 13, 14, 15])
    assert canonical.contrast > plain.contrast
    for found, true in zip(canonical.person_shifts, true_shifts):
        assert circular_distance(found, true, C) < 0.35
    assert canonical.shift_of(15) == canonical.person_shifts[5] and canonical.people == (10, 11, 12, 13, 14, 15)
    with pytest.raises(KeyError, match="not one of"):
        canonical.shift_of(3)
    loaded = ActivationReference.load(canonical.save(tmp_path / "reference.json"))
    assert loaded.people == canonical.people and loaded.person_shifts == canonical.person_shifts
    # a rotated newcomer is estimated against the canonical orientation (the unrotated people's)
    assert circular_distance(recording_offset(person_stream(seed=300, shift=2), canonical).shift, 2, C) < 0.35
    assert np.isnan(recording_offset(np.zeros((400, C), np.int8), canonical).shift)  # no activity: no offset


# --------------------------------------------------------------------------------------------
# streaming: causal, fixed after calibration, real time == vectorised, composes with RunningNorm


def test_identity_until_calibration_then_fixed(reference):
    signal = person_stream(seed=7, shift=3)
    shifts, estimate = alignment_shifts(signal, reference, calibration_s=10.0)
    first = int(np.flatnonzero(shifts)[0])
    # 10 s of activity = the first five 2 s gestures, each after 1 s of rest: done near 15 s
    assert 14.5 * FS <= first <= 15.1 * FS
    assert np.all(shifts[:first] == 0) and np.all(shifts[first:] == estimate.shift)
    assert (first + 1) % 40 == 0  # at the end of the window that completes the calibration
    short = alignment_shifts(signal[:first], reference, calibration_s=10.0)
    assert short[1] is None and not short[0].any()


def test_output_up_to_t_does_not_depend_on_later_samples(reference):
    signal = person_stream(seed=8, shift=2.5)
    _, full_shifts = align_stream(signal, reference, calibration_s=5.0)
    first = int(np.flatnonzero(full_shifts)[0])
    rng = np.random.default_rng(0)
    for t in (first - 300, first, first + 500):
        changed = signal.copy()
        changed[t + 1 :] = rng.integers(-128, 128, size=changed[t + 1 :].shape)
        a, sa = align_stream(signal, reference, calibration_s=5.0)
        b, sb = align_stream(changed, reference, calibration_s=5.0)
        np.testing.assert_array_equal(a[: t + 1], b[: t + 1])
        np.testing.assert_array_equal(sa[: t + 1], sb[: t + 1])
    # samples up to the end of calibration do decide the shift (so the checks above could fail)
    changed = signal.copy()
    changed[: first + 1] = np.roll(changed[: first + 1], 3, axis=1)
    moved = align_stream(changed, reference, calibration_s=5.0)[1][first]
    assert circular_distance(moved, full_shifts[first] + 3, C) < 0.05


def test_real_time_aligner_equals_the_vectorised_path(reference):
    signal = person_stream(seed=9, shift=-1.5, reps=1)
    aligned, shifts = align_stream(signal, reference, calibration_s=4.0)
    one_by_one = StreamAligner(reference, calibration_s=4.0)
    per_sample, in_force = [], []
    for sample in signal:
        per_sample.append(one_by_one.process(sample)[0])
        in_force.append(one_by_one.shift)
    np.testing.assert_array_equal(np.array(in_force), shifts)
    np.testing.assert_array_equal(np.array(per_sample), aligned)
    chunked = StreamAligner(reference, calibration_s=4.0)
    bounds = np.unique(np.r_[0, np.random.default_rng(1).integers(0, len(signal), 25), len(signal)])
    pieces = [chunked.process(signal[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    np.testing.assert_array_equal(np.concatenate(pieces), aligned)
    assert chunked.calibrated and chunked.n_active_windows == 20 and chunked.n_seen == len(signal)
    window = signal[-40:].T
    assert circular_distance(chunked.shift, -1.5, C) < 0.5  # 4 s of activity: only two gestures seen
    np.testing.assert_array_equal(chunked.transform(window), rotate(window.astype(np.float32), -chunked.shift, axis=0))
    chunked.reset()
    assert chunked.shift == 0 and not chunked.calibrated and chunked.n_seen == 0
    np.testing.assert_array_equal(chunked.transform(window), window.astype(np.float32))


def test_alignment_then_running_normalisation_real_time_equals_offline(reference):
    population = [person_stream(seed) for seed in range(3)]
    mean0, std0 = population_stats(population)
    signal = person_stream(seed=10, shift=2, reps=1)[:2400]
    aligner = StreamAligner(reference, calibration_s=3.0)
    norm = RunningNorm(mean0, std0, tau=400, prior_count=50)
    online = []
    for sample in signal:
        aligned_sample = aligner.process(sample)
        norm.update(aligned_sample)
        online.append(norm.transform(aligned_sample[0]))
    aligned, shifts = align_stream(signal, reference, calibration_s=3.0)
    assert circular_distance(shifts[-1], 2.0, C) < 0.25 and shifts[0] == 0
    mean, std = running_stats(aligned, mean0, std0, tau=400, prior_count=50)
    offline = normalize(aligned[:, :, None], mean, std, mean0, std0)[:, :, 0]
    np.testing.assert_array_equal(np.array(online), offline)


def test_min_correlation_falls_back_to_identity(reference):
    signal = person_stream(seed=11, shift=3, reps=1)
    strict = StreamAligner(reference, calibration_s=4.0, min_correlation=1.0)
    strict.update(signal)
    assert strict.calibrated and strict.estimate.shift == pytest.approx(3.0, abs=0.25)
    assert strict.shift == 0.0  # below the required correlation: keep the identity
    shifts, _ = alignment_shifts(signal, reference, calibration_s=4.0, min_correlation=1.0)
    assert not shifts.any()
    lenient = StreamAligner(reference, calibration_s=4.0, min_correlation=0.5)
    lenient.update(signal)
    assert lenient.shift == strict.estimate.shift


# --------------------------------------------------------------------------------------------
# reference I/O and bad input


def test_reference_save_load_round_trip_and_bad_files(tmp_path, reference):
    path = reference.save(tmp_path / "reference.json")
    loaded = ActivationReference.load(path)
    np.testing.assert_allclose(loaded.pattern, reference.pattern, rtol=1e-15)
    assert (loaded.window, loaded.activity_floor, loaded.activity_factor, loaded.n_people) == (40, 3.0, 2.0, 6)
    assert loaded.person_shifts == reference.person_shifts
    with pytest.raises(ValueError, match="activation reference file not found"):
        ActivationReference.load(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="expected an object with format"):
        ActivationReference.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text('{"format": "emgcore-activation-reference-v1", "pattern": [1, -1]}')
    with pytest.raises(ValueError, match="bad.json: bad activation reference"):
        ActivationReference.load(tmp_path / "bad.json")


def test_reference_reads_store_files_and_rejects_bad_people(tmp_path):
    signals = [person_stream(seed, reps=1) for seed in range(2)]
    paths = []
    for subject, signal in enumerate(signals):
        reps = pd.DataFrame({column: [0] for column in REP_COLUMNS})
        reps["length"] = len(signal)
        path = tmp_path / f"subject{subject:04d}.h5"
        write_user_store(path, UserRecording(subject, f"user{subject}", "test", signal, reps))
        paths.append(path)
    np.testing.assert_array_equal(reference_pattern(paths).pattern, reference_pattern(signals).pattern)
    with pytest.raises(ValueError, match="training person 1: no active window"):
        reference_pattern([signals[0], np.zeros((400, C), dtype=np.int8)])
    with pytest.raises(TypeError, match="wrap one in a list"):
        reference_pattern(signals[0])
    with pytest.raises(ValueError, match="at least one training person"):
        reference_pattern([])


def test_bad_settings_and_streams_raise(reference):
    with pytest.raises(ValueError, match="calibration_s must be a positive"):
        StreamAligner(reference, calibration_s=0)
    with pytest.raises(ValueError, match="min_correlation must be in"):
        StreamAligner(reference, min_correlation=2)
    with pytest.raises(TypeError, match="ActivationReference"):
        StreamAligner(np.ones(C))
    with pytest.raises(ValueError, match=r"samples must be \(8,\) or \(n, 8\)"):
        StreamAligner(reference).update(np.zeros((5, 7)))
    with pytest.raises(ValueError, match="non-finite"):
        StreamAligner(reference).update(np.full((5, C), np.nan))
    with pytest.raises(ValueError, match="signal has 7 channels"):
        align_stream(np.zeros((100, 7), dtype=np.int8), reference)
    with pytest.raises(ValueError, match=r"transform expects \(8, W\)"):
        StreamAligner(reference).transform(np.zeros((7, 40)))
    with pytest.raises(ValueError, match="activity_factor must be"):
        reference_pattern([person_stream(0, reps=1)], activity_factor=0.5)


def test_whole_electrode_alignment_applies_the_rounded_estimate(reference):
    signal = person_stream(seed=8, shift=2.3)
    fractional, estimate = alignment_shifts(signal, reference, calibration_s=4.0)
    whole, same = alignment_shifts(signal, reference, calibration_s=4.0, whole_electrodes=True)
    assert estimate == same and abs(estimate.shift - 2.3) < 0.35
    assert set(np.unique(whole)) == {0.0, float(round(estimate.shift))}
    np.testing.assert_array_equal(whole != 0, fractional != 0)  # same calibration point
    aligned, _ = align_stream(signal, reference, calibration_s=4.0, whole_electrodes=True)
    after = np.flatnonzero(whole)[0]
    np.testing.assert_array_equal(aligned[after:], np.roll(signal[after:], -round(estimate.shift), axis=1))
    aligner = StreamAligner(reference, calibration_s=4.0, whole_electrodes=True)
    np.testing.assert_array_equal(aligner.process(signal), aligned)

"""Synthetic EMG-EPN-612-layout data set with a real cross-user problem, deterministic by seed.

Each user gets an amplitude gain, an armband rotation (circular channel shift), a spectral shape,
per-user perturbed gesture patterns and, for a share of "hard" users, patterns mixed towards the
mean pattern. Each repetition is rest noise plus, for active gestures, a smooth contraction
envelope times band-pass filtered, slowly amplitude-modulated noise scaled by the gesture's
per-channel amplitudes; values are rounded and clipped to int8 like the Myo's.
Constants below were measured on real Myo recordings (CIIL, 32 people) and fitted to EPN-612's
published per-channel statistics by ``scripts/compare_synthetic_real.py``; the figure
``docs/synthetic_vs_real.png`` compares the result with the real recordings.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal as sps

from emgcore.data.epn612_layout import (
    GROUP_FOLDERS,
    build_sample,
    build_user_document,
    user_json_path,
    write_json_atomic,
)
from emgcore.data.labels import FS_HZ, GESTURES, LABEL_OF, N_CHANNELS

# --- calibrated constants ----------------------------------------------------------------------
# Per-gesture per-channel RMS (ADC units; rows in GESTURES order; the noGesture row is the rest-noise
# channel profile): the rotation-aligned geometric-mean template of the 32 CIIL people
# (scripts/compare_synthetic_real.py --emit-constants), in the orientation whose waveOut row best
# matches EPN-612's per-channel std (no shift was needed: both peak on ch3-ch4). Pinch is absent
# from CIIL: its row is 0.7 x the geometric mean of the fist and open rows (pinch is stored but
# never windowed by the benchmark).
GESTURE_PATTERNS = np.array(
    [
        [1.99, 2.32, 3.42, 4.57, 3.34, 2.64, 2.21, 2.08],  # noGesture (rest channel profile)
        [12.34, 22.13, 15.57, 15.03, 21.89, 10.36, 9.05, 15.28],  # fist
        [17.35, 9.69, 10.65, 8.75, 5.26, 7.72, 20.43, 19.39],  # waveIn
        [6.20, 10.16, 30.04, 45.39, 24.09, 9.51, 6.42, 5.24],  # waveOut
        [10.88, 9.37, 21.06, 29.11, 11.17, 5.97, 7.01, 8.57],  # open
        [8.11, 10.08, 12.68, 14.64, 10.95, 5.50, 5.58, 8.01],  # pinch
    ]
)
#: per-channel factor on every active pattern so that unrotated EPN-scale synchronisation recordings
#: reproduce EPN612_CHANNEL_STD (fitted by the same script on 200 users). With the EPN-scale
#: activity of 0.8-2 s per 5 s recording this makes EPN gestures ~1.5x stronger than CIIL's.
EPN_CHANNEL_GAIN = (1.621, 2.100, 2.238, 1.418, 1.241, 1.435, 1.410, 1.218)
#: published EPN-612 per-channel std (ch1..ch8) from an exploratory analysis of 20 training users:
#: np.std of each synchronisation-gesture recording (waveOut, 5 per user, ~5 s), averaged
EPN612_CHANNEL_STD = (6.9, 12.5, 29.0, 27.5, 16.3, 9.0, 6.6, 5.1)
#: same source: per-channel signal range (max - min) of those recordings, averaged
EPN612_CHANNEL_RANGE = (95.9, 155.6, 233.2, 232.8, 170.6, 102.3, 82.1, 72.3)
# Generator settings below come from CIIL statistics measured by scripts/compare_synthetic_real.py
# ("CIIL:" gives the measured value). Where rest noise, int8 clipping and activity ramps shift the
# same statistic measured back on synthetic users, the setting is raised so that the synthetic
# measurement reproduces CIIL's (checked in docs/synthetic_vs_real.png).
#: std of the per-person log gain (CIIL: 0.39)
LOG_GAIN_SD = 0.44
# A user's gesture patterns deviate from the template (after gain and rotation) by, in log units:
# a per-channel part shared by all gestures, a per-gesture intensity, and a gesture-by-channel part
# smoothed over neighbouring electrodes. CIIL: total residual sd 0.43, of which channel-shared 0.23,
# per-gesture 0.19, remaining 0.31 with neighbour correlation 0.21; these settings reproduce that.
PATTERN_LOG_SD = 0.50
PERSON_CHANNEL_LOG_SD = 0.14
PERSON_GESTURE_LOG_SD = 0.12
PATTERN_SMOOTHING = 0.2
#: std of the log RMS of repetitions of one gesture within a person (CIIL: 0.183)
REP_LOG_SD = 0.20
#: per-channel log jitter of a repetition's pattern within a person (CIIL: 0.165)
REP_CHANNEL_LOG_SD = 0.15
#: std of the slow log-amplitude modulation of active EMG, which gives it heavy tails
#: (CIIL: median excess kurtosis 0.88 per channel over steady contractions)
MODULATION_LOG_SD = 0.43
#: armband rotation (electrodes) -> probability, relative to the most common orientation
#: (CIIL: 53% of people rotated by 1-2 electrodes, none by 3-4; made symmetric in direction)
ROTATION_PROBABILITIES = ((-2, 0.015), (-1, 0.25), (0, 0.47), (1, 0.25), (2, 0.015))
#: median frequency (Hz) of active EMG: mean and person-to-person std (CIIL: 65.4, 1.8)
ACTIVE_MDF_HZ = (67.4, 1.8)
#: median frequency (Hz) of rest noise: mean and std (CIIL: 60.7, 7.9)
REST_MDF_HZ = (62.9, 7.9)
#: rest-noise RMS (ADC units): median and std of its log (CIIL No_Motion: 3.12, 0.42)
REST_RMS = (3.12, 0.44)
#: mean value of Myo samples (ADC units), slightly negative on the device (CIIL: -0.945; EPN-612: about -0.85)
DC_OFFSET = -0.945

_GROUP_CODES = {"training": 0, "testing": 1}
#: synchronisation-gesture recordings per user (EPN-612: waveOut repeated 5 times), stored as block 2
SYNC_REPETITIONS = 5
SYNC_BLOCK = 2
# spectral family (see _bandpass): edges of the widest band and the Myo's notch seen in CIIL spectra
_BAND_LOW_HZ = 1.0
_BAND_HIGH_HZ = 98.0
_NOTCH_HZ = 50.0
_NOTCH_Q = 8.0
_MODULATION_DECIMATION = 10


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that shapes a synthetic data set; the defaults are the CIIL/EPN-612 calibration."""

    n_train_users: int = 20
    n_test_users: int = 20
    reps_per_gesture: int = 6
    seed: int = 0
    duration_range_s: tuple[float, float] = (2.0, 4.0)
    activity_range_s: tuple[float, float] = (0.8, 1.6)
    ramp_range_s: tuple[float, float] = (0.1, 0.3)
    margin_s: float = 0.2
    amplitude_scale: float = 1.0
    gesture_patterns: tuple[tuple[float, ...], ...] = tuple(map(tuple, GESTURE_PATTERNS.tolist()))
    channel_gain: tuple[float, ...] = EPN_CHANNEL_GAIN
    log_gain_sd: float = LOG_GAIN_SD
    pattern_log_sd: float = PATTERN_LOG_SD
    person_channel_log_sd: float = PERSON_CHANNEL_LOG_SD
    person_gesture_log_sd: float = PERSON_GESTURE_LOG_SD
    pattern_smoothing: float = PATTERN_SMOOTHING
    rep_log_sd: float = REP_LOG_SD
    rep_channel_log_sd: float = REP_CHANNEL_LOG_SD
    modulation_log_sd: float = MODULATION_LOG_SD
    modulation_cutoff_hz: float = 4.0
    rotation_probabilities: tuple[tuple[int, float], ...] = ROTATION_PROBABILITIES
    active_mdf_hz: tuple[float, float] = ACTIVE_MDF_HZ
    rest_mdf_hz: tuple[float, float] = REST_MDF_HZ
    rest_rms: tuple[float, float] = REST_RMS
    dc_offset: float = DC_OFFSET
    hard_user_fraction: float = 0.15
    hard_mix_range: tuple[float, float] = (0.5, 0.8)
    gestures: tuple[str, ...] = field(default=GESTURES)

    def __post_init__(self) -> None:
        """Reject settings that cannot produce a valid data set, naming the field."""
        _check(min(self.n_train_users, self.n_test_users) >= 0, "n_train_users/n_test_users", "non-negative")
        _check(self.reps_per_gesture >= 1, "reps_per_gesture", "1 or more")
        for name in ("duration_range_s", "activity_range_s", "ramp_range_s", "hard_mix_range"):
            low, high = getattr(self, name)
            _check(0 <= low <= high, name, "a (low, high) pair with 0 <= low <= high")
        min_needed = self.activity_range_s[1] + 2 * self.margin_s
        _check(
            self.duration_range_s[0] >= min_needed,
            "duration_range_s",
            f"shortest repetition >= longest activity + 2 margins = {min_needed:g} s",
        )
        _check(
            2 * self.ramp_range_s[1] <= self.activity_range_s[0],
            "ramp_range_s",
            "two ramps that fit in the shortest activity",
        )
        _check(len(self.channel_gain) == N_CHANNELS, "channel_gain", f"{N_CHANNELS} values")
        _check(
            np.shape(self.gesture_patterns) == (len(GESTURES), N_CHANNELS) and np.min(self.gesture_patterns) > 0,
            "gesture_patterns",
            f"{len(GESTURES)} rows (one per gesture in {GESTURES}) of {N_CHANNELS} positive values",
        )
        _check(0 <= self.hard_user_fraction <= 1, "hard_user_fraction", "a value in [0, 1]")
        probabilities = [p for _, p in self.rotation_probabilities]
        _check(
            min(probabilities) >= 0 and abs(sum(probabilities) - 1) < 1e-9,
            "rotation_probabilities",
            "(shift, probability) pairs with probabilities >= 0 summing to 1",
        )
        known = 0 < len(self.gestures) and set(self.gestures) <= set(GESTURES)
        _check(known, "gestures", f"a non-empty subset of {GESTURES}")


def _check(condition: bool, name: str, expected: str) -> None:
    """Raise a ValueError naming the config field and what it must be."""
    if not condition:
        raise ValueError(f"SyntheticConfig.{name}: expected {expected}")


def demo_config(seed: int = 0) -> SyntheticConfig:
    """Small preset for the default pipeline: 40 + 20 users, 6 repetitions per gesture, 2-4 s each.

    40 training users, not 20: measured with MHCNN/base (150 batches, standard windows), the mean
    per-subject balanced accuracy of the 18 test users rose from 0.59 to 0.61 and their std fell
    from 0.16 to 0.09 for 10 s more data preparation; a cross-user model needs many people.
    """
    return SyntheticConfig(n_train_users=40, n_test_users=20, reps_per_gesture=6, seed=seed)


def epn612_scale_config(seed: int = 0) -> SyntheticConfig:
    """EPN-612 scale: 306 + 306 users, 25 repetitions x 6 gestures x 2 blocks, ~5 s (~1000 samples) each."""
    return SyntheticConfig(
        n_train_users=306,
        n_test_users=306,
        reps_per_gesture=25,
        seed=seed,
        duration_range_s=(4.8, 5.0),
        activity_range_s=(0.8, 2.0),
    )


@dataclass(frozen=True)
class SyntheticRepetition:
    """One generated repetition: label code, block, int8 (T, 8), activity span or None.

    Blocks: 0 = trainingSamples, 1 = testingSamples, 2 = synchronizationGesture (waveOut, unlabelled).
    """

    label: int
    block: int
    emg: np.ndarray
    activity: tuple[int, int] | None


@dataclass(frozen=True)
class SyntheticUser:
    """A generated user: its hidden parameters and its repetitions in recording order."""

    group: str
    number: int
    gain: float
    rotation: int
    hard: bool
    mix: float
    active_mdf_hz: float
    rest_mdf_hz: float
    rest_rms: float
    patterns: np.ndarray
    repetitions: list[SyntheticRepetition]

    def parameters(self) -> dict:
        """The hidden parameters as plain JSON-ready values."""
        return {
            "user": f"{self.group}/user{self.number}",
            "gain": round(self.gain, 6),
            "rotation": self.rotation,
            "hard": self.hard,
            "mix": round(self.mix, 6),
            "active_mdf_hz": round(self.active_mdf_hz, 4),
            "rest_mdf_hz": round(self.rest_mdf_hz, 4),
            "rest_rms": round(self.rest_rms, 6),
        }


def user_rng(seed: int, group: str, number: int) -> np.random.Generator:
    """Random generator of one user, derived from (seed, group, number) only."""
    if group not in _GROUP_CODES:
        raise ValueError(f"group={group!r}: expected one of {sorted(_GROUP_CODES)}")
    return np.random.default_rng([int(seed), _GROUP_CODES[group], int(number)])


@functools.lru_cache(maxsize=1)
def _mdf_table() -> tuple[np.ndarray, np.ndarray]:
    """Median frequency of the band-pass family as a function of its shape parameter (for inversion)."""
    shapes = np.linspace(-_BAND_HIGH_HZ + 20.0, _BAND_HIGH_HZ - 20.0, 400)
    medians = []
    for shape in shapes:
        freqs, response = sps.sosfreqz(_bandpass(shape), worN=4096, fs=FS_HZ)
        power = np.cumsum(np.abs(response) ** 2)
        medians.append(np.interp(power[-1] / 2, power, freqs))
    return shapes, np.maximum.accumulate(np.array(medians))


def _bandpass(shape: float) -> np.ndarray:
    """First-order band-pass plus the Myo's 50 Hz notch; ``shape`` >= 0 raises the low edge, < 0 lowers
    the high edge.

    This family fits the mean CIIL power spectrum best among simple Butterworth band-passes
    (low edge ~30 Hz, high edge 98 Hz, notch Q 8 for a median frequency of ~66 Hz).
    """
    low = _BAND_LOW_HZ + max(shape, 0.0)
    high = _BAND_HIGH_HZ + min(shape, 0.0)
    band = sps.butter(1, [low, high], btype="bandpass", fs=FS_HZ, output="sos")
    notch_b, notch_a = sps.iirnotch(_NOTCH_HZ, _NOTCH_Q, fs=FS_HZ)
    return np.vstack([band, sps.tf2sos(notch_b, notch_a)])


def filter_for_median_frequency(target_mdf_hz: float) -> np.ndarray:
    """Band-pass SOS turning white noise into unit-variance noise with the given median frequency."""
    shapes, medians = _mdf_table()
    sos = _bandpass(float(np.interp(target_mdf_hz, medians, shapes)))
    impulse = sps.sosfilt(sos, np.r_[1.0, np.zeros(4095)])
    sos = sos.copy()
    sos[0, :3] /= np.sqrt(np.sum(impulse**2))
    return sos


def filtered_noise(rng: np.random.Generator, sos: np.ndarray, n_samples: int) -> np.ndarray:
    """Channel-major (8, n_samples) float32 Gaussian noise passed through ``sos``."""
    noise = rng.standard_normal((N_CHANNELS, n_samples), dtype=np.float32)
    return sps.sosfilt(sos.astype(np.float32), noise, axis=1)


def amplitude_modulation(rng: np.random.Generator, n_samples: int, log_sd: float, cutoff_hz: float) -> np.ndarray:
    """Slow channel-major (8, n_samples) log-normal amplitude fluctuation with mean square about 1;
    it gives active EMG the heavy tails of real recordings.

    Drawn at 1/_MODULATION_DECIMATION of the EMG rate and linearly interpolated, as it is slow.
    """
    coarse_fs = FS_HZ / _MODULATION_DECIMATION
    sos = sps.butter(2, cutoff_hz, fs=coarse_fs, output="sos")
    impulse = sps.sosfilt(sos, np.r_[1.0, np.zeros(1023)])
    n_coarse = n_samples // _MODULATION_DECIMATION + 2
    slow = filtered_noise(rng, sos, n_coarse) * np.float32(log_sd / np.sqrt(np.sum(impulse**2)))
    weights = np.arange(_MODULATION_DECIMATION, dtype=np.float32) / _MODULATION_DECIMATION
    steps = np.diff(slow, axis=1)
    fine = (slow[:, :-1, None] + steps[:, :, None] * weights).reshape(N_CHANNELS, -1)[:, :n_samples]
    fine -= np.float32(log_sd**2)
    return np.exp(fine)


def pattern_perturbation(config: SyntheticConfig, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Log deviation of a user's gesture patterns from the template, structured as in CIIL: a per-channel
    part shared by all gestures (electrode contact), a per-gesture intensity, and a gesture-by-channel
    part smoothed over neighbouring electrodes."""
    n_gestures, n_channels = shape
    channel_part = rng.normal(0.0, config.person_channel_log_sd, (1, n_channels))
    gesture_part = rng.normal(0.0, config.person_gesture_log_sd, (n_gestures, 1))
    raw = rng.normal(0.0, 1.0, shape)
    weight = config.pattern_smoothing
    neighbours = np.roll(raw, 1, axis=1) + np.roll(raw, -1, axis=1)
    smooth = (raw + weight * neighbours) / np.sqrt(1 + 2 * weight**2)
    return channel_part + gesture_part + config.pattern_log_sd * smooth


def user_patterns(config: SyntheticConfig, rng: np.random.Generator, hard: bool, mix: float) -> np.ndarray:
    """Per-gesture per-channel RMS of one user before gain and rotation: perturbed template, mixed if hard."""
    template = np.asarray(config.gesture_patterns, dtype=np.float64)
    active = template[1:] * np.asarray(config.channel_gain) * config.amplitude_scale
    active = active * np.exp(pattern_perturbation(config, rng, active.shape))
    if hard:
        active = (1 - mix) * active + mix * active.mean(axis=0, keepdims=True)
    rest_profile = template[0] / np.sqrt(np.mean(template[0] ** 2))
    return np.vstack([rest_profile, active])


def _rise(length: int) -> np.ndarray:
    """Raised-cosine rise from 0.2 towards 1 over ``length`` samples."""
    return 0.2 + 0.4 * (1 - np.cos(np.pi * np.arange(length) / max(length, 1)))


def contraction_envelope(length: int, ramp_up: int, ramp_down: int) -> np.ndarray:
    """Envelope over an activity span: smooth rise, plateau at 1, smooth fall (starts and ends at 0.2)."""
    envelope = np.ones(length)
    envelope[:ramp_up] = _rise(ramp_up)
    envelope[length - ramp_down :] = _rise(ramp_down)[::-1]
    return envelope


def generate_user(config: SyntheticConfig, group: str, number: int) -> SyntheticUser:
    """Generate one user's repetitions (both blocks and the synchronisation gestures) in memory.

    The result depends only on (config, group, number), not on how many users are generated.
    """
    rng = user_rng(config.seed, group, number)
    gain = float(np.exp(rng.normal(0.0, config.log_gain_sd)))
    shifts, probabilities = zip(*config.rotation_probabilities)
    rotation = int(rng.choice(np.array(shifts), p=np.array(probabilities)))
    hard = bool(rng.random() < config.hard_user_fraction)
    mix = float(rng.uniform(*config.hard_mix_range)) if hard else 0.0
    active_mdf = float(np.clip(rng.normal(*config.active_mdf_hz), 40.0, 80.0))
    rest_mdf = float(np.clip(rng.normal(*config.rest_mdf_hz), 35.0, 80.0))
    rest_rms = float(config.rest_rms[0] * np.exp(rng.normal(0.0, config.rest_rms[1])))
    patterns = np.roll(user_patterns(config, rng, hard, mix), rotation, axis=1)

    labels = np.array([LABEL_OF[name] for name in config.gestures])
    per_block = labels.size * config.reps_per_gesture
    block_labels = np.repeat(labels, config.reps_per_gesture)
    rep_labels = np.r_[block_labels, block_labels, np.full(SYNC_REPETITIONS, LABEL_OF["waveOut"])]
    rep_blocks = np.repeat([0, 1, SYNC_BLOCK], [per_block, per_block, SYNC_REPETITIONS])
    n_reps = rep_labels.size
    lengths = np.round(rng.uniform(*config.duration_range_s, n_reps) * FS_HZ).astype(np.int64)
    spans = np.round(rng.uniform(*config.activity_range_s, n_reps) * FS_HZ).astype(np.int64)
    margin = int(round(config.margin_s * FS_HZ))
    onsets = margin + np.floor(rng.random(n_reps) * (lengths - spans - 2 * margin + 1)).astype(np.int64)
    ramps = np.round(rng.uniform(*config.ramp_range_s, (n_reps, 2)) * FS_HZ).astype(np.int64)
    rep_gain = np.exp(rng.normal(0.0, config.rep_log_sd, n_reps))
    rep_channel = np.exp(rng.normal(0.0, config.rep_channel_log_sd, (n_reps, N_CHANNELS)))

    offsets = np.r_[0, np.cumsum(lengths)]
    total = int(offsets[-1])
    envelope = np.zeros(total, dtype=np.float32)
    is_active = rep_labels != LABEL_OF["noGesture"]
    for r in np.flatnonzero(is_active):
        start = offsets[r] + onsets[r]
        shape = contraction_envelope(int(spans[r]), int(ramps[r, 0]), int(ramps[r, 1]))
        envelope[start : start + spans[r]] = shape
    amplitude = (gain * rep_gain[:, None] * rep_channel * patterns[rep_labels]).astype(np.float32)
    # channel-major float32 arrays: filtering along the last axis is about twice as fast
    values = filtered_noise(rng, filter_for_median_frequency(rest_mdf), total)
    values *= (rest_rms * patterns[0]).astype(np.float32)[:, None]
    active = filtered_noise(rng, filter_for_median_frequency(active_mdf), total)
    active *= amplitude_modulation(rng, total, config.modulation_log_sd, config.modulation_cutoff_hz)
    active *= envelope
    active *= np.repeat(np.ascontiguousarray(amplitude.T), lengths, axis=1)
    values += active
    values += config.dc_offset
    emg = np.ascontiguousarray(np.clip(np.rint(values), -128, 127).astype(np.int8).T)

    repetitions = [
        SyntheticRepetition(
            label=int(rep_labels[r]),
            block=int(rep_blocks[r]),
            emg=emg[offsets[r] : offsets[r + 1]],
            activity=(int(onsets[r]), int(onsets[r] + spans[r] - 1)) if is_active[r] else None,
        )
        for r in range(n_reps)
    ]
    return SyntheticUser(
        group, number, gain, rotation, hard, mix, active_mdf, rest_mdf, rest_rms, patterns, repetitions
    )


def user_document(user: SyntheticUser, recording_time_s: float) -> dict:
    """EPN-612 JSON document of a generated user; testing users' testingSamples are unlabelled."""
    blocks: list[list[dict]] = [[], [], []]
    for rep in user.repetitions:
        labelled = rep.block == 0 or (rep.block == 1 and user.group == "training")
        blocks[rep.block].append(build_sample(rep.emg, GESTURES[rep.label], rep.activity, labelled))
    return build_user_document(
        user_name=f"user{user.number}",
        training_samples=blocks[0],
        testing_samples=blocks[1],
        user_info={"name": f"user{user.number}", "source": "synthetic"},
        sync_samples=blocks[SYNC_BLOCK],
        recording_time_s=recording_time_s,
    )


def write_synthetic_dataset(out_dir: str | Path, config: SyntheticConfig) -> dict:
    """Write every user of ``config`` in the EPN-612 layout under ``out_dir``; return (and save) a summary."""
    out_dir = Path(out_dir)
    started = time.perf_counter()
    for group in GROUP_FOLDERS.values():  # both folders exist even when a group has no users
        (out_dir / group).mkdir(parents=True, exist_ok=True)
    users = []
    for group, count in (("training", config.n_train_users), ("testing", config.n_test_users)):
        for number in range(1, count + 1):
            user = generate_user(config, group, number)
            document = user_document(user, config.duration_range_s[1])
            path = write_json_atomic(user_json_path(out_dir, group, number), document)
            relative = str(path.relative_to(out_dir))
            users.append({**user.parameters(), "repetitions": len(user.repetitions), "path": relative})
    elapsed = time.perf_counter() - started
    summary = {
        "source": "synthetic",
        "config": dataclasses.asdict(config),
        "n_users": len(users),
        "seconds": round(elapsed, 3),
        "seconds_per_user": round(elapsed / max(len(users), 1), 4),
        "users": users,
    }
    timing = ("seconds", "seconds_per_user")  # left out of the file so that it is byte-identical per seed
    saved = {key: value for key, value in summary.items() if key not in timing}
    write_json_atomic(out_dir / "synthetic_summary.json", saved)
    return summary


PRESETS = {"demo": demo_config, "epn612": epn612_scale_config}


def main(argv: list[str] | None = None) -> dict:
    """Command line: ``python -m emgcore.data.synthetic --out DIR --preset demo|epn612 --seed S``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (gets trainingJSON/ and testingJSON/)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, help="override the preset's number of training users")
    parser.add_argument("--n-test", type=int, help="override the preset's number of testing users")
    parser.add_argument("--reps", type=int, help="override the preset's repetitions per gesture and block")
    args = parser.parse_args(argv)
    config = PRESETS[args.preset](seed=args.seed)
    given = {"n_train_users": args.n_train, "n_test_users": args.n_test, "reps_per_gesture": args.reps}
    overrides = {name: value for name, value in given.items() if value is not None}
    summary = write_synthetic_dataset(args.out, dataclasses.replace(config, **overrides))
    print(json.dumps({k: summary[k] for k in ("n_users", "seconds", "seconds_per_user")}))
    return summary


if __name__ == "__main__":
    main()

"""Compare synthetic EPN-612-layout data with real Myo recordings (CIIL) and draw docs/synthetic_vs_real.png.

Statistics per person: per-gesture per-channel RMS (over the activity span), median frequency of
active EMG and of rest, rest-noise RMS, log gain, repetition-to-repetition variability, and the
armband rotation relative to the most common orientation (found by aligning each person's
gain-free log pattern to the population template by circular shifts). For the synthetic side it
also checks 20 unrotated EPN-scale training users against EPN-612's published per-channel std and
range, which were computed per synchronisation-gesture recording (waveOut, 5 per user) and averaged.

Usage (from the repository root):
  .venv/bin/python scripts/compare_synthetic_real.py                    # table + figure
  .venv/bin/python scripts/compare_synthetic_real.py --emit-constants   # CIIL constants for synthetic.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.signal import welch  # noqa: E402
from scipy.stats import kurtosis  # noqa: E402

from emgcore.data import synthetic  # noqa: E402
from emgcore.data.ciil import (  # noqa: E402
    activity_bounds,
    default_ciil_root,
    list_ciil_subjects,
    read_ciil_subject,
    rest_level_of,
)
from emgcore.data.labels import GESTURES, LABEL_OF, N_CHANNELS  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
#: classes present in both CIIL and the benchmark (EPN codes 0..4)
SHARED_CLASSES = (0, 1, 2, 3, 4)
ACTIVE_CLASSES = (1, 2, 3, 4)
WELCH_SEGMENT = 64
FS = 200
#: unrotated synthetic users for the EPN-612 check (the published numbers come from 20 users; more
#: users give the population value, 20-user groups show the spread)
EPN_CHECK_USERS = 200

# A person is a list of (label code, int8 (T, 8) array, activity span (first, last) or None).
Person = list


def ciil_people(root: Path) -> tuple[list[Person], list[str]]:
    """Every CIIL person's main session (no electrode-shift trials), with amplitude-based activity spans."""
    people, names = [], []
    for subject_dir in list_ciil_subjects(root):
        repetitions = read_ciil_subject(subject_dir)
        rest_level = rest_level_of(repetitions)
        person = []
        for rep in repetitions:
            span = None
            if rep.label != LABEL_OF["noGesture"]:
                span = activity_bounds(rep.emg, rest_level) or (0, len(rep.emg) - 1)
            person.append((rep.label, rep.emg, span))
        people.append(person)
        names.append(f"{subject_dir.parent.name}/{subject_dir.name}")
    return people, names


def synthetic_people(config: synthetic.SyntheticConfig, n_users: int) -> tuple[list[Person], list]:
    """``n_users`` generated training users as people (no pinch, as CIIL has none) and the users themselves."""
    users = generate_users(config, n_users)
    people = [
        [
            (rep.label, rep.emg, rep.activity)
            for rep in user.repetitions
            if rep.label in SHARED_CLASSES and rep.block != synthetic.SYNC_BLOCK
        ]
        for user in users
    ]
    return people, users


def _segment(emg: np.ndarray, span) -> np.ndarray:
    """The activity span of a repetition as float (the whole repetition for rest)."""
    x = emg.astype(np.float64)
    return x if span is None else x[span[0] : span[1] + 1]


def class_channel_rms(person: Person) -> np.ndarray:
    """(5, 8) RMS per class (EPN codes 0..4) and channel over activity spans (whole repetitions for rest)."""
    rms = np.zeros((len(SHARED_CLASSES), N_CHANNELS))
    for label in SHARED_CLASSES:
        segments = [_segment(emg, span) for lab, emg, span in person if lab == label]
        rms[label] = np.sqrt(np.mean(np.concatenate(segments) ** 2, axis=0))
    return rms


def power_spectrum(person: Person, active: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean Welch power spectrum (summed over channels) of active spans or of rest repetitions."""
    spectra = []
    for label, emg, span in person:
        if (label != LABEL_OF["noGesture"]) != active:
            continue
        segment = _segment(emg, span)
        if len(segment) >= WELCH_SEGMENT:
            freqs, power = welch(segment, fs=FS, nperseg=WELCH_SEGMENT, axis=0)
            spectra.append(power.sum(axis=1))
    return freqs, np.mean(spectra, axis=0)


def median_frequency(freqs: np.ndarray, power: np.ndarray) -> float:
    """Frequency splitting the spectrum's power in halves (linear interpolation of the cumulative sum)."""
    cumulative = np.cumsum(power)
    return float(np.interp(cumulative[-1] / 2, cumulative, freqs))


def rest_rms(person: Person) -> float:
    """RMS over all channels and samples of the rest repetitions."""
    rest = np.concatenate([emg.astype(np.float64) for lab, emg, _ in person if lab == LABEL_OF["noGesture"]])
    return float(np.sqrt(np.mean(rest**2)))


def repetition_variability(person: Person) -> tuple[float, float]:
    """(std of log repetition RMS within a class, std of per-channel log residual), over active classes."""
    level_sds, channel_residuals = [], []
    for label in ACTIVE_CLASSES:
        segments = [_segment(emg, span) for lab, emg, span in person if lab == label]
        logs = np.array([np.log(np.sqrt(np.mean(x**2, axis=0)) + 1e-9) for x in segments])
        if len(logs) < 2:
            continue
        levels = logs.mean(axis=1)
        level_sds.append(np.std(levels, ddof=1))
        residual = logs - levels[:, None]
        channel_residuals.append((residual - residual.mean(axis=0)).ravel())
    return float(np.mean(level_sds)), float(np.std(np.concatenate(channel_residuals)))


def active_kurtosis(person: Person, trim: int = 50) -> float:
    """Median excess kurtosis per channel and active repetition, over the steady part of the activity
    span (``trim`` samples dropped at each end)."""
    values = []
    for label, emg, span in person:
        if label == LABEL_OF["noGesture"] or span[1] - span[0] + 1 < 300:
            continue
        values.append(kurtosis(emg[span[0] + trim : span[1] + 1 - trim].astype(np.float64), axis=0))
    return float(np.median(values))


def repetition_features(person: Person) -> tuple[np.ndarray, np.ndarray]:
    """(labels, log RMS per channel over each repetition's activity span) of a person."""
    labels = np.array([label for label, _, _ in person])
    rms = [np.sqrt(np.mean(_segment(emg, span) ** 2, axis=0)) for _, emg, span in person]
    features = np.log(np.array(rms) + 1.0)
    return labels, features


def nearest_centroid_accuracies(people: list[Person]) -> tuple[float, float]:
    """Mean accuracy of a nearest-centroid classifier on repetition log-RMS: within a person
    (leave one repetition out) and across people (centroids from every other person)."""
    data = [repetition_features(person) for person in people]
    classes = np.array(SHARED_CLASSES)
    within, cross = [], []
    for index, (labels, features) in enumerate(data):
        sums = np.array([features[labels == c].sum(axis=0) for c in classes])
        counts = np.array([np.sum(labels == c) for c in classes])
        correct = 0
        for label, feature in zip(labels, features):
            own = classes == label
            centroids = (sums - own[:, None] * feature) / np.maximum(counts - own, 1)[:, None]
            centroids[own & (counts == 1)] = np.inf
            correct += classes[np.argmin(np.sum((centroids - feature) ** 2, axis=1))] == label
        within.append(correct / len(labels))
        others = [d for j, d in enumerate(data) if j != index]
        other_labels = np.concatenate([d[0] for d in others])
        other_features = np.concatenate([d[1] for d in others])
        centroids = np.array([other_features[other_labels == c].mean(axis=0) for c in classes])
        predicted = classes[np.argmin(((features[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)]
        cross.append(np.mean(predicted == labels))
    return float(np.mean(within)), float(np.mean(cross))


def best_shift(pattern: np.ndarray, reference: np.ndarray) -> int:
    """Circular channel shift (0..7) of ``pattern`` that correlates best with ``reference``."""

    def correlation(shift: int) -> float:
        return np.corrcoef(np.roll(pattern, shift, axis=-1).ravel(), reference.ravel())[0, 1]

    return max(range(N_CHANNELS), key=correlation)


def align_rotations(log_patterns: np.ndarray, max_iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Rotation of each person relative to the most common orientation, and the template in that frame.

    ``log_patterns`` is (people, classes, channels) with each person's mean removed. Iterates: shift
    each person to best correlate with the template, re-estimate the template as the mean.
    Returns rotations in [-4, 3] (pattern = template rolled by rotation) and the (classes, channels) template.
    """
    template = log_patterns[0]
    shifts = None
    for _ in range(max_iterations):
        new_shifts = np.array([best_shift(p, template) for p in log_patterns])
        template = np.mean([np.roll(p, s, axis=1) for p, s in zip(log_patterns, new_shifts)], axis=0)
        if shifts is not None and np.array_equal(shifts, new_shifts):
            break
        shifts = new_shifts
    mode = int(np.bincount(shifts, minlength=N_CHANNELS).argmax())
    rotations = (mode - shifts + 4) % N_CHANNELS - 4
    return rotations, np.roll(template, -mode, axis=1)


def population_stats(people: list[Person]) -> dict:
    """All calibration statistics of a set of people (see the module docstring)."""
    patterns = np.array([class_channel_rms(person) for person in people])
    log_active = np.log(patterns[:, 1:])
    log_gain = log_active.mean(axis=(1, 2))
    normalised = log_active - log_gain[:, None, None]
    rotations, template = align_rotations(normalised)
    aligned = np.array([np.roll(p, -r, axis=1) for p, r in zip(normalised, rotations)])
    residual = aligned - template
    channel_shared = residual.mean(axis=1, keepdims=True)
    gesture_offset = (residual - channel_shared).mean(axis=2, keepdims=True)
    remaining = residual - channel_shared - gesture_offset
    log_rest = np.log(patterns[:, :1])
    aligned_rest = np.array([np.roll(p, -r, axis=1) for p, r in zip(log_rest, rotations)])
    variability = np.array([repetition_variability(person) for person in people])
    active_spectra = [power_spectrum(person, active=True) for person in people]
    rest_spectra = [power_spectrum(person, active=False) for person in people]
    return {
        "n_people": len(people),
        "patterns": patterns,
        "template_active": np.exp(template + log_gain.mean()),
        "template_rest": np.exp(aligned_rest.mean(axis=0)),
        "log_gain": log_gain,
        "log_gain_sd": float(np.std(log_gain, ddof=1)),
        "pattern_log_sd": float(np.std(residual)),
        "pattern_channel_shared_sd": float(np.std(channel_shared)),
        "pattern_gesture_offset_sd": float(np.std(gesture_offset)),
        "pattern_remaining_sd": float(np.std(remaining)),
        "pattern_neighbour_corr": neighbour_correlation(remaining),
        "rotations": rotations,
        "rotated_1_2": float(np.mean(np.isin(np.abs(rotations), (1, 2)))),
        "rotated_3_4": float(np.mean(np.abs(rotations) >= 3)),
        "rest_rms": np.array([rest_rms(person) for person in people]),
        "active_mdf": np.array([median_frequency(f, p) for f, p in active_spectra]),
        "rest_mdf": np.array([median_frequency(f, p) for f, p in rest_spectra]),
        "spectrum_freqs": active_spectra[0][0],
        "active_spectrum": np.mean([p / p.sum() for _, p in active_spectra], axis=0),
        "rest_spectrum": np.mean([p / p.sum() for _, p in rest_spectra], axis=0),
        "active_kurtosis": np.array([active_kurtosis(person) for person in people]),
        "rep_log_sd": float(np.mean(variability[:, 0])),
        "centroid_accuracy": nearest_centroid_accuracies(people),
        "rep_channel_log_sd": float(np.mean(variability[:, 1])),
        "dc_offset": float(np.mean([emg.mean() for person in people for _, emg, _ in person])),
    }


def neighbour_correlation(residual: np.ndarray) -> float:
    """Mean correlation between the residuals of neighbouring channels (circularly)."""
    pairs = [(residual[..., k].ravel(), residual[..., (k + 1) % N_CHANNELS].ravel()) for k in range(N_CHANNELS)]
    return float(np.mean([np.corrcoef(a, b)[0, 1] for a, b in pairs]))


def sync_recording_stats(users: list) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel std and range (max - min) of each synchronisation recording, averaged as EPN-612's were."""
    sync = [
        rep.emg.astype(np.float64) for user in users for rep in user.repetitions if rep.block == synthetic.SYNC_BLOCK
    ]
    stds = np.mean([x.std(axis=0) for x in sync], axis=0)
    ranges = np.mean([x.max(axis=0) - x.min(axis=0) for x in sync], axis=0)
    return stds, ranges


def generate_users(config: synthetic.SyntheticConfig, n_users: int) -> list:
    """Training users 1..n_users of ``config``, in memory."""
    return [synthetic.generate_user(config, "training", number) for number in range(1, n_users + 1)]


def epn_check_config(config: synthetic.SyntheticConfig) -> synthetic.SyntheticConfig:
    """EPN-scale settings with the armband unrotated (only the synchronisation recordings are used)."""
    return dataclasses.replace(
        config,
        rotation_probabilities=((0, 1.0),),
        duration_range_s=synthetic.epn612_scale_config().duration_range_s,
        activity_range_s=synthetic.epn612_scale_config().activity_range_s,
        reps_per_gesture=1,
    )


def epn_orientation_shift(template_active: np.ndarray) -> int:
    """Circular shift bringing the template's waveOut row closest to EPN-612's sync-recording std."""
    wave_out = template_active[ACTIVE_CLASSES.index(LABEL_OF["waveOut"])]
    target = np.array(synthetic.EPN612_CHANNEL_STD)
    return max(range(N_CHANNELS), key=lambda s: np.corrcoef(np.roll(wave_out, s), target)[0, 1])


def fit_channel_gain(
    config: synthetic.SyntheticConfig, n_users: int = EPN_CHECK_USERS, iterations: int = 5
) -> np.ndarray:
    """Per-channel factors on the active patterns so that unrotated sync-recording stds match EPN-612's."""
    target = np.array(synthetic.EPN612_CHANNEL_STD)
    gain = np.ones(N_CHANNELS)
    check = epn_check_config(config)
    rest = sync_recording_stats(generate_users(dataclasses.replace(check, amplitude_scale=1e-9), n_users))[0]
    for _ in range(iterations):
        trial = dataclasses.replace(check, channel_gain=tuple(gain))
        stds = sync_recording_stats(generate_users(trial, n_users))[0]
        gain = gain * np.sqrt(np.maximum(target**2 - rest**2, 1.0) / np.maximum(stds**2 - rest**2, 1.0))
    return gain


def mean_sd(values: np.ndarray) -> str:
    """'mean +- sd' of a sample."""
    return f"{np.mean(values):.2f} +- {np.std(values, ddof=1):.2f}"


def emit_constants(real: dict, config: synthetic.SyntheticConfig) -> str:
    """Python source of the calibrated constants for emgcore/data/synthetic.py."""
    shift = epn_orientation_shift(real["template_active"])
    active = np.roll(real["template_active"], shift, axis=1)
    rest = np.roll(real["template_rest"], shift, axis=1)
    pinch = 0.7 * np.sqrt(active[0] * active[3])
    rows = np.vstack([rest, active, pinch[None]])
    patterns = tuple(map(tuple, np.round(rows, 2).tolist()))
    unit_gain = dataclasses.replace(config, gesture_patterns=patterns, channel_gain=(1.0,) * N_CHANNELS)
    gain = fit_channel_gain(unit_gain)
    counts = {r: float(np.mean(real["rotations"] == r)) for r in range(-2, 3)}
    far = real["rotated_3_4"]
    lines = [
        f"# EPN orientation shift applied to the CIIL template: {shift}",
        "GESTURE_PATTERNS = np.array(",
        "    [",
        *[f"        [{', '.join(f'{v:.2f}' for v in row)}],  # {name}" for row, name in zip(rows, GESTURES)],
        "    ]",
        ")",
        f"EPN_CHANNEL_GAIN = ({', '.join(f'{v:.3f}' for v in gain)})",
        "# CIIL measurements (targets for the generator settings; see synthetic.py):",
        f"#   std of log gain {real['log_gain_sd']:.3f}",
        f"#   pattern log residual sd {real['pattern_log_sd']:.3f} (incl. alignment and sampling noise): "
        f"channel-shared {real['pattern_channel_shared_sd']:.3f}, "
        f"per-gesture {real['pattern_gesture_offset_sd']:.3f}, "
        f"remaining {real['pattern_remaining_sd']:.3f} (neighbour corr {real['pattern_neighbour_corr']:.3f})",
        f"#   repetition log-RMS sd {real['rep_log_sd']:.3f}, "
        f"repetition channel log sd {real['rep_channel_log_sd']:.3f}",
        f"#   active excess kurtosis median {np.median(real['active_kurtosis']):.3f}",
        f"#   rotation shares {tuple((r, round(p, 3)) for r, p in counts.items())}, |rotation| >= 3: {far:.3f}",
        f"#   active median frequency {mean_sd(real['active_mdf'])} Hz",
        f"#   rest median frequency {mean_sd(real['rest_mdf'])} Hz",
        f"#   rest RMS median {np.median(real['rest_rms']):.3f}, log sd {np.std(np.log(real['rest_rms']), ddof=1):.3f}",
        f"#   mean value {real['dc_offset']:.3f}",
    ]
    return "\n".join(lines)


def summary_table(real: dict, synth: dict, epn_std: np.ndarray, epn_range: np.ndarray) -> str:
    """Plain-text table of real vs synthetic statistics."""
    rows = [
        ("people", real["n_people"], synth["n_people"]),
        ("std of log gain", real["log_gain_sd"], synth["log_gain_sd"]),
        ("pattern log residual sd", real["pattern_log_sd"], synth["pattern_log_sd"]),
        ("  channel-shared part sd", real["pattern_channel_shared_sd"], synth["pattern_channel_shared_sd"]),
        ("  per-gesture part sd", real["pattern_gesture_offset_sd"], synth["pattern_gesture_offset_sd"]),
        ("  remaining part sd", real["pattern_remaining_sd"], synth["pattern_remaining_sd"]),
        ("  remaining neighbour corr", real["pattern_neighbour_corr"], synth["pattern_neighbour_corr"]),
        ("repetition log-RMS sd", real["rep_log_sd"], synth["rep_log_sd"]),
        ("repetition channel log sd", real["rep_channel_log_sd"], synth["rep_channel_log_sd"]),
        ("rotated by 1-2 (share)", real["rotated_1_2"], synth["rotated_1_2"]),
        ("rotated by 3-4 (share)", real["rotated_3_4"], synth["rotated_3_4"]),
        ("active median freq (Hz) mean", np.mean(real["active_mdf"]), np.mean(synth["active_mdf"])),
        ("active median freq (Hz) sd", *(np.std(s["active_mdf"], ddof=1) for s in (real, synth))),
        ("rest median freq (Hz) mean", np.mean(real["rest_mdf"]), np.mean(synth["rest_mdf"])),
        ("rest RMS median", np.median(real["rest_rms"]), np.median(synth["rest_rms"])),
        ("rest RMS log sd", *(np.std(np.log(s["rest_rms"]), ddof=1) for s in (real, synth))),
        ("active excess kurtosis median", *(np.median(s["active_kurtosis"]) for s in (real, synth))),
        ("mean value (DC)", real["dc_offset"], synth["dc_offset"]),
        ("nearest centroid within person", real["centroid_accuracy"][0], synth["centroid_accuracy"][0]),
        ("nearest centroid across people", real["centroid_accuracy"][1], synth["centroid_accuracy"][1]),
    ]
    lines = [f"{'statistic':32s} {'real CIIL':>10s} {'synthetic':>10s}"]
    lines += [f"{name:32s} {a:10.3f} {b:10.3f}" for name, a, b in rows]
    lines.append(f"sync-recording std per channel ({EPN_CHECK_USERS} unrotated synthetic vs EPN-612):")
    lines.append("  synthetic: " + " ".join(f"{v:5.1f}" for v in epn_std))
    lines.append("  EPN-612:   " + " ".join(f"{v:5.1f}" for v in synthetic.EPN612_CHANNEL_STD))
    lines.append(f"sync-recording range per channel ({EPN_CHECK_USERS} unrotated synthetic vs EPN-612):")
    lines.append("  synthetic: " + " ".join(f"{v:5.0f}" for v in epn_range))
    lines.append("  EPN-612:   " + " ".join(f"{v:5.0f}" for v in synthetic.EPN612_CHANNEL_RANGE))
    return "\n".join(lines)


def draw_figure(real: dict, synth: dict, synth_users: list, epn_check: tuple, path: Path) -> None:
    """Side-by-side panels of real vs synthetic statistics, saved atomically as PNG.

    ``epn_check`` is (std, range) of the unrotated synthetic sync recordings and the stds of each
    20-user group.
    """
    epn_std, epn_range, group_stds = epn_check
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    real_color, synth_color = "#1f77b4", "#d62728"

    ax = axes[0, 0]
    real_t = np.log(real["template_active"]) - np.log(real["template_active"]).mean()
    synth_t = np.log(synth["template_active"]) - np.log(synth["template_active"]).mean()
    synth_t = np.roll(synth_t, best_shift(synth_t, real_t), axis=1)  # the two reference frames are arbitrary
    for k in range(len(ACTIVE_CLASSES)):
        x = np.arange(N_CHANNELS) + k * (N_CHANNELS + 1)
        ax.plot(x, np.exp(real_t[k]), "o-", color=real_color, label="real CIIL" if k == 0 else None)
        ax.plot(x, np.exp(synth_t[k]), "s--", color=synth_color, label="synthetic" if k == 0 else None)
    centres = [k * (N_CHANNELS + 1) + 3.5 for k in range(len(ACTIVE_CLASSES))]
    ax.set_xticks(centres, [GESTURES[c] for c in ACTIVE_CLASSES])
    ax.set_ylabel("relative RMS (aligned, gain removed)")
    ax.set_title(
        "Channel pattern per gesture (ch1..ch8 each)\nsynthetic includes the EPN-612 channel gain", fontsize=10
    )
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    ax.plot(real["spectrum_freqs"], real["active_spectrum"], color=real_color, label="real active")
    ax.plot(synth["spectrum_freqs"], synth["active_spectrum"], color=synth_color, label="synthetic active")
    ax.plot(real["spectrum_freqs"], real["rest_spectrum"], ":", color=real_color, label="real rest")
    ax.plot(synth["spectrum_freqs"], synth["rest_spectrum"], ":", color=synth_color, label="synthetic rest")
    ax.set_xlabel("Hz")
    ax.set_ylabel("share of power")
    ax.set_title("Mean normalised power spectrum")
    ax.legend(fontsize=8)

    ax = axes[0, 2]
    bins = np.linspace(35, 80, 31)
    ax.hist(real["active_mdf"], bins, alpha=0.6, color=real_color, label="real active", density=True)
    ax.hist(synth["active_mdf"], bins, alpha=0.6, color=synth_color, label="synthetic active", density=True)
    for stats, color, name in ((real, real_color, "real rest"), (synth, synth_color, "synthetic rest")):
        ax.hist(stats["rest_mdf"], bins, histtype="step", color=color, lw=2, label=name, density=True)
    ax.set_xlabel("median frequency per person (Hz)")
    ax.set_title("Median frequency")
    ax.legend(fontsize=8)

    ax = axes[0, 3]
    bins = np.linspace(0, 10, 26)
    ax.hist(real["rest_rms"], bins, alpha=0.6, color=real_color, label="real", density=True)
    ax.hist(synth["rest_rms"], bins, alpha=0.6, color=synth_color, label="synthetic", density=True)
    ax.set_xlabel("rest RMS per person (ADC units)")
    ax.set_title("Rest noise level")
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    bins = np.linspace(-1.5, 1.5, 25)
    for stats, color, name in ((real, real_color, "real"), (synth, synth_color, "synthetic")):
        centred = stats["log_gain"] - np.median(stats["log_gain"])
        label = f"{name} (sd {stats['log_gain_sd']:.2f})"
        ax.hist(centred, bins, alpha=0.6, color=color, density=True, label=label)
    ax.set_xlabel("log gain relative to the median person")
    ax.set_title("Per-person gain")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    x = np.arange(N_CHANNELS)
    ax.bar(x - 0.2, synthetic.EPN612_CHANNEL_STD, 0.4, color="0.5", label="std, EPN-612 published")
    spread = np.vstack([epn_std - group_stds.min(axis=0), group_stds.max(axis=0) - epn_std])
    ax.bar(
        x + 0.2,
        epn_std,
        0.4,
        yerr=spread,
        capsize=2,
        color=synth_color,
        label=f"std, synthetic ({EPN_CHECK_USERS} users, bars: 20-user groups)",
    )
    ax.set_xticks(x, [f"ch{k + 1}" for k in x])
    ax.set_ylabel("std per recording")
    ax.set_ylim(0, 50)
    twin = ax.twinx()
    twin.plot(x, synthetic.EPN612_CHANNEL_RANGE, "D", color="0.3", label="range, EPN-612")
    twin.plot(x, epn_range, "x", color=synth_color, ms=9, mew=2, label="range, synthetic")
    twin.set_ylim(0, 340)
    twin.set_ylabel("max - min per recording")
    handles = ax.get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    ax.legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], fontsize=7, loc="upper right")
    ax.set_title("waveOut sync recordings vs EPN-612 (20 users)")

    ax = axes[1, 2]
    edges = np.arange(-4.5, 4.5)
    true_rotations = np.array([user.rotation for user in synth_users])
    for stats, color, name in ((real, real_color, "real"), (synth, synth_color, "synthetic")):
        ax.hist(stats["rotations"], edges, alpha=0.6, color=color, density=True, label=f"{name} (estimated)")
    ax.hist(true_rotations, edges, histtype="step", color="k", lw=1.5, density=True, label="synthetic (true)")
    ax.set_xlabel("armband rotation vs most common orientation (electrodes)")
    ax.set_title("Armband rotation")
    ax.legend(fontsize=8)

    ax = axes[1, 3]
    ax.axis("off")
    ax.text(0, 1, summary_table(real, synth, epn_std, epn_range), family="monospace", fontsize=6.3, va="top")
    ax.set_title("Numbers")

    fig.suptitle("Synthetic EPN-612-layout data vs real Myo recordings (CIIL, 32 people)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        fig.savefig(temp_name, dpi=80)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    finally:
        plt.close(fig)
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def comparison_config(seed: int) -> synthetic.SyntheticConfig:
    """Synthetic settings for the comparison: EPN-scale repetitions, 5 per gesture and block."""
    return dataclasses.replace(synthetic.epn612_scale_config(seed), reps_per_gesture=5)


def main(argv: list[str] | None = None) -> int:
    """Compute the statistics, print the table (or constants) and draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ciil-root", type=Path, default=default_ciil_root(REPO_ROOT))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "synthetic_vs_real.png")
    parser.add_argument("--n-synthetic", type=int, default=128, help="synthetic people (CIIL has 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--emit-constants", action="store_true", help="print the constants for synthetic.py and stop")
    args = parser.parse_args(argv)
    if not args.ciil_root.is_dir():
        print(f"{args.ciil_root}: CIIL recordings not found (expected ../shared/data/ciil)", file=sys.stderr)
        return 2
    real_people, _ = ciil_people(args.ciil_root)
    real = population_stats(real_people)
    config = comparison_config(args.seed)
    if args.emit_constants:
        print(emit_constants(real, config))
        return 0
    synth_people, synth_users = synthetic_people(config, args.n_synthetic)
    synth = population_stats(synth_people)
    epn_users = generate_users(epn_check_config(config), EPN_CHECK_USERS)
    epn_std, epn_range = sync_recording_stats(epn_users)
    groups = range(0, EPN_CHECK_USERS, 20)
    group_stds = np.array([sync_recording_stats(epn_users[k : k + 20])[0] for k in groups])
    print(summary_table(real, synth, epn_std, epn_range))
    draw_figure(real, synth, synth_users, (epn_std, epn_range, group_stds), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Synthetic Hyser-layout HD-sEMG data (WFDB records + label files), deterministic by seed.

Writes the folder layout that `emgcore.data.hyser` reads, so the Hyser part of the pipeline runs
end to end without the real data. The signal model puts each channel on the 16 x 16 grid of
`default_grid_map` and builds, per trial::

    x(t, cell) = A_subject,session,gesture(cell) * envelope(t) * carrier(t, cell) + floor noise

- gesture pattern: 1-2 Gaussian activation blobs on the grid (centres kept apart across gestures);
- subject: a global shift of every blob (electrode placement / anatomy), small per-blob jitter,
  a gain, a smooth per-cell impedance map and a subject-specific "fingerprint" blob present in
  all of that subject's gestures (the subject-specific component the disentangling method removes);
- session: a small extra shift and gain (re-placed electrodes on another day);
- trial: a contraction envelope (ramp then plateau with slow modulation) and a gain;
- carrier: white noise smoothed across the grid (neighbouring electrodes correlate), band-passed
  to 20-450 Hz and scaled to unit RMS.

`preprocess` records hold this signal; `raw` records add 50 Hz power-line interference and a slow
baseline drift (what the real preprocessing removes). Units are mV, format 16, names ch1..ch256.
Every random draw comes from a generator seeded by (seed, purpose, indices), so outputs do not
depend on generation order. The whole tree is written into a temp folder beside `root`, then renamed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from emgcore.data.hyser import (
    HYSER_CHANNELS,
    HYSER_GRID_SHAPE,
    KINDS,
    TASKS,
    default_grid_map,
    label_filename,
    record_name,
    subject_folder,
)

PEAK_MV = (0.10, 0.30)  # per-blob peak RMS amplitude range (mV), the order of forearm HD-sEMG
BLOB_SIGMA = (1.5, 3.0)  # blob width (grid cells)
MIN_BLOB_DISTANCE = 4.0  # primary blobs of different gestures at least this far apart (cells)
SUBJECT_SHIFT_SD = 1.0  # cells
BLOB_JITTER_SD = 0.5  # cells
SUBJECT_GAIN_SD = 0.3  # log-normal
FINGERPRINT_SHARE = 0.35  # fingerprint blob amplitude relative to the mean gesture peak
IMPEDANCE_SD = 0.15  # relative, spatially smooth
SESSION_SHIFT_SD = 0.3  # cells
SESSION_GAIN_SD = 0.1
TRIAL_GAIN_SD = 0.1
FLOOR_MV = 0.004  # white noise floor (mV RMS)
BAND_HZ = (20.0, 450.0)
MAINS_HZ, MAINS_MV, DRIFT_MV = 50.0, 0.02, 0.05
META_NAME = "synthetic_hyser.json"


def _rng(seed: int, *key: int) -> np.random.Generator:
    """Generator for one purpose/index tuple: independent of the order things are generated in."""
    return np.random.default_rng([int(seed), *[int(k) for k in key]])


def _blob(center: np.ndarray, sigma: float) -> np.ndarray:
    r, c = np.indices(HYSER_GRID_SHAPE)
    return np.exp(-((r - center[0]) ** 2 + (c - center[1]) ** 2) / (2.0 * sigma**2))


def gesture_patterns(n_gestures: int, seed: int) -> list[list[tuple[np.ndarray, float, float]]]:
    """Per gesture a list of blobs (centre (row, col), sigma, peak mV); primary centres kept apart."""
    rng = _rng(seed, 1)
    lo, hi = 2.5, HYSER_GRID_SHAPE[0] - 3.5
    primaries: list[np.ndarray] = []
    patterns = []
    for _ in range(n_gestures):
        for _attempt in range(200):
            centre = rng.uniform(lo, hi, size=2)
            if all(np.linalg.norm(centre - p) >= MIN_BLOB_DISTANCE for p in primaries):
                break
        primaries.append(centre)
        blobs = [(centre, rng.uniform(*BLOB_SIGMA), rng.uniform(*PEAK_MV))]
        if rng.random() < 0.5:
            blobs.append((rng.uniform(lo, hi, size=2), rng.uniform(*BLOB_SIGMA), 0.5 * rng.uniform(*PEAK_MV)))
        patterns.append(blobs)
    return patterns


def subject_profile(subject: int, seed: int) -> dict:
    """A subject's placement shift, gain, impedance map and fingerprint blob (jitter: `blob_jitter`)."""
    rng = _rng(seed, 2, subject)
    impedance = ndimage.gaussian_filter(rng.normal(size=HYSER_GRID_SHAPE), 2.0, mode="wrap")
    impedance = 1.0 + IMPEDANCE_SD * impedance / (impedance.std() + 1e-12)
    return {
        "shift": rng.normal(0.0, SUBJECT_SHIFT_SD, size=2),
        "key": (int(seed), int(subject)),
        "gain": float(np.exp(rng.normal(0.0, SUBJECT_GAIN_SD))),
        "impedance": np.clip(impedance, 0.5, None),
        "fingerprint": (rng.uniform(2.5, HYSER_GRID_SHAPE[0] - 3.5, size=2), rng.uniform(*BLOB_SIGMA)),
    }


def blob_jitter(profile: dict, gesture: int, n_blobs: int) -> np.ndarray:
    """The subject's own displacement (n_blobs, 2) of each blob of a gesture (0-based)."""
    seed, subject = profile["key"]
    return _rng(seed, 5, subject, gesture).normal(0.0, BLOB_JITTER_SD, size=(n_blobs, 2))


def amplitude_map(patterns, gesture: int, profile: dict, session_shift: np.ndarray, session_gain: float) -> np.ndarray:
    """RMS amplitude (mV) per grid cell of a subject's session performing gesture (0-based)."""
    amp = np.zeros(HYSER_GRID_SHAPE)
    jitter = blob_jitter(profile, gesture, len(patterns[gesture]))
    for (centre, sigma, peak), dj in zip(patterns[gesture], jitter):
        amp += peak * _blob(centre + profile["shift"] + dj + session_shift, sigma)
    mean_peak = float(np.mean([blobs[0][2] for blobs in patterns]))
    fp_centre, fp_sigma = profile["fingerprint"]
    amp += FINGERPRINT_SHARE * mean_peak * _blob(fp_centre + session_shift, fp_sigma)
    return amp * profile["impedance"] * profile["gain"] * session_gain


def _carrier(rng: np.random.Generator, n: int, fs: float) -> np.ndarray:
    """Unit-RMS band-limited noise (n, 16, 16), spatially smoothed so neighbours correlate."""
    white = rng.normal(size=(n, *HYSER_GRID_SHAPE))
    smooth = ndimage.gaussian_filter(white, sigma=(0.0, 1.0, 1.0), mode="nearest")
    hi = min(BAND_HZ[1], 0.45 * fs)
    sos = sps.butter(4, [BAND_HZ[0], hi], btype="bandpass", fs=fs, output="sos")
    band = sps.sosfilt(sos, smooth, axis=0)
    return band / (np.sqrt(np.mean(band**2, axis=0, keepdims=True)) + 1e-12)


def _envelope(rng: np.random.Generator, n: int, fs: float) -> np.ndarray:
    """Contraction envelope: smooth ramp over the first quarter, plateau with slow modulation."""
    t = np.arange(n) / fs
    ramp = np.clip(np.arange(n) / max(1, n // 4), 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)
    mod = 1.0 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t + rng.uniform(0, 2 * np.pi))
    return 0.15 + 0.85 * ramp * mod


def trial_signals(patterns, gesture, profile, session, subject, sample, n, fs, seed) -> dict[str, np.ndarray]:
    """Channel-ordered (n, 256) signals of one trial: {'preprocess': clean, 'raw': with mains + drift}."""
    srng = _rng(seed, 3, subject, session)
    s_shift = srng.normal(0.0, SESSION_SHIFT_SD, size=2)
    s_gain = float(np.exp(srng.normal(0.0, SESSION_GAIN_SD)))
    rng = _rng(seed, 4, subject, session, sample)
    amp = amplitude_map(patterns, gesture, profile, s_shift, s_gain) * float(np.exp(rng.normal(0.0, TRIAL_GAIN_SD)))
    grid = amp * _envelope(rng, n, fs)[:, None, None] * _carrier(rng, n, fs)
    grid += FLOOR_MV * rng.normal(size=grid.shape)
    gmap = default_grid_map()
    clean = np.empty((n, HYSER_CHANNELS))
    clean[:, gmap.ravel()] = grid.reshape(n, -1)
    t = np.arange(n)[:, None] / fs
    mains = MAINS_MV * np.sin(2 * np.pi * MAINS_HZ * t + rng.uniform(0, 2 * np.pi, size=HYSER_CHANNELS))
    drift = DRIFT_MV * np.cumsum(rng.normal(size=(n, HYSER_CHANNELS)), axis=0) / np.sqrt(max(n, 1))
    return {"preprocess": clean, "raw": clean + mains + drift}


DIGITAL_PEAK = 32000  # largest |digital value| of a channel in the 16-bit records


def _write_record(folder: Path, name: str, x: np.ndarray, fs: float) -> None:
    """One WFDB record (format 16, mV): ``name.dat`` (int16, samples interleaved) and ``name.hea``.

    Written directly rather than by ``wfdb.wrsamp``, whose header code costs about 0.7 s per
    256-channel record (pandas lookups per field and channel); ``wfdb.rdrecord`` reads it as usual.
    Each channel gets its own gain (digital units per mV) so its peak maps to +-32000, baseline 0.
    """
    x = np.asarray(x, dtype=np.float64)
    peak = np.abs(x).max(axis=0)
    gain = np.where(peak > 0, DIGITAL_PEAK / np.where(peak > 0, peak, 1.0), 1.0)
    digital = np.rint(x * gain).astype("<i2")
    (folder / f"{name}.dat").write_bytes(digital.tobytes())
    checksum = ((digital.astype(np.int64).sum(axis=0) + 32768) % 65536) - 32768
    lines = [f"{name} {x.shape[1]} {fs:g} {x.shape[0]}"]
    lines += [
        f"{name}.dat 16 {gain[c]:.10g}(0)/mV 16 0 {int(digital[0, c])} {int(checksum[c])} 0 ch{c + 1}"
        for c in range(x.shape[1])
    ]
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")


def _write_tree(tmp: Path, *, n_subjects, sessions, n_gestures, trials_per_gesture, n, fs, seed, tasks, kinds) -> int:
    patterns = gesture_patterns(n_gestures, seed)
    labels = np.repeat(np.arange(1, n_gestures + 1), trials_per_gesture)  # gesture-major, like Hyser
    n_records = 0
    for subject in range(n_subjects):
        profile = subject_profile(subject, seed)
        for session in sessions:
            folder = subject_folder(tmp, subject, session)
            folder.mkdir(parents=True)
            for ti, task in enumerate(tasks):
                (folder / label_filename(task)).write_text(",".join(str(g) for g in labels) + "\n")
                for k, gesture in enumerate(labels, start=1):
                    sig = trial_signals(patterns, gesture - 1, profile, session, subject, 1000 * ti + k, n, fs, seed)
                    for kind in kinds:
                        _write_record(folder, record_name(task, kind, k), sig[kind], fs)
                        n_records += 1
    return n_records


def write_synthetic_hyser(
    root: str | Path,
    n_subjects: int = 3,
    sessions: Sequence[int] = (1, 2),
    n_gestures: int = 4,
    trials_per_gesture: int = 2,
    seconds: float = 1.0,
    fs: int = 2048,
    seed: int = 0,
    task: str | Sequence[str] = "dynamic",
    kinds: Sequence[str] = ("preprocess", "raw"),
    overwrite: bool = True,
) -> dict:
    """Write a synthetic Hyser `pr_dataset`-layout tree at `root`; return a summary dict.

    `task` may be one task name or several. Each record takes 2 bytes x 256 channels x samples
    (1 MB per 1-s record at 2048 Hz). An existing `root` is replaced when `overwrite`, else an error.
    The parameters are also written to `root/synthetic_hyser.json` (the reader ignores it).
    """
    tasks = (task,) if isinstance(task, str) else tuple(task)
    for t in tasks:
        if t not in TASKS:
            raise ValueError(f"task must be among {list(TASKS)}, got {t!r}")
    kinds = tuple(kinds)
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError(f"kinds must be a non-empty subset of {list(KINDS)}, got {list(kinds)}")
    sessions = tuple(int(s) for s in sessions)
    if n_subjects < 1 or n_gestures < 1 or trials_per_gesture < 1 or not sessions or min(sessions) < 1:
        raise ValueError("n_subjects, n_gestures, trials_per_gesture must be >= 1 and sessions non-empty, >= 1")
    n = round(seconds * fs)
    if n < 16:
        raise ValueError(f"seconds * fs must give at least 16 samples, got {n}")
    root = Path(root)
    if root.exists() and not overwrite:
        raise FileExistsError(f"{root}: already exists (pass overwrite=True to replace it)")
    root.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "n_subjects": int(n_subjects),
        "sessions": list(sessions),
        "n_gestures": int(n_gestures),
        "trials_per_gesture": int(trials_per_gesture),
        "seconds": float(seconds),
        "fs": int(fs),
        "samples_per_record": n,
        "seed": int(seed),
        "tasks": list(tasks),
        "kinds": list(kinds),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        summary["n_records"] = _write_tree(
            tmp,
            n_subjects=n_subjects,
            sessions=sessions,
            n_gestures=n_gestures,
            trials_per_gesture=trials_per_gesture,
            n=n,
            fs=fs,
            seed=seed,
            tasks=tasks,
            kinds=kinds,
        )
        (tmp / META_NAME).write_text(json.dumps(summary, indent=2) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700
        if root.exists():
            old = root.with_name(f".{root.name}.old.{os.getpid()}")
            os.replace(root, old)
            os.replace(tmp, root)
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        else:
            os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary

"""Reader for the CIIL Myo recordings (LibEMG CIILData) and their conversion to the EPN-612 layout.

Layout (see ``../shared/data/ciil/README.md``): ``<root>/<dataset>/subject<i>/`` holds CSV files
``R_<rep>_C_<class>.csv`` without header, one row per sample, 8 integer columns in [-128, 127].
ElectrodeShift people keep their main recording in ``training/`` (and re-donned sessions in
``trial_*``); MinimalTrainingData people in ``train/`` and ``test/trial_*``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from emgcore.data.epn612_layout import (
    GROUP_FOLDERS,
    build_sample,
    build_user_document,
    user_json_path,
    write_json_atomic,
)
from emgcore.data.labels import FS_HZ, GESTURES, LABEL_OF, N_CHANNELS

#: CIIL class number -> (CIIL class name, EPN-612 label code)
CIIL_CLASSES = {
    0: ("Hand_Close", LABEL_OF["fist"]),
    1: ("Hand_Open", LABEL_OF["open"]),
    2: ("No_Motion", LABEL_OF["noGesture"]),
    3: ("Wrist_Extension", LABEL_OF["waveOut"]),
    4: ("Wrist_Flexion", LABEL_OF["waveIn"]),
}
CIIL_DATASETS = ("ElectrodeShift", "MinimalTrainingData")
_FILE_NAME = re.compile(r"^R_(\d+)_C_(\d+)\.csv$")
_TRIAL_NAME = re.compile(r"^trial_(\d+)$")
_SUBJECT_NAME = re.compile(r"^subject(\d+)$")


class CiilRepetition(NamedTuple):
    """One CSV repetition: EPN-612 label code, running repetition number of that class, int8 (T, 8)."""

    label: int
    rep: int
    emg: np.ndarray


def default_ciil_root(repo_root: str | Path | None = None) -> Path:
    """Where the shared CIIL copy lives: ``../shared/data/ciil`` relative to the repository root."""
    root = Path(repo_root) if repo_root is not None else Path(__file__).resolve().parents[2]
    return (root / ".." / "shared" / "data" / "ciil").resolve()


def read_ciil_csv(path: str | Path) -> np.ndarray:
    """Read one CIIL CSV (no header, 8 integer columns in [-128, 127]) into an int8 (T, 8) array."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read CIIL CSV file ({exc})") from exc
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError(f"{path}: empty CSV, expected rows of {N_CHANNELS} integers")
    fields = ",".join(lines).split(",")
    values = None
    if len(fields) == N_CHANNELS * len(lines):
        try:
            values = np.array(fields, dtype=np.int64).reshape(len(lines), N_CHANNELS)
        except ValueError:
            values = None
    if values is None:
        _raise_first_malformed_row(path, lines)
    bad_rows = np.flatnonzero(((values < -128) | (values > 127)).any(axis=1))
    if bad_rows.size:
        row = int(bad_rows[0])
        raise ValueError(f"{path}: row {row + 1}: values {values[row].tolist()} outside the int8 range [-128, 127]")
    return values.astype(np.int8)


def _raise_first_malformed_row(path: Path, lines: list[str]) -> None:
    """Find the first row that is not N_CHANNELS comma-separated integers and raise naming it."""
    for number, line in enumerate(lines, start=1):
        cells = line.split(",")
        if len(cells) != N_CHANNELS:
            raise ValueError(
                f"{path}: row {number}: expected {N_CHANNELS} comma-separated integers, "
                f"got {len(cells)} fields ({line[:80]!r})"
            )
        for column, cell in enumerate(cells, start=1):
            try:
                int(cell)
            except ValueError:
                raise ValueError(f"{path}: row {number}, column {column}: expected an integer, got {cell!r}") from None
    raise ValueError(f"{path}: could not parse as rows of {N_CHANNELS} integers")


def list_ciil_subjects(root: str | Path) -> list[Path]:
    """All subject folders under a CIIL root: ElectrodeShift first, then MinimalTrainingData, by number."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: CIIL root folder not found")
    subjects: list[Path] = []
    for dataset in CIIL_DATASETS:
        folder = root / dataset
        if not folder.is_dir():
            continue
        numbered = [
            (int(match.group(1)), child)
            for child in folder.iterdir()
            if child.is_dir() and (match := _SUBJECT_NAME.match(child.name))
        ]
        subjects.extend(child for _, child in sorted(numbered))
    if not subjects:
        raise ValueError(f"{root}: no subject folders found, expected {' or '.join(CIIL_DATASETS)}/subject<i>/")
    return subjects


def subject_recording_folders(subject_dir: str | Path, include_shift_trials: bool = False) -> list[Path]:
    """The folders holding a person's repetitions, in reading order (main session first).

    ElectrodeShift: ``training/`` (+ ``trial_*`` when ``include_shift_trials``; those are re-donned
    sessions, so the armband orientation may differ). MinimalTrainingData: ``train/`` + ``test/trial_*``.
    """
    subject_dir = Path(subject_dir)
    if (subject_dir / "training").is_dir():
        folders = [subject_dir / "training"]
        if include_shift_trials:
            folders += _sorted_trials(subject_dir)
        return folders
    if (subject_dir / "train").is_dir():
        test_dir = subject_dir / "test"
        return [subject_dir / "train"] + (_sorted_trials(test_dir) if test_dir.is_dir() else [])
    raise ValueError(
        f"{subject_dir}: not a CIIL subject folder, expected a 'training/' (ElectrodeShift) "
        "or 'train/' (MinimalTrainingData) subfolder"
    )


def _sorted_trials(folder: Path) -> list[Path]:
    """``trial_<k>`` subfolders sorted by k."""
    trials = [
        (int(match.group(1)), child)
        for child in folder.iterdir()
        if child.is_dir() and (match := _TRIAL_NAME.match(child.name))
    ]
    return [child for _, child in sorted(trials)]


def read_ciil_folder(folder: str | Path) -> list[tuple[int, int, np.ndarray]]:
    """Read every ``R_<rep>_C_<class>.csv`` of a folder as (ciil_class, rep, int8 (T, 8)), by (rep, class)."""
    folder = Path(folder)
    expected_names = _metadata_class_names(folder)
    found = []
    for path in folder.iterdir():
        match = _FILE_NAME.match(path.name)
        if not match:
            continue
        rep, ciil_class = int(match.group(1)), int(match.group(2))
        if ciil_class not in CIIL_CLASSES:
            raise ValueError(f"{path}: class {ciil_class} in the file name, expected one of {sorted(CIIL_CLASSES)}")
        name_in_metadata = expected_names.get(path.name)
        if name_in_metadata is not None and name_in_metadata != CIIL_CLASSES[ciil_class][0]:
            raise ValueError(
                f"{folder / 'metadata.json'}: {path.name} has class_name {name_in_metadata!r}, "
                f"expected {CIIL_CLASSES[ciil_class][0]!r} for class {ciil_class}"
            )
        found.append((rep, ciil_class, path))
    if not found:
        raise ValueError(f"{folder}: no R_<rep>_C_<class>.csv files found")
    return [(ciil_class, rep, read_ciil_csv(path)) for rep, ciil_class, path in sorted(found)]


def _metadata_class_names(folder: Path) -> dict[str, str]:
    """File name -> class_name from the folder's metadata.json (empty when there is none)."""
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        return {}
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{meta_path}: not valid JSON ({exc})") from exc
    return {
        Path(key).name: entry["class_name"]
        for key, entry in meta.items()
        if isinstance(entry, dict) and "class_name" in entry
    }


def read_ciil_subject(subject_dir: str | Path, include_shift_trials: bool = False) -> list[CiilRepetition]:
    """Read one person's repetitions as (EPN-612 label code, running rep of that class, int8 (T, 8)).

    Repetitions come in folder order (main session first), then by (rep, class) within a folder;
    ``rep`` counts repetitions of a class across folders from 0.
    """
    repetitions: list[CiilRepetition] = []
    count_of: dict[int, int] = {}
    for folder in subject_recording_folders(subject_dir, include_shift_trials):
        for ciil_class, _, emg in read_ciil_folder(folder):
            label = CIIL_CLASSES[ciil_class][1]
            repetitions.append(CiilRepetition(label, count_of.get(label, 0), emg))
            count_of[label] = count_of.get(label, 0) + 1
    return repetitions


def activity_bounds(
    emg: np.ndarray, rest_level: float, factor: float = 2.0, window: int = 40
) -> tuple[int, int] | None:
    """0-based inclusive [first, last] span where the moving RMS (mean power over channels) exceeds
    ``factor * rest_level``.

    The centred moving window may extend a strong burst's edges by up to ``window // 2`` samples.
    Returns None when no sample exceeds the threshold (a contraction too weak to tell from rest).
    """
    power = np.mean(emg.astype(np.float64) ** 2, axis=1)
    kernel = np.ones(window) / window
    moving_rms = np.sqrt(np.convolve(power, kernel, mode="same"))
    above = np.flatnonzero(moving_rms > factor * rest_level)
    if above.size == 0:
        return None
    return int(above[0]), int(above[-1])


def rest_level_of(repetitions: Sequence[CiilRepetition]) -> float:
    """RMS (over all samples and channels) of a person's No_Motion repetitions."""
    rest = [rep.emg for rep in repetitions if rep.label == LABEL_OF["noGesture"]]
    if not rest:
        raise ValueError("no No_Motion repetitions: cannot set the rest level for the activity mask")
    stacked = np.concatenate(rest).astype(np.float64)
    return float(np.sqrt(np.mean(stacked**2)))


def write_ciil_as_epn612(
    root: str | Path,
    out_dir: str | Path,
    subjects: Sequence[str | Path],
    n_train_users: int,
    include_shift_trials: bool = False,
    activity_factor: float = 2.0,
) -> dict:
    """Convert chosen CIIL people into EPN-612 JSON: the first ``n_train_users`` go to trainingJSON,
    the rest to testingJSON.

    Each CSV repetition becomes one labelled sample of ``trainingSamples`` (grouped by gesture in EPN
    order); ``testingSamples`` is empty. groundTruth of an active gesture is the span where the moving
    RMS exceeds ``activity_factor`` times the person's own No_Motion RMS (the recordings are steady
    contractions, so this is nearly the whole repetition; if nothing exceeds it, the whole repetition).
    The synchronisation block holds copies of the person's first five waveOut repetitions, unlabelled.
    ``subjects`` are folders or names relative to ``root`` such as ``ElectrodeShift/subject3``.
    """
    root, out_dir = Path(root), Path(out_dir)
    if not 0 <= n_train_users <= len(subjects):
        raise ValueError(f"n_train_users={n_train_users}: expected between 0 and the {len(subjects)} subjects given")
    for group in GROUP_FOLDERS.values():  # both folders exist even when a group has no users
        (out_dir / group).mkdir(parents=True, exist_ok=True)
    users = []
    for position, subject in enumerate(subjects):
        subject_dir = Path(subject) if Path(subject).is_absolute() else root / subject
        group = "training" if position < n_train_users else "testing"
        number = position + 1 if group == "training" else position - n_train_users + 1
        repetitions = read_ciil_subject(subject_dir, include_shift_trials)
        samples = _ciil_samples_in_epn_order(repetitions, activity_factor)
        document = build_user_document(
            user_name=f"user{number}",
            training_samples=samples,
            testing_samples=[],
            sync_samples=_sync_samples(repetitions),
            user_info={"source": f"CIIL {subject_dir.parent.name}/{subject_dir.name}"},
            recording_time_s=max(len(rep.emg) for rep in repetitions) / FS_HZ,
        )
        path = user_json_path(out_dir, group, number)
        write_json_atomic(path, document)
        users.append(
            {
                "user": f"{group}/user{number}",
                "subject_dir": str(subject_dir),
                "samples": len(samples),
                "path": str(path),
            }
        )
    return {"source": "ciil", "root": str(root), "out_dir": str(out_dir), "users": users}


def _sync_samples(repetitions: Sequence[CiilRepetition], count: int = 5) -> list[dict]:
    """The person's first waveOut repetitions as unlabelled synchronisation samples (EPN-612 uses waveOut)."""
    wave_out = [rep for rep in repetitions if rep.label == LABEL_OF["waveOut"]][:count]
    return [build_sample(rep.emg, "waveOut", (0, len(rep.emg) - 1), labelled=False) for rep in wave_out]


def _ciil_samples_in_epn_order(repetitions: Sequence[CiilRepetition], activity_factor: float) -> list[dict]:
    """EPN-612 sample dicts grouped by gesture (noGesture, fist, waveIn, waveOut, open), each group by rep."""
    rest_level = rest_level_of(repetitions)
    samples = []
    for rep in sorted(repetitions, key=lambda r: (r.label, r.rep)):
        bounds = None
        if rep.label != LABEL_OF["noGesture"]:
            bounds = activity_bounds(rep.emg, rest_level, activity_factor) or (0, len(rep.emg) - 1)
        samples.append(build_sample(rep.emg, GESTURES[rep.label], bounds, labelled=True))
    return samples

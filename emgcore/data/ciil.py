"""Reader for the CIIL Myo recordings (LibEMG CIILData) and their conversion to the EPN-612 layout.

Layout (see ``../shared/data/ciil/README.md``): ``<root>/<dataset>/subject<i>/`` holds CSV files
``R_<rep>_C_<class>.csv`` without header, one row per sample, 8 integer columns in [-128, 127].
ElectrodeShift people keep their main recording in ``training/`` (and re-donned sessions in
``trial_*``); MinimalTrainingData people in ``train/`` and ``test/trial_*``.

CIIL is a preset of the generic libemg-CSV reader (``emgcore.data.libemg_csv``): :func:`ciil_layout`
and :func:`ciil_shift_trials_layout` describe its folders; the functions below read single people
and folders through that reader and keep the names the pipeline uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from emgcore.data.labels import GESTURES, LABEL_OF, N_CHANNELS
from emgcore.data.libemg_csv import (
    RecordingLayout,
    activity_bounds,
    discover_recording_files,
    read_recording_csv,
    read_recordings,
    rest_level_of,
    write_recordings_as_epn612,
)

__all__ = [
    "CIIL_CLASSES",
    "CIIL_DATASETS",
    "CiilRepetition",
    "activity_bounds",
    "ciil_layout",
    "ciil_shift_trials_layout",
    "default_ciil_root",
    "list_ciil_subjects",
    "read_ciil_csv",
    "read_ciil_folder",
    "read_ciil_subject",
    "rest_level_of",
    "subject_recording_folders",
    "write_ciil_as_epn612",
]

#: CIIL class number -> (CIIL class name, EPN-612 label code)
CIIL_CLASSES = {
    0: ("Hand_Close", LABEL_OF["fist"]),
    1: ("Hand_Open", LABEL_OF["open"]),
    2: ("No_Motion", LABEL_OF["noGesture"]),
    3: ("Wrist_Extension", LABEL_OF["waveOut"]),
    4: ("Wrist_Flexion", LABEL_OF["waveIn"]),
}
CIIL_DATASETS = ("ElectrodeShift", "MinimalTrainingData")
#: CIIL class number -> EPN-612 gesture name, the class map of every CIIL layout
CIIL_CLASS_MAP = {number: GESTURES[label] for number, (_, label) in CIIL_CLASSES.items()}
_FILE_NAME = re.compile(r"^R_(\d+)_C_(\d+)\.csv$")
_FILE_PATTERN = r"R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"
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


def ciil_layout(
    root: str | Path, dataset: str = "ElectrodeShift", include_shift_trials: bool = False
) -> RecordingLayout:
    """The generic-reader description of one CIIL dataset; subjects are the numbers of ``subject<i>``.

    Sessions are the recording folders relative to the person: ElectrodeShift ``training`` (plus
    ``trial_<k>`` after it when ``include_shift_trials``), MinimalTrainingData ``train`` then
    ``test/trial_<k>``. The order is the one :func:`read_ciil_subject` reads.
    """
    subject = rf"{dataset}/subject(?P<subject>\d+)"
    if dataset == "ElectrodeShift":
        patterns = [rf"{subject}/(?P<session>training)/{_FILE_PATTERN}"]
        if include_shift_trials:
            patterns.append(rf"{subject}/(?P<session>trial_\d+)/{_FILE_PATTERN}")
    elif dataset == "MinimalTrainingData":
        patterns = [
            rf"{subject}/(?P<session>train)/{_FILE_PATTERN}",
            rf"{subject}/(?P<session>test/trial_\d+)/{_FILE_PATTERN}",
        ]
    else:
        raise ValueError(f"dataset={dataset!r}: expected one of {list(CIIL_DATASETS)}")
    return RecordingLayout(root=Path(root), patterns=tuple(patterns), class_map=CIIL_CLASS_MAP, name=f"CIIL {dataset}")


def ciil_shift_trials_layout(root: str | Path) -> RecordingLayout:
    """ElectrodeShift's after-shift trials only (armband taken off and put back), session = ``trial_<k>``.

    A separate evaluation set: the same people as :func:`ciil_layout`'s ``training`` sessions, each
    trial a new armband placement (see ``libemg_csv.split_by_session`` to treat each as its own stream).
    """
    subject = r"ElectrodeShift/subject(?P<subject>\d+)"
    return RecordingLayout(
        root=Path(root),
        patterns=(rf"{subject}/(?P<session>trial_\d+)/{_FILE_PATTERN}",),
        class_map=CIIL_CLASS_MAP,
        name="CIIL ElectrodeShift after-shift trials",
    )


def read_ciil_csv(path: str | Path) -> np.ndarray:
    """Read one CIIL CSV (no header, 8 integer columns in [-128, 127]) into an int8 (T, 8) array."""
    return read_recording_csv(path, N_CHANNELS)


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


def _folders_layout(base: Path, folders: Sequence[Path]) -> RecordingLayout:
    """A generic layout rooted at ``base`` reading exactly ``folders`` (in that order) as one person.

    The person is the root itself, so the ``subject`` group is empty; the session is the folder
    relative to ``base`` (``training``, ``trial_1``, ``test/trial_0``, or '' for ``base`` itself).
    """
    patterns = []
    for folder in folders:
        relative = folder.relative_to(base).as_posix()
        prefix = "" if relative == "." else f"(?P<session>{re.escape(relative)})/"
        patterns.append(f"(?P<subject>){prefix}{_FILE_PATTERN}")
    return RecordingLayout(root=base, patterns=tuple(patterns), class_map=CIIL_CLASS_MAP, name="CIIL")


def read_ciil_folder(folder: str | Path) -> list[tuple[int, int, np.ndarray]]:
    """Read every ``R_<rep>_C_<class>.csv`` of a folder as (ciil_class, rep, int8 (T, 8)), by (rep, class)."""
    folder = Path(folder)
    _check_metadata(folder)
    if not any(_FILE_NAME.match(path.name) for path in folder.iterdir()):
        raise ValueError(f"{folder}: no R_<rep>_C_<class>.csv files found")
    files = discover_recording_files(_folders_layout(folder, [folder]))
    return [(file.class_number, file.rep, read_ciil_csv(file.path)) for file in files]


def _check_metadata(folder: Path) -> None:
    """Raise when the folder's metadata.json gives a file another class name than its class number says."""
    expected_names = _metadata_class_names(folder)
    for path in sorted(folder.iterdir()):
        match = _FILE_NAME.match(path.name)
        name_in_metadata = expected_names.get(path.name)
        if not match or name_in_metadata is None:
            continue
        ciil_class = int(match.group(2))
        if ciil_class in CIIL_CLASSES and name_in_metadata != CIIL_CLASSES[ciil_class][0]:
            raise ValueError(
                f"{folder / 'metadata.json'}: {path.name} has class_name {name_in_metadata!r}, "
                f"expected {CIIL_CLASSES[ciil_class][0]!r} for class {ciil_class}"
            )


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
    ``rep`` counts repetitions of a class across folders from 0. Every class must be present.
    """
    subject_dir = Path(subject_dir)
    folders = subject_recording_folders(subject_dir, include_shift_trials)
    for folder in folders:
        _check_metadata(folder)
        if not any(_FILE_NAME.match(path.name) for path in folder.iterdir()):
            raise ValueError(f"{folder}: no R_<rep>_C_<class>.csv files found")
    (repetitions,) = read_recordings(_folders_layout(subject_dir, folders)).values()
    count_of: dict[int, int] = {}
    running = []
    for rep in repetitions:
        running.append(CiilRepetition(rep.label, count_of.get(rep.label, 0), rep.emg))
        count_of[rep.label] = count_of.get(rep.label, 0) + 1
    return running


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
    Every person is read before the first file is written.
    """
    root, out_dir = Path(root), Path(out_dir)
    if not 0 <= n_train_users <= len(subjects):
        raise ValueError(f"n_train_users={n_train_users}: expected between 0 and the {len(subjects)} subjects given")
    people: dict[str, tuple[Path, list[CiilRepetition]]] = {}
    for subject in subjects:
        subject_dir = Path(subject) if Path(subject).is_absolute() else root / subject
        name = f"{subject_dir.parent.name}/{subject_dir.name}"
        if name in people:
            raise ValueError(f"subjects: {name} is given twice ({people[name][0]} and {subject_dir})")
        people[name] = (subject_dir, read_ciil_subject(subject_dir, include_shift_trials))
    names = list(people)
    summary = write_recordings_as_epn612(
        out_dir,
        training={name: people[name][1] for name in names[:n_train_users]},
        testing={name: people[name][1] for name in names[n_train_users:]},
        activity_factor=activity_factor,
        source="CIIL",
    )
    users = [
        {"user": u["user"], "subject_dir": str(people[u["subject"]][0]), "samples": u["samples"], "path": u["path"]}
        for u in summary["users"]
    ]
    return {"source": "ciil", "root": str(root), "out_dir": str(out_dir), "users": users}

"""Reader for folders of per-person recordings in libemg's CSV layout, and their conversion to EPN-612 JSON.

libemg's data handler reads one CSV per repetition (``R_<rep>_C_<class>.csv``: no header, one row per
sample, one integer column per channel) and takes the person, repetition, class and session from the
file's path. Here the same is described by a :class:`RecordingLayout`: a root folder, regular
expressions matched against the path relative to the root (named groups ``subject``, ``rep``,
``class`` and optionally ``session``), a class map (class number -> EPN-612 gesture name) and the
channel count. :func:`read_recordings` discovers and reads every matching file into per-person lists
of :class:`Repetition`; :func:`write_recordings_as_epn612` writes them in the EMG-EPN-612 JSON layout
(as the CIIL converter does, see ``emgcore.data.ciil``, which is a preset of this reader).

Every bad input raises ValueError naming the file (and the 1-based row, i.e. line, of a bad CSV row)
and what was expected; everything is read and checked before the first JSON file is written, and each
JSON file is written to a temp file and renamed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
from emgcore.data.labels import FS_HZ, GESTURES, LABEL_OF, N_CHANNELS, USED_CLASSES

#: gesture names a class may map to (pinch is stored by the EPN-612 reader but never used)
MAPPABLE_GESTURES = tuple(GESTURES[code] for code in USED_CLASSES)
REQUIRED_GROUPS = ("subject", "rep", "class")
OPTIONAL_GROUPS = ("session",)
CONFIG_KEYS = {
    "root": "folder the patterns are matched under (relative paths: against base_dir)",
    "patterns": "regular expression or list of them, matched against the path relative to root",
    "classes": "mapping class number -> EPN-612 gesture name",
    "channels": f"columns per CSV row (optional, default {N_CHANNELS})",
    "name": "short name of the data set (optional)",
}
_REQUIRED_KEYS = ("root", "patterns", "classes")
_INT8_MIN, _INT8_MAX = -128, 127


class Repetition(NamedTuple):
    """One CSV repetition: EPN-612 label code, repetition number from the path, session ('' if none), int8 (T, C)."""

    label: int
    rep: int
    session: str
    emg: np.ndarray


class RecordingFile(NamedTuple):
    """One file the layout matched, before reading: who, which session/rep/class, and where."""

    subject: str
    session: str
    rep: int
    class_number: int
    label: int
    path: Path
    pattern: int


@dataclass(frozen=True)
class RecordingLayout:
    """Where a data set's CSV recordings are and how their paths say person, session, repetition and class.

    ``patterns`` are tried in order against each file's path relative to ``root`` (POSIX separators,
    whole-path match); the first that matches decides. Recording order within a person is pattern
    order, then session, then repetition, then class number (numbers inside names sort numerically).
    ``class_map`` may be given as a mapping; it is stored as sorted (class number, gesture name) pairs.
    """

    root: Path
    patterns: tuple[str, ...]
    class_map: tuple[tuple[int, str], ...]
    channels: int = N_CHANNELS
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        patterns = (self.patterns,) if isinstance(self.patterns, str) else tuple(self.patterns)
        if not patterns:
            raise ValueError("layout: patterns is empty, expected at least one regular expression")
        for number, pattern in enumerate(patterns, start=1):
            _check_pattern(pattern, f"layout: pattern {number}")
        object.__setattr__(self, "patterns", patterns)
        object.__setattr__(self, "class_map", _normalised_class_map(self.class_map))
        if isinstance(self.channels, bool) or not isinstance(self.channels, int) or self.channels < 1:
            raise ValueError(f"layout: channels={self.channels!r}, expected a positive integer")
        if not isinstance(self.name, str):
            raise ValueError(f"layout: name={self.name!r}, expected a string")

    @classmethod
    def from_config(cls, config: Mapping, base_dir: str | Path | None = None) -> RecordingLayout:
        """Build a layout from a config mapping (keys: see CONFIG_KEYS); a relative root is taken from ``base_dir``."""
        if not isinstance(config, Mapping):
            raise ValueError(f"layout config: expected a mapping with keys {sorted(CONFIG_KEYS)}, got {config!r}")
        unknown = sorted(str(key) for key in config if key not in CONFIG_KEYS)
        if unknown:
            raise ValueError(f"layout config: unknown keys {unknown}; allowed keys are {sorted(CONFIG_KEYS)}")
        missing = [key for key in _REQUIRED_KEYS if key not in config]
        if missing:
            described = "; ".join(f"{key}: {CONFIG_KEYS[key]}" for key in missing)
            raise ValueError(f"layout config: missing keys {missing} ({described})")
        root = config["root"]
        if not isinstance(root, (str, os.PathLike)) or not str(root):
            raise ValueError(f"layout config: root={root!r}, expected a folder path")
        root = Path(root)
        if base_dir is not None and not root.is_absolute():
            root = Path(base_dir) / root
        patterns = config["patterns"]
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, Sequence) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"layout config: patterns={patterns!r}, expected a regular expression or a list of them")
        classes = config["classes"]
        if not isinstance(classes, Mapping):
            raise ValueError(f"layout config: classes={classes!r}, expected a mapping class number -> gesture name")
        return cls(
            root=root,
            patterns=tuple(patterns),
            class_map=classes,
            channels=config.get("channels", N_CHANNELS),
            name=config.get("name", ""),
        )

    @property
    def label_of_class(self) -> dict[int, int]:
        """Class number -> EPN-612 label code."""
        return {number: LABEL_OF[gesture] for number, gesture in self.class_map}

    def compiled_patterns(self) -> list[re.Pattern]:
        """The patterns, compiled (checked at construction, so this cannot fail)."""
        return [re.compile(pattern) for pattern in self.patterns]


def _check_pattern(pattern: str, where: str) -> None:
    """Raise unless ``pattern`` compiles and has the required named groups and no unknown ones."""
    if not isinstance(pattern, str):
        raise ValueError(f"{where}: {pattern!r} is not a string")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: {pattern!r} is not a valid regular expression ({exc})") from None
    groups = set(compiled.groupindex)
    missing = [group for group in REQUIRED_GROUPS if group not in groups]
    if missing:
        raise ValueError(
            f"{where}: {pattern!r} lacks the named groups {missing}; expected (?P<subject>...), (?P<rep>...), "
            "(?P<class>...) and optionally (?P<session>...)"
        )
    unknown = sorted(groups - set(REQUIRED_GROUPS) - set(OPTIONAL_GROUPS))
    if unknown:
        raise ValueError(
            f"{where}: {pattern!r} has unknown named groups {unknown}; "
            f"allowed are {list(REQUIRED_GROUPS + OPTIONAL_GROUPS)}"
        )


def _normalised_class_map(class_map) -> tuple[tuple[int, str], ...]:
    """Class map as sorted (int class number, gesture name) pairs; raise on bad numbers, names or duplicates."""
    pairs = list(class_map.items()) if isinstance(class_map, Mapping) else list(class_map)
    if not pairs:
        raise ValueError("layout: the class map is empty, expected class number -> gesture name entries")
    normalised: dict[int, str] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"layout: class map entry {pair!r}, expected (class number, gesture name)")
        number, gesture = pair
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number < 0:
            raise ValueError(f"layout: class {number!r} in the class map, expected a non-negative integer")
        if gesture not in MAPPABLE_GESTURES:
            raise ValueError(f"layout: class {number} maps to {gesture!r}, expected one of {list(MAPPABLE_GESTURES)}")
        if int(number) in normalised:
            raise ValueError(f"layout: class {number} appears twice in the class map")
        normalised[int(number)] = gesture
    by_gesture: dict[str, list[int]] = {}
    for number, gesture in normalised.items():
        by_gesture.setdefault(gesture, []).append(number)
    shared = {gesture: numbers for gesture, numbers in by_gesture.items() if len(numbers) > 1}
    if shared:
        raise ValueError(f"layout: classes map to the same gesture {shared}; expected one class per gesture")
    return tuple(sorted(normalised.items()))


def natural_key(text: str) -> tuple:
    """Sort key that orders numbers inside names numerically: 'trial_2' before 'trial_10'."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


# --------------------------------------------------------------------------------------------
# one CSV file


def read_recording_csv(path: str | Path, channels: int = N_CHANNELS) -> np.ndarray:
    """Read one CSV (no header, ``channels`` integer columns in [-128, 127]) into an int8 (T, channels) array.

    Errors name the file and the 1-based row (= line of the file) that breaks the format.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read CSV file ({exc})") from exc
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError(f"{path}: empty CSV, expected rows of {channels} integers")
    fields = ",".join(lines).split(",")
    values = None
    if len(fields) == channels * len(lines):
        try:
            values = np.array(fields, dtype=np.int64).reshape(len(lines), channels)
        except (ValueError, OverflowError):
            values = None
    if values is None:
        _raise_first_malformed_row(path, lines, channels)
    bad_rows = np.flatnonzero(((values < _INT8_MIN) | (values > _INT8_MAX)).any(axis=1))
    if bad_rows.size:
        row = int(bad_rows[0])
        raise ValueError(f"{path}: row {row + 1}: values {values[row].tolist()} outside the int8 range [-128, 127]")
    return values.astype(np.int8)


def _raise_first_malformed_row(path: Path, lines: list[str], channels: int) -> None:
    """Find the first row that is not ``channels`` comma-separated int8 integers and raise naming it."""
    for number, line in enumerate(lines, start=1):
        cells = line.split(",")
        if len(cells) != channels:
            raise ValueError(
                f"{path}: row {number}: expected {channels} comma-separated integers, "
                f"got {len(cells)} fields ({line[:80]!r})"
            )
        values = []
        for column, cell in enumerate(cells, start=1):
            try:
                values.append(int(cell))
            except ValueError:
                raise ValueError(f"{path}: row {number}, column {column}: expected an integer, got {cell!r}") from None
        if not all(_INT8_MIN <= value <= _INT8_MAX for value in values):
            raise ValueError(f"{path}: row {number}: values {values} outside the int8 range [-128, 127]")
    raise ValueError(f"{path}: could not parse as rows of {channels} integers")


# --------------------------------------------------------------------------------------------
# discovery and reading


def discover_recording_files(layout: RecordingLayout, subjects: Iterable[str] | None = None) -> list[RecordingFile]:
    """Every file under the layout's root that a pattern matches, in recording order (no CSV is read).

    ``subjects`` keeps only those people (as the ``subject`` group spells them); each must be found.
    Raises on an unknown class number, a repetition found twice, or no matching file at all.
    """
    root = layout.root
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: recordings root folder not found")
    wanted = None if subjects is None else {str(subject) for subject in subjects}
    label_of_class = layout.label_of_class
    compiled = layout.compiled_patterns()
    found: dict[tuple, RecordingFile] = {}
    for path in _files_under(root):
        matched = _first_match(compiled, path.relative_to(root).as_posix())
        if matched is None:
            continue
        index, pattern, match = matched
        subject = match.group("subject") or ""
        if wanted is not None and subject not in wanted:
            continue
        session = (match.group("session") or "") if "session" in pattern.groupindex else ""
        rep = _number_in_path(path, match, "rep")
        class_number = _number_in_path(path, match, "class")
        if class_number not in label_of_class:
            raise ValueError(
                f"{path}: class {class_number} in the file name, expected one of {sorted(label_of_class)} "
                "(the layout's class map)"
            )
        key = (subject, session, rep, class_number)
        if key in found:
            raise ValueError(
                f"{path}: subject {subject!r}, session {session!r}, rep {rep}, class {class_number} was already "
                f"read from {found[key].path}; expected each repetition once (add a session group to the pattern?)"
            )
        found[key] = RecordingFile(subject, session, rep, class_number, label_of_class[class_number], path, index)
    if not found:
        which = "" if wanted is None else f" for subjects {sorted(wanted)}"
        raise ValueError(f"{root}: no files match the layout's patterns{which}: {list(layout.patterns)}")
    if wanted is not None:
        absent = sorted(wanted - {file.subject for file in found.values()}, key=natural_key)
        if absent:
            raise ValueError(f"{root}: no files of subjects {absent} match the layout's patterns")
    return sorted(
        found.values(),
        key=lambda f: (natural_key(f.subject), f.pattern, natural_key(f.session), f.rep, f.class_number),
    )


def _first_match(compiled: Sequence[re.Pattern], relative: str) -> tuple[int, re.Pattern, re.Match] | None:
    """(index, pattern, match) of the first pattern matching the whole relative path, or None."""
    for index, pattern in enumerate(compiled):
        match = pattern.fullmatch(relative)
        if match:
            return index, pattern, match
    return None


def _files_under(root: Path) -> list[Path]:
    """All files below ``root`` (symbolic links followed, each real folder visited once), sorted."""
    files = []
    visited = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in visited:
            subfolders[:] = []
            continue
        visited.add(real)
        files.extend(Path(folder) / name for name in names)
    return sorted(files)


def _number_in_path(path: Path, match: re.Match, group: str) -> int:
    """The integer a named group captured; raise naming the file when it is not a number."""
    text = match.group(group)
    if text is None or not text.isdigit():
        raise ValueError(f"{path}: the {group!r} group captured {text!r}, expected a non-negative integer")
    return int(text)


def read_recordings(layout: RecordingLayout, subjects: Iterable[str] | None = None) -> dict[str, list[Repetition]]:
    """Discover and read every recording: subject -> its repetitions in recording order.

    Subjects are ordered by name (numbers numerically). Every subject must have at least one
    repetition of every class in the class map (checked before any CSV is read).
    """
    files = discover_recording_files(layout, subjects)
    by_subject: dict[str, list[RecordingFile]] = {}
    for file in files:
        by_subject.setdefault(file.subject, []).append(file)
    class_map = dict(layout.class_map)
    for subject, subject_files in by_subject.items():
        missing = sorted(set(class_map) - {file.class_number for file in subject_files})
        if missing:
            named = ", ".join(f"{number} ({class_map[number]})" for number in missing)
            raise ValueError(
                f"{subject_files[0].path.parent}: subject {subject!r} has no recordings of class {named} in its "
                f"{len(subject_files)} files; expected every class of the class map {sorted(class_map)}"
            )
    return {
        subject: [
            Repetition(file.label, file.rep, file.session, read_recording_csv(file.path, layout.channels))
            for file in subject_files
        ]
        for subject, subject_files in by_subject.items()
    }


def split_by_session(recordings: Mapping[str, Sequence[Repetition]]) -> dict[str, list[Repetition]]:
    """One entry per (subject, session), keyed ``'<subject>/<session>'``: each re-donning as its own person."""
    split: dict[str, list[Repetition]] = {}
    for subject, repetitions in recordings.items():
        for rep in repetitions:
            key = f"{subject}/{rep.session}" if rep.session else subject
            split.setdefault(key, []).append(rep)
    return split


# --------------------------------------------------------------------------------------------
# activity span and rest level (for groundTruth)


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


def rest_level_of(repetitions: Sequence) -> float:
    """RMS (over all samples and channels) of a person's noGesture repetitions (anything with .label, .emg)."""
    rest = [rep.emg for rep in repetitions if rep.label == LABEL_OF["noGesture"]]
    if not rest:
        raise ValueError("no noGesture (No_Motion) repetitions: cannot set the rest level for the activity mask")
    stacked = np.concatenate(rest).astype(np.float64)
    return float(np.sqrt(np.mean(stacked**2)))


# --------------------------------------------------------------------------------------------
# EPN-612 JSON


def epn612_samples(repetitions: Sequence, activity_factor: float = 2.0) -> list[dict]:
    """EPN-612 sample dicts grouped by gesture (noGesture, fist, waveIn, waveOut, open), each in recording order.

    groundTruth of an active gesture is the span where the moving RMS exceeds ``activity_factor``
    times the person's own noGesture RMS (the whole repetition when nothing exceeds it).
    """
    rest_level = rest_level_of(repetitions)
    samples = []
    for rep in sorted(repetitions, key=lambda r: r.label):  # stable: recording order within a gesture
        bounds = None
        if rep.label != LABEL_OF["noGesture"]:
            bounds = activity_bounds(rep.emg, rest_level, activity_factor) or (0, len(rep.emg) - 1)
        samples.append(build_sample(rep.emg, GESTURES[rep.label], bounds, labelled=True))
    return samples


def sync_samples(repetitions: Sequence, count: int = 5) -> list[dict]:
    """The person's first waveOut repetitions as unlabelled synchronisation samples (EPN-612 uses waveOut)."""
    wave_out = [rep for rep in repetitions if rep.label == LABEL_OF["waveOut"]][:count]
    return [build_sample(rep.emg, "waveOut", (0, len(rep.emg) - 1), labelled=False) for rep in wave_out]


def write_recordings_as_epn612(
    out_dir: str | Path,
    training: Mapping[str, Sequence],
    testing: Mapping[str, Sequence] | None = None,
    activity_factor: float = 2.0,
    source: str = "libemg-csv",
) -> dict:
    """Write people in the EPN-612 JSON layout: ``training`` people as trainingJSON/user1.., ``testing`` as testingJSON.

    Each repetition becomes one labelled sample of ``trainingSamples`` (grouped by gesture in EPN
    order, see :func:`epn612_samples`); ``testingSamples`` is empty; the synchronisation block holds
    copies of the first five waveOut repetitions, unlabelled; ``userInfo.source`` is
    ``'<source> <subject>'``. Repetitions are anything with ``.label`` and ``.emg`` (int8 (T, 8)).
    Every document is built (and so checked) before the first file is written; files are atomic.
    Returns a summary: the users written, each with its subject, sample count and path.
    """
    out_dir = Path(out_dir)
    groups = {"training": dict(training), "testing": dict(testing or {})}
    documents = []
    for group, people in groups.items():
        for number, (subject, repetitions) in enumerate(people.items(), start=1):
            document = _user_document(f"user{number}", subject, repetitions, activity_factor, source)
            documents.append((group, number, subject, document))
    for folder in GROUP_FOLDERS.values():  # both folders exist even when a group has no users
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    users = []
    for group, number, subject, (document, n_samples) in documents:
        path = write_json_atomic(user_json_path(out_dir, group, number), document)
        users.append({"user": f"{group}/user{number}", "subject": subject, "samples": n_samples, "path": str(path)})
    return {"source": source, "out_dir": str(out_dir), "users": users}


def _user_document(
    user_name: str, subject: str, repetitions: Sequence, activity_factor: float, source: str
) -> tuple[dict, int]:
    """One person's EPN-612 document and its sample count; raise naming the subject on bad repetitions."""
    if not repetitions:
        raise ValueError(f"subject {subject!r}: no repetitions to write")
    for rep in repetitions:
        emg = np.asarray(rep.emg)
        if emg.dtype != np.int8 or emg.ndim != 2 or emg.shape[1] != N_CHANNELS or len(emg) == 0:
            raise ValueError(
                f"subject {subject!r}: a repetition is {emg.dtype} {emg.shape}, "
                f"expected int8 (T>0, {N_CHANNELS}) for the EPN-612 layout"
            )
    try:
        samples = epn612_samples(repetitions, activity_factor)
    except ValueError as exc:
        raise ValueError(f"subject {subject!r}: {exc}") from None
    document = build_user_document(
        user_name=user_name,
        training_samples=samples,
        testing_samples=[],
        sync_samples=sync_samples(repetitions),
        user_info={"source": f"{source} {subject}"},
        recording_time_s=max(len(rep.emg) for rep in repetitions) / FS_HZ,
    )
    return document, len(samples)

"""Reader for the Hyser HD-sEMG pattern-recognition set (PhysioNet "hd-semg" 1.0.0, `pr_dataset`).

Layout read (one folder per subject and session, subjects numbered from 01 on disk)::

    pr_dataset/subjectNN_sessionS/{task}_{kind}_sampleK.{dat,hea}    WFDB records, K = 1, 2, ...
    pr_dataset/subjectNN_sessionS/label_{task}.txt                  comma-separated 1-based gesture
                                                                    ids, one per sample K, in order

with `task` in {dynamic, maintenance} and `kind` in {raw, preprocess}. Each record holds 256
channels (four 8 x 8 electrode arrays) sampled at 2048 Hz, in physical units (mV). Subjects are
addressed by 0-based ids here (folder `subject01` is subject 0), like every other reader of the
project. Records are read one at a time with `wfdb`; only the gestures asked for are read.

Channel-to-grid map (`default_grid_map`): the 256 channels are laid on a 16 x 16 grid that keeps
the electrode topology, the four arrays as a 2 x 2 block arrangement::

    rows 0-7  : array 1 (channels   0- 63) | array 2 (channels  64-127)
    rows 8-15 : array 3 (channels 128-191) | array 4 (channels 192-255)

and, within an array, row-major numbering: grid cell (r, c) holds channel
`64 * (2 * (r // 8) + c // 8) + 8 * (r % 8) + (c % 8)` (0-based; WFDB name `ch{index + 1}`).
Arrays 1-2 are taken as the extensor pair and 3-4 as the flexor pair, so grid rows run across the
two muscle groups and grid columns along the forearm. This is the reader's documented default,
not read from the data files: where the electrode numbering of the recordings differs, pass a
different `grid_map` (config) to `emgcore.disentangle.recordings.hyser_trials`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HYSER_FS = 2048
HYSER_CHANNELS = 256
#: grid of the default channel map: a 2 x 2 arrangement of 8 x 8 arrays
HYSER_GRID_SHAPE = (16, 16)
ARRAY_SIDE = 8
TASKS = ("dynamic", "maintenance")
KINDS = ("raw", "preprocess")


class HyserError(ValueError):
    """A Hyser file is missing, unreadable or inconsistent with the expected layout."""


@dataclass
class HyserTrial:
    """One Hyser sample record: 0-based subject, session, 1-based gesture id, sample number K,
    float32 signal (T, 256) in physical units, sampling rate in Hz."""

    subject: int
    session: int
    gesture: int
    sample: int
    signal: np.ndarray
    fs: float


def default_grid_map() -> np.ndarray:
    """The default (16, 16) channel-index grid described in the module docstring (no empty cells)."""
    r, c = np.indices(HYSER_GRID_SHAPE)
    array = 2 * (r // ARRAY_SIDE) + c // ARRAY_SIDE
    return (ARRAY_SIDE * ARRAY_SIDE * array + ARRAY_SIDE * (r % ARRAY_SIDE) + c % ARRAY_SIDE).astype(np.int64)


def subject_folder(root: str | Path, subject: int, session: int) -> Path:
    """Folder of a 0-based subject's session, e.g. subject 0 session 1 -> `subject01_session1`."""
    return Path(root) / f"subject{int(subject) + 1:02d}_session{int(session)}"


def record_name(task: str, kind: str, sample: int) -> str:
    """WFDB record name (no extension) of sample K, e.g. `dynamic_preprocess_sample3`."""
    return f"{task}_{kind}_sample{int(sample)}"


def label_filename(task: str) -> str:
    """Name of a task's label file, e.g. `label_dynamic.txt`."""
    return f"label_{task}.txt"


def read_labels(path: str | Path) -> np.ndarray:
    """Gesture ids (1-based ints) of a label file: comma- (or whitespace-) separated integers.

    A trailing comma or newline is tolerated; an empty file, an empty field, a non-integer or an
    id below 1 raise HyserError naming the file and the 1-based position of the offending field.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise HyserError(f"{path}: label file not found") from None
    fields = [f.strip() for f in re.split(r"[,\n\r]", text.strip().rstrip(","))]
    if fields == [""]:
        raise HyserError(f"{path}: label file is empty (expected comma-separated 1-based gesture ids)")
    tokens = [t for f in fields for t in (f.split() or [""])]
    ids = np.empty(len(tokens), dtype=np.int64)
    for i, tok in enumerate(tokens):
        try:
            ids[i] = int(tok)
        except ValueError:
            raise HyserError(f"{path}: field {i + 1} is {tok!r}, expected an integer gesture id (1-based)") from None
        if ids[i] < 1:
            raise HyserError(f"{path}: field {i + 1} is {ids[i]}, expected a gesture id >= 1")
    return ids


def _check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise HyserError(f"{what} must be one of {list(allowed)}, got {value!r}")
    return value


def _sample_files(folder: Path, task: str, kind: str) -> dict[int, set[str]]:
    """Sample number K -> extensions found ({'dat', 'hea'}) for the task/kind records of a folder."""
    pattern = re.compile(rf"^{re.escape(task)}_{re.escape(kind)}_sample(\d+)\.(dat|hea)$")
    found: dict[int, set[str]] = {}
    for p in folder.iterdir():
        m = pattern.match(p.name)
        if m:
            found.setdefault(int(m.group(1)), set()).add(m.group(2))
    return found


def discover_subjects(root: str | Path) -> list[int]:
    """0-based ids of the subjects that have at least one `subjectNN_sessionS` folder under root."""
    root = Path(root)
    if not root.is_dir():
        raise HyserError(f"{root}: Hyser root folder not found")
    ids = {int(m.group(1)) - 1 for p in root.iterdir() if (m := re.match(r"^subject(\d+)_session\d+$", p.name))}
    return sorted(ids)


def _check_gestures(gestures: Iterable[int] | None) -> set[int] | None:
    if gestures is None:
        return None
    ids = [int(g) for g in gestures]
    if not ids or min(ids) < 1 or len(set(ids)) != len(ids):
        raise HyserError(f"gestures must be distinct 1-based gesture ids, got {ids}")
    return set(ids)


def read_record(
    path: str | Path, fs: float | None = HYSER_FS, n_channels: int = HYSER_CHANNELS
) -> tuple[np.ndarray, float]:
    """Read one WFDB record (path without extension) -> (float32 signal (T, n_channels), fs).

    Checks that both `.dat` and `.hea` exist, the channel count, the sampling rate (when `fs` is not
    None) and that the physical signal is finite; every failure names the file.
    """
    import wfdb  # imported here so the rest of the project does not need wfdb

    path = Path(path)
    for ext in ("hea", "dat"):
        if not path.with_name(f"{path.name}.{ext}").is_file():
            raise HyserError(f"{path}.{ext}: missing WFDB {'header' if ext == 'hea' else 'signal'} file")
    try:  # one rdrecord (its header parse is the slow part of wfdb, so no separate rdheader)
        rec = wfdb.rdrecord(str(path), physical=True, return_res=32)
    except (ValueError, OSError, IndexError, KeyError, TypeError) as e:  # wfdb's errors on malformed files
        raise HyserError(f"{path}: unreadable WFDB record ({type(e).__name__}: {e})") from None
    if rec.n_sig != n_channels:
        raise HyserError(f"{path}.hea: {rec.n_sig} channels, expected {n_channels}")
    if fs is not None and not np.isclose(float(rec.fs), float(fs)):
        raise HyserError(f"{path}.hea: sampling rate {rec.fs} Hz, expected {fs} Hz")
    sig = rec.p_signal
    if sig is None or sig.ndim != 2 or sig.shape[1] != n_channels:
        shape = None if sig is None else sig.shape
        raise HyserError(f"{path}.dat: signal of shape {shape}, expected (T, {n_channels})")
    sig = np.ascontiguousarray(sig, dtype=np.float32)
    bad = int((~np.isfinite(sig)).sum())
    if bad:
        raise HyserError(f"{path}.dat: {bad} non-finite samples (WFDB missing-value codes?)")
    return sig, float(rec.fs)


def iter_hyser_trials(
    root: str | Path,
    subjects: Iterable[int] | None,
    sessions: Iterable[int] = (1, 2),
    task: str = "dynamic",
    kind: str = "preprocess",
    gestures: Iterable[int] | None = None,
    fs: float | None = HYSER_FS,
) -> Iterator[HyserTrial]:
    """Yield the trials of `subjects` (0-based; None = all found) one record at a time.

    Order: subject, session, sample K. Only gestures in `gestures` (1-based ids; None = all) are
    read. Before reading a session the folder is checked: every sample record needs both `.dat` and
    `.hea`, the samples must be numbered 1..N, and the label file must hold exactly N ids.
    `root` is the `pr_dataset` folder or its parent.
    """
    root = Path(root)
    if (root / "pr_dataset").is_dir():
        root = root / "pr_dataset"
    _check_choice(task, TASKS, "task")
    _check_choice(kind, KINDS, "kind")
    keep = _check_gestures(gestures)
    subjects = discover_subjects(root) if subjects is None else [int(s) for s in subjects]
    sessions = [int(s) for s in sessions]
    for subject in subjects:
        if subject < 0:
            raise HyserError(f"subject ids are 0-based and >= 0, got {subject}")
        for session in sessions:
            folder = subject_folder(root, subject, session)
            if not folder.is_dir():
                raise HyserError(f"{folder}: folder of subject {subject} (0-based) session {session} not found")
            label_path = folder / label_filename(task)
            labels = read_labels(label_path)
            found = _sample_files(folder, task, kind)
            for k in sorted(found):
                for ext in ("hea", "dat"):
                    if ext not in found[k]:
                        raise HyserError(
                            f"{folder / record_name(task, kind, k)}.{ext}: missing (its "
                            f"{'.dat' if ext == 'hea' else '.hea'} is present)"
                        )
            if len(labels) != len(found):
                raise HyserError(
                    f"{label_path}: {len(labels)} labels but {len(found)} {task}_{kind} sample records in {folder}"
                )
            if sorted(found) != list(range(1, len(found) + 1)):
                gaps = sorted(set(range(1, len(found) + 1)) - set(found))
                raise HyserError(f"{folder}: {task}_{kind} samples must be numbered 1..{len(found)}; missing {gaps}")
            for k, gesture in enumerate(labels, start=1):
                if keep is not None and int(gesture) not in keep:
                    continue
                signal, rate = read_record(folder / record_name(task, kind, k), fs=fs)
                yield HyserTrial(subject, session, int(gesture), k, signal, rate)

"""Reader for the EMG-EPN-612 JSON layout (`trainingJSON/userN/userN.json`, `testingJSON/...`).

Only the EMG channels, `gestureName` and `groundTruth` of each sample are read; every other field
(userInfo, IMU, quaternions, myoDetection, the synchronisation block, ...) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from emgcore.data.labels import GESTURES, LABEL_OF, N_CHANNELS, REST
from emgcore.data.store import REP_COLUMNS, UserRecording

GROUPS = ("training", "testing")
CHANNEL_KEYS = tuple(f"ch{i}" for i in range(1, N_CHANNELS + 1))
_USER_DIR = re.compile(r"^user(\d+)$")
_SAMPLE_KEY = re.compile(r"^idx_(\d+)$")


class EPNFormatError(ValueError):
    """An EPN-612 file breaks the expected layout; the message names the file and sample key."""


@dataclass(frozen=True)
class UserEntry:
    """One user's JSON file and its global 0-based subject id."""

    group: str  # "training" or "testing"
    number: int  # N in userN (1-based)
    path: Path
    subject: int

    @property
    def name(self) -> str:
        return f"{self.group}/user{self.number}"


def discover_users(data_dir: str | Path) -> list[UserEntry]:
    """List all users under `data_dir`, training users first, with global subject ids.

    Training userN -> N-1; testing userN -> n_train + N-1, where n_train is the number of training
    users (their highest N, so that ids stay stable if some training folders are absent).
    """
    data_dir = Path(data_dir)
    found: dict[str, dict[int, Path]] = {}
    for group in GROUPS:
        gdir = data_dir / f"{group}JSON"
        if not gdir.is_dir():
            raise EPNFormatError(f"{gdir}: folder not found (expected {group}JSON/userN/userN.json)")
        found[group] = {}
        for d in sorted(gdir.iterdir()):
            m = _USER_DIR.match(d.name)
            if not d.is_dir() or not m:
                continue
            n = int(m.group(1))
            path = d / f"{d.name}.json"
            if not path.is_file():
                raise EPNFormatError(f"{path}: user file not found")
            if n in found[group]:
                raise EPNFormatError(f"{path}: the same user appears twice ({group} user{n} is also {found[group][n]})")
            found[group][n] = path
    if not found["training"]:
        raise EPNFormatError(f"{data_dir / 'trainingJSON'}: no userN folders found")
    n_train = max(found["training"])
    users = [UserEntry("training", n, p, n - 1) for n, p in sorted(found["training"].items())]
    users += [UserEntry("testing", n, p, n_train + n - 1) for n, p in sorted(found["testing"].items())]
    return users


def _sample_order(block: dict, path: Path, block_name: str) -> list[str]:
    keyed = []
    for key in block:
        m = _SAMPLE_KEY.match(key)
        if not m:
            raise EPNFormatError(f"{path}: {block_name}: unexpected sample key {key!r} (expected idx_<n>)")
        keyed.append((int(m.group(1)), key))
    return [k for _, k in sorted(keyed)]


def _read_emg(sample: dict, where: str) -> np.ndarray:
    """The (L, 8) int8 EMG of one sample, with every check the layout needs."""
    emg = sample.get("emg")
    if not isinstance(emg, dict):
        raise EPNFormatError(f"{where}: field 'emg' missing or not an object")
    chans = []
    for ch in CHANNEL_KEYS:
        if ch not in emg:
            raise EPNFormatError(f"{where}: emg.{ch} missing (expected channels ch1..ch8)")
        values = emg[ch]
        if not isinstance(values, list):
            raise EPNFormatError(f"{where}: emg.{ch} must be a list of integers")
        chans.append(values)
    lengths = {len(c) for c in chans}
    if len(lengths) != 1:
        detail = ", ".join(f"{ch}={len(c)}" for ch, c in zip(CHANNEL_KEYS, chans))
        raise EPNFormatError(f"{where}: emg channels have unequal lengths ({detail})")
    if lengths == {0}:
        raise EPNFormatError(f"{where}: emg is empty (0 samples)")
    try:
        arr = np.array(chans)
    except (ValueError, TypeError, OverflowError) as e:
        raise EPNFormatError(f"{where}: emg values must be integers in [-128, 127] ({e})") from None
    if arr.dtype.kind not in "iu":
        bad = _first_non_integer(chans)
        raise EPNFormatError(f"{where}: emg.{bad[0]}[{bad[1]}] = {bad[2]!r} is not an integer (expected int8)")
    if arr.min() < -128 or arr.max() > 127:
        ch, i = np.unravel_index(int(np.argmax((arr < -128) | (arr > 127))), arr.shape)
        raise EPNFormatError(
            f"{where}: emg.{CHANNEL_KEYS[ch]}[{i}] = {int(arr[ch, i])} outside [-128, 127] (signed 8-bit)"
        )
    return np.ascontiguousarray(arr.T.astype(np.int8))


def _first_non_integer(chans: list[list]) -> tuple[str, int, object]:
    for ch, values in zip(CHANNEL_KEYS, chans):
        for i, v in enumerate(values):
            if not isinstance(v, int) or isinstance(v, bool):
                return ch, i, v
    return CHANNEL_KEYS[0], 0, None


def _activity_bounds(sample: dict, n: int, where: str) -> tuple[int, int]:
    """pb, pe from groundTruth: first 1, last 1 + 1; (-1, -1) without groundTruth."""
    gt = sample.get("groundTruth")
    if gt is None:
        return -1, -1
    if not isinstance(gt, list) or len(gt) != n:
        got = len(gt) if isinstance(gt, list) else type(gt).__name__
        raise EPNFormatError(f"{where}: groundTruth must be a 0/1 list of {n} values (the emg length), got {got}")
    mask = np.asarray(gt)
    if mask.dtype.kind not in "iub" or not np.isin(mask, (0, 1)).all():
        raise EPNFormatError(f"{where}: groundTruth must hold only 0 and 1")
    on = np.flatnonzero(mask)
    if on.size == 0:
        return -1, -1
    return int(on[0]), int(on[-1]) + 1


def read_user_json(path: str | Path, subject: int, group: str) -> UserRecording:
    """Parse one user's JSON into a UserRecording (not yet written anywhere).

    Training users contribute both blocks; testing users only `trainingSamples`. Samples without a
    `gestureName` in `testingSamples` are unlabelled (as in the real dataset) and skipped.
    """
    path = Path(path)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise EPNFormatError(f"{path}: invalid or truncated JSON ({e})") from None
    if not isinstance(doc, dict):
        raise EPNFormatError(f"{path}: top level must be a JSON object")
    blocks = ["trainingSamples", "testingSamples"] if group == "training" else ["trainingSamples"]
    if "trainingSamples" not in doc:
        raise EPNFormatError(f"{path}: field 'trainingSamples' missing")

    signals, rows = [], []
    offset = 0
    rep_counter = {g: 0 for g in GESTURES}
    for block_id, block_name in enumerate(("trainingSamples", "testingSamples")):
        if block_name not in blocks:
            continue
        block = doc.get(block_name) or {}
        if not isinstance(block, dict):
            raise EPNFormatError(f"{path}: {block_name} must be an object of idx_<n> samples")
        for key in _sample_order(block, path, block_name):
            where = f"{path}: {block_name}/{key}"
            sample = block[key]
            if not isinstance(sample, dict):
                raise EPNFormatError(f"{where}: sample must be an object")
            name = sample.get("gestureName")
            if name is None:
                if block_name == "testingSamples":
                    continue  # unlabelled, as the real dataset's testing block
                raise EPNFormatError(f"{where}: gestureName missing (expected one of {list(GESTURES)})")
            if name not in LABEL_OF:
                raise EPNFormatError(f"{where}: unknown gestureName {name!r} (expected one of {list(GESTURES)})")
            emg = _read_emg(sample, where)
            label = LABEL_OF[name]
            pb, pe = (-1, -1) if label == REST else _activity_bounds(sample, len(emg), where)
            rows.append((offset, len(emg), label, rep_counter[name], block_id, pb, pe, subject))
            rep_counter[name] += 1
            signals.append(emg)
            offset += len(emg)
    if not rows:
        raise EPNFormatError(f"{path}: no labelled samples in {' / '.join(blocks)}")
    reps = pd.DataFrame(rows, columns=list(REP_COLUMNS))
    for col, dtype in REP_COLUMNS.items():
        reps[col] = reps[col].astype(dtype)
    return UserRecording(
        subject=subject,
        user=f"{group}/{path.stem}",
        source=str(path),
        signal=np.concatenate(signals),
        reps=reps,
    )

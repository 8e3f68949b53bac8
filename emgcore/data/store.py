"""Per-user int8 store: one HDF5 file per user with the signal and a repetition table.

The signal of all repetitions lies back to back as int8 (8 channels); the small repetition table
says where each one starts and what it is. Windows are cut from it lazily (see `emgcore.preprocess.window_dataset`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from emgcore.data.labels import N_CHANNELS
from emgcore.io import write_atomic

#: repetition-table columns and their on-disk dtypes
REP_COLUMNS = {
    "offset": np.int64,
    "length": np.int32,
    "label": np.int8,
    "rep_index": np.int32,
    "block": np.int8,
    "pb": np.int32,
    "pe": np.int32,
    "subject": np.int32,
}


class StoreError(ValueError):
    """A store file is missing, unreadable or inconsistent."""


@dataclass
class UserRecording:
    """One user's recordings: int8 signal (T, 8) and the repetition table (a DataFrame)."""

    subject: int
    user: str
    source: str
    signal: np.ndarray
    reps: pd.DataFrame
    fs: int = 200

    def repetition(self, row: int) -> np.ndarray:
        """The int8 samples (L, 8) of repetition `row` of the table."""
        off = int(self.reps["offset"].iat[row])
        return self.signal[off : off + int(self.reps["length"].iat[row])]

    def validate(self, where: str = "") -> None:
        """Check that the table and the signal agree; raise StoreError naming `where` if not."""
        where = where or self.user
        if self.signal.dtype != np.int8 or self.signal.ndim != 2:
            raise StoreError(f"{where}: signal must be a 2-D int8 array, got {self.signal.dtype} {self.signal.shape}")
        missing = [c for c in REP_COLUMNS if c not in self.reps.columns]
        if missing:
            raise StoreError(f"{where}: repetition table lacks columns {missing}")
        ends = self.reps["offset"].to_numpy(np.int64) + self.reps["length"].to_numpy(np.int64)
        if len(ends) and (ends.max() > len(self.signal) or self.reps["offset"].min() < 0):
            raise StoreError(f"{where}: repetition offsets/lengths exceed the signal ({len(self.signal)} samples)")


def store_filename(subject: int) -> str:
    """File name of a subject's store, e.g. `subject0042.h5`."""
    return f"subject{int(subject):04d}.h5"


def write_user_store(path: str | Path, rec: UserRecording) -> None:
    """Write one user atomically: a temp file in the same folder, then rename."""
    rec.validate(str(path))

    def write(tmp: str) -> None:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("signal", data=np.ascontiguousarray(rec.signal, dtype=np.int8))
            grp = f.create_group("reps")
            for col, dtype in REP_COLUMNS.items():
                grp.create_dataset(col, data=rec.reps[col].to_numpy().astype(dtype))
            f.attrs["subject"] = int(rec.subject)
            f.attrs["user"] = rec.user
            f.attrs["source"] = rec.source
            f.attrs["fs"] = int(rec.fs)

    write_atomic(path, write)


def _open(path: str | Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise StoreError(f"{path}: store file not found") from None
    except OSError as e:
        raise StoreError(f"{path}: not a readable HDF5 store ({e})") from None


def read_reps(path: str | Path) -> pd.DataFrame:
    """Only the repetition table of a store file (cheap: no signal read)."""
    with _open(path) as f:
        if "reps" not in f:
            raise StoreError(f"{path}: missing group 'reps'")
        missing = [c for c in REP_COLUMNS if c not in f["reps"]]
        if missing:
            raise StoreError(f"{path}: 'reps' lacks datasets {missing}")
        return pd.DataFrame({c: f["reps"][c][()] for c in REP_COLUMNS})


def load_signal(path: str | Path) -> np.ndarray:
    """Only the int8 signal (T, 8) of a store file."""
    with _open(path) as f:
        if "signal" not in f:
            raise StoreError(f"{path}: missing dataset 'signal'")
        sig = f["signal"][()]
    if sig.dtype != np.int8 or sig.ndim != 2 or sig.shape[1] != N_CHANNELS:
        raise StoreError(f"{path}: 'signal' must be int8 (T, {N_CHANNELS}), got {sig.dtype} {sig.shape}")
    return sig


def read_user_store(path: str | Path) -> UserRecording:
    """Read one user's store file back into a UserRecording."""
    reps = read_reps(path)
    signal = load_signal(path)
    with _open(path) as f:
        attrs = dict(f.attrs)
    rec = UserRecording(
        subject=int(attrs.get("subject", -1)),
        user=str(attrs.get("user", "")),
        source=str(attrs.get("source", "")),
        signal=signal,
        reps=reps,
        fs=int(attrs.get("fs", 200)),
    )
    rec.validate(str(path))
    return rec


def iter_store(store_dir: str | Path, subjects) -> Iterator[UserRecording]:
    """Yield the recordings of `subjects` one at a time (keeps memory at one user)."""
    for s in subjects:
        yield read_user_store(Path(store_dir) / store_filename(s))

"""EPN-612 JSON folder -> one int8 HDF5 store per user plus a manifest CSV."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from emgcore.data.epn612 import UserEntry, discover_users, read_user_json
from emgcore.data.labels import PINCH, REST
from emgcore.data.store import store_filename, write_user_store
from emgcore.io import write_csv_atomic

MANIFEST_COLUMNS = [
    "subject",
    "user",
    "group",
    "number",
    "store",
    "n_reps",
    "n_samples",
    "n_rest",
    "n_active",
    "n_pinch",
]


def ingest_user(entry: UserEntry, store_dir: str | Path) -> dict:
    """Read one user's JSON and write its store; returns the user's manifest row."""
    rec = read_user_json(entry.path, entry.subject, entry.group)
    out = Path(store_dir) / store_filename(entry.subject)
    write_user_store(out, rec)
    labels = rec.reps["label"]
    return {
        "subject": entry.subject,
        "user": entry.name,
        "group": entry.group,
        "number": entry.number,
        "store": out.name,
        "n_reps": len(rec.reps),
        "n_samples": len(rec.signal),
        "n_rest": int((labels == REST).sum()),
        "n_active": int(((labels != REST) & (labels != PINCH)).sum()),
        "n_pinch": int((labels == PINCH).sum()),
    }


def _ingest_one(args: tuple[UserEntry, str]) -> dict:
    return ingest_user(*args)


def ingest_epn612(
    data_dir: str | Path,
    store_dir: str | Path,
    manifest_path: str | Path,
    workers: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Ingest every user of an EPN-612-layout folder; stops at the first bad file with its error.

    A user whose file is bad gets no store file (stores are written atomically); the manifest is
    written only when every user succeeded.
    """
    users = discover_users(data_dir)
    Path(store_dir).mkdir(parents=True, exist_ok=True)
    jobs = [(u, str(store_dir)) for u in users]
    bar = dict(total=len(jobs), desc="ingest", unit="user", disable=not progress)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(tqdm(pool.map(_ingest_one, jobs, chunksize=4), **bar))
    else:
        rows = [_ingest_one(j) for j in tqdm(jobs, **bar)]
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values("subject", ignore_index=True)
    write_csv_atomic(manifest, manifest_path)
    return manifest


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a manifest written by `ingest_epn612`, checking its columns."""
    df = pd.read_csv(path)
    missing = [c for c in MANIFEST_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: manifest lacks columns {missing}")
    return df

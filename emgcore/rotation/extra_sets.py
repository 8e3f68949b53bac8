"""Extra evaluation sets of the rotation experiment: more recordings of the dataset's own training people.

CIIL's ElectrodeShift people took the armband off and put it back before each ``trial_<k>``: every
trial is a new placement. Such a set is described like ``libemg_csv.training`` (regular expressions
with subject / rep / class / session groups, a class map); each (person, session) becomes one
*unit* of its own store (a new placement is a new stream), windowed like the test users (the
experiment's variant, the training users' rest threshold, the test stride). ``units.csv`` says who
each unit is: the person, the session, the person's subject id in the main dataset and whether the
cross-user models trained on that person's main recording (``in_training``).
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd

from emgcore.data.epn612 import UserEntry
from emgcore.data.ingest import ingest_user
from emgcore.data.libemg_csv import (
    RecordingLayout,
    discover_recording_files,
    read_recordings,
    split_by_session,
    write_recordings_as_epn612,
)
from emgcore.data.store import iter_store
from emgcore.io import write_csv_atomic
from emgcore.preprocess.window_index import build_window_index, save_window_index

STORE = "store"
WINDOWS = "windows.npz"
UNITS = "units.csv"


def main_subject_ids(root: str | Path, training_layout: Mapping) -> dict[str, int]:
    """Person name -> subject id of the main dataset's training users (the order libemg_csv_to_epn612 numbers them)."""
    layout = RecordingLayout.from_config({"root": root, "name": "training", **training_layout})
    names = list(dict.fromkeys(file.subject for file in discover_recording_files(layout)))
    return {name: position for position, name in enumerate(names)}


def build_extra_set(
    out_dir: str | Path,
    root: str | Path,
    name: str,
    set_layout: Mapping,
    training_layout: Mapping,
    train_subjects: Collection[int],
    variant: str,
    window: int,
    stride: int,
    rest_subsample: int,
    threshold: float | None,
) -> pd.DataFrame:
    """Write ``out_dir`` (store/, windows.npz, units.csv) for one extra set; the folder appears whole or not at all."""
    recordings = read_recordings(RecordingLayout.from_config({"root": root, "name": name, **set_layout}))
    known = main_subject_ids(root, training_layout)
    strangers = sorted(set(recordings) - set(known))
    if strangers:
        raise ValueError(
            f"rotation.extra_sets.{name}: people {strangers[:5]} are not training people of libemg_csv.training "
            f"(whose people are {list(known)[:10]}...); an extra set re-records the dataset's own people"
        )
    units = split_by_session(recordings)
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    summary = write_recordings_as_epn612(tmp / "raw", units, source=f"{root} {name}")
    (tmp / STORE).mkdir(parents=True)
    rows = []
    for subject, (key, user) in enumerate(zip(units, summary["users"])):
        number = int(user["user"].rsplit("user", 1)[1])
        ingest_user(UserEntry("training", number, Path(user["path"]), subject), tmp / STORE)
        person, _, session = key.partition("/")
        rows.append(
            {
                "subject": subject,
                "unit": key,
                "person": person,
                "session": session,
                "person_subject": known[person],
                "in_training": known[person] in set(int(s) for s in train_subjects),
            }
        )
    table = pd.DataFrame(rows)
    index = build_window_index(
        iter_store(tmp / STORE, table["subject"].tolist()),
        variant,
        window,
        stride,
        rest_subsample=rest_subsample,
        threshold=threshold if variant == "standard" else None,
    )
    save_window_index(tmp / WINDOWS, index)
    write_csv_atomic(table, tmp / UNITS)
    shutil.rmtree(tmp / "raw")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return table

"""dataset: libemg_csv end to end up to the store: a folder of R_<rep>_C_<class>.csv files the test writes,
described by config; a malformed file stops the run naming file and row, and leaves no dataset folder."""

import numpy as np
import pandas as pd

from tests.helpers.workflow import TINY, merged, snakemake, workdir_with

CLASSES = {0: "noGesture", 1: "fist", 2: "open", 3: "waveIn", 4: "waveOut"}
PATTERN = r"(?P<group>train|test)ers/p(?P<subject>\d+)/R_(?P<rep>\d+)_C_(?P<class>\d+)\.csv"


def write_people(root, seed=0):
    """2 training and 2 testing people, 5 classes x 3 repetitions of 120 samples, class c lighting channel c."""
    rng = np.random.default_rng(seed)
    for group in ("train", "test"):
        for person in range(2):
            for rep in range(3):
                for c in CLASSES:
                    x = rng.normal(0, 2, size=(120, 8))
                    if c:
                        x[20:100, c] += rng.normal(0, 30, size=80)
                    path = root / f"{group}ers" / f"p{person}" / f"R_{rep}_C_{c}.csv"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savetxt(path, np.clip(x, -128, 127).astype(int), fmt="%d", delimiter=",")


def config(root):
    layout = lambda group: {"patterns": [PATTERN.replace("(?P<group>train|test)", group)], "classes": CLASSES}  # noqa: E731
    return merged(
        TINY,
        {
            "dataset": "libemg_csv",
            "data_dir": str(root),
            "libemg_csv": {"name": "mycsv", "training": layout("train"), "testing": layout("test")},
            "splits": {"train": [1, 2], "val": [3, 3], "test": [4, 4]},
        },
    )


def test_csv_folder_becomes_the_store_and_bad_files_are_named(tmp_path):
    root = tmp_path / "recordings"
    write_people(root)
    work = workdir_with(tmp_path / "work", config(root))
    res = snakemake(work, "--cores", "1", "results/data/mycsv/manifest.csv")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    manifest = pd.read_csv(work / "results/data/mycsv/manifest.csv")
    assert manifest.user.tolist() == ["training/user1", "training/user2", "testing/user1", "testing/user2"]
    assert (manifest.n_reps == 15).all()  # 5 classes x 3 repetitions, every one a labelled sample
    bad = root / "testers" / "p1" / "R_2_C_3.csv"
    lines = bad.read_text().splitlines()
    lines[6] = "1,2,x,4,5,6,7,8"
    bad.write_text("\n".join(lines) + "\n")
    work2 = workdir_with(tmp_path / "work2", config(root))
    res = snakemake(work2, "--cores", "1", "results/data/mycsv/manifest.csv")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "R_2_C_3.csv" in out and "row 7" in out, out[-3000:]
    assert not (work2 / "results/data/mycsv/raw").exists() and not (work2 / "results/data/mycsv/store").exists()

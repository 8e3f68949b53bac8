"""Preprocessing at scale: write N synthetic users in the EPN-612 layout, ingest them, build every
window index (rest threshold + 4 variants x 3 splits), and print wall time and peak RSS per stage.

    python benchmarks/preprocess.py --users 24
    python benchmarks/preprocess.py --users 612 --workdir /tmp/epn612-bench   (about 6 GB of JSON)

Each stage runs in its own child process so its peak RSS is measured alone (os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VARIANTS = ("raw", "segmented", "relabeled", "standard")
SPLITS = ("train", "val", "test")


def run_stage(args: list[str], script: str = __file__) -> tuple[float, float]:
    """Run `script` (default: this one) as a child for one stage; return (wall seconds, peak RSS in MiB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, script, *args])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {args[:2]} failed")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def stage_generate(work: Path, users: int, seed: int) -> None:
    import dataclasses

    from emgcore.data.synthetic import epn612_scale_config, write_synthetic_dataset

    cfg = dataclasses.replace(epn612_scale_config(seed), n_train_users=users // 2, n_test_users=users - users // 2)
    write_synthetic_dataset(work / "raw", cfg)


def stage_ingest(work: Path, workers: int) -> None:
    from emgcore.data.ingest import ingest_epn612

    ingest_epn612(work / "raw", work / "store", work / "manifest.csv", workers=workers, progress=False)


def _splits(work: Path):
    from emgcore.data.ingest import read_manifest
    from emgcore.data.splits import EPN612_SPLITS, proportional_splits, split_subjects

    manifest = read_manifest(work / "manifest.csv")
    n_train = int((manifest.group == "training").sum())
    n_test = len(manifest) - n_train
    splits = EPN612_SPLITS if (n_train, n_test) == (306, 306) else proportional_splits(n_train, n_test)
    return {s: split_subjects(splits, s, manifest.subject) for s in SPLITS}


def stage_windows(work: Path) -> None:
    from emgcore.data.store import iter_store
    from emgcore.preprocess.segmentation import rest_threshold
    from emgcore.preprocess.window_index import build_window_index, save_window_index

    subjects = _splits(work)
    t0 = time.perf_counter()
    threshold = rest_threshold(iter_store(work / "store", subjects["train"]), 40, 2)
    counts = {"threshold": threshold, "threshold_s": round(time.perf_counter() - t0, 1)}
    for variant in VARIANTS:
        for split in SPLITS:
            t0 = time.perf_counter()
            index = build_window_index(
                iter_store(work / "store", subjects[split]),
                variant,
                40,
                2,
                4,
                threshold=threshold if variant == "standard" else None,
            )
            save_window_index(work / "windows" / f"{split}_{variant}.npz", index)
            counts[f"{split}_{variant}"] = (len(index), round(time.perf_counter() - t0, 1))
    (work / "window_counts.json").write_text(json.dumps(counts, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=24)
    ap.add_argument("--workdir", type=Path, default=REPO / "benchmarks/out/preprocess")
    ap.add_argument("--workers", type=int, default=2, help="ingestion processes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the data afterwards")
    ap.add_argument("--stage", choices=["generate", "ingest", "windows"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    work = a.workdir
    if a.stage == "generate":
        return stage_generate(work, a.users, a.seed)
    if a.stage == "ingest":
        return stage_ingest(work, a.workers)
    if a.stage == "windows":
        return stage_windows(work)

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    common = ["--workdir", str(work), "--users", str(a.users), "--workers", str(a.workers), "--seed", str(a.seed)]
    rows = {}
    for stage in ("generate", "ingest", "windows"):
        rows[stage] = run_stage(["--stage", stage, *common])
        print(f"{stage:<9} {rows[stage][0]:8.1f} s   peak RSS {rows[stage][1]:8.0f} MiB", flush=True)
    json_gb = sum(f.stat().st_size for f in (work / "raw").rglob("*.json")) / 1e9
    store_gb = sum(f.stat().st_size for f in (work / "store").glob("*.h5")) / 1e9
    counts = json.loads((work / "window_counts.json").read_text())
    n_windows = sum(v[0] for k, v in counts.items() if isinstance(v, list))
    index_mb = sum(f.stat().st_size for f in (work / "windows").glob("*.npz")) / 1e6
    pre_wall = rows["ingest"][0] + rows["windows"][0]
    pre_rss = max(rows["ingest"][1], rows["windows"][1])
    print(
        f"\nusers {a.users}: JSON {json_gb:.2f} GB, int8 store {store_gb:.2f} GB, "
        f"{n_windows:,} windows over 4 variants x 3 splits in {index_mb:.0f} MB of indexes"
    )
    print(f"preprocessing (ingest + threshold + 12 indexes): {pre_wall:.1f} s wall, peak RSS {pre_rss:.0f} MiB")
    print(f"as float32 (40 x 8 per window) those windows would take {n_windows * 40 * 8 * 4 / 2**30:.1f} GiB")
    print(json.dumps(counts))
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()

"""Materialise-everything baseline against the lazy window index, extrapolated to 612 users.

Research code for EMG-EPN-612 usually cuts every overlapping window into one float32 array
``X (N, 8, 40)`` (plus int64 labels) and keeps it in memory. This script measures that, on the
*same* windows, against this project's path (rest threshold + 12 integer window indexes written
to disk, windows cut lazily at batch time), for a few small user counts, and extrapolates both
linearly to the 612 users of EMG-EPN-612:

    python benchmarks/materialise.py                      # 6, 12 and 24 users (about 3 minutes)
    python benchmarks/materialise.py --users 6 12 24 36

For each N, N synthetic users in the EPN-612 layout (epn612-scale repetitions, half training and
half testing users) are written and ingested once (benchmarks/preprocess.py's stages); then each
path runs in its own child process from the int8 store, so wall time and peak RSS (os.wait4,
ru_maxrss) are its own:

* ``lazy``:        rest threshold + 4 variants x 3 splits window indexes (stride 2), saved as .npz
                   (exactly benchmarks/preprocess.py's ``windows`` stage);
* ``materialise``: the same threshold and the same windows (same segmentation code, one user at a
                   time), but every window cut to float32 (8, 40) and each (split, variant) set
                   concatenated into one array, all 12 held in memory at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import preprocess as pre  # noqa: E402 (needs the sys.path insert above: run as a script)

WINDOW, STRIDE, REST_SUBSAMPLE = 40, 2, 4
EPN612_USERS = 612
#: `benchmarks/preprocess.py --users 612`, its "windows" stage (threshold + 12 indexes), measured on
#: the 2-core machine of BENCHMARKS.md (README.md quotes an earlier run: 56 s, 615 MiB)
MEASURED_612 = {"windows": 95_006_092, "index_s": 42.4, "index_mib": 619.0}


def child(args: list[str]) -> tuple[float, float]:
    """Run this script as a child for one stage; return (wall seconds, peak RSS in MiB)."""
    return pre.run_stage(args, script=__file__)


def stage_idle() -> None:
    """Interpreter + the imports both paths need: the RSS floor of a child."""
    import h5py  # noqa: F401
    import pandas  # noqa: F401

    from emgcore.preprocess.window_index import build_window_index  # noqa: F401


def stage_materialise(work: Path) -> None:
    from emgcore.data.store import iter_store
    from emgcore.preprocess.segmentation import rest_threshold
    from emgcore.preprocess.window_index import build_window_index

    subjects = pre._splits(work)
    threshold = rest_threshold(iter_store(work / "store", subjects["train"]), WINDOW, STRIDE)
    offsets = np.arange(WINDOW)
    held: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for variant in pre.VARIANTS:
        for split in pre.SPLITS:
            xs, ys = [], []
            for rec in iter_store(work / "store", subjects[split]):
                index = build_window_index(
                    [rec],
                    variant,
                    WINDOW,
                    STRIDE,
                    REST_SUBSAMPLE,
                    threshold=threshold if variant == "standard" else None,
                )
                windows = rec.signal[index.start[:, None] + offsets]  # (n, 40, 8) int8
                xs.append(np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32))
                ys.append(index.label.astype(np.int64))
            held[f"{split}_{variant}"] = (np.concatenate(xs), np.concatenate(ys))
            del xs, ys
    n_windows = sum(len(y) for _, y in held.values())
    nbytes = sum(x.nbytes + y.nbytes for x, y in held.values())
    (work / "materialised.json").write_text(json.dumps({"windows": n_windows, "bytes": nbytes}))


def fit_612(ns: list[int], values: list[float]) -> float:
    """Least-squares line through (N, value), evaluated at 612 users."""
    slope, intercept = np.polyfit(np.asarray(ns, float), np.asarray(values, float), 1)
    return float(slope * EPN612_USERS + intercept)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, nargs="+", default=[6, 12, 24])
    ap.add_argument("--workdir", type=Path, default=REPO / "benchmarks/out/materialise")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the data afterwards")
    ap.add_argument("--stage", choices=["generate", "ingest", "lazy", "materialise", "idle"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.stage:
        work = a.workdir
        return {
            "generate": lambda: pre.stage_generate(work, a.users[0], a.seed),
            "ingest": lambda: pre.stage_ingest(work, 2),
            "lazy": lambda: pre.stage_windows(work),
            "materialise": lambda: stage_materialise(work),
            "idle": stage_idle,
        }[a.stage]()

    _, idle_rss = child(["--stage", "idle"])
    print(f"child floor (python + numpy/pandas/h5py + emgcore): peak RSS {idle_rss:.0f} MiB\n")
    print(
        f"{'users':>5} {'windows':>11} {'float32 GiB':>11} | {'lazy s':>7} {'lazy MiB':>9} | "
        f"{'mat. s':>7} {'mat. MiB':>9} | {'RSS ratio':>9} {'time ratio':>10}",
        flush=True,
    )
    rows = []
    for n in a.users:
        work = a.workdir / f"u{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        common = ["--workdir", str(work), "--users", str(n), "--seed", str(a.seed)]
        child(["--stage", "generate", *common])
        child(["--stage", "ingest", *common])
        shutil.rmtree(work / "raw")  # the JSON is not needed any more
        lazy_s, lazy_rss = child(["--stage", "lazy", *common])
        mat_s, mat_rss = child(["--stage", "materialise", *common])
        counts = json.loads((work / "window_counts.json").read_text())
        n_windows = sum(v[0] for v in counts.values() if isinstance(v, list))
        mat = json.loads((work / "materialised.json").read_text())
        assert mat["windows"] == n_windows, (mat, n_windows)
        row = {
            "users": n,
            "windows": n_windows,
            "float32_gib": mat["bytes"] / 2**30,
            "lazy_s": lazy_s,
            "lazy_mib": lazy_rss,
            "mat_s": mat_s,
            "mat_mib": mat_rss,
            "index_mb": sum(f.stat().st_size for f in (work / "windows").glob("*.npz")) / 1e6,
        }
        rows.append(row)
        print(
            f"{n:>5} {n_windows:>11,} {row['float32_gib']:>11.2f} | {lazy_s:>7.1f} {lazy_rss:>9.0f} | "
            f"{mat_s:>7.1f} {mat_rss:>9.0f} | {mat_rss / lazy_rss:>9.1f} {mat_s / lazy_s:>10.2f}",
            flush=True,
        )
        if not a.keep:
            shutil.rmtree(work)

    ns = [r["users"] for r in rows]
    est = {
        k: fit_612(ns, [r[k] for r in rows])
        for k in ("windows", "float32_gib", "lazy_s", "lazy_mib", "mat_s", "mat_mib", "index_mb")
    }
    print(f"\nlinear extrapolation to {EPN612_USERS} users (least squares over N = {ns}):")
    print(
        f"  windows (12 sets, stride 2)   {est['windows'] / 1e6:8.1f} M   "
        f"(measured at 612 users: {MEASURED_612['windows'] / 1e6:.1f} M)"
    )
    print(
        f"  lazy index path               {est['lazy_s']:8.0f} s   peak RSS {est['lazy_mib']:8.0f} MiB   "
        f"indexes on disk {est['index_mb'] / 1e3:.2f} GB\n"
        f"    (measured at 612 users: {MEASURED_612['index_s']:.0f} s, peak RSS {MEASURED_612['index_mib']:.0f} MiB)"
    )
    print(
        f"  materialise everything        {est['mat_s']:8.0f} s   peak RSS {est['mat_mib'] / 1024:8.1f} GiB  "
        f"(arrays alone {est['float32_gib']:.1f} GiB)"
    )
    print(
        f"\nHEADLINE at {EPN612_USERS} users: materialising needs {est['mat_mib'] / est['lazy_mib']:.0f}x the "
        f"peak memory of the lazy index path ({est['mat_mib'] / 1024:.0f} GiB vs {est['lazy_mib']:.0f} MiB), "
        f"and {est['mat_s'] / est['lazy_s']:.1f}x its wall time (both extrapolated); against the lazy path "
        f"measured at 612 users: {est['mat_mib'] / MEASURED_612['index_mib']:.0f}x the memory, "
        f"{est['mat_s'] / MEASURED_612['index_s']:.1f}x the time"
    )
    print(f"load average (1, 5, 15 min) after the run: {os.getloadavg()} on {os.cpu_count()} cores")
    print(json.dumps({"rows": rows, "extrapolated_612": est, "idle_rss_mib": idle_rss, "load_avg": os.getloadavg()}))


if __name__ == "__main__":
    main()

"""Job count and DAG-building time of the thesis-scale workflow (Snakemake dry runs, no data needed).

    python benchmarks/dag.py                 # synthetic-epn612 and epn612 presets, 3 repeats each
    python benchmarks/dag.py --repeats 5

Each preset is dry-run (``snakemake -n``) in a fresh temporary working directory (``-d``) holding
the repository's config.yaml, so nothing under results/ or .snakemake/ of the checkout is touched.
The real-data preset gets ``--config data_dir=<empty folder with trainingJSON/ and testingJSON/>``.
Timed, as the median wall time of ``--repeats`` runs:

* ``startup``:  ``snakemake --version`` (interpreter + snakemake import);
* ``parse``:    ``snakemake --list-rules`` (parse the Snakefile, validate the config, no DAG);
* ``dry run``:  ``snakemake -n --quiet rules`` (build the whole DAG, print only the job table);
* ``dry run, verbose``: ``snakemake -n`` (also prints every job, as users usually run it).

DAG building = dry run - parse. Jobs per rule come from the dry run's job table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def timed(args: list[str], workdir: Path) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    res = subprocess.run(SNAKEMAKE + args, cwd=workdir, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return wall, res.stdout + res.stderr


def job_table(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count} (with 'total')."""
    table = output[output.index("Job stats:") :]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)}


def bench(name: str, extra: list[str], repeats: int, tmp: Path) -> dict:
    work = tmp / name
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work / "config.yaml")
    base = ["-s", str(REPO / "Snakefile"), "-d", str(work), *extra]
    steps = {
        "startup": ["--version"],
        "parse": base + ["--list-rules"],
        "dry run": base + ["-n", "--quiet", "rules"],
        "dry run, verbose": base + ["-n"],
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    output = ""
    for _ in range(repeats):
        for step, args in steps.items():
            wall, out = timed(args, work)
            times[step].append(wall)
            if step == "dry run":
                output = out
    jobs = job_table(output)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "preset": name,
        "args": extra,
        "jobs": jobs,
        "seconds": med,
        "all": times,
        "dag_s": med["dry run"] - med["parse"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dag-bench-") as tmp:
        tmp = Path(tmp)
        data = tmp / "EMG-EPN612"
        for sub in ("trainingJSON", "testingJSON"):
            (data / sub).mkdir(parents=True)
        presets = {
            "synthetic-epn612": ["--configfile", str(REPO / "presets/synthetic-epn612.yaml")],
            "epn612": ["--configfile", str(REPO / "presets/epn612.yaml"), "--config", f"data_dir={data}"],
            "demo (config.yaml)": [],
        }
        results = [
            bench(re.sub(r"\W+", "_", name), extra, a.repeats, tmp) | {"preset": name}
            for name, extra in presets.items()
        ]

    rules = list(dict.fromkeys(r for res in results for r in res["jobs"] if r != "total"))
    header = f"{'rule':<22}" + "".join(f"{res['preset']:>20}" for res in results)
    print("jobs per rule (snakemake -n):\n" + header)
    for rule in rules + ["total"]:
        print(f"{rule:<22}" + "".join(f"{res['jobs'].get(rule, 0):>20}" for res in results))
    print(f"\nwall seconds, median of {a.repeats}:\n" + header.replace("rule", "step", 1))
    for step in ("startup", "parse", "dry run", "dry run, verbose"):
        print(f"{step:<22}" + "".join(f"{res['seconds'][step]:>20.2f}" for res in results))
    print(f"{'DAG building':<22}" + "".join(f"{res['dag_s']:>20.2f}" for res in results))
    print(
        f"{'ms per job (DAG)':<22}" + "".join(f"{1e3 * res['dag_s'] / res['jobs']['total']:>20.2f}" for res in results)
    )
    print(f"load average (1, 5, 15 min) after the run: {os.getloadavg()} on {os.cpu_count()} cores")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

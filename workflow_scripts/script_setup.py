"""Shared start of every workflow script: make `emgcore` importable and send output to the rule's log."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def start(snakemake) -> None:
    """Redirect stdout/stderr to the rule's log (errors also reach the console) and set the thread count."""
    if snakemake.log:
        log_path = Path(str(snakemake.log[0]))
        log_path.parent.mkdir(parents=True, exist_ok=True)
        console = sys.__stderr__
        log = open(log_path, "w", buffering=1)
        sys.stdout = sys.stderr = log

        def report(kind, value, tb):
            text = "".join(traceback.format_exception(kind, value, tb))
            log.write(text)
            log.flush()
            console.write(f"[{snakemake.rule}] {kind.__name__}: {value}\n")

        sys.excepthook = report
    # torch, numpy's BLAS and OpenMP read these when first imported: the rule's threads, without
    # importing torch here (that alone costs seconds, and most report jobs never need it)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(max(1, int(snakemake.threads)))

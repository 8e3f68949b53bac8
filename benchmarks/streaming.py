"""Streaming inference latency per new window on one CPU core (target: under 1 ms).

    python benchmarks/streaming.py                        # 5,000 windows at stride 2
    python benchmarks/streaming.py --windows 20000 --stride 2 --tau 2000

One synthetic user in the EPN-612 layout (epn612-scale repetitions, generated in memory) is played
back as a live Myo stream. For every new window (every ``--stride`` samples) the timed step is
what a real-time recogniser does:

1. ``RunningNorm.update`` with the ``stride`` new int8 samples (causal running statistics);
2. ``RunningNorm.transform`` of the latest (8, 40) window onto the population scale;
3. MHCNN forward on that one window (eval mode, ``torch.inference_mode``) and the arg-max class.

``torch.set_num_threads(1)``; the clock is ``time.perf_counter_ns`` around steps 1-3 only. The
population statistics come from the synthetic training users' generator (any fixed prior gives
the same cost). The model is an untrained MHCNN: weights do not change the cost. Reported: median,
99th percentile and maximum over ``--windows`` windows (after ``--warmup`` untimed ones), and the
same for each step alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WINDOW = 40


def user_stream(seed: int, min_samples: int) -> np.ndarray:
    """The int8 (T, 8) signal of synthetic training user 1 (epn612 scale), repetitions back to back."""
    from emgcore.data.synthetic import epn612_scale_config, generate_user

    user = generate_user(epn612_scale_config(seed), "training", 1)
    signal = np.concatenate([rep.emg for rep in user.repetitions if rep.block in (0, 1)])
    if signal.dtype != np.int8 or len(signal) < min_samples:
        raise SystemExit(f"the user has {len(signal)} {signal.dtype} samples, need {min_samples} int8")
    return signal


def pct(values_ns: np.ndarray) -> dict:
    us = values_ns / 1e3
    return {
        "median_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "max_us": float(us.max()),
        "mean_us": float(us.mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--tau", type=float, default=2000.0)
    ap.add_argument("--prior-count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    import torch

    from emgcore.cross.running_norm import RunningNorm
    from emgcore.models.mhcnn import MHCNN

    torch.set_num_threads(1)
    total = a.warmup + a.windows
    signal = user_stream(a.seed, WINDOW + total * a.stride)
    x64 = signal.astype(np.float64)
    mean0, std0 = x64.mean(axis=0), x64.std(axis=0)  # a fixed prior; its values do not change the cost
    norm = RunningNorm(mean0, std0, tau=a.tau, prior_count=a.prior_count)
    model = MHCNN().eval()

    norm.update(signal[: WINDOW - a.stride])  # the stream before the first window's last new samples
    times = np.empty((total, 4), dtype=np.int64)  # update, transform, forward, whole step
    classes = np.empty(total, dtype=np.int64)
    clock = time.perf_counter_ns
    with torch.inference_mode():
        for k in range(total):
            end = WINDOW + k * a.stride  # the window is signal[end - 40 : end]
            t0 = clock()
            norm.update(signal[end - a.stride : end])
            t1 = clock()
            window = norm.transform(signal[end - WINDOW : end].T)
            t2 = clock()
            logits, _ = model(torch.from_numpy(window)[None])
            classes[k] = int(logits.argmax(dim=1))
            t3 = clock()
            times[k] = (t1 - t0, t2 - t1, t3 - t2, t3 - t0)
    times = times[a.warmup :]
    steps = {name: pct(times[:, i]) for i, name in enumerate(("update", "transform", "forward", "total"))}
    print(
        f"streaming inference, 1 thread (torch {torch.__version__}), {a.windows:,} windows at stride "
        f"{a.stride} ({a.stride * 5} ms of new signal each at 200 Hz) after {a.warmup} warm-up, tau {a.tau:g}:"
    )
    print(f"  {'step':<28} {'median':>9} {'p99':>9} {'max':>9}   (microseconds)")
    labels = {
        "update": f"RunningNorm.update ({a.stride} smp)",
        "transform": "RunningNorm.transform (8x40)",
        "forward": "MHCNN forward + argmax",
        "total": "per new window",
    }
    for name, label in labels.items():
        s = steps[name]
        print(f"  {label:<28} {s['median_us']:>9.1f} {s['p99_us']:>9.1f} {s['max_us']:>9.1f}")
    total_s = steps["total"]
    verdict = "meets" if total_s["p99_us"] < 1000 else "misses"
    print(
        f"\nper new window: median {total_s['median_us'] / 1e3:.3f} ms, p99 {total_s['p99_us'] / 1e3:.3f} ms "
        f"-> {verdict} the 1 ms target at the 99th percentile; real-time budget at stride {a.stride}: "
        f"{a.stride * 5} ms"
    )
    print(f"load average (1, 5, 15 min) after the run: {os.getloadavg()} on {os.cpu_count()} cores")
    print(
        json.dumps(
            {"steps": steps, "windows": a.windows, "stride": a.stride, "tau": a.tau, "load_avg": os.getloadavg()}
        )
    )


if __name__ == "__main__":
    main()

"""Burg's method (librosa.lpc, as libemg's AR / AR9 call it) for many short signals at once: a
numba kernel, exact to librosa's arithmetic.

The torch path in ``native`` runs each of the ~12 operations of a recursion step over the whole
chunk (AR9 of 10-sample sub-windows: ~110 passes over memory).  Here one block of 128 signals runs
the whole recursion in cache, the signals side by side (SIMD lanes), each with exactly librosa's
operations in librosa's order -- sequential sums along time, separate multiplies and adds (no
FMA contraction, no reassociation), Marple's eqn 17 for the denominator, ``den + tiny`` -- so the
coefficients are bit-identical to librosa's (and to the torch path's exact mode) in float64.
"""

from __future__ import annotations

import numpy as np

from emgcore.features.jit import OPTIONS, available

BLOCK = 128  # signals per block: forward and backward errors 2 x 39 x 128 x 8 bytes, in L1/L2
_TINY = float(np.finfo(np.float64).tiny)  # librosa: util.tiny(den)

_kernel = None  # compiled on first use, then cached on disk


def _burg(xt, order, out):
    """xt (W, R) float64 signals, time-major; writes out (R, order): a[1..order] of each."""
    w, r_all = xt.shape
    fwd = np.empty((w, BLOCK))
    bwd = np.empty((w, BLOCK))
    a = np.empty((order + 1, BLOCK))
    prev = np.empty((order + 1, BLOCK))
    den = np.empty(BLOCK)
    k = np.empty(BLOCK)
    acc = np.empty(BLOCK)
    for r0 in range(0, r_all, BLOCK):
        nr = min(BLOCK, r_all - r0)
        for t in range(w - 1):  # fwd = y[1:], bwd = y[:-1]
            for r in range(nr):
                fwd[t, r] = xt[t + 1, r0 + r]
                bwd[t, r] = xt[t, r0 + r]
            for r in range(nr, BLOCK):
                fwd[t, r] = 0.0
                bwd[t, r] = 0.0
        for j in range(order + 1):
            for r in range(BLOCK):
                a[j, r] = 0.0
        for r in range(BLOCK):
            a[0, r] = 1.0
            acc[r] = fwd[0, r] * fwd[0, r] + bwd[0, r] * bwd[0, r]
        for t in range(1, w - 1):  # den = sum(fwd**2 + bwd**2), left to right
            for r in range(BLOCK):
                acc[r] = acc[r] + (fwd[t, r] * fwd[t, r] + bwd[t, r] * bwd[t, r])
        for r in range(BLOCK):
            den[r] = acc[r]
        lo, hi = 0, w - 1  # live: fwd rows lo .. hi-1 (fwd = fwd[1:]), bwd rows 0 .. hi-lo-1
        for i in range(order):
            for r in range(BLOCK):
                acc[r] = bwd[0, r] * fwd[lo, r]
            for t in range(1, hi - lo):  # k = -2 sum(bwd * fwd) / (den + _TINY), left to right
                for r in range(BLOCK):
                    acc[r] = acc[r] + bwd[t, r] * fwd[lo + t, r]
            for r in range(BLOCK):
                k[r] = acc[r] * -2.0 / (den[r] + _TINY)
            for j in range(i + 2):  # a[i + 1] is still 0 here
                for r in range(BLOCK):
                    prev[j, r] = a[j, r]
            for j in range(1, i + 2):  # Levinson: a[j] = prev[j] + k prev[i + 1 - j]
                for r in range(BLOCK):
                    a[j, r] = prev[j, r] + k[r] * prev[i + 1 - j, r]
            for t in range(hi - lo):  # fwd, bwd = fwd + k bwd, bwd + k fwd
                for r in range(BLOCK):
                    f = fwd[lo + t, r]
                    b = bwd[t, r]
                    fwd[lo + t, r] = f + k[r] * b
                    bwd[t, r] = b + k[r] * f
            last = hi - lo - 1
            for r in range(BLOCK):  # Marple's eqn 17
                q = 1.0 - k[r] * k[r]
                den[r] = q * den[r] - bwd[last, r] * bwd[last, r] - fwd[lo, r] * fwd[lo, r]
            lo += 1  # fwd = fwd[1:], bwd = bwd[:-1]
        for r in range(nr):
            for j in range(order):
                out[r0 + r, j] = a[j + 1, r]


def _build():
    from numba import njit

    return njit(**OPTIONS)(_burg)  # module constants only (no closure): cacheable on disk


def burg(xt64: np.ndarray, order: int) -> np.ndarray | None:
    """a[1..order] of librosa.lpc for every column of the (W, R) float64 ``xt64``, as (R, order);
    None without numba."""
    global _kernel
    if not available():
        return None
    if _kernel is None:
        _kernel = _build()
    out = np.empty((xt64.shape[1], order))
    _kernel(np.ascontiguousarray(xt64, dtype=np.float64), int(order), out)
    return out

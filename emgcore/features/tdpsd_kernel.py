"""The six TDPSD features (M0 M2 M4 SPARSI IRF WLF) for many short signals at once: a numba
kernel for float32 output on CPU.

The exact path in ``native`` (float64 output) reproduces libemg bit for bit: numpy's pairwise
summation order and numpy's ``log`` / ``**`` evaluated array-wise, ~20 libm calls per channel
(``x ** 0.1`` alone ~20 ns per value), most of a sub-windowed window's time.  Here a block of
128 signals runs side by side (SIMD lanes): the two signals come from the caller (x and numpy's
log(x^2 + eps)), the ten sums follow libemg's operations in numpy's order (bit-identical, so
ties such as sum|d1| == sum|d2| fall as in libemg), then the powers as exp(0.1 log y) and the
logs with ``vecmath``'s vectorised float64 log / exp (a few ulp), and libm's own powers where m0
is within ``_NEAR`` of m2 or m4 (their difference is logged: there a few ulp would grow to
~3e-4).  The values agree with the exact path to ~1e-11 relative (float32 output resolves 6e-8);
zeros, infinities and NaN (0 / 0 of constant channels) fall where libemg's do.
"""

from __future__ import annotations

import numpy as np

from emgcore.features import vecmath
from emgcore.features.jit import OPTIONS, available

BLOCK = 128  # signals per block
FEATURES = ("M0", "M2", "M4", "SPARSI", "IRF", "WLF")  # the kernel's output rows, in this order

_kernel = None  # compiled on first use, then loaded from numba's disk cache
# the compiled vecmath functions, globals of _tdpsd when numba compiles it (set by _build)
_log64_jit = _exp64_jit = _fix_log_jit = _sums_jit = _np_sum_jit = None


def _np_sum(v, n, res):
    """res[:] = the sums of v[0..n-1, :] along axis 0 in numpy's order for n <= 128 (pairwise
    summation's innermost case: sequential below 8 terms, else 8 interleaved accumulators
    combined as a tree, then the rest in sequence), lane by lane."""
    lanes = v.shape[1]
    if n < 8:
        for r in range(lanes):
            res[r] = 0.0 + v[0, r] if n > 0 else 0.0
        for i in range(1, n):
            for r in range(lanes):
                res[r] = res[r] + v[i, r]
        return
    m = n - n % 8
    for r in range(lanes):
        a0, a1, a2, a3 = v[0, r], v[1, r], v[2, r], v[3, r]
        a4, a5, a6, a7 = v[4, r], v[5, r], v[6, r], v[7, r]
        for i in range(8, m, 8):
            a0 = a0 + v[i, r]
            a1 = a1 + v[i + 1, r]
            a2 = a2 + v[i + 2, r]
            a3 = a3 + v[i + 3, r]
            a4 = a4 + v[i + 4, r]
            a5 = a5 + v[i + 5, r]
            a6 = a6 + v[i + 6, r]
            a7 = a7 + v[i + 7, r]
        res[r] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for i in range(m, n):
        for r in range(lanes):
            res[r] = res[r] + v[i, r]


def _sums(sig, w, terms, d1, d2, acc):
    """acc[0..4, :] = sums of sig^2, d1^2, d2^2, |d1|, |d2| along time (d1, d2 = np.diff once,
    twice), each with exactly libemg's operations and numpy's summation order; terms (w, lanes),
    d1, d2 (w - 1, lanes) scratch."""
    lanes = sig.shape[1]
    for j in range(w - 1):
        for r in range(lanes):
            d1[j, r] = sig[j + 1, r] - sig[j, r]
    for j in range(w - 2):
        for r in range(lanes):
            d2[j, r] = d1[j + 1, r] - d1[j, r]
    for k, v, n, square in ((0, sig, w, True), (1, d1, w - 1, True), (2, d2, w - 2, True)) + (
        (3, d1, w - 1, False),
        (4, d2, w - 2, False),
    ):
        for j in range(n):  # the terms of np.sum(v**2) or np.sum(np.abs(v)), summed in numpy's order
            for r in range(lanes):
                terms[j, r] = v[j, r] * v[j, r] if square else abs(v[j, r])
        _np_sum_jit(terms, n, acc[k])


_NEAR = 1e-8  # m0 within this relative distance of m2 or m4: those powers come from libm


def _tdpsd(xt, wt, out):
    """xt, wt (W, R) float64 signals, time-major: the samples x ("ebp") and log(x^2 + eps)
    ("efp"); out (6, R) float64: FEATURES of every signal."""
    w, r_all = xt.shape
    n1 = np.float64(w - 1)
    sig = np.empty((2, w, BLOCK))
    terms = np.empty((w, BLOCK))
    d1 = np.empty((max(w - 1, 1), BLOCK))  # the differences, for the sums
    d2 = np.empty((max(w - 1, 1), BLOCK))
    mant = np.empty(12 * BLOCK, np.int64)  # log64 / exp64 scratch
    expo = np.empty(12 * BLOCK, np.int64)
    scratch = np.empty(12 * BLOCK)
    acc = np.empty((2, 5, BLOCK))  # the ten sums, per signal
    y = np.empty((2, 3, BLOCK))  # the moments' bases: sqrt(S0) / n1, sqrt(S2 / n1), sqrt(S4 / n1)
    ly = np.empty((2, 3, BLOCK))
    m = np.empty((2, 3, BLOCK))  # m0, m2, m4 = y**0.1 / 0.1
    near = np.empty(2 * BLOCK, np.int64)  # lanes whose powers libm recomputes
    arg = np.empty((2, 6, BLOCK))  # the six logs' arguments
    lg = np.empty((2, 6, BLOCK))
    for r0 in range(0, r_all, BLOCK):
        nr = min(BLOCK, r_all - r0)
        for j in range(w):
            for r in range(nr):
                sig[0, j, r] = xt[j, r0 + r]
                sig[1, j, r] = wt[j, r0 + r]
            for r in range(nr, BLOCK):
                sig[0, j, r] = 1.0
                sig[1, j, r] = 1.0
        for s in range(2):
            _sums_jit(sig[s], w, terms, d1, d2, acc[s])
            for r in range(BLOCK):
                y[s, 0, r] = np.sqrt(acc[s, 0, r]) / n1
                y[s, 1, r] = np.sqrt(acc[s, 1, r] / n1)
                y[s, 2, r] = np.sqrt(acc[s, 2, r] / n1)
        yf, lyf, mf = y.reshape(-1), ly.reshape(-1), m.reshape(-1)
        nv = yf.shape[0]
        _log64_jit(yf, lyf, mant[:nv], expo[:nv])
        _fix_log_jit(yf, lyf)
        for i in range(nv):
            lyf[i] *= 0.1
        _exp64_jit(lyf, mf, mant[:nv], scratch[:nv])  # y**0.1 = exp(0.1 log y)
        for i in range(nv):  # y = 0, inf, NaN (a subnormal y has its exact log from fix_log)
            v = yf[i]
            p = mf[i]
            p = 0.0 if v == 0.0 else p
            p = v if v > 1.7976931348623157e308 or v != v else p  # inf, NaN
            mf[i] = p / 0.1
        n_near = 0  # near-equal moments: their differences are logged, so libm's exact powers
        for s in range(2):
            for r in range(BLOCK):
                m0 = m[s, 0, r]
                if abs(m0 - m[s, 1, r]) <= _NEAR * abs(m0) or abs(m0 - m[s, 2, r]) <= _NEAR * abs(m0):
                    near[n_near] = s * BLOCK + r
                    n_near += 1
        for i in range(n_near):
            s, r = near[i] // BLOCK, near[i] % BLOCK
            for k in range(3):
                m[s, k, r] = y[s, k, r] ** 0.1 / 0.1
        for s in range(2):
            for r in range(BLOCK):
                m0, m2, m4 = m[s, 0, r], m[s, 1, r], m[s, 2, r]
                arg[s, 0, r] = abs(m0)
                arg[s, 1, r] = abs(m0 - m2)
                arg[s, 2, r] = abs(m0 - m4)
                arg[s, 3, r] = abs(np.sqrt(abs((m0 - m2) * (m0 - m4))) / m0)
                arg[s, 4, r] = abs(m2 / np.sqrt(m0 * m4))
                arg[s, 5, r] = abs(np.sqrt(acc[s, 3, r] / acc[s, 4, r]))
        af, lgf = arg.reshape(-1), lg.reshape(-1)
        _log64_jit(af, lgf, mant, expo)
        _fix_log_jit(af, lgf)
        for k in range(6):
            for r in range(nr):
                a, b = lg[1, k, r], lg[0, k, r]  # efp, ebp
                out[k, r0 + r] = (-2.0 * (a * b)) / (a * a + b * b)


def _build():
    from numba import njit

    global _log64_jit, _exp64_jit, _fix_log_jit, _sums_jit, _np_sum_jit
    vec = dict(OPTIONS, fastmath={"contract"})  # vecmath: FMA allowed, the order of operations kept
    _log64_jit = njit(**vec)(vecmath.log64)
    _exp64_jit = njit(**vec)(vecmath.exp64)
    _fix_log_jit = njit(**vec)(vecmath.fix_log)
    _np_sum_jit = njit(**OPTIONS)(_np_sum)  # the sums: no FMA, no reordering (libemg's bits)
    _sums_jit = njit(**OPTIONS)(_sums)
    return njit(**OPTIONS)(_tdpsd)


MAX_W = 128  # longer signals: numpy's summation splits recursively, which the kernel does not do


def tdpsd(xt64: np.ndarray, wt64: np.ndarray) -> np.ndarray | None:
    """FEATURES of every column of the (W, R) float64 samples ``xt64`` with ``wt64`` = log(x^2 +
    eps) computed by the caller (numpy's values), as (6, R) float64; None without numba or for
    W > MAX_W."""
    global _kernel
    if not available() or xt64.shape[0] > MAX_W:
        return None
    if _kernel is None:
        _kernel = _build()
    out = np.empty((6, xt64.shape[1]))
    _kernel(np.ascontiguousarray(xt64, dtype=np.float64), np.ascontiguousarray(wt64, dtype=np.float64), out)
    return out

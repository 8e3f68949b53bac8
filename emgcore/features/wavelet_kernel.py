"""Fused CPU kernel (numba) of the wavelet features WENG, WV, WWL and WENT (float32 output).

The torch path in ``native`` runs one operation per statistic over the whole (coefficients x
channels) array of a chunk, so every coefficient travels through memory 8-10 times, and a float32
log costs ~1.7 ns per coefficient (3,488 coefficients per sub-windowed window).  Here, per block of
128 channel-rows read straight from the windows, the coefficients are computed (float64, the same
composed DWT matrix), squared and reduced to the per-band statistics while they sit in cache, and
the final features (logs by ``vecmath.log64``) are written into the caller's output.  S, V, L
agree with the torch float64
path to ~1e-14 relative; sum e log e uses a vectorised float32 log, so WENT is within ~3e-6
absolute (the float32 output's tolerance against libemg is 1e-4).  Float64 output keeps the torch
path and its 1e-9 parity.

``band_features`` returns False when numba is missing or a squared coefficient is a float32
subnormal (never for ADC-unit input), and the caller uses the torch path.
"""

from __future__ import annotations

import numpy as np

from emgcore.features import vecmath
from emgcore.features.jit import OPTIONS, available

BLOCK = 128  # channel-rows per block: e is 109 (W = 10) or 142 (W = 40) x 128 x 8 bytes, in L2

FEATURES = ("WENG", "WV", "WWL", "WENT")  # the features the kernel writes, in ``cols`` order

_kernel = None  # compiled on first use (~7 s once, then loaded from numba's disk cache in ~0.5 s)


# The kernels are plain functions here, compiled by _build on first use (numba imported only then).
# They read module constants, not closure cells: numba's on-disk cache keys a closure by its cells,
# which differ per process, so closures would be recompiled (~7 s) by every process.
_FLT_MIN64 = 1.1754943508222875e-38  # smallest normal float32
# the compiled vecmath functions (e log e, the final logs), globals of _band_features when compiled
_xlogx32_jit = _log64_jit = _fix_log_jit = None


def _band_features(x, n_sub, mat, starts, lens, cols, out):
    """x (N, C, n_sub * W) windows (any real dtype, read as float64), cut into n_sub
    sub-windows of W samples; column = row * C + channel with row = window * n_sub + sub;
    mat (T, W) the composed DWT; band b = rows starts[b] .. starts[b] + lens[b] - 1 of the
    coefficients.
    Writes WENG, WV, WWL, WENT of every column into out (rows, F) float32 at the columns
    cols[0..3] + b * n_ch + channel (cols[k] < 0: feature not wanted).  Returns False when a
    float32 e is subnormal (the bit-level log below does not hold; the caller recomputes).

    Per block of BLOCK columns: c (float64, the matrix product), e = c^2 kept in cache; e log e
    of the whole block in one float32 pass (``vecmath.xlogx32``: the log within 2e-6, so WENT
    is within ~3e-6); per
    band one pass: S; V by the shifted moments of e - e[first] (stable: the shift is one of
    the values, so the cancellation is bounded by the band length); L; H = sum e log e."""
    want_l, want_h = cols[2] >= 0, cols[3] >= 0
    ok = True
    n_ch = x.shape[1]
    w = mat.shape[1]
    r_all = x.shape[0] * n_sub * n_ch
    t_all = mat.shape[0]
    nb = starts.shape[0]
    e = np.empty((t_all, BLOCK))
    xb = np.empty((w, BLOCK))
    e32 = np.empty((t_all, BLOCK), np.float32)  # e rounded to float32, for the log
    mant = np.empty(t_all * BLOCK, np.int32)
    expo = np.empty(t_all * BLOCK, np.int32)
    elog = np.empty((t_all, BLOCK), np.float32)  # e log e (float32) of the block, for WENT
    s = np.empty(BLOCK)
    m2 = np.empty(BLOCK)
    ln = np.empty(BLOCK)
    h = np.empty(BLOCK, np.float32)
    const = np.empty(BLOCK)
    val = np.empty((4, nb, BLOCK))  # the four features' log arguments, one log pass per wanted feature
    lg = np.empty((4, nb, BLOCK))
    mant64 = np.empty(nb * BLOCK, np.int64)
    expo64 = np.empty(nb * BLOCK, np.int64)
    hs = np.empty((nb, BLOCK))  # H / S of WENT, NaN where 0 log 0
    dst = np.empty(BLOCK, np.int64)  # flat output index of each column's channel-0 block
    n_out = out.shape[1]
    flat = out.reshape(-1)
    zeros = np.empty(BLOCK)  # number of e == 0 in the band (WENT NaN)
    tiny = np.empty(BLOCK)  # number of e < FLT_MIN in the band (more than zeros: the caller recomputes)
    for r0 in range(0, r_all, BLOCK):
        nr = min(BLOCK, r_all - r0)
        for r in range(nr):  # gather the block's signals, time-major
            row = (r0 + r) // n_ch
            ch = r0 + r - row * n_ch
            win = row // n_sub
            first_sample = (row - win * n_sub) * w
            dst[r] = row * n_out + ch
            for j in range(w):
                xb[j, r] = x[win, ch, first_sample + j]
        for j in range(w):
            for r in range(nr, BLOCK):
                xb[j, r] = 0.0
        for r in range(BLOCK):
            const[r] = 1.0
        for j in range(1, w):
            for r in range(BLOCK):
                const[r] *= 1.0 if xb[j, r] == xb[0, r] else 0.0  # 1.0: the channel is constant
        for t in range(t_all):
            er = e[t]
            j = 0
            if w >= 5:  # the first five samples set er, the rest add to it
                ma, mb, mc, md, me = mat[t, 0], mat[t, 1], mat[t, 2], mat[t, 3], mat[t, 4]
                xa, xb1, xc, xd, xe = xb[0], xb[1], xb[2], xb[3], xb[4]
                for r in range(BLOCK):
                    er[r] = ma * xa[r] + mb * xb1[r] + mc * xc[r] + md * xd[r] + me * xe[r]
                j = 5
            else:
                for r in range(BLOCK):
                    er[r] = 0.0
            while j + 5 <= w:  # five samples per pass (W = 10: 2 passes, W = 40: 8)
                ma, mb, mc, md, me = mat[t, j], mat[t, j + 1], mat[t, j + 2], mat[t, j + 3], mat[t, j + 4]
                xa, xb1, xc, xd, xe = xb[j], xb[j + 1], xb[j + 2], xb[j + 3], xb[j + 4]
                for r in range(BLOCK):
                    er[r] += ma * xa[r] + mb * xb1[r] + mc * xc[r] + md * xd[r] + me * xe[r]
                j += 5
            while j < w:
                m = mat[t, j]
                xj = xb[j]
                for r in range(BLOCK):
                    er[r] += m * xj[r]
                j += 1
            e32r = e32[t]
            for r in range(BLOCK):
                v = er[r] * er[r]
                er[r] = v
                e32r[r] = np.float32(v)
        if want_h:  # e log e of the whole block, float32 (8 lanes)
            _xlogx32_jit(e32.reshape(-1), elog.reshape(-1), mant, expo)
        for b in range(nb):
            a = starts[b]
            n = lens[b]
            first = e[a]
            for r in range(BLOCK):
                s[r] = 0.0
                m2[r] = 0.0
                ln[r] = 0.0
                h[r] = 0.0
                zeros[r] = 0.0
                tiny[r] = 0.0
            for t in range(a, a + n):
                er = e[t]
                for r in range(BLOCK):
                    v = er[r]
                    d = v - first[r]
                    s[r] += v
                    m2[r] += d * d
                    # counts, not a running minimum (LLVM turns a conditional minimum into
                    # masked stores, slow on AMD processors); selects, not bool -> float
                    # conversions (which go through int32 and shuffles)
                    zeros[r] += 1.0 if v == 0.0 else 0.0
                    tiny[r] += 1.0 if v < _FLT_MIN64 else 0.0
                if want_l and t + 1 < a + n:
                    en = e[t + 1]
                    for r in range(BLOCK):
                        ln[r] += abs(en[r] - er[r])
                if want_h:
                    elr = elog[t]
                    for r in range(BLOCK):
                        h[r] += elr[r]
            for r in range(BLOCK):
                mu = (s[r] - n * first[r]) / n  # mean of e - e[first]
                keep = 1.0 - const[r]
                val[0, b, r] = s[r] + 1e-10  # WENG: log(sum e + 1e-10)
                # WV, WWL: log(var e + 1e-10), log(sum |diff e| + 1e-10); a constant channel's
                # are exactly log(1e-10) (uniform bands; pywt's noise there is not reproduced)
                val[1, b, r] = max(m2[r] / n - mu * mu, 0.0) * keep + 1e-10
                val[2, b, r] = ln[r] * keep + 1e-10
                pos = s[r] > 2.2250738585072014e-308
                val[3, b, r] = s[r] if pos else 1.0  # WENT: log S - sum(e log e) / S
                hs[b, r] = h[r] / s[r] if pos and zeros[r] == 0.0 else np.nan  # 0 log 0 = NaN
            if want_h:
                for r in range(nr):
                    if tiny[r] > zeros[r]:  # a nonzero e whose float32 is subnormal or 0
                        ok = False
        for k in range(4):
            if cols[k] < 0:
                continue
            _log64_jit(val[k].reshape(-1), lg[k].reshape(-1), mant64, expo64)  # the wanted features only
            _fix_log_jit(val[k].reshape(-1), lg[k].reshape(-1))  # S overflowing to inf (huge float input)
            for b in range(nb):
                base = cols[k] + b * n_ch
                for r in range(nr):
                    flat[dst[r] + base] = lg[k, b, r] - hs[b, r] if k == 3 else lg[k, b, r]
    return ok


def _build():
    from numba import njit

    global _xlogx32_jit, _log64_jit, _fix_log_jit
    vec = dict(OPTIONS, fastmath={"contract"})  # vecmath: its order of operations kept
    _xlogx32_jit = njit(**vec)(vecmath.xlogx32)
    _log64_jit = njit(**vec)(vecmath.log64)
    _fix_log_jit = njit(**vec)(vecmath.fix_log)
    opts = dict(OPTIONS, fastmath={"contract", "reassoc", "nsz", "arcp"})  # FMA, reordered sums; NaN/inf kept
    return njit(**opts)(_band_features)


def band_features(windows: np.ndarray, n_sub: int, mat: np.ndarray, bands, cols, out: np.ndarray) -> bool:
    """Write the wavelet features of every channel of every (sub-)window into ``out``; False: not done.

    windows: (N, C, n_sub * W) array of any real dtype (integers are exact in float64), each
    window cut into n_sub sub-windows of W samples (n_sub = 1: windowed); mat: (T, W) composed
    DWT; bands: [(start, stop)] rows of its coefficients; cols: first output column of WENG,
    WV, WWL, WENT (None: not wanted), band-major blocks as in ``native``; out: (N * n_sub, F)
    float32, C-contiguous, rows (window, sub-window).  Returns False (out partly written) when
    numba is missing or a squared coefficient is a float32 subnormal (never for ADC-unit
    input): the caller then computes the features with the torch path."""
    global _kernel
    if not available():
        return False
    if _kernel is None:
        _kernel = _build()
    starts = np.array([a for a, _ in bands], dtype=np.int64)
    lens = np.array([b - a for a, b in bands], dtype=np.int64)
    offsets = np.array([-1 if c is None else int(c) for c in cols], dtype=np.int64)
    if windows.dtype == np.bool_ or windows.dtype.kind not in "iuf":
        raise ValueError(f"windows must be a real array, got dtype {windows.dtype}")
    return bool(
        _kernel(
            np.ascontiguousarray(windows),
            int(n_sub),
            np.ascontiguousarray(mat, dtype=np.float64),
            starts,
            lens,
            offsets,
            out,
        )
    )

"""float64 log / exp and float32 x log x that numba vectorises (for the fused kernels of
emgcore.features).

numba compiles ``math.log`` / ``math.exp`` to one libm call per value (~5 ns each, no SIMD).
These read exponent and mantissa from the bits and evaluate a short series, in loops of plain
arithmetic and integer operations that LLVM turns into AVX2 code (~1 ns per value).  Both are
accurate to a few units in the last place for positive normal (log) / moderate (exp) arguments;
the callers send the other values (0, subnormal, inf, NaN) to libm with ``fix_log``.

Plain functions, compiled by each kernel's ``_build`` without ``reassoc`` (the reductions
below depend on the order of their operations).
"""

from __future__ import annotations

import math

import numpy as np

_LN2 = math.log(2.0)
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / _LN2
_SQRT2 = math.sqrt(2.0)
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: x + _MAGIC rounds x to an integer held in the low bits
_MAGIC_BITS = 0x4338000000000000
_NORMAL_MIN = 2.2250738585072014e-308
_MAX = 1.7976931348623157e308
_LN2_32 = np.float32(_LN2)
_SQRT2_32 = np.float32(_SQRT2)


def log64(v, out, mant, expo):
    """out = log(v) for positive normal float64 v (1-D arrays; mant, expo int64 scratch of the
    same length): v = m 2**k with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(q), q = (m-1)/(m+1)
    (|q| < 0.172), atanh to q**21 (truncation < 1e-19); error a few ulp."""
    bits = v.view(np.int64)
    for i in range(v.shape[0]):
        b = bits[i]
        mant[i] = (b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000  # m in [1, 2)
        expo[i] = ((b >> 52) & 0x7FF) | 0x4330000000000000  # 2**52 + biased exponent
    mf = mant.view(np.float64)
    kf = expo.view(np.float64)
    for i in range(v.shape[0]):
        mi = mf[i]
        ki = kf[i] - (4503599627370496.0 + 1023.0)
        up = 1.0 if mi > _SQRT2 else 0.0  # a select (a bool -> float conversion costs shuffles)
        mi = mi * (1.0 - 0.5 * up)
        ki = ki + up
        q = (mi - 1.0) / (mi + 1.0)
        q2 = q * q
        p = (((1.0 / 21.0 * q2 + 1.0 / 19.0) * q2 + 1.0 / 17.0) * q2 + 1.0 / 15.0) * q2 + 1.0 / 13.0
        p = (((p * q2 + 1.0 / 11.0) * q2 + 1.0 / 9.0) * q2 + 1.0 / 7.0) * q2 + 0.2
        p = (p * q2 + 1.0 / 3.0) * q2
        out[i] = ki * _LN2_HI + (2.0 * q + (ki * _LN2_LO + 2.0 * q * p))


def xlogx32(v, out, mant, expo):
    """out = v log v in float32 for positive normal float32 v (1-D arrays; mant, expo int32
    scratch of the same length), the method of ``log64`` at float32 width: atanh to q**5,
    absolute error of the log < 2e-6 (WENT's e log e, 8 lanes per instruction)."""
    bits = v.view(np.int32)
    for i in range(v.shape[0]):
        b = bits[i]
        mant[i] = (b & 0x007FFFFF) | 0x3F800000  # m in [1, 2)
        expo[i] = ((b >> 23) & 0xFF) | 0x4B000000  # 2**23 + biased exponent
    mf = mant.view(np.float32)
    kf = expo.view(np.float32)
    for i in range(v.shape[0]):
        mi = mf[i]
        ki = kf[i] - np.float32(8388608.0 + 127.0)
        up = np.float32(1.0) if mi > _SQRT2_32 else np.float32(0.0)
        mi = mi * (np.float32(1.0) - np.float32(0.5) * up)
        ki = ki + up
        q = (mi - np.float32(1.0)) / (mi + np.float32(1.0))
        q2 = q * q
        series = (np.float32(0.2) * q2 + np.float32(1.0 / 3.0)) * q2 + np.float32(1.0)
        out[i] = v[i] * (ki * _LN2_32 + np.float32(2.0) * q * series)


def exp64(v, out, scale, rk):
    """out = exp(v) for |v| < 700 (1-D arrays; scale int64 and rk float64 scratch of the same length):
    v = k ln 2 + r (Cody-Waite, |r| <= ln 2 / 2), exp r to r**13 (truncation < 1e-17), times
    2**k from the bits; error a few ulp."""
    kf = scale.view(np.float64)
    for i in range(v.shape[0]):
        kf[i] = v[i] * _INV_LN2 + _MAGIC  # round(v / ln 2) in the low bits
    for i in range(v.shape[0]):
        k = kf[i] - _MAGIC  # exact: the same k as the bits
        r = (v[i] - k * _LN2_HI) - k * _LN2_LO
        rk[i] = r
    for i in range(v.shape[0]):
        scale[i] = (scale[i] - _MAGIC_BITS + 1023) << 52  # the bits of 2**k
    for i in range(v.shape[0]):
        r = rk[i]
        p = (
            (
                (((1.0 / 6227020800.0 * r + 1.0 / 479001600.0) * r + 1.0 / 39916800.0) * r + 1.0 / 3628800.0) * r
                + 1.0 / 362880.0
            )
            * r
            + 1.0 / 40320.0
        ) * r + 1.0 / 5040.0
        p = ((((p * r + 1.0 / 720.0) * r + 1.0 / 120.0) * r + 1.0 / 24.0) * r + 1.0 / 6.0) * r + 0.5
        out[i] = (1.0 + (r + r * r * p)) * kf[i]


def fix_log(v, out):
    """out[i] = log(v[i]) through libm where v[i] is not a positive normal finite float64 (0,
    subnormal, inf, NaN, negative): the values ``log64`` does not cover."""
    for i in range(v.shape[0]):
        x = v[i]
        if not (_NORMAL_MIN <= x <= _MAX):
            out[i] = math.log(x) if x >= 0.0 else np.nan

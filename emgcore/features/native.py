"""Native, batched hand-crafted EMG features in PyTorch, reproducing libemg 2.0.3's FeatureExtractor.

This module depends only on numpy, torch and numba (no libemg, pywt, librosa or scipy).  It computes the
features of eleven libemg feature groups for a whole batch of windows at once, on CPU or CUDA,
in float32 (default) or float64, with libemg 2.0.3's definitions, default parameters and output
column layout.  ``libemg/feature_extractor.py`` of libemg 2.0.3 is the specification; every
definition below cites what libemg computes.

Quick use::

    X = extract(windows, "HTD")                      # (N, 32) for (N, 8, 40) windows
    X = extract(windows, ["MAV", "WL"], {"SSC_threshold": 1.0}, dtype=torch.float64)
    X = extract(windows, "TDAR", subwindows=4)       # (N, 4, 64): 4 sub-windows of 10 samples
    feature_names("TDAR", 8)                         # ['MAV_ch0', ..., 'AR_3_ch7']

Groups (``GROUPS``) and column counts for C channels, with default parameters
-------------------------------------------------------------------------------
============  ===========================================  ======================  ========
group         features (in output order)                   columns                 C = 8
============  ===========================================  ======================  ========
WENG          WENG                                         8 C (level 7 + approx)  64
RMS           RMS                                          C                       8
HTD           MAV ZC SSC WL                                4 C                     32
DFTR          DFTR                                         6 C (6 bands at 1 kHz)  48
ITD           ISD COR MDIFF MLK                            4 C                     32
LS4           LS MFL MSR WAMP                              4 C                     32
TDAR          MAV ZC SSC WL AR                             4 C + 4 C               64
COMB          WL SSC LD AR9                                3 C + 9 C               96
              (libemg_compat=True: WL SSC LD)              3 C                     24
MSWT          WENG WV WWL WENT                             4 x 8 C                 256
TDPSD         M0 M2 M4 SPARSI IRF WLF                      6 C                     48
LS9           LS MFL MSR WAMP ZC RMS IAV DASDV VAR         9 C                     72
============  ===========================================  ======================  ========

Output layout and column names
------------------------------
libemg returns one block per feature, concatenated in the order asked for (``np.hstack`` of a
dict in insertion order).  Inside a block:

* scalar features (one value per channel): column ``c`` is channel ``c``; named ``"MAV_ch3"``.
* ``AR`` / ``AR9``: libemg reshapes the ``(N, C, order)`` coefficient array in C order, so the
  block is **channel-major**: column ``c * order + k`` is coefficient ``a[k + 1]`` of channel ``c``
  (``a[0] = 1`` is dropped); named ``"AR_<k>_ch<c>"`` with ``k = 0 .. order-1``.
* ``DFTR`` and the wavelet features (``WENG WV WWL WENT``): libemg ``hstack``s one ``(N, C)``
  array per band, so the block is **band-major**: column ``b * C + c`` is band ``b`` of channel
  ``c``; named ``"DFTR_<b>_ch<c>"``.  DFTR band ``b`` is the ``b``-th frequency band listed
  below; wavelet band 0 is the approximation ``cA_L`` and band ``b >= 1`` is the detail
  ``cD_(L+1-b)`` (pywt's ``wavedec`` order: ``[cA_L, cD_L, ..., cD_1]``).

In general every name is ``<FEATURE>_ch<c>`` or ``<FEATURE>_<k>_ch<c>`` (``k`` 0-based).

Decisions where libemg's behaviour is surprising
-------------------------------------------------
1. **COMB / AR9.**  libemg's group ``COMB`` lists ``'AR9'``, which is not in libemg's feature
   list; ``extract_features`` silently skips unknown names, so libemg's COMB is only WL, SSC, LD
   (3 C columns).  Natively, ``AR9`` is a feature (AR coefficients of order 9, i.e. libemg's
   ``getARfeat(windows, AR_order=9)``, ignoring ``AR_order``), so native COMB is WL, SSC, LD, AR9
   (12 C columns), as the thesis intends.
2. **Parameter routing.**  libemg passes a parameter to every feature ``F`` whose ``F + "_"``
   occurs *anywhere* in the key, so ``'WWL_fs'`` also reaches ``WL`` (which takes no parameter)
   and ``extract_features(['WL', 'WWL'], w, {'WWL_fs': 200})`` raises ``TypeError``.  Natively a
   key ``"<FEATURE>_<param>"`` reaches only that feature.
3. ``extract(..., libemg_compat=True)`` gives libemg's behaviour: ``AR9`` is dropped (libemg's
   COMB), parameters are routed by libemg's substring rule (reproducing its ``TypeError``), and
   libemg's type assertions are enforced (``SSC_threshold`` / ``WAMP_threshold`` must be
   ``float``, ``AR_order`` an ``int``, ``DFTR_fs`` an ``int`` or ``float``).  In both modes a name
   or parameter this module does not know raises ``ValueError`` (libemg skips unknown feature
   names silently, which hides typos), and a feature named twice is computed once, at its first
   position (libemg's result is a dict).
4. **Units and defaults.**  libemg's defaults are kept: ``WAMP_threshold = 2e-3`` and
   ``SSC_threshold = 0.0`` are meant for signals in volts while the input here is in raw ADC
   units (with integer data WAMP then counts every non-zero difference); every sampling rate
   (``DFTR_fs``, ``WENG_fs``, ``WV_fs``, ``WWL_fs``, ``WENT_fs``) defaults to 1000 Hz although the
   Myo armband samples at 200 Hz.  Pass parameters explicitly for physically meaningful values.
5. **Input dtype.**  libemg applied to int8 arrays silently overflows (``np.diff``, ``x**2`` and
   ``np.abs(-128)`` wrap around; RMS gets NaN) and AR raises (librosa wants floats).  Natively the
   input is always converted to floating point first, i.e. the output equals libemg applied to
   ``windows.astype(np.float64)``.
6. **Counts are exact.**  ZC, SSC and WAMP equal libemg's float64 counts exactly whatever
   ``dtype`` is: integer input with |x| <= 2048 is exact in float32 (every difference and SSC
   product is an integer < 2**24) and thresholds are compared exactly as integers
   (``v > t`` <=> ``v > floor(t)``, ``v >= t`` <=> ``v >= ceil(t)``, so e.g. a threshold of
   ``1 + 1e-9``, which float32 cannot hold, still counts like libemg); any other input is
   counted in float64.
7. **Non-finite input** raises ``ValueError`` (libemg would propagate NaN, except AR which raises).
8. **Constant channels and pywt's rounding.**  pywt's sym8 high-pass taps sum to -2.1e-12, not 0,
   so the detail bands of a constant channel hold tiny uniform values, not zeros; native
   reproduces them (WENG, WV, WENT agree).  Two values there are decided by pywt's float64
   rounding noise and are *not* reproduced: (a) WWL of the approximation band,
   log(sum|diff c^2| + 1e-10), where the uniform c^2 (~1e6 for 127) differ in pywt by ~1e-9
   (comparable to the 1e-10 floor): libemg gives e.g. -18.87 for a channel of 127s, -22.93 for
   5s; native gives the exact-arithmetic value log(1e-10) = -23.03 for every constant channel;
   (b) WENT of the detail bands, log(n) up to noise ~1e-8: native agrees to ~5e-9 (not 1e-9) in
   float64.  Real recordings have no constant 40- or 10-sample channels (none in the CIIL data).

9. **libemg's last bits depend on the memory layout of its input**: numpy sums a contiguous axis
   pairwise but a strided one sequentially, so libemg's float64 output for e.g. a transposed
   view differs from that for a C-contiguous copy in the last bit.  "libemg's value" here means
   libemg applied to a C-contiguous float64 array (the tests and reference vectors do that).

Feature definitions (x: one channel of one window, W samples, d1 = diff(x), d2 = diff(d1))
--------------------------------------------------------------------------------------------
* ``MAV`` mean|x|.  ``IAV`` sum|x|.  ``RMS`` sqrt(mean x^2).  ``VAR`` population variance
  (``np.var``, ddof 0).  ``WL`` sum|d1|.  ``DASDV`` sqrt(mean d1^2).  ``ISD`` sum x^2.
  ``MDIFF`` sum(d1^2) / W.  ``LD`` exp(mean log(|x| + 1)).
* ``ZC`` number of k with sign(x[k+1]) - sign(x[k]) = +-2: a crossing through an exact 0 sample
  (+, 0, -) is **not** counted, there is no amplitude threshold.
* ``SSC`` number of k (1..W-2) with (x[k]-x[k-1]) * (x[k]-x[k+1]) >= SSC_threshold.  With the
  default 0.0 every sample with an **equal neighbour counts** (a constant window gives W - 2).
  The threshold is compared with the product (units^2), not with a derivative.
* ``WAMP`` number of k with |d1[k]| > WAMP_threshold (strict).
* ``LS`` L-scale, libemg's ``__lmom(x, 2)[1]`` = 2 b1 - b0 with b0 = mean(x),
  b1 = 1/W sum_{i=2..W} (i-1)/(W-1) x_(i) (x sorted ascending); computed here as the equivalent
  sum_{i<j} |x_i - x_j| / (W (W - 1)) for W <= 20 (no sort: W (W-1) / 2 differences, vectorised
  over channels) and sum_i (2i - W - 1) x_(i) / (W (W - 1)) for longer windows, both exact for
  integer data (libemg's value of a constant window is rounding noise ~1e-15 instead of 0).
* ``MFL`` log10(sum|d1|): **-inf** for a constant window.
* ``MSR`` |mean(sqrt(complex(x)))|: sqrt of a negative sample is imaginary, so MSR =
  hypot(sum_{x>0} sqrt(x), sum_{x<0} sqrt(-x)) / W.
* TDPSD ``M0 M2 M4 SPARSI IRF WLF`` (Khushaba): each feature computes a quantity q(.) once on
  the window (``ebp = q(x)``) and once on ``log(x^2 + eps)`` with eps = np.spacing(1) = 2^-52
  (``efp``), and returns -2 efp ebp / (efp^2 + ebp^2).  With
  m0 = (sqrt(sum x^2) / (W-1))^0.1 / 0.1  (note: /(W-1) *outside* the sqrt),
  m2 = (sqrt(sum d1^2 / (W-1)))^0.1 / 0.1,  m4 = (sqrt(sum d2^2 / (W-1)))^0.1 / 0.1:
  M0: log|m0|; M2: log|m0 - m2|; M4: log|m0 - m4|; SPARSI: log|sqrt(|(m0-m2)(m0-m4)|) / m0|;
  IRF: log|m2 / sqrt(m0 m4)|; WLF: log|sqrt(sum|d1| / sum|d2|)|.
  Edge cases reproduced (NaN = 0/0, inf/inf or 0 * inf inside): an all-zero window gives
  log 0 = -inf in ebp and NaN for every TDPSD feature; a constant window gives m2 = m4 = 0:
  SPARSI, IRF and WLF are NaN (M0, M2, M4 finite); m4 = 0 and sum|d2| = 0 (constant, linear
  ramp) make IRF and WLF NaN;
  a window of +-1 only has a constant efp branch (log(1 + eps)), so IRF and WLF are NaN.
* ``COR`` (sum d1^2 / W) / ((sum d2^2 / W) * sum x^2): NaN (0/0) for constant and all-zero
  windows, +inf when only d2 vanishes (a linear ramp).
* ``MLK`` log(sum|x| + eps) / W with eps = 2^-52: an all-zero window gives log(2^-52)/W.
* ``AR`` (``AR_order`` = 4) / ``AR9`` (order 9): librosa.lpc, i.e. **Burg's method**
  (Marple 1980, Levinson recursion, denominator updated by Marple's eqn 17, ``den + tiny``
  guarding 0/0); coefficients a[1..order] of the prediction-error filter
  x[n] + a1 x[n-1] + ... = e[n].  All-zero window: all 0.  Constant window: [-1, 0, 0, ...].
  Requires order < W (libemg/librosa fail with IndexError otherwise; here: ValueError).
* ``DFTR`` (He et al. 2015): spec = fft(x, n=nextpow2(W)) / W (zero padded), magnitude |spec|
  of the first round(n/2) bins at f_k = k fs / n; band b averages |spec| over the bins with
  lo_b < f_k < hi_b (strict) with edges 20, 92, 163, 235, 305, 378, 450 Hz (libemg's docstring
  says 307; the code uses 305), value = mean^(2/3).  Only bands with hi_b < fs/2 are returned
  (6 at 1 kHz, 1 at 200 Hz); an empty band (short window / low fs) gives 0/0 = NaN like libemg.
* Wavelet features (Khushaba; ``WENG WV WWL WENT``, each with its own ``*_fs``): pywt
  ``wavedec(x, 'sym8', level=L, mode='symmetric')`` with
  L = floor(log(fs/2)/log(2) - 1), i.e. **L = 7 at the default 1000 Hz** (5 at 200 Hz) although
  a 40-sample window supports only 1 level (pywt warns; every coefficient is a boundary
  effect).  Band lengths for W = 40: 15 15 15 15 16 18 21 27; for W = 10: 14 x6, 13, 12.
  The DWT is reimplemented exactly (same sym8 coefficients, half-sample symmetric extension
  repeated as needed for signals shorter than the filter, output = odd samples of the full
  convolution) and composed over the levels into one matrix per window length.
  WENG: log(sum c^2 + 1e-10); WV: log(var(c^2) + 1e-10); WWL: log(sum|diff(c^2)| + 1e-10);
  WENT: -sum p log p with p = c^2 / sum c^2, which is **NaN whenever a coefficient is exactly
  0** (0 log 0 = 0 * -inf in numpy), e.g. all bands of an all-zero window and the bands the
  spike does not reach (see decision 8 for constant channels).

Numerics
--------
The simple features (amplitude, differences, LS, LD, MSR, MLK, COR) are computed in ``dtype``
(counts: see decision 6).  Where float32 arithmetic could not stay within ~1e-4 of libemg's float64 values, the
work is done in float64 and only the result is rounded to ``dtype``:

* ``AR``/``AR9``: Burg's recursion amplifies rounding (AR9 of 10 samples is ill-conditioned), so
  it always runs in float64.  On CPU the numba kernel ``burg_kernel`` performs librosa's
  operations in librosa's order for every signal, so the coefficients are **bit-identical** to
  libemg's whatever ``dtype``.  The torch path (GPU, or without numba) does the same for
  ``dtype=torch.float64``; for float32 output its sums are ordinary reductions (faster), and
  rows whose recursion is ill-conditioned (a denominator below 1e-6 of the initial one; e.g. a
  linear ramp) are redone with the exact path.
* TDPSD: the subtractions m0 - m2 etc. cancel badly, so everything is float64 and follows
  libemg exactly: ``log(x^2 + eps)`` of small-integer input comes from a table computed by numpy
  (the very values libemg uses), the sums run in numpy's pairwise order (``_np_sum``) and the
  final expressions are evaluated by numpy itself (on CPU).  The float64 result is
  bit-identical to libemg's -- including ties such as sum|d1| == sum|d2| in the efp branch,
  where libemg's rounding decides between 0 and NaN.  Float32 output on CPU comes from the numba
  kernel ``tdpsd_kernel``: the same signals and sums (bit-identical), then the powers and logs
  with vectorised float64 functions (a few ulp; libm's exact powers where m0 is within 1e-8 of
  m2 or m4, whose differences are logged), ~1e-11 from the exact values, the same NaN / inf.
  numpy's ``x ** 0.1`` alone (~20 ns per value, six per channel) was most of a sub-window's time.
* DFTR: float64 DFT matrix (with exactly symmetric twiddles, so that exact cancellations an FFT
  finds are exact here too: a band can be exactly 0, and mean^(2/3) magnifies tiny errors).
* Wavelets: the composed DWT matrix product and the band statistics are float64.  Float32
  output on CPU comes from the numba kernel ``wavelet_kernel`` (coefficients, statistics and
  final logs of a block of 128 channel-rows in cache; e log e of WENT with a float32 log, WENT
  within ~3e-6; see its docstring); elsewhere (GPU, or without numba) e log e uses torch's
  float32 log and the variance (WV) a float64 one-pass formula (error ~1e-16 mean^2/var).  In
  both, a constant channel's WV and WWL are exactly log(1e-10).
* LS: pairwise differences or integer weights (exact sums for integer data).

Large inputs are processed in chunks of about ``CHUNK_ELEMENTS`` elements of the widest
per-channel intermediate of the torch path; on CPU the chunks are spread over
``torch.get_num_threads()`` worker threads whose torch operations run single-threaded and whose
numba kernels release the GIL (chunk-level parallelism).  Results do not depend on the chunking
or the thread count except for float64 rounding of the BLAS product (~1e-15).  ``USE_KERNELS =
False`` runs the torch paths everywhere (the kernels are tested against them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import torch

from emgcore.features import burg_kernel, tdpsd_kernel, wavelet_kernel

__all__ = [
    "GROUPS",
    "FEATURES",
    "LIBEMG_FEATURES",
    "PARAM_DEFAULTS",
    "FS_PARAMS",
    "resolve_names",
    "resolve_params",
    "feature_names",
    "n_columns",
    "extract",
]

#: The eleven feature groups (libemg 2.0.3's definitions; WENG and RMS are single features).
GROUPS: dict[str, tuple[str, ...]] = {
    "WENG": ("WENG",),
    "RMS": ("RMS",),
    "HTD": ("MAV", "ZC", "SSC", "WL"),
    "DFTR": ("DFTR",),
    "ITD": ("ISD", "COR", "MDIFF", "MLK"),
    "LS4": ("LS", "MFL", "MSR", "WAMP"),
    "TDAR": ("MAV", "ZC", "SSC", "WL", "AR"),
    "COMB": ("WL", "SSC", "LD", "AR9"),
    "MSWT": ("WENG", "WV", "WWL", "WENT"),
    "TDPSD": ("M0", "M2", "M4", "SPARSI", "IRF", "WLF"),
    "LS9": ("LS", "MFL", "MSR", "WAMP", "ZC", "RMS", "IAV", "DASDV", "VAR"),
}

#: Default parameters: libemg 2.0.3's defaults (thresholds meant for volts, 1000 Hz rates).
PARAM_DEFAULTS: dict[str, object] = {
    "SSC_threshold": 0.0,
    "WAMP_threshold": 2e-3,
    "AR_order": 4,
    "DFTR_fs": 1000,
    "WENG_fs": 1000,
    "WV_fs": 1000,
    "WWL_fs": 1000,
    "WENT_fs": 1000,
}
#: The sampling-rate parameters (what the CLI's ``--fs`` sets).
FS_PARAMS = ("DFTR_fs", "WENG_fs", "WV_fs", "WWL_fs", "WENT_fs")

#: Parameters each feature takes (its libemg keyword arguments).
_FEATURE_PARAMS: dict[str, tuple[str, ...]] = {
    "SSC": ("SSC_threshold",),
    "WAMP": ("WAMP_threshold",),
    "AR": ("AR_order",),
    "DFTR": ("DFTR_fs",),
    "WENG": ("WENG_fs",),
    "WV": ("WV_fs",),
    "WWL": ("WWL_fs",),
    "WENT": ("WENT_fs",),
}

#: Supported single features.
FEATURES: tuple[str, ...] = (
    "MAV",
    "ZC",
    "SSC",
    "WL",
    "LS",
    "MFL",
    "MSR",
    "WAMP",
    "RMS",
    "IAV",
    "DASDV",
    "VAR",
    "M0",
    "M2",
    "M4",
    "SPARSI",
    "IRF",
    "WLF",
    "AR",
    "AR9",
    "LD",
    "DFTR",
    "ISD",
    "COR",
    "MDIFF",
    "MLK",
    "WENG",
    "WV",
    "WWL",
    "WENT",
)

#: libemg 2.0.3's ``get_feature_list()`` (names libemg's extract_features does not skip).
LIBEMG_FEATURES: tuple[str, ...] = (
    "MAV",
    "ZC",
    "SSC",
    "WL",
    "LS",
    "MFL",
    "MSR",
    "WAMP",
    "RMS",
    "IAV",
    "DASDV",
    "VAR",
    "M0",
    "M2",
    "M4",
    "SPARSI",
    "IRF",
    "WLF",
    "AR",
    "CC",
    "LD",
    "MAVFD",
    "MAVSLP",
    "MDF",
    "MNF",
    "MNP",
    "MPK",
    "SKEW",
    "KURT",
    "RMSPHASOR",
    "PAP",
    "WLPHASOR",
    "MZP",
    "TM",
    "SM",
    "SAMPEN",
    "FUZZYEN",
    "DFTR",
    "ISD",
    "COR",
    "MDIFF",
    "MLK",
    "ACT",
    "MOB",
    "COMP",
    "WENG",
    "WV",
    "WWL",
    "WENT",
    "MEAN",
)

#: On CPU, compute AR / AR9 (``burg_kernel``, any dtype: bit-identical to the exact torch path)
#: and, for float32 output, the wavelet features (``wavelet_kernel``) and TDPSD
#: (``tdpsd_kernel``) with the numba kernels;
#: False forces the torch paths (tests, benchmarks).
USE_KERNELS = True

#: Chunk size: rows x channels x (widest per-channel intermediate: samples or wavelet
#: coefficients) per chunk; large enough to amortise per-operation overhead, small enough to
#: stay in cache.
CHUNK_ELEMENTS = 1 << 18

_EPS = 2.220446049250313e-16  # np.spacing(1) = 2**-52 (TDPSD, MLK)
_LOG_FLOOR = 1e-10  # wavelet features' additive constant
_DFTR_EDGES = (20, 92, 163, 235, 305, 378, 450)

# pywt.Wavelet('sym8').dec_lo (PyWavelets 1.9.0), full float64 precision.
_SYM8_DEC_LO = (
    -0.0033824159510061256,
    -0.0005421323317911481,
    0.03169508781149298,
    0.007607487324917605,
    -0.1432942383508097,
    -0.061273359067658524,
    0.4813596512583722,
    0.7771857517005235,
    0.3644418948353314,
    -0.05194583810770904,
    -0.027219029917056003,
    0.049137179673607506,
    0.003808752013890615,
    -0.01495225833704823,
    -0.0003029205147213668,
    0.0018899503327594609,
)
# dec_hi[k] = (-1)**(k+1) * dec_lo[15-k]  (bit-identical to pywt's dec_hi)
_SYM8_DEC_HI = tuple((-1) ** (k + 1) * _SYM8_DEC_LO[15 - k] for k in range(16))


# ----------------------------------------------------------------------------------------------
# names and parameters
# ----------------------------------------------------------------------------------------------
def _supported_message() -> str:
    groups = ", ".join(f"{g} ({' '.join(f)})" for g, f in GROUPS.items())
    return f"supported features: {', '.join(FEATURES)}; supported groups: {groups}"


def resolve_names(group_or_names: str | Iterable[str]) -> list[str]:
    """Feature names for a group name, a single feature name or a list of names/groups.

    Names are case-sensitive (libemg's are upper case).  A group inside a list is expanded.
    A feature named more than once is kept once, at its first position (libemg returns a dict).
    An unsupported name raises ``ValueError`` listing the supported features and groups.
    """
    items = [group_or_names] if isinstance(group_or_names, str) else list(group_or_names)
    if not items:
        raise ValueError(f"no feature names given; {_supported_message()}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"feature names must be strings, got {item!r}; {_supported_message()}")
        if item in FEATURES:
            expanded: Sequence[str] = (item,)
        elif item in GROUPS:
            expanded = GROUPS[item]
        else:
            raise ValueError(f"unsupported feature or group {item!r}; {_supported_message()}")
        for name in expanded:
            if name not in out:
                out.append(name)
    return out


def _selected(names, libemg_compat: bool) -> list[str]:
    feats = resolve_names(names)
    if libemg_compat:
        # libemg's extract_features skips names missing from its feature list (AR9 in COMB)
        feats = [f for f in feats if f in LIBEMG_FEATURES]
    return feats


def _check_param(key: str, value, libemg_compat: bool):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"parameter {key} must be a number, got {value!r}")
    if libemg_compat:  # libemg's own assertions
        if key in ("SSC_threshold", "WAMP_threshold") and type(value) is not float:
            raise TypeError(f"libemg asserts type({key}) == float, got {type(value).__name__}")
        if key == "AR_order" and type(value) is not int:
            raise TypeError(f"libemg asserts type(AR_order) == int, got {type(value).__name__}")
        if key == "DFTR_fs" and type(value) not in (int, float):
            raise TypeError(f"libemg asserts type(DFTR_fs) in (int, float), got {type(value).__name__}")
    if key == "AR_order":
        if int(value) != value or value < 1:
            raise ValueError(f"AR_order must be a positive integer, got {value!r}")
        return int(value)
    if key.endswith("_fs"):
        if not (math.isfinite(float(value)) and value > 0):
            raise ValueError(f"{key} must be a positive finite sampling rate, got {value!r}")
    elif math.isnan(float(value)):
        raise ValueError(f"{key} must not be NaN")
    return value


def resolve_params(
    names, params: Mapping[str, object] | None = None, *, libemg_compat: bool = False
) -> dict[str, dict[str, object]]:
    """Per-feature keyword arguments for the selected features (defaults filled in).

    Keys are libemg's ``"<FEATURE>_<param>"`` names (``PARAM_DEFAULTS``); an unknown key raises
    ``ValueError``.  A key for a feature that is not selected is ignored.  Natively a key reaches
    only its own feature; with ``libemg_compat`` it reaches every feature ``F`` with
    ``F + "_"`` in the key, and a feature that does not take it raises ``TypeError`` as in libemg.
    """
    params = dict(params or {})
    for key in params:
        if key not in PARAM_DEFAULTS:
            raise ValueError(
                f"unknown parameter {key!r}; supported parameters: "
                + ", ".join(f"{k}={v!r}" for k, v in PARAM_DEFAULTS.items())
            )
        params[key] = _check_param(key, params[key], libemg_compat)
    out: dict[str, dict[str, object]] = {}
    for feat in _selected(names, libemg_compat):
        own = _FEATURE_PARAMS.get(feat, ())
        kw = {k: PARAM_DEFAULTS[k] for k in own}
        if libemg_compat:
            for key, value in params.items():
                if feat + "_" in key:
                    if key not in own:
                        raise TypeError(
                            f"FeatureExtractor.get{feat}feat() got an unexpected keyword argument "
                            f"{key!r} (libemg passes every parameter whose key contains "
                            f"'{feat}_' to {feat}; libemg_compat=True reproduces this)"
                        )
                    kw[key] = value
        else:
            kw.update({k: params[k] for k in own if k in params})
        out[feat] = kw
    return out


def _wavelet_level(fs) -> int:
    # libemg: order = math.floor(np.log(fs/2)/np.log(2) - 1)
    level = math.floor(np.log(fs / 2) / np.log(2) - 1)
    if level < 0:
        raise ValueError(
            f"a sampling rate of {fs} Hz gives wavelet level {level} < 0 "
            "(libemg's level = floor(log2(fs/2) - 1); pywt refuses negative levels)"
        )
    return level


def _dftr_nbands(fs) -> int:
    return sum(hi < fs / 2 for hi in _DFTR_EDGES[1:])


def _block_shape(feat: str, kw: Mapping[str, object]) -> tuple[str, int]:
    """(layout, k): layout 'scalar' (k = 1), 'channel' (AR: channel-major, k per channel) or
    'band' (band-major, k bands)."""
    if feat == "AR":
        return "channel", int(kw["AR_order"])
    if feat == "AR9":
        return "channel", 9
    if feat == "DFTR":
        return "band", _dftr_nbands(kw["DFTR_fs"])
    if feat in ("WENG", "WV", "WWL", "WENT"):
        return "band", _wavelet_level(kw[f"{feat}_fs"]) + 1
    return "scalar", 1


def feature_names(
    names, n_channels: int, params: Mapping[str, object] | None = None, *, libemg_compat: bool = False
) -> list[str]:
    """Column names in output order: ``<F>_ch<c>`` or ``<F>_<k>_ch<c>`` (see module docstring)."""
    if int(n_channels) != n_channels or n_channels < 1:
        raise ValueError(f"n_channels must be a positive integer, got {n_channels!r}")
    out: list[str] = []
    for feat, kw in resolve_params(names, params, libemg_compat=libemg_compat).items():
        layout, k = _block_shape(feat, kw)
        if layout == "scalar":
            out += [f"{feat}_ch{c}" for c in range(n_channels)]
        elif layout == "channel":
            out += [f"{feat}_{j}_ch{c}" for c in range(n_channels) for j in range(k)]
        else:
            out += [f"{feat}_{b}_ch{c}" for b in range(k) for c in range(n_channels)]
    return out


def n_columns(names, n_channels: int, params=None, *, libemg_compat: bool = False) -> int:
    """Number of output columns (``len(feature_names(...))``)."""
    return len(feature_names(names, n_channels, params, libemg_compat=libemg_compat))


# ----------------------------------------------------------------------------------------------
# constant matrices (built in float64 numpy, cached per shape / device)
# ----------------------------------------------------------------------------------------------
def _dwt_step_matrices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """pywt.dwt(x, 'sym8', mode='symmetric') as two (n_out, n) matrices.

    Half-sample symmetric extension, repeated with period 2n for signals shorter than the filter;
    output k is sample 2k+1 of the full convolution; n_out = (n + 15) // 2."""
    lo, hi, flen = _SYM8_DEC_LO, _SYM8_DEC_HI, 16
    n_out = (n + flen - 1) // 2
    a = np.zeros((n_out, n))
    d = np.zeros((n_out, n))
    for k in range(n_out):
        t = 2 * k + 1
        for j in range(flen):
            m = (t - j) % (2 * n)
            idx = m if m < n else 2 * n - 1 - m
            a[k, idx] += lo[j]
            d[k, idx] += hi[j]
    return a, d


@lru_cache(maxsize=64)
def _wavedec_matrix_np(n: int, level: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """pywt.wavedec(x, 'sym8', level=level) as one (n_coeffs, n) matrix, bands [cA_L, cD_L..cD_1]."""
    approx = np.eye(n)
    details = []
    length = n
    for _ in range(level):
        a, d = _dwt_step_matrices(length)
        details.append(d @ approx)
        approx = a @ approx
        length = a.shape[0]
    bands = [approx] + details[::-1]
    return np.concatenate(bands, 0), tuple(b.shape[0] for b in bands)


@lru_cache(maxsize=64)
def _wavelet_consts(n: int, level: int, device: str):
    """(T, W) float64 transform and the band boundaries [(start, stop), ...] along T."""
    mat, sizes = _wavedec_matrix_np(n, level)
    bounds = np.cumsum((0,) + sizes)
    return (
        torch.tensor(mat, dtype=torch.float64, device=device),
        tuple(zip(bounds[:-1].tolist(), bounds[1:].tolist())),
    )


def _cos_sin(m: int, nfft: int) -> tuple[float, float]:
    """cos and sin of 2 pi m / nfft with exact symmetries (exact 0 and +-1 at quarter turns,
    cos(a + pi) == -cos(a) bit for bit), so that exact cancellations an FFT finds (e.g. x0 = x8
    at bin 1 of a 16-point transform) are exact here too."""
    m %= nfft
    if nfft % 4:
        if (2 * m) % nfft == 0:
            return (1.0, 0.0) if m == 0 else (-1.0, 0.0)
        ang = 2 * math.pi * m / nfft
        return math.cos(ang), math.sin(ang)
    quarter = nfft // 4
    q, r = divmod(m, quarter)
    if 2 * r <= quarter:
        ang = 2 * math.pi * r / nfft
        c0, s0 = math.cos(ang), math.sin(ang)
    else:
        ang = 2 * math.pi * (quarter - r) / nfft
        c0, s0 = math.sin(ang), math.cos(ang)
    if r == 0:
        c0, s0 = 1.0, 0.0
    return [(c0, s0), (-s0, c0), (-c0, -s0), (s0, -c0)][q]


@lru_cache(maxsize=64)
def _dftr_consts(n: int, fs: float, device: str):
    """Real DFT (cos, -sin) of the bins inside the DFTR bands and the band-averaging matrix."""
    nfft = 2 ** math.ceil(math.log2(n))
    f = (np.fft.fftfreq(nfft) * fs)[: int(round(nfft / 2))]
    nb = _dftr_nbands(fs)
    masks = [np.logical_and(f > _DFTR_EDGES[b], f < _DFTR_EDGES[b + 1]) for b in range(nb)]
    used = np.flatnonzero(np.any(masks, 0)) if nb else np.zeros(0, dtype=int)
    basis = np.zeros((n, 2 * len(used)))
    for j, k in enumerate(used):
        for t in range(n):
            c, s = _cos_sin(int(t * k), nfft)
            basis[t, j], basis[t, len(used) + j] = c, -s
    avg = np.zeros((len(used), nb))
    for b, m in enumerate(masks):
        for j, k in enumerate(used):
            if m[k]:
                avg[j, b] = 1.0 / m.sum()
    empty = np.array([m.sum() == 0 for m in masks], dtype=bool)
    f64 = dict(dtype=torch.float64, device=device)
    return (torch.tensor(basis, **f64), torch.tensor(avg, **f64), torch.tensor(empty, device=device), len(used))


@lru_cache(maxsize=8)
def _efp_table(device: str):
    """log(v**2 + 2**-52) for v = -2048 .. 2048, computed by numpy as libemg does."""
    v = np.arange(-2048, 2049, dtype=np.float64)
    return torch.tensor(np.log(v**2 + np.spacing(1)), dtype=torch.float64, device=device)


# ----------------------------------------------------------------------------------------------
# feature computation on one chunk (time-major layout)
# ----------------------------------------------------------------------------------------------
_SMALL_INT = 2048  # integer data with |x| <= 2048: diffs and SSC products are exact in float32


class _Chunk:
    """One chunk of rows (windows or sub-windows) and cached intermediates.

    Samples are kept **time-major**, ``xt`` of shape (W, r*C): each time step is a contiguous row,
    so differences are row blocks and every per-channel reduction runs over axis 0, vectorised
    across channels (several times faster than reducing short rows).  Per-channel results are
    (r*C,) vectors, band features (B, r*C).

    ``small_int``: integer input with |x| <= 2048, so ``xt`` (float32 or float64) holds exact
    values and every difference / product used by the counts is exact; otherwise the counts are
    computed in float64.
    """

    def __init__(self, src: torch.Tensor, dtype: torch.dtype, int_bound: int | None):
        # src: (n, S, C, W) view of the caller's windows (S sub-windows per window, S = 1 when
        # windowed); rows are (window, sub-window) pairs in that order
        self.src = src
        n, s, self.C, self.W = src.shape
        self.r = n * s
        self.dtype = dtype
        self.int_bound = int_bound  # max |x| of integer input, None for floating-point input
        self.small_int = int_bound is not None and int_bound <= _SMALL_INT
        self.cache: dict = {}

    def get(self, key, fn):
        try:
            return self.cache[key]
        except KeyError:
            val = self.cache[key] = fn()
            return val

    @property
    def raw(self):  # (r, C, W) input values, contiguous
        return self.get("raw", lambda: self.src.reshape(self.r, self.C, self.W))

    @property
    def device(self):
        return self.src.device

    def _time_major(self, dtype):
        n, s = self.src.shape[:2]
        out = torch.empty((self.W, n, s, self.C), dtype=dtype, device=self.src.device)
        return out.copy_(self.src.permute(3, 0, 1, 2)).view(self.W, self.r * self.C)

    @property
    def xt(self):  # (W, rC) samples in the working dtype
        return self.get("xt", lambda: self._time_major(self.dtype))

    @property
    def xt64(self):  # (W, rC) float64
        if self.dtype == torch.float64:
            return self.xt
        if self.small_int:  # integers: exact conversion of the float32 copy
            return self.get("xt64", lambda: self.xt.double())
        return self.get("xt64", lambda: self._time_major(torch.float64))

    @property
    def xe(self):  # exact values for the counts
        return self.xt if self.small_int else self.xt64

    @property
    def exact_sums(self) -> bool:
        """Sums of x^2, d1^2, d2^2 (|d2| <= 4 max|x|) are exact integers in the working dtype."""
        if self.int_bound is None:
            return False
        limit = 2**24 if self.dtype == torch.float32 else 2**53
        return self.W * (4 * self.int_bound) ** 2 < limit

    @property
    def d1(self):
        return self.get("d1", lambda: self.xt[1:] - self.xt[:-1])

    @property
    def d2(self):
        return self.get("d2", lambda: self.d1[1:] - self.d1[:-1])

    @property
    def ed1(self):
        if self.small_int:
            return self.d1
        return self.get("ed1", lambda: self.xe[1:] - self.xe[:-1])

    @property
    def ax(self):
        return self.get("ax", lambda: self.xt.abs())

    @property
    def ax_sum(self):
        return self.get("ax_sum", lambda: self.ax.sum(0))

    @property
    def x_sum(self):
        return self.get("x_sum", lambda: self.xt.sum(0))

    @property
    def x2_sum(self):
        return self.get("x2_sum", lambda: (self.xt * self.xt).sum(0))

    @property
    def ad1_sum(self):
        return self.get("ad1_sum", lambda: self.d1.abs().sum(0))

    @property
    def d1sq_sum(self):
        return self.get("d1sq_sum", lambda: (self.d1 * self.d1).sum(0))

    @property
    def d2sq_sum(self):
        return self.get("d2sq_sum", lambda: (self.d2 * self.d2).sum(0))

    @property
    def constant(self):  # (rC,) bool: the channel is constant
        def compute():
            if self.small_int and "ad1_sum" in self.cache:  # exact; 0 only if all diffs are 0
                return self.ad1_sum == 0
            return (self.xt64 == self.xt64[:1]).all(0)

        return self.get("constant", compute)

    def per_channel(self, v: torch.Tensor) -> torch.Tensor:  # (rC,) -> (r, C)
        return v.reshape(self.r, self.C)

    def per_band(self, v: torch.Tensor) -> torch.Tensor:  # (B, rC) -> (r, B, C), band-major
        return v.reshape(v.shape[0], self.r, self.C).permute(1, 0, 2)


def _int_threshold(t: float, strict: bool) -> float:
    """For integer-valued v: (v > t) <=> (v > floor(t)); (v >= t) <=> (v >= ceil(t))."""
    if math.isinf(t):
        return t
    return float(max(-(2.0**25), min(2.0**25, math.floor(t) if strict else math.ceil(t))))


def _f_MAV(ch, kw):
    return ch.per_channel(ch.ax_sum / ch.W)


def _f_IAV(ch, kw):
    return ch.per_channel(ch.ax_sum)


def _f_RMS(ch, kw):
    return ch.per_channel(torch.sqrt(ch.x2_sum / ch.W))


def _f_VAR(ch, kw):
    dev = ch.xt - ch.x_sum / ch.W  # two-pass, as np.var
    return ch.per_channel(dev.mul_(dev).sum(0) / ch.W)


def _f_WL(ch, kw):
    return ch.per_channel(ch.ad1_sum)


def _f_DASDV(ch, kw):
    return ch.per_channel(torch.sqrt(ch.d1sq_sum / (ch.W - 1)))


def _f_ISD(ch, kw):
    return ch.per_channel(ch.x2_sum)


def _f_MDIFF(ch, kw):
    return ch.per_channel(ch.d1sq_sum / ch.W)


def _f_LD(ch, kw):
    return ch.per_channel(torch.exp(torch.log1p(ch.ax).sum(0) / ch.W))


def _f_MFL(ch, kw):
    return ch.per_channel(torch.log10(ch.ad1_sum))


def _f_MLK(ch, kw):
    return ch.per_channel(torch.log(ch.ax_sum + _EPS) / ch.W)


def _f_COR(ch, kw):
    w = ch.W
    return ch.per_channel((ch.d1sq_sum / w) / ((ch.d2sq_sum / w) * ch.x2_sum))


def _f_MSR(ch, kw):
    s = torch.sqrt(ch.ax)
    re = (s * (ch.xt > 0)).sum(0)
    im = (s * (ch.xt < 0)).sum(0)
    return ch.per_channel(torch.hypot(re, im) / ch.W)


def _f_ZC(ch, kw):
    xe = ch.xe
    if not ch.small_int:  # signs first: a product of tiny floats could underflow
        xe = ch.get("sign", lambda: torch.sign(ch.xe))
    return ch.per_channel((xe[1:] * xe[:-1] < 0).sum(0))


def _f_SSC(ch, kw):
    # libemg: (x1-x0)*(x1-x2) >= t; (x1-x0)*(x1-x2) == -(d[k-1]*d[k]) exactly in IEEE arithmetic
    d = ch.ed1
    prod = d[:-1] * d[1:]
    t = float(kw["SSC_threshold"])
    if ch.small_int:
        t = _int_threshold(t, strict=False)
    return ch.per_channel((prod <= -t).sum(0))


def _f_WAMP(ch, kw):
    t = float(kw["WAMP_threshold"])
    if ch.small_int:
        t = _int_threshold(t, strict=True)
    return ch.per_channel((ch.ed1.abs() > t).sum(0))


def _sort_rows(raw: torch.Tensor) -> torch.Tensor:
    """(r, C, W) rows sorted along the last axis: numpy's sort on CPU (a radix sort for int8,
    several times faster than torch.sort on short rows), torch.sort elsewhere."""
    if raw.device.type != "cpu":
        return torch.sort(raw, dim=-1).values
    arr = np.sort(raw.reshape(-1, raw.shape[-1]).numpy(), -1, kind="stable")
    return torch.from_numpy(arr).reshape(raw.shape)


_LS_PAIRWISE_MAX = 20  # LS by pairwise differences up to this window length (W (W-1) / 2 terms), by sorting above


def _f_LS(ch, kw):
    w = ch.W
    if w <= _LS_PAIRWISE_MAX:
        # 2 b1 - b0 == sum_{i<j} |x_i - x_j| / (W (W-1)): no sort, vectorised over channels
        # (several times faster for sub-windows); integer data: the same exact numerator
        xt = ch.xt
        acc = (xt[1:] - xt[0]).abs_().sum(0)
        for i in range(1, w - 1):
            acc += (xt[i + 1 :] - xt[i]).abs_().sum(0)
        return ch.per_channel(acc / (w * (w - 1)))
    xs = _sort_rows(ch.raw).to(ch.dtype)
    # 2 b1 - b0 == sum_i (2i - W - 1) x_(i) / (W (W-1)); integer weights keep integer data exact
    wts = torch.arange(1 - w, w, 2, dtype=ch.dtype, device=xs.device)
    return (xs * wts).sum(-1) / (w * (w - 1))


def _np_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum over axis 0 in exactly numpy's order for a contiguous axis (pairwise summation: eight
    interleaved accumulators per block of <= 128 elements combined as a tree, sequential below
    8), so that float64 sums are bit-identical to libemg's ``np.sum(..., axis=2)``."""
    n = t.shape[0]
    if n < 8:
        acc = 0.0 + t[0] if n else t.new_zeros(t.shape[1:])
        for i in range(1, n):
            acc = acc + t[i]
        return acc
    if n <= 128:
        m = n - n % 8
        blocks = t[:m].unflatten(0, (m // 8, 8))
        r = blocks[0].clone()
        for b in range(1, m // 8):
            r += blocks[b]
        res = (r[0] + r[1] + (r[2] + r[3])) + (r[4] + r[5] + (r[6] + r[7]))
        for i in range(m, n):
            res = res + t[i]
        return res
    half = n // 2
    half -= half % 8
    return _np_sum(t[:half]) + _np_sum(t[half:])


def _efp_signal(ch) -> torch.Tensor:
    """log(x^2 + eps) as a (W, r*C) float64 tensor with numpy's values (a table of them for
    small-integer input), TDPSD's second signal."""

    def compute():
        if ch.small_int:
            idx = (ch.xt.to(torch.int32) + 2048).reshape(-1)
            return _efp_table(str(ch.device)).index_select(0, idx).reshape(ch.xt.shape)
        if ch.device.type == "cpu":
            x = ch.xt64.numpy()
            return torch.from_numpy(np.log(x * x + _EPS))
        return torch.log(ch.xt64 * ch.xt64 + _EPS)

    return ch.get("efp", compute)


def _tdpsd_sums(ch, which: str):
    """float64 (S0, S2, S4, A1, A2) = sums of w^2, d1^2, d2^2, |d1|, |d2| for w = x ("ebp") or
    w = log(x^2 + eps) ("efp"), bit-identical to libemg's sums: integer sums are exact in any
    order; the others are summed in numpy's order, with numpy's own log values (a table) for
    small-integer input."""

    def compute():
        if which == "ebp" and ch.exact_sums:
            # exact (all partial sums are integers below 2**24 / 2**53), in any order
            sums = (ch.x2_sum, ch.d1sq_sum, ch.d2sq_sum, ch.ad1_sum, ch.d2.abs().sum(0))
            return tuple(v.to(torch.float64) for v in sums)
        w = ch.xt64 if which == "ebp" else _efp_signal(ch)
        d1 = w[1:] - w[:-1]
        d2 = d1[1:] - d1[:-1]
        return (_np_sum(w * w), _np_sum(d1 * d1), _np_sum(d2 * d2), _np_sum(d1.abs()), _np_sum(d2.abs()))

    return ch.get(("tdpsd", which), compute)


def _tdpsd_values(ch) -> dict:
    """The six TDPSD features (float64, (r, C)), evaluated with libemg's expressions in numpy on
    CPU (so the result is bit-identical to libemg's for identical sums), in torch elsewhere."""

    def compute():
        n1 = ch.W - 1
        on_cpu = ch.device.type == "cpu"
        if on_cpu and USE_KERNELS and ch.dtype == torch.float32:
            vals = tdpsd_kernel.tdpsd(ch.xt64.numpy(), _efp_signal(ch).numpy())  # float32 output
            if vals is not None:
                return {k: ch.per_channel(torch.from_numpy(v)) for k, v in zip(tdpsd_kernel.FEATURES, vals)}
        xp = np if on_cpu else torch

        def q(which):
            sums = _tdpsd_sums(ch, which)
            s0, s2, s4, a1, a2 = (v.numpy() for v in sums) if on_cpu else sums
            m0 = xp.sqrt(s0) / n1
            m0 = m0**0.1 / 0.1
            m2 = xp.sqrt(s2 / n1)
            m2 = m2**0.1 / 0.1
            m4 = xp.sqrt(s4 / n1)
            m4 = m4**0.1 / 0.1
            return {
                "M0": xp.log(xp.abs(m0)),
                "M2": xp.log(xp.abs(m0 - m2)),
                "M4": xp.log(xp.abs(m0 - m4)),
                "SPARSI": xp.log(xp.abs(xp.sqrt(xp.abs((m0 - m2) * (m0 - m4))) / m0)),
                "IRF": xp.log(xp.abs(m2 / xp.sqrt(m0 * m4))),
                "WLF": xp.log(xp.abs(xp.sqrt(a1 / a2))),
            }

        old = np.seterr(all="ignore")
        try:
            ebp, efp = q("ebp"), q("efp")
            out = {k: (-2 * (efp[k] * ebp[k])) / (efp[k] * efp[k] + ebp[k] * ebp[k]) for k in ebp}
        finally:
            np.seterr(**old)
        if on_cpu:
            out = {k: torch.from_numpy(np.asarray(v)) for k, v in out.items()}
        return {k: ch.per_channel(v) for k, v in out.items()}

    return ch.get("tdpsd_values", compute)


def _tdpsd(ch, name):
    return _tdpsd_values(ch)[name]


def _f_M0(ch, kw):
    return _tdpsd(ch, "M0")


def _f_M2(ch, kw):
    return _tdpsd(ch, "M2")


def _f_M4(ch, kw):
    return _tdpsd(ch, "M4")


def _f_SPARSI(ch, kw):
    return _tdpsd(ch, "SPARSI")


def _f_IRF(ch, kw):
    return _tdpsd(ch, "IRF")


def _f_WLF(ch, kw):
    return _tdpsd(ch, "WLF")


_BURG_FLAG = 1e-6  # fast path: rows whose denominator fell below this fraction are redone exactly


def _burg_rows(xt: torch.Tensor, order: int, exact: bool):
    """Burg on a time-major (W, n) float64 tensor; returns (a[1:] as (order, n), min den ratio)."""
    tiny = torch.finfo(xt.dtype).tiny  # librosa: util.tiny(den)

    def total(t):
        if not exact:
            return t.sum(0)
        acc = t[0].clone()  # sequential, left to right, like numba's np.sum
        for row in t[1:]:
            acc.add_(row)
        return acc

    fwd = xt[1:]
    bwd = xt[:-1]
    den = total(fwd * fwd + bwd * bwd)
    den0 = den
    ratio = torch.ones_like(den)
    a = torch.zeros((order + 1, xt.shape[1]), dtype=xt.dtype, device=xt.device)
    a[0] = 1
    for i in range(order):
        if not exact:
            ratio = torch.minimum(ratio, den / den0)  # NaN (0/0, an all-zero row) propagates
        k = (total(bwd * fwd) * -2) / (den + tiny)
        # Levinson: a[j] = a_prev[j] + k * a_prev[i - j + 1], j = 1 .. i+1
        a[1 : i + 2] = a[1 : i + 2] + k * a[: i + 1].flip(0)
        if exact:
            fwd, bwd = fwd + k * bwd, bwd + k * fwd
        else:
            fwd, bwd = torch.addcmul(fwd, bwd, k), torch.addcmul(bwd, fwd, k)
        den = (1.0 - k * k) * den - bwd[-1] * bwd[-1] - fwd[0] * fwd[0]
        fwd = fwd[1:]
        bwd = bwd[:-1]
    return a[1:], ratio


def _burg(ch, order: int) -> torch.Tensor:
    """librosa.lpc (Burg's method, Marple 1980) of every channel, float64; returns (r, C, order).

    float64 output: every operation is the one librosa's numba kernel does, in the same order --
    sums run sequentially along time, the Levinson and error updates are separate multiplies and
    adds, the denominator follows Marple's eqn 17 and is guarded by ``+ tiny`` -- so the
    coefficients are bit-identical to libemg's.
    float32 output: sums are ordinary reductions and the updates fused (faster, same values up
    to rounding); rows where the recursion is ill-conditioned (a denominator below 1e-6 of the
    initial one, e.g. a linear ramp, or an all-zero row), where libemg's own value is dominated
    by its rounding, are recomputed with the exact path."""
    xt = ch.xt64
    if USE_KERNELS and xt.device.type == "cpu":
        fused = burg_kernel.burg(xt.numpy(), order)  # exact, as the float64 path below
        if fused is not None:
            return torch.from_numpy(fused).reshape(ch.r, ch.C, order)
    exact = ch.dtype == torch.float64
    coef, ratio = _burg_rows(xt, order, exact)
    if not exact:
        redo = torch.nonzero(~(ratio >= _BURG_FLAG)).flatten()
        if redo.numel():
            fixed, _ = _burg_rows(xt.index_select(1, redo), order, True)
            coef.index_copy_(1, redo, fixed)
    return coef.T.reshape(ch.r, ch.C, order)


def _f_AR(ch, kw):
    order = int(kw["AR_order"])
    return ch.get(("ar", order), lambda: _burg(ch, order))


def _f_AR9(ch, kw):
    return ch.get(("ar", 9), lambda: _burg(ch, 9))


def _f_DFTR(ch, kw):
    xt = ch.xt64
    basis, avg, empty, k = _dftr_consts(ch.W, float(kw["DFTR_fs"]), str(xt.device))
    if avg.shape[1] == 0:
        return xt.new_zeros((ch.r, 0))
    z = basis.T @ xt  # (2K, rC): real and imaginary parts of the used bins
    band = avg.T @ (torch.hypot(z[:k], z[k:]) / ch.W)  # (B, rC) band means of |spec|
    band[empty] = float("nan")  # an empty band: 0/0 as in libemg
    return ch.per_band(band ** (2.0 / 3.0))


def _wavelet_coef(ch, level):
    """Squared wavelet coefficients e = c^2 as a (T, r*C) float64 tensor (time-major, so that
    each band is a contiguous block of rows) and the band boundaries along T."""

    def compute():
        mat, bands = _wavelet_consts(ch.W, level, str(ch.device))
        coef = torch.mm(mat, ch.xt64)  # (T, rC)
        return coef.mul_(coef), bands  # e = c^2 (c itself is not needed)

    return ch.get(("dwt", level), compute)


def _band_raw(ch, level: int, what: str) -> torch.Tensor:
    """Per-band statistic of e = c^2 as a (B, r*C) float64 tensor, cached per wavelet level:
    S = sum e, H = sum e log e, V = population variance of e, L = sum |diff e| in the band."""

    def compute():
        e, bands = _wavelet_coef(ch, level)
        f64 = ch.dtype == torch.float64
        if what == "S":
            return torch.stack([e[a:b].sum(0) for a, b in bands])
        if what == "H":  # 0 * log 0 = NaN exactly like libemg's p * log p
            if not f64:
                # float32 output: e log e in float32 (float64 log is scalar code on CPU, ~15x
                # slower); WENT's error is then ~1e-6 absolute.  If e underflowed or overflowed
                # float32 somewhere (never for ADC-unit data) the chunk is redone in float64.
                e32 = e.float()
                elog = torch.log(e32).mul_(e32)
                h = torch.stack([elog[a:b].sum(0) for a, b in bands]).double()
                bad = ~torch.isfinite(h)
                if not bool(bad.any()):
                    return h
                zero = torch.stack([(e[a:b] == 0).any(0) for a, b in bands])
                if not bool((bad & ~zero).any()):
                    return h
            elog = torch.log(e).mul_(e)
            return torch.stack([elog[a:b].sum(0) for a, b in bands])
        if what == "V":
            s = _band_raw(ch, level, "S")
            if f64:  # two-pass, as np.var
                out = []
                for (a, b), sb in zip(bands, s):
                    dev = e[a:b] - sb / (b - a)
                    out.append(dev.mul_(dev).sum(0) / (b - a))
                return torch.stack(out)
            # float32 output: one pass in float64 (relative error ~1e-16 (mean^2 / var), far below
            # float32 resolution; exactly uniform bands -- constant channels -- are set to 0)
            e2 = e * e
            n = torch.tensor([b - a for a, b in bands], dtype=e.dtype, device=e.device)[:, None]
            q = torch.stack([e2[a:b].sum(0) for a, b in bands])
            return (q / n - (s / n) ** 2).clamp_(min=0)
        d = (e[1:] - e[:-1]).abs_()  # "L"
        return torch.stack([d[a : b - 1].sum(0) for a, b in bands])

    return ch.get(("band", level, what), compute)


def _kernel_columns(routed, col_of: dict) -> dict[int, list]:
    """{wavelet level: [first output column of WENG, WV, WWL, WENT or None]} for the kernel."""
    out: dict[int, list] = {}
    for feat, kw in routed.items():
        if feat in wavelet_kernel.FEATURES:
            cols = out.setdefault(_wavelet_level(kw[f"{feat}_fs"]), [None] * 4)
            cols[wavelet_kernel.FEATURES.index(feat)] = col_of[feat]
    return out


def _band_stat(ch, fs, what: str) -> torch.Tensor:
    return _band_raw(ch, _wavelet_level(fs), what)


def _log_floor(v: torch.Tensor) -> torch.Tensor:
    """log(v + 1e-10), libemg's wavelet-feature floor (float64)."""
    return torch.log(v + _LOG_FLOOR)


def _f_WENG(ch, kw):
    return ch.per_band(_log_floor(_band_stat(ch, kw["WENG_fs"], "S")))


def _f_WV(ch, kw):
    var = _band_stat(ch, kw["WV_fs"], "V")
    if ch.dtype != torch.float64:  # one-pass variance: make uniform bands exactly 0
        var = var.masked_fill(ch.constant, 0.0)
    return ch.per_band(_log_floor(var))


def _f_WWL(ch, kw):
    length = _band_stat(ch, kw["WWL_fs"], "L")
    # A constant channel has uniform bands, so this is exactly 0; libemg returns pywt's rounding
    # noise there (~1e-9 in the approximation band, comparable to the 1e-10 floor): see docs.
    return ch.per_band(_log_floor(length.masked_fill(ch.constant, 0.0)))


def _f_WENT(ch, kw):
    s = _band_stat(ch, kw["WENT_fs"], "S")
    h = _band_stat(ch, kw["WENT_fs"], "H")
    # -sum p log p with p = e / S  ==  log S - sum(e log e) / S
    return ch.per_band(torch.log(s) - h / s)


_FUNCS = {name[3:]: fn for name, fn in globals().items() if name.startswith("_f_")}
assert set(_FUNCS) == set(FEATURES), set(FEATURES) ^ set(_FUNCS)


# ----------------------------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------------------------
_INT_DTYPES = (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64)


def _as_tensor(windows, device) -> torch.Tensor:
    if isinstance(windows, torch.Tensor):
        t = windows
    else:
        arr = np.asarray(windows)
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"windows must be an integer or floating-point array, got dtype {arr.dtype}")
        if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        if arr.dtype.kind == "u" and arr.dtype != np.uint8:
            arr = arr.astype(np.int64)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_complex() or not (t.dtype.is_floating_point or t.dtype in _INT_DTYPES):
        raise ValueError(f"windows must be an integer or floating-point array, got dtype {t.dtype}")
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float32)
    if t.dim() != 3:
        raise ValueError(f"windows must have shape (N, C, W), got shape {tuple(t.shape)}")
    if device is not None:
        t = t.to(device)
    return t.detach()


def _widest_row(routed, w: int) -> int:
    """Length of the widest per-channel intermediate (samples, wavelet coefficients, DFT bins)."""
    widest = w
    for feat, kw in routed.items():
        if feat in ("WENG", "WV", "WWL", "WENT"):
            level = _wavelet_level(kw[f"{feat}_fs"])
            widest = max(widest, sum(_wavedec_matrix_np(w, level)[1]))
    return widest


_POOLS: dict = {}


def _single_thread_init() -> None:
    # torch initialises a thread's OpenMP setting lazily from the process-wide value, so trigger
    # that first, then make this worker's setting (thread-local for OpenMP and MKL) 1
    torch.get_num_threads()
    torch.set_num_threads(1)


def _pool(n: int):
    """A persistent pool of n worker threads whose torch ops run single-threaded."""
    if n not in _POOLS:
        from concurrent.futures import ThreadPoolExecutor

        prev = torch.get_num_threads()
        pool = ThreadPoolExecutor(n, thread_name_prefix="emg-features", initializer=_single_thread_init)
        list(pool.map(lambda _: time.sleep(0.01), range(4 * n)))  # start all workers now
        torch.set_num_threads(prev)  # restore the process-wide default for new threads
        _POOLS[n] = pool
    return _POOLS[n]


def extract(
    windows,
    names,
    params: Mapping[str, object] | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    subwindows: int | None = None,
    libemg_compat: bool = False,
    threads: int | None = None,
) -> torch.Tensor:
    """Compute features of a batch of windows, laid out as libemg lays them out.

    Parameters
    ----------
    windows : array-like or torch.Tensor, shape (N, C, W)
        Integer (e.g. int8 ADC units) or floating-point samples.  Must be finite.
    names : str or list of str
        A group (``GROUPS``), a feature (``FEATURES``) or a list of them.
    params : dict, optional
        libemg parameter names (``PARAM_DEFAULTS``), e.g. ``{"WAMP_threshold": 1.0}``.
    dtype : torch.float32 (default) or torch.float64
        Precision of the simple features and of the returned tensor (see "Numerics").
    device : optional
        Where to compute (default: the input tensor's device, CPU for numpy input).
    subwindows : int, optional
        Cut each window into this many consecutive equal sub-windows (W must be divisible) and
        return ``(N, S, F)``: the features of each sub-window.
    libemg_compat : bool
        Reproduce libemg's quirks (drop AR9, substring parameter routing, type assertions); see
        the module docstring.
    threads : int, optional
        CPU worker threads (default ``torch.get_num_threads()``).  Chunks of windows are spread
        over a persistent pool of worker threads whose torch operations are single-threaded;
        results do not depend on the number of threads.

    Returns
    -------
    torch.Tensor of shape (N, F) (or (N, S, F)) and ``dtype``, columns as in ``feature_names``;
    counts are exact integers stored as floats.
    """
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    routed = resolve_params(names, params, libemg_compat=libemg_compat)
    t = _as_tensor(windows, device)
    n, c, w = t.shape
    if t.dtype.is_floating_point and t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError("windows contain NaN or infinite values")
    if subwindows is not None:
        s = subwindows
        if isinstance(s, bool) or int(s) != s or s < 1:
            raise ValueError(f"subwindows must be a positive integer, got {subwindows!r}")
        s = int(s)
        if w % s:
            raise ValueError(f"window length {w} is not divisible by subwindows={s}")
        w = w // s
        src = t.reshape(n, c, s, w).permute(0, 2, 1, 3)  # (N, S, C, W/S) view, no copy
    else:
        s = 1
        src = t.unsqueeze(1)  # (N, 1, C, W)
    if c < 1 or w < 2:
        raise ValueError(f"windows need at least 1 channel and 2 samples, got shape (N, {c}, {w})")
    if t.dtype == torch.int8:
        int_bound = 128
    elif t.dtype == torch.uint8:
        int_bound = 255
    elif t.dtype in _INT_DTYPES:
        int_bound = int(t.abs().max()) if t.numel() else 0
    else:
        int_bound = None
    ncol = 0
    for feat, kw in routed.items():
        layout, k = _block_shape(feat, kw)
        if layout == "channel" and k >= w:
            raise ValueError(
                f"{feat} of order {k} needs windows longer than {k} samples, got {w} "
                "(libemg/librosa fail with an IndexError)"
            )
        if feat == "DFTR" and w < 2:
            raise ValueError("DFTR needs at least 2 samples")
        ncol += c * k
    out = torch.empty((n * s, ncol), dtype=dtype, device=t.device)
    col_of, col = {}, 0
    for feat, kw in routed.items():
        col_of[feat] = col
        col += c * _block_shape(feat, kw)[1]
    fused = {}  # wavelet level -> kernel columns: float32 output on CPU (wavelet_kernel)
    if USE_KERNELS and dtype == torch.float32 and t.device.type == "cpu":
        fused = _kernel_columns(routed, col_of)
        if fused and not wavelet_kernel.available():
            fused = {}
    # chunks sized by the widest intermediate of the torch path; the kernel keeps its wavelet
    # coefficients in cache, so they do not count
    unfused = {f: kw for f, kw in routed.items() if not (fused and f in wavelet_kernel.FEATURES)}
    step = max(1, CHUNK_ELEMENTS // (c * _widest_row(unfused, w) * s))  # windows per chunk
    out_np = out.numpy() if fused else None
    t_np = t.numpy() if fused else None  # the kernel reads the windows as they are (any real dtype)

    def run(start: int) -> None:
        ch = _Chunk(src[start : start + step], dtype, int_bound)
        rows = slice(start * s, start * s + ch.r)
        done = set()
        for level, cols in fused.items():
            mat, bands = _wavelet_consts(ch.W, level, "cpu")
            if wavelet_kernel.band_features(t_np[start : start + step], s, mat.numpy(), bands, cols, out_np[rows]):
                done.update(f for f, k in zip(wavelet_kernel.FEATURES, cols) if k is not None)
        for feat, kw in routed.items():
            if feat in done:
                continue
            block = _FUNCS[feat](ch, kw)
            block = block.reshape(block.shape[0], -1)
            out[rows, col_of[feat] : col_of[feat] + block.shape[1]] = block

    starts = range(0, n, step)
    workers = min(torch.get_num_threads() if threads is None else int(threads), len(starts))
    if workers > 1 and t.device.type == "cpu":
        # chunk-level parallelism: each worker thread runs single-threaded torch ops on its own
        # chunks (no per-operation barrier between threads, which scales better and degrades
        # gracefully on a busy machine); torch releases the GIL inside its kernels
        for _ in _pool(workers).map(run, starts):
            pass
    else:
        for start in starts:
            run(start)
    if subwindows is not None:
        out = out.reshape(n, s, ncol)
    return out

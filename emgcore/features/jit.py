"""numba for the fused CPU kernels of emgcore.features (wavelet_kernel, burg_kernel): whether it
is there, and the compile options they share."""

from __future__ import annotations

#: njit options of every kernel: no GIL (the feature pool's worker threads run chunks in
#: parallel), compiled once and cached on disk (__pycache__), no bounds checks, and numpy's
#: error model (no ZeroDivisionError checks, which would stop LLVM from vectorising loops).
OPTIONS = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


def available() -> bool:
    """True when numba is importable (the kernels can be used; else the torch paths run)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True

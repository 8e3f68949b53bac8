"""Command line for the native libemg-compatible features.

Compute::

    python -m emgcore.features GROUP_OR_NAMES IN.npy OUT.npy [--subwindows N] [--fs HZ]
                               [--device D] [--float64] [--param KEY=VALUE ...] [--libemg-compat]

List the output columns::

    python -m emgcore.features GROUP_OR_NAMES --names [--channels C] [--fs HZ] [--param ...]

``GROUP_OR_NAMES`` is a group (HTD, TDAR, MSWT, ...), a feature (MAV, AR9, ...) or a
comma-separated list of them (``MAV,WL,ZC``).  ``IN.npy`` holds an (N, C, W) array of integer
(e.g. int8) or floating-point samples in raw ADC units.  ``OUT.npy`` receives float32 features
(float64 with ``--float64``) of shape (N, F) in libemg's column order, or (N, S, F) with
``--subwindows S`` (the features of each of the S consecutive sub-windows, as
``native.extract(..., subwindows=S)`` returns them; reshape to (N, S*F) if a flat row is wanted).
``--fs`` sets the sampling rate of every frequency / wavelet feature (DFTR_fs, WENG_fs, WV_fs,
WWL_fs, WENT_fs); without it libemg's default of 1000 Hz applies (the Myo samples at 200 Hz).
``--param KEY=VALUE`` sets any other parameter (e.g. ``WAMP_threshold=1.0``, ``AR_order=6``).

Bad input (missing or unreadable file, non-numeric data, wrong rank, empty array, NaN / inf,
unknown feature, ...) prints ``error: ...`` naming the file and what was expected and exits with
status 2; the output file is then not created (it is written to a temporary file in the same
folder and renamed into place only when complete).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

from . import native


class _InputError(Exception):
    """A problem with the user's input: reported as ``error: ...`` with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m emgcore.features",
        description="Native libemg 2.0.3 features of (N, C, W) EMG windows.",
        epilog="groups: " + ", ".join(f"{g} ({' '.join(f)})" for g, f in native.GROUPS.items()),
    )
    ap.add_argument("names", metavar="GROUP_OR_NAMES", help="a group, a feature, or a comma-separated list of them")
    ap.add_argument("input", metavar="IN.npy", nargs="?", help="(N, C, W) integer or float array")
    ap.add_argument("output", metavar="OUT.npy", nargs="?", help="where to write the features")
    ap.add_argument(
        "--names", dest="list_names", action="store_true", help="print the output column names, one per line, and exit"
    )
    ap.add_argument("--channels", type=int, default=8, help="channels, for --names (default 8)")
    ap.add_argument(
        "--subwindows",
        type=int,
        default=None,
        metavar="N",
        help="cut each window into N equal sub-windows: OUT is (N, S, F)",
    )
    ap.add_argument(
        "--fs",
        type=float,
        default=None,
        metavar="HZ",
        help="sampling rate for DFTR and the wavelet features (default: libemg's 1000)",
    )
    ap.add_argument("--device", default="cpu", help="torch device (default cpu)")
    ap.add_argument("--float64", action="store_true", help="compute and write float64")
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a libemg parameter, e.g. WAMP_threshold=1.0 (repeatable)",
    )
    ap.add_argument(
        "--libemg-compat", action="store_true", help="libemg's behaviour: COMB without AR9, substring parameter routing"
    )
    return ap


def _split_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise _InputError("no feature or group given")
    return names


def _params(args) -> dict[str, object]:
    params: dict[str, object] = {}
    if args.fs is not None:
        fs = int(args.fs) if float(args.fs).is_integer() else float(args.fs)
        params.update({key: fs for key in native.FS_PARAMS})
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise _InputError(f"--param {item!r}: expected KEY=VALUE")
        try:
            number: object = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise _InputError(f"--param {item!r}: {value!r} is not a number") from None
        if key.strip() in ("SSC_threshold", "WAMP_threshold"):
            number = float(number)  # libemg asserts float thresholds
        params[key.strip()] = number
    return params


def _compat_params(names, params, compat: bool) -> dict[str, object]:
    """Under --libemg-compat, --fs must not reach features libemg would crash on (WWL_fs -> WL):
    pass only the sampling rates of the selected features, as a libemg caller would."""
    if not compat:
        return params
    selected = set(native.resolve_names(names))
    out = dict(params)
    for key in native.FS_PARAMS:
        if key in out and key.split("_")[0] not in selected:
            del out[key]
    return out


def _load(path: str) -> np.ndarray:
    if not os.path.exists(path):
        raise _InputError(f"{path}: no such file (expected an (N, C, W) .npy array)")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise _InputError(f"{path}: cannot be read ({exc})") from None
    if magic != b"\x93NUMPY":
        raise _InputError(
            f"{path}: cannot be read as a .npy array (not a .npy file); expected "
            "an (N, C, W) integer or floating-point array saved with numpy.save"
        )
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise _InputError(
            f"{path}: not a numeric .npy array ({exc}); expected an (N, C, W) integer or floating-point array"
        ) from None
    except Exception as exc:  # truncated / not a .npy file at all
        raise _InputError(
            f"{path}: cannot be read as a .npy array ({type(exc).__name__}: {exc}); "
            "expected an (N, C, W) integer or floating-point array"
        ) from None
    if not isinstance(arr, np.ndarray):
        raise _InputError(f"{path}: holds {type(arr).__name__}, expected a single .npy array")
    if arr.dtype.kind not in "iuf":
        raise _InputError(
            f"{path}: dtype {arr.dtype} is not numeric; expected integer (e.g. int8) or floating-point samples"
        )
    if arr.ndim != 3:
        raise _InputError(f"{path}: expected an (N, C, W) array (windows, channels, samples), got shape {arr.shape}")
    if arr.size == 0:
        raise _InputError(f"{path}: empty array of shape {arr.shape}; expected at least one window, channel and sample")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise _InputError(f"{path}: contains NaN or infinite values; expected finite samples")
    return arr


def _save_atomic(path: str, arr: np.ndarray) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _InputError(f"{path}: output folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _run(args) -> int:
    import torch

    names = _split_names(args.names)
    params = _compat_params(names, _params(args), args.libemg_compat)
    if args.list_names:
        if args.input or args.output:
            raise _InputError("--names takes no IN/OUT files")
        if args.channels < 1:
            raise _InputError(f"--channels must be >= 1, got {args.channels}")
        cols = native.feature_names(names, args.channels, params, libemg_compat=args.libemg_compat)
        sys.stdout.write("\n".join(cols) + "\n")
        return 0
    if not args.input or not args.output:
        raise _InputError("expected IN.npy and OUT.npy (or --names)")
    native.resolve_params(names, params, libemg_compat=args.libemg_compat)  # fail before loading
    windows = _load(args.input)
    dtype = torch.float64 if args.float64 else torch.float32
    try:
        feats = native.extract(
            windows,
            names,
            params,
            dtype=dtype,
            device=args.device,
            subwindows=args.subwindows,
            libemg_compat=args.libemg_compat,
        )
    except ValueError as exc:
        raise _InputError(f"{args.input}: {exc}") from None
    _save_atomic(args.output, feats.cpu().numpy())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad input)."""
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except (_InputError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

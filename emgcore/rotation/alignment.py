"""Calibration-free test-time alignment of the electrode ring: estimate a new person's armband rotation, undo it.

Estimator
---------
*Activation pattern.* A signal is cut into consecutive, non-overlapping windows of ``window``
samples (40 = 200 ms at 200 Hz). A window is *active* when its RMS over all channels exceeds
``max(activity_floor, activity_factor * rest)``, where ``rest`` is the smallest window RMS seen
so far in that signal (a causal estimate of the person's rest level; the floor, in ADC units, keeps a
dead or very quiet window from making every later window "active"). The pattern is the per-channel
RMS over the active windows, divided by its mean over channels (a relative gain profile: how much of
the activity each electrode sees, whatever the contraction strength). No labels are used: every
active window counts, whatever the gesture.

*Reference.* :func:`reference_pattern` averages the patterns of the training population (one
pattern per person, equal weight). With ``align=True`` each person's pattern is first rotated onto the
current reference and the mean re-taken until the rotations settle (for populations that wore the
band at different orientations; the reference orientation is then the first person's, and
``person_shifts`` gives the rotation of every training person, e.g. to canonicalise training data).
``canonical=True`` does the same and then turns the aligned reference (and the shifts) to the
orientation of the plain mean, so the reference is sharp (every person aligned) but still points
where the majority of the population wore the band: what a model trained on the unaligned people
expects, and the orientation training data is canonicalised to (``augment`` ``canon`` arms).

*Shift.* :func:`estimate_shift` finds the circular shift ``k`` (in electrodes, in
``(-C/2, C/2]``) that maximises the circular cross-correlation of the mean-removed person pattern
with the mean-removed reference rotated by ``k``. The correlation is computed from the two
patterns' DFTs, which makes it a trigonometric (band-limited) interpolation between whole
shifts; it is evaluated on a grid of ``steps_per_electrode`` points per electrode. At whole shifts
the value is the Pearson correlation of the two patterns, reported as ``correlation``. The person's
signal is then ``rotate(x, -k)`` (see ``augment.rotate``; fractional shifts by linear interpolation).

*Streaming.* :class:`StreamAligner` (sample by sample, real time) and :func:`alignment_shifts` /
:func:`align_stream` (vectorised, offline, identical values) apply the identity until the person has
produced ``calibration_s`` seconds of active windows; at the end of the window that completes them the
shift is estimated once and kept fixed. So the output at sample ``t`` depends only on samples up to
``t`` (causal). To combine with running normalisation (``emgcore.cross.running_norm``), align first
and normalise the aligned stream: ``running_stats(align_stream(x, ref)[0], mean0, std0, ...)``, or
online ``norm.update(aligner.process(chunk))``; the population statistics should then be computed in
the reference orientation (the same one when the reference was not aligned).

Assumptions and failure modes
-----------------------------
* Persons differ from the population mainly by a rotation of the ring. Patterns that differ for
  other reasons (forearm size and muscle anatomy, electrode contact, a band worn nearer the elbow,
  or reversed on the other arm: a reflection, not a rotation) give a shift that is at best
  meaningless; ``correlation`` then tends to be low and ``min_correlation`` can fall back to the
  identity.
* The reference must not be nearly rotation-symmetric: a flat pattern (``contrast`` near 0, e.g. the
  mean of a population that wore the band at all orientations without ``align=True``) makes the
  correlation flat and the shift noise; a pattern repeating every ``C/m`` electrodes makes shifts
  that differ by ``C/m`` indistinguishable.
* The gesture mix of the first ``calibration_s`` active seconds should resemble the population's:
  if the person only makes one gesture during calibration, that gesture's own spatial pattern is
  compared with an all-gesture average (use an interleaved order, see ``stream_order``). Measured
  on CIIL (interleaved streams, 10 s): the estimate from the first active seconds is usually within
  0.15 electrode of the whole recording's, but one of 11 MinimalTrainingData people got -1.75
  against -0.76 and lost 0.4 of balanced accuracy; with recording order (all repetitions of one
  gesture first) alignment lowers accuracy for most people.
* A shift once estimated is kept: re-donning the band mid-stream is not followed.
* Fractional shifts are applied by linear interpolation, which also smooths across neighbouring
  electrodes; whole shifts are exact permutations. ``whole_electrodes=True`` applies the estimate
  rounded (the rotation experiment's default: measured on CIIL, the blur of fractional turns of
  0.1-0.3 electrode cost the people who were not rotated up to 0.13 of balanced accuracy).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from emgcore.data.labels import FS_HZ
from emgcore.data.store import load_signal
from emgcore.io import write_text_atomic
from emgcore.rotation.augment import rotate

REFERENCE_FORMAT = "emgcore-activation-reference-v1"
#: window length in samples (200 ms at 200 Hz), as the models' windows
WINDOW = 40
#: RMS (ADC units) below which a window never counts as active (Myo rest RMS is about 1.5 to 6)
ACTIVITY_FLOOR = 3.0
#: a window is active above this factor times the lowest window RMS seen so far
ACTIVITY_FACTOR = 2.0
#: seconds of active windows before the shift is estimated
CALIBRATION_S = 10.0
#: grid resolution of the shift search (0.01 electrode)
STEPS_PER_ELECTRODE = 100


class ShiftEstimate(NamedTuple):
    """Estimated rotation of a person's pattern relative to the reference, and the pattern correlation there."""

    shift: float
    correlation: float


# --------------------------------------------------------------------------------------------
# checks


def _check_signal(signal, where: str = "signal") -> np.ndarray:
    """The signal as a (T, C) array, integers kept (int64) for exact energies, else float64; raise on bad input."""
    signal = np.asarray(signal)
    if signal.ndim != 2 or signal.shape[1] < 1:
        raise ValueError(f"{where} must be a (samples, channels) array, got shape {signal.shape}")
    if np.issubdtype(signal.dtype, np.integer):
        return signal.astype(np.int64)
    if not np.issubdtype(signal.dtype, np.floating):
        raise ValueError(f"{where} must hold numbers, got dtype {signal.dtype}")
    signal = signal.astype(np.float64)
    if not np.all(np.isfinite(signal)):
        raise ValueError(f"{where} contains non-finite values")
    return signal


def _check_steps(steps_per_electrode) -> int:
    if isinstance(steps_per_electrode, bool) or not isinstance(steps_per_electrode, (int, np.integer)):
        raise ValueError(f"steps_per_electrode must be a positive integer, got {steps_per_electrode!r}")
    if steps_per_electrode < 1:
        raise ValueError(f"steps_per_electrode must be a positive integer, got {steps_per_electrode!r}")
    return int(steps_per_electrode)


def _check_activity(window: int, activity_floor: float, activity_factor: float) -> tuple[int, float, float]:
    if isinstance(window, bool) or int(window) != window or window < 1:
        raise ValueError(f"window must be a positive whole number of samples, got {window!r}")
    activity_floor, activity_factor = float(activity_floor), float(activity_factor)
    if not (math.isfinite(activity_floor) and activity_floor >= 0):
        raise ValueError(f"activity_floor must be a finite number >= 0 (ADC units), got {activity_floor}")
    if not (math.isfinite(activity_factor) and activity_factor >= 1):
        raise ValueError(f"activity_factor must be a finite number >= 1, got {activity_factor}")
    return int(window), activity_floor, activity_factor


# --------------------------------------------------------------------------------------------
# activation patterns


def window_sum_squares(signal, window: int = WINDOW) -> np.ndarray:
    """Per-channel sum of squares of each complete, non-overlapping window: ``(T // window, C)``.

    Integer signals give exact int64 sums (so every path and every summation order agrees).
    """
    signal = _check_signal(signal)
    n = signal.shape[0] // window
    blocks = signal[: n * window].reshape(n, window, signal.shape[1])
    return (blocks * blocks).sum(axis=1)


def active_windows(
    sum_squares: np.ndarray,
    window: int,
    activity_floor: float = ACTIVITY_FLOOR,
    activity_factor: float = ACTIVITY_FACTOR,
) -> np.ndarray:
    """Boolean mask of active windows: RMS above ``max(floor, factor * lowest window RMS so far)`` (causal)."""
    sum_squares = np.asarray(sum_squares)
    rms = np.sqrt(sum_squares.sum(axis=1) / (window * sum_squares.shape[1]))
    rest = np.minimum.accumulate(rms) if rms.size else rms
    return rms > np.maximum(activity_floor, activity_factor * rest)


def pattern_from_energy(energy: np.ndarray, samples: int) -> np.ndarray:
    """Relative per-channel RMS (mean 1 over channels) from per-channel sums of squares over ``samples`` samples."""
    rms = np.sqrt(np.asarray(energy, dtype=np.float64) / samples)
    return rms / rms.mean()


def activation_pattern(
    signal,
    window: int = WINDOW,
    activity_floor: float = ACTIVITY_FLOOR,
    activity_factor: float = ACTIVITY_FACTOR,
) -> tuple[np.ndarray, int]:
    """A signal's relative per-channel RMS over its active windows (mean 1) and the number of active windows.

    Raises when no window is active (nothing to tell the electrodes apart by).
    """
    window, activity_floor, activity_factor = _check_activity(window, activity_floor, activity_factor)
    sum_squares = window_sum_squares(signal, window)
    active = active_windows(sum_squares, window, activity_floor, activity_factor)
    if not active.any():
        raise ValueError(
            f"no active window in the signal ({len(active)} windows of {window} samples): none has an RMS above "
            f"max({activity_floor}, {activity_factor} x the rest level); lower activity_floor or check the signal"
        )
    n_active = int(active.sum())
    return pattern_from_energy(sum_squares[active].sum(axis=0), n_active * window), n_active


# --------------------------------------------------------------------------------------------
# shift estimate


def circular_correlation(pattern, reference, steps_per_electrode: int = STEPS_PER_ELECTRODE):
    """Shift grid ``(C * steps,)`` in [0, C) and the normalised circular cross-correlation at each shift.

    At shift ``s`` the value compares ``pattern`` with ``reference`` rotated by ``s`` (band-limited
    interpolation between whole shifts; at whole shifts, the Pearson correlation).
    """
    p = np.asarray(pattern, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if p.ndim != 1 or p.shape != r.shape or p.size < 2:
        raise ValueError(f"pattern and reference must be 1-D of equal length >= 2, got {p.shape} and {r.shape}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(r))):
        raise ValueError("pattern and reference must be finite")
    steps_per_electrode = _check_steps(steps_per_electrode)
    channels = p.size
    p, r = p - p.mean(), r - r.mean()
    shifts = np.arange(channels * steps_per_electrode) / steps_per_electrode
    norm = np.linalg.norm(p) * np.linalg.norm(r)
    if norm == 0:
        return shifts, np.zeros_like(shifts)
    cross = np.fft.rfft(p) * np.conj(np.fft.rfft(r))
    harmonics = np.arange(cross.size)
    weights = np.full(cross.size, 2.0)
    weights[0] = 0.0  # the mean, removed
    if channels % 2 == 0:
        weights[-1] = 1.0  # Nyquist term appears once in the full spectrum
    phase = np.exp(2j * np.pi * np.outer(shifts, harmonics) / channels)
    score = (phase * (weights * cross)).real.sum(axis=1) / channels
    return shifts, score / norm


def estimate_shift(pattern, reference, steps_per_electrode: int = STEPS_PER_ELECTRODE) -> ShiftEstimate:
    """The rotation ``k`` in ``(-C/2, C/2]`` with ``pattern ~ rotate(reference, k)``, and the correlation there.

    Undo it with ``rotate(x, -k)``. Flat patterns give ``ShiftEstimate(0.0, 0.0)``.
    """
    shifts, correlation = circular_correlation(pattern, reference, steps_per_electrode)
    best = int(np.argmax(correlation))
    shift = float(shifts[best])
    channels = len(np.asarray(pattern))
    if shift > channels / 2:
        shift -= channels
    return ShiftEstimate(shift, float(correlation[best]))


def circular_distance(a: float, b: float, channels: int) -> float:
    """Smallest distance between two shifts on a ring of ``channels`` electrodes."""
    d = (float(a) - float(b)) % channels
    return min(d, channels - d)


# --------------------------------------------------------------------------------------------
# reference


@dataclass(frozen=True, eq=False)
class ActivationReference:
    """The training population's activation pattern (mean 1) and the activity rule it was computed with."""

    pattern: np.ndarray
    window: int = WINDOW
    activity_floor: float = ACTIVITY_FLOOR
    activity_factor: float = ACTIVITY_FACTOR
    n_people: int = 1
    person_shifts: tuple[float, ...] = field(default=())
    #: the training people's subject ids, in the order of person_shifts (when known)
    people: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        pattern = np.asarray(self.pattern, dtype=np.float64)
        if pattern.ndim != 1 or pattern.size < 2 or not np.all(np.isfinite(pattern)) or np.any(pattern < 0):
            raise ValueError(f"reference pattern must be a finite, non-negative (C >= 2,) array, got {pattern!r}")
        if not pattern.sum() > 0:
            raise ValueError("reference pattern is all zeros")
        pattern = pattern / pattern.mean()
        pattern.setflags(write=False)
        object.__setattr__(self, "pattern", pattern)
        window, floor, factor = _check_activity(self.window, self.activity_floor, self.activity_factor)
        object.__setattr__(self, "window", window)
        object.__setattr__(self, "activity_floor", floor)
        object.__setattr__(self, "activity_factor", factor)
        object.__setattr__(self, "person_shifts", tuple(float(s) for s in self.person_shifts))
        object.__setattr__(self, "people", tuple(int(p) for p in self.people))
        if self.people and len(self.people) != len(self.person_shifts):
            raise ValueError(f"{len(self.people)} people for {len(self.person_shifts)} person shifts")

    def shift_of(self, subject: int) -> float:
        """The training person ``subject``'s rotation relative to the reference (needs ``people``)."""
        if int(subject) not in self.people:
            raise KeyError(f"subject {subject} is not one of the reference's training people {list(self.people)[:10]}")
        return self.person_shifts[self.people.index(int(subject))]

    @property
    def channels(self) -> int:
        """Number of electrodes on the ring."""
        return int(self.pattern.size)

    @property
    def contrast(self) -> float:
        """Std over channels of the (mean 1) pattern; near 0 the pattern is nearly rotation-symmetric."""
        return float(self.pattern.std())

    def to_dict(self) -> dict:
        """The reference as plain JSON-ready values, tagged with REFERENCE_FORMAT."""
        return {
            "format": REFERENCE_FORMAT,
            "pattern": self.pattern.tolist(),
            "window": self.window,
            "activity_floor": self.activity_floor,
            "activity_factor": self.activity_factor,
            "n_people": self.n_people,
            "person_shifts": list(self.person_shifts),
            "people": list(self.people),
        }

    def save(self, path: str | Path) -> Path:
        """Write the reference as JSON (atomically)."""
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ActivationReference:
        """Read a reference written by :meth:`save`; raise ValueError naming the file when it is not one."""
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: activation reference file not found") from None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a JSON activation reference ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != REFERENCE_FORMAT:
            raise ValueError(f"{path}: expected an object with format {REFERENCE_FORMAT!r}")
        try:
            return cls(
                pattern=np.asarray(data["pattern"], dtype=np.float64),
                window=data["window"],
                activity_floor=data["activity_floor"],
                activity_factor=data["activity_factor"],
                n_people=int(data["n_people"]),
                person_shifts=tuple(data.get("person_shifts", ())),
                people=tuple(data.get("people", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: bad activation reference ({type(exc).__name__}: {exc})") from None


def _signal_of(source) -> np.ndarray:
    """A training person's signal from an array, a store file path or a UserRecording-like object."""
    if isinstance(source, (str, os.PathLike)):
        return load_signal(source)
    if hasattr(source, "signal"):
        return np.asarray(source.signal)
    return np.asarray(source)


def reference_pattern(
    sources: Iterable,
    window: int = WINDOW,
    activity_floor: float = ACTIVITY_FLOOR,
    activity_factor: float = ACTIVITY_FACTOR,
    align: bool = False,
    max_iterations: int = 20,
    steps_per_electrode: int = STEPS_PER_ELECTRODE,
    canonical: bool = False,
    people=(),
) -> ActivationReference:
    """The training population's reference pattern: the mean of each person's activation pattern.

    ``sources`` yields int8 ``(T, C)`` signals, store file paths or objects with a ``signal``
    (one person each, read one at a time). ``align=True``: rotate each person onto the reference
    and re-average until the rotations settle (at most ``max_iterations``); ``canonical=True``: align,
    then turn to the plain mean's orientation; see the module docstring. ``people``: the sources'
    subject ids, kept with the shifts.
    """
    if isinstance(sources, (str, os.PathLike, np.ndarray)):
        raise TypeError("reference_pattern takes an iterable of people's signals or store paths; wrap one in a list")
    window, activity_floor, activity_factor = _check_activity(window, activity_floor, activity_factor)
    patterns = []
    for position, source in enumerate(sources):
        signal = _check_signal(_signal_of(source), f"training person {position}")
        try:
            pattern, _ = activation_pattern(signal, window, activity_floor, activity_factor)
        except ValueError as exc:
            raise ValueError(f"training person {position}: {exc}") from None
        if patterns and pattern.size != patterns[0].size:
            raise ValueError(f"training person {position} has {pattern.size} channels, the first {patterns[0].size}")
        patterns.append(pattern)
    if not patterns:
        raise ValueError("reference_pattern needs at least one training person")
    patterns = np.stack(patterns)
    shifts = np.zeros(len(patterns))
    reference = patterns.mean(axis=0)
    plain = reference
    if align or canonical:
        reference = patterns[0]
        for _ in range(max_iterations):
            new_shifts = np.array([estimate_shift(p, reference, steps_per_electrode).shift for p in patterns])
            aligned = np.stack([rotate(p, -s, axis=-1) for p, s in zip(patterns, new_shifts)])
            reference = aligned.mean(axis=0)
            settled = np.array_equal(new_shifts, shifts)
            shifts = new_shifts
            if settled:
                break
    if canonical:  # turn to where the plain mean points: plain ~ rotate(reference, turn)
        turn = estimate_shift(plain, reference, steps_per_electrode).shift
        reference = rotate(reference, turn, axis=-1)
        channels = reference.size
        shifts = np.array([(s - turn + channels / 2) % channels - channels / 2 for s in shifts])
        shifts[shifts == -channels / 2] = channels / 2
    return ActivationReference(
        pattern=reference,
        window=window,
        activity_floor=activity_floor,
        activity_factor=activity_factor,
        n_people=len(patterns),
        person_shifts=tuple(shifts.tolist()),
        people=tuple(people),
    )


def recording_offset(source, reference: ActivationReference, steps_per_electrode: int = STEPS_PER_ELECTRODE):
    """A person's armband offset against the reference from their whole recording (array, store path or
    recording), offline and with the reference's activity rule; ``ShiftEstimate(nan, nan)`` without activity."""
    try:
        pattern, _ = activation_pattern(
            _signal_of(source), reference.window, reference.activity_floor, reference.activity_factor
        )
    except ValueError:  # no active window: no offset to tell
        return ShiftEstimate(math.nan, math.nan)
    return estimate_shift(pattern, reference.pattern, steps_per_electrode)


# --------------------------------------------------------------------------------------------
# streaming


def _check_calibration(calibration_s: float, fs: float, window: int, min_correlation: float) -> int:
    """Number of active windows that make ``calibration_s`` seconds; raise on bad settings."""
    calibration_s, fs, min_correlation = float(calibration_s), float(fs), float(min_correlation)
    if not (math.isfinite(calibration_s) and calibration_s > 0):
        raise ValueError(f"calibration_s must be a positive number of seconds, got {calibration_s}")
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive sampling rate, got {fs}")
    if not -1.0 <= min_correlation <= 1.0:
        raise ValueError(f"min_correlation must be in [-1, 1], got {min_correlation}")
    return max(1, math.ceil(calibration_s * fs / window - 1e-9))


class StreamAligner:
    """Sample-by-sample alignment of one person's stream to the reference (see the module docstring).

    ``update(samples)`` absorbs ``(C,)`` or ``(n, C)`` samples in order; ``shift`` is the person's
    estimated rotation in force after the last sample (0 until calibration ends); ``transform(x)``
    rotates a ``(C, W)`` window or ``(C,)`` sample back by it (float32); ``process(samples)`` updates
    and returns the chunk aligned with the shift in force at each of its samples (what
    :func:`align_stream` gives); ``reset()`` forgets the person. Below ``min_correlation`` the
    estimate is kept in ``estimate`` but the shift stays 0; with ``whole_electrodes`` the applied
    shift is the estimate rounded to whole electrodes (an exact permutation, no blur between neighbours).
    """

    def __init__(
        self,
        reference: ActivationReference,
        calibration_s: float = CALIBRATION_S,
        fs: float = FS_HZ,
        min_correlation: float = -1.0,
        steps_per_electrode: int = STEPS_PER_ELECTRODE,
        whole_electrodes: bool = False,
    ) -> None:
        if not isinstance(reference, ActivationReference):
            raise TypeError(f"reference must be an ActivationReference, got {type(reference).__name__}")
        self.reference = reference
        self.channels = reference.channels
        self.window = reference.window
        self.calibration_windows = _check_calibration(calibration_s, fs, self.window, min_correlation)
        self.calibration_s, self.fs = float(calibration_s), float(fs)
        self.min_correlation = float(min_correlation)
        self.steps_per_electrode = _check_steps(steps_per_electrode)
        self.whole_electrodes = bool(whole_electrodes)
        self.reset()

    def reset(self) -> None:
        """Back to the identity with nothing seen (for the next person)."""
        self.n_seen = 0
        self.shift = 0.0
        self.estimate: ShiftEstimate | None = None
        self.n_active_windows = 0
        self._buffer: list[np.ndarray] = []
        self._rest = math.inf
        self._energy = None

    @property
    def calibrated(self) -> bool:
        """Whether the shift has been estimated (and is now fixed)."""
        return self.estimate is not None

    def update(self, samples) -> None:
        """Absorb one sample ``(C,)`` or a chunk ``(n, C)`` of consecutive samples."""
        self._absorb(samples)

    def process(self, samples) -> np.ndarray:
        """Absorb a chunk and return it aligned, each sample by the shift in force after it (float32 ``(n, C)``)."""
        samples = self._as_chunk(samples)
        shifts = self._absorb(samples)
        return rotate_by_segments(samples, shifts)

    def transform(self, x) -> np.ndarray:
        """Rotate a ``(C, W)`` window or ``(C,)`` sample back by the current shift (float32)."""
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.channels:
            raise ValueError(f"transform expects ({self.channels}, W) or ({self.channels},), got shape {x.shape}")
        return np.asarray(rotate(x.astype(np.float32), -self.shift, axis=0), dtype=np.float32)

    def _as_chunk(self, samples) -> np.ndarray:
        samples = np.asarray(samples)
        if samples.ndim == 1:
            samples = samples[None, :]
        if samples.ndim != 2 or samples.shape[1] != self.channels:
            raise ValueError(f"samples must be ({self.channels},) or (n, {self.channels}), got shape {samples.shape}")
        return samples

    def _absorb(self, samples) -> np.ndarray:
        """Update with a chunk; return the shift in force after each of its samples."""
        chunk = _check_signal(self._as_chunk(samples), "samples")
        shifts = np.empty(len(chunk))
        start = 0
        while start < len(chunk):
            if self.calibrated:  # fixed from now on: nothing more to accumulate
                shifts[start:] = self.shift
                self.n_seen += len(chunk) - start
                break
            take = min(self.window - sum(len(b) for b in self._buffer), len(chunk) - start)
            self._buffer.append(chunk[start : start + take])
            self.n_seen += take
            shifts[start : start + take] = self.shift
            start += take
            if sum(len(b) for b in self._buffer) == self.window:
                self._close_window(np.concatenate(self._buffer)[None])
                self._buffer = []
                shifts[start - 1] = self.shift
        return shifts

    def _close_window(self, block: np.ndarray) -> None:
        """Score one complete window; estimate the shift once enough active windows are in."""
        sum_squares = (block * block).sum(axis=1)
        rms = float(np.sqrt(sum_squares.sum(axis=1) / (self.window * self.channels))[0])
        self._rest = min(self._rest, rms)
        if not rms > max(self.reference.activity_floor, self.reference.activity_factor * self._rest):
            return
        self._energy = sum_squares[0] if self._energy is None else self._energy + sum_squares[0]
        self.n_active_windows += 1
        if self.n_active_windows >= self.calibration_windows:
            self.estimate, self.shift = _estimate(
                self._energy,
                self.n_active_windows,
                self.reference,
                self.steps_per_electrode,
                self.min_correlation,
                self.whole_electrodes,
            )


def _estimate(
    energy: np.ndarray,
    n_windows: int,
    reference: ActivationReference,
    steps_per_electrode: int,
    min_correlation: float,
    whole_electrodes: bool = False,
) -> tuple[ShiftEstimate, float]:
    """The shift estimate from the active windows' energy, and the shift to apply (0 below
    min_correlation; rounded to whole electrodes with `whole_electrodes`)."""
    pattern = pattern_from_energy(energy, n_windows * reference.window)
    estimate = estimate_shift(pattern, reference.pattern, steps_per_electrode)
    shift = estimate.shift if estimate.correlation >= min_correlation else 0.0
    if whole_electrodes:
        shift = float(round(shift))
    return estimate, shift


def alignment_shifts(
    signal,
    reference: ActivationReference,
    calibration_s: float = CALIBRATION_S,
    fs: float = FS_HZ,
    min_correlation: float = -1.0,
    steps_per_electrode: int = STEPS_PER_ELECTRODE,
    whole_electrodes: bool = False,
) -> tuple[np.ndarray, ShiftEstimate | None]:
    """The shift in force after each sample of ``signal (T, C)`` (float64 ``(T,)``) and the estimate, if reached.

    Identical to :class:`StreamAligner` fed the samples in order.
    """
    if not isinstance(reference, ActivationReference):
        raise TypeError(f"reference must be an ActivationReference, got {type(reference).__name__}")
    signal = _check_signal(signal)
    if signal.shape[1] != reference.channels:
        raise ValueError(f"signal has {signal.shape[1]} channels, the reference {reference.channels}")
    needed = _check_calibration(calibration_s, fs, reference.window, min_correlation)
    steps_per_electrode = _check_steps(steps_per_electrode)
    shifts = np.zeros(signal.shape[0])
    sum_squares = window_sum_squares(signal, reference.window)
    active = np.flatnonzero(
        active_windows(sum_squares, reference.window, reference.activity_floor, reference.activity_factor)
    )
    if active.size < needed:
        return shifts, None
    energy = sum_squares[active[0]]
    for row in active[1:needed]:  # in order, as the real-time path adds them
        energy = energy + sum_squares[row]
    estimate, shift = _estimate(
        energy, needed, reference, steps_per_electrode, float(min_correlation), bool(whole_electrodes)
    )
    shifts[(active[needed - 1] + 1) * reference.window - 1 :] = shift
    return shifts, estimate


def align_stream(
    signal,
    reference: ActivationReference,
    calibration_s: float = CALIBRATION_S,
    fs: float = FS_HZ,
    min_correlation: float = -1.0,
    steps_per_electrode: int = STEPS_PER_ELECTRODE,
    whole_electrodes: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``signal (T, C)`` aligned causally (float32 ``(T, C)``) and the shift in force after each sample."""
    shifts, _ = alignment_shifts(
        signal, reference, calibration_s, fs, min_correlation, steps_per_electrode, whole_electrodes
    )
    return rotate_by_segments(np.asarray(signal), shifts), shifts


def rotate_by_segments(signal: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Each run of samples with one shift rotated back by it, float32 ``(T, C)``."""
    out = np.asarray(signal, dtype=np.float32).copy()
    if not len(shifts):
        return out
    change = np.flatnonzero(np.diff(shifts)) + 1
    for start, end in zip(np.r_[0, change], np.r_[change, len(shifts)]):
        if shifts[start] != 0.0:
            out[start:end] = rotate(out[start:end], -shifts[start], axis=-1)
    return out

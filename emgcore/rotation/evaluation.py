"""The rotation experiment's evaluation: a trained run under every test-time method, stream order and applied rotation.

Test-time methods (:data:`METHODS`): ``plain`` (windows as recorded), ``align`` (calibration-free
alignment of the person's stream, ``emgcore.rotation.alignment``), ``norm`` (RunningNorm,
``emgcore.cross.running_norm``) and ``align_norm`` (align, then normalise the aligned stream). The
streaming methods see each person's stream in every configured order (``recording``: as stored;
``interleaved``: ``emgcore.rotation.stream_order``); ``plain`` does not depend on the order and is
evaluated once (``stream_order`` ``none``). ``applied_shifts`` rotates every person's whole
stream by k electrodes before anything else (the synthetic check: k = 0 is the data as recorded).

Every row is one person (or one placement of an extra set) of one evaluation: the run's
identity, test set, method, order, applied shift, the person's estimated armband offset
(``offset``: their whole unrotated recording's activation pattern against the training
reference; what the rotated subgroup is defined by), the alignment's own causal estimate in that
evaluation (``estimated_shift``, NaN for methods without alignment) and the per-subject metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from emgcore import layout
from emgcore.cross.evaluation import lead_with
from emgcore.cross.running_norm import NormalizedWindowDataset
from emgcore.cross.runs import model_view, run_features
from emgcore.cross.training import load_model, predict
from emgcore.data.labels import FS_HZ
from emgcore.data.store import read_user_store, store_filename
from emgcore.models import model_spec
from emgcore.preprocess.population import resolve_population
from emgcore.preprocess.window_dataset import WindowDataset, make_loader
from emgcore.preprocess.window_index import WindowIndex, load_window_index
from emgcore.report.metrics import per_subject_metrics
from emgcore.rotation.alignment import (
    ActivationReference,
    alignment_shifts,
    recording_offset,
    rotate_by_segments,
)
from emgcore.rotation.augment import rotate, split_shift
from emgcore.rotation.stream_order import ORDERS, recording_stream_windows

METHODS = ("plain", "align", "norm", "align_norm")
#: methods whose output at a window depends on what the stream held before it
STREAMING = ("align", "norm", "align_norm")
#: stream_order of the rows of methods that do not stream
NO_ORDER = "none"


@dataclass(frozen=True)
class AlignmentSettings:
    """How test-time alignment runs (emgcore.rotation.alignment.align_stream's settings)."""

    calibration_s: float = 10.0
    min_correlation: float = -1.0
    steps_per_electrode: int = 100
    whole_electrodes: bool = True

    @classmethod
    def from_config(cls, config: Mapping | None) -> AlignmentSettings:
        return cls(**dict(config or {}))


@dataclass
class EvaluationSet:
    """Windows to evaluate on: a store folder, its window index and, per unit (subject id), what it is.

    ``units`` (optional) has a ``subject`` column and any descriptive columns (person, session,
    in_training) that are copied onto the rows of that unit.
    """

    name: str
    store_dir: str | Path
    index: str | Path | WindowIndex
    units: pd.DataFrame | None = field(default=None)


@dataclass
class _Person:
    """One unit's stored recording and its windows (rows of the test index)."""

    subject: int
    recording: object
    rep: np.ndarray
    start: np.ndarray
    label: np.ndarray


def _check(methods: Sequence[str], orders: Sequence[str], applied_shifts: Sequence[float]) -> None:
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not methods:
        raise ValueError(f"rotation methods {list(methods)}: expected some of {list(METHODS)}")
    bad_orders = sorted(set(orders) - set(ORDERS))
    if bad_orders or (not orders and set(methods) & set(STREAMING)):
        raise ValueError(f"stream orders {list(orders)}: expected some of {list(ORDERS)}")
    if not applied_shifts:
        raise ValueError("applied_shifts is empty: give [0] to evaluate the data as recorded")
    for k in applied_shifts:
        split_shift(k)  # raises on non-finite shifts


def person_offsets(people: Sequence[_Person], reference: ActivationReference) -> pd.DataFrame:
    """Each unit's armband offset against the reference from its whole stored recording.

    Columns subject, offset (electrodes), offset_correlation; NaN when the recording has no active window.
    """
    rows = [(p.subject, *recording_offset(p.recording, reference)) for p in people]
    return pd.DataFrame(rows, columns=["subject", "offset", "offset_correlation"])


def _people(test_set: EvaluationSet, window_step: int = 1) -> tuple[list[_Person], int, int]:
    """The test set's units (stored recording + every `window_step`-th of their windows), the index's
    window length and stride."""
    index = load_window_index(test_set.index)
    if len(index) == 0:
        raise ValueError(f"test set {test_set.name}: window index {test_set.index} is empty")
    people = []
    for subject in index.subjects():
        rows = np.flatnonzero(index.subject == subject)[::window_step]
        recording = read_user_store(Path(test_set.store_dir) / store_filename(int(subject)))
        people.append(_Person(int(subject), recording, index.rep[rows], index.start[rows], index.label[rows]))
    return people, index.window, index.stride


def _stream_windows(people: Sequence[_Person], window: int, stride: int, order: str, seed: int):
    """Every person's stream in one order and the window index into those streams (built once per order)."""
    signals, rows = {}, []
    for person in people:
        signal, starts, kept = recording_stream_windows(person.recording, person.rep, person.start, window, order, seed)
        signals[person.subject] = signal
        rows.append((person, kept, starts[kept]))
    index = WindowIndex(
        subject=np.concatenate([np.full(kept.sum(), p.subject) for p, kept, _ in rows]),
        rep=np.concatenate([p.rep[kept] for p, kept, _ in rows]),
        start=np.concatenate([starts for _, _, starts in rows]),
        label=np.concatenate([p.label[kept] for p, kept, _ in rows]),
        window=window,
        stride=stride,
    )
    return signals, index


def _transformed(signal: np.ndarray, k: float, aligned: bool, reference, alignment: AlignmentSettings):
    """The stream rotated by the applied shift k, then aligned when `aligned`; (signal, estimate or None)."""
    if k:
        signal = rotate(signal, k, axis=-1)
    if not aligned:
        return signal, None
    shifts, estimate = alignment_shifts(
        signal,
        reference,
        alignment.calibration_s,
        FS_HZ,
        alignment.min_correlation,
        alignment.steps_per_electrode,
        alignment.whole_electrodes,
    )
    return rotate_by_segments(np.asarray(signal), shifts), estimate


def evaluate_rotation(
    run_dir: str | Path,
    test_sets: Sequence[EvaluationSet],
    reference: ActivationReference | str | Path,
    methods: Sequence[str],
    orders: Sequence[str],
    applied_shifts: Sequence[float] = (0.0,),
    population=None,
    tau: float = 2000.0,
    prior_count: int = 200,
    alignment: AlignmentSettings | None = None,
    batch_size: int = 1024,
    stream_seed: int = 0,
    identity: Mapping | None = None,
    window_step: int = 1,
) -> pd.DataFrame:
    """Per-unit table of the run in `run_dir` on every test set x method x order x applied shift (see the module).

    `window_step` > 1 scores every step-th window of each person only (the streams stay whole).
    """
    _check(methods, orders, applied_shifts)
    if isinstance(window_step, bool) or int(window_step) != window_step or window_step < 1:
        raise ValueError(f"window_step must be a whole number >= 1, got {window_step!r}")
    if not isinstance(reference, ActivationReference):
        reference = ActivationReference.load(reference)
    alignment = alignment or AlignmentSettings()
    run_dir = Path(run_dir)
    model_path = run_dir / layout.MODEL_FILE
    model = load_model(model_path)
    model_name = getattr(model, "model_name", None) or model_spec(model)["name"]
    features = run_features(model_path)
    prior = resolve_population(population) if {"norm", "align_norm"} & set(methods) else None
    identity = dict(identity or {})
    tables = []
    for test_set in test_sets:
        people, window, stride = _people(test_set, int(window_step))
        offsets = person_offsets(people, reference)
        evaluations = [(m, NO_ORDER) for m in methods if m not in STREAMING]
        evaluations += [(m, o) for o in orders for m in methods if m in STREAMING]
        orders_used = dict.fromkeys("recording" if o == NO_ORDER else o for _, o in evaluations)
        streams = {o: _stream_windows(people, window, stride, o, stream_seed) for o in orders_used}
        for k in applied_shifts:
            transformed = {}  # (order, aligned) -> (signals, estimates): shared by align / align_norm, plain / norm
            for method, order in evaluations:
                stream_order = "recording" if order == NO_ORDER else order
                aligned = method in ("align", "align_norm")
                if (stream_order, aligned) not in transformed:
                    base, _ = streams[stream_order]
                    pairs = {s: _transformed(x, float(k), aligned, reference, alignment) for s, x in base.items()}
                    signals = {s: x for s, (x, _) in pairs.items()}
                    if len({x.dtype for x in signals.values()}) > 1:  # fractional and whole results: one dtype
                        signals = {s: np.asarray(x, dtype=np.float32) for s, x in signals.items()}
                    transformed[stream_order, aligned] = signals, {s: e for s, (_, e) in pairs.items()}
                signals, estimates = transformed[stream_order, aligned]
                index = streams[stream_order][1]
                if method in ("norm", "align_norm"):
                    dataset = NormalizedWindowDataset(index, signals, *prior, tau=tau, prior_count=prior_count)
                else:
                    dataset = WindowDataset(index, signals)
                view = model_view(dataset, model_name, features)
                y_true, y_pred, subject = predict(model, make_loader(view, batch_size, shuffle=False, seed=0))
                table = per_subject_metrics(y_true, y_pred, subject)
                table["estimated_shift"] = table["subject"].map(
                    {s: (e.shift if e is not None else math.nan) for s, e in estimates.items()}
                )
                table = table.merge(offsets, on="subject", how="left")
                if test_set.units is not None:
                    table = table.merge(test_set.units, on="subject", how="left")
                keys = {
                    **identity,
                    "test_set": test_set.name,
                    "rotation_method": method,
                    "stream_order": order,
                    "applied_shift": float(k),
                    "tau": tau if method in ("norm", "align_norm") else math.nan,
                }
                table = lead_with(table, keys)
                tables.append(table)
    return pd.concat(tables, ignore_index=True)

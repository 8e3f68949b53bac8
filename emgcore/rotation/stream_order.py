"""The evaluation stream a streaming method (running normalisation, test-time alignment) sees for one person.

A streaming method adapts to what came before, so the order of the repetitions matters: recorded
data sets store all repetitions of one gesture together, while a person using the armband switches
between gestures with rest in between. :func:`build_stream` concatenates one person's repetitions
either in recording order or in such a use order (``interleaved``): the active repetitions in a
seeded order in which consecutive repetitions differ in gesture whenever the counts allow
(round-robin over the gestures in a seeded random order when every gesture has as many
repetitions), each preceded by a rest segment cut from the person's own noGesture recordings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from emgcore.data.labels import GESTURES, REST, USED_CLASSES
from emgcore.data.store import UserRecording

ORDERS = ("recording", "interleaved")


class StreamPiece(NamedTuple):
    """Samples ``[start, end)`` of the stream: repetition ``rep`` of ``label``, input repetition ``source``.

    In the interleaved order a noGesture repetition is cut into several rest pieces (same ``source``).
    """

    start: int
    end: int
    label: int
    rep: int
    source: int


@dataclass
class EvaluationStream:
    """One person's evaluation stream: int8 signal ``(T, C)``, per-sample label ``(T,)`` and its pieces in order."""

    signal: np.ndarray
    labels: np.ndarray
    pieces: list[StreamPiece]

    def pieces_table(self) -> pd.DataFrame:
        """The pieces as a table with columns start, end, label, rep, source."""
        return pd.DataFrame(self.pieces, columns=list(StreamPiece._fields))


def repetitions_from_recording(rec: UserRecording, classes: Sequence[int] = USED_CLASSES) -> list[tuple]:
    """A store recording's repetitions as ``(label, rep_index, int8 (L, C))`` in table order, only ``classes``."""
    labels = rec.reps["label"].to_numpy()
    rep_index = rec.reps["rep_index"].to_numpy()
    wanted = {int(label) for label in classes}
    return [
        (int(labels[row]), int(rep_index[row]), rec.repetition(row))
        for row in range(len(rec.reps))
        if int(labels[row]) in wanted
    ]


def _checked(repetitions: Sequence) -> list[tuple[int, int, np.ndarray]]:
    """Each input as (label, rep, emg): a (label, rep, emg) tuple or anything with .label, .rep and .emg."""
    if isinstance(repetitions, UserRecording):
        raise TypeError("pass repetitions_from_recording(rec), not the UserRecording itself")
    checked = []
    channels = None
    for index, item in enumerate(repetitions):
        if all(hasattr(item, name) for name in ("label", "rep", "emg")):
            label, rep, emg = item.label, item.rep, item.emg
        elif isinstance(item, (tuple, list)) and len(item) == 3:
            label, rep, emg = item
        else:
            raise ValueError(f"repetition {index}: expected (label, rep, int8 (T, C) array), got {type(item).__name__}")
        emg = np.asarray(emg)
        if emg.dtype != np.int8 or emg.ndim != 2 or emg.shape[0] == 0:
            raise ValueError(f"repetition {index}: expected an int8 (T>0, C) array, got {emg.dtype} {emg.shape}")
        channels = emg.shape[1] if channels is None else channels
        if emg.shape[1] != channels:
            raise ValueError(f"repetition {index} has {emg.shape[1]} channels, the first has {channels}")
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < len(GESTURES):
            raise ValueError(f"repetition {index}: label {label!r}, expected a code 0..{len(GESTURES) - 1}")
        checked.append((int(label), int(rep), emg))
    if not checked:
        raise ValueError("no repetitions: an evaluation stream needs at least one")
    return checked


def interleaved_order(labels: Sequence[int], seed: int = 0) -> list[int]:
    """Positions of ``labels`` in a use order where consecutive labels differ whenever the counts allow.

    Greedy: take a repetition of the gesture with the most repetitions left among those other than
    the previous one (ties by a seeded random rank of the gestures; repetitions of a gesture in a
    seeded random order). This classic rule gives an order without repeats whenever one exists and
    otherwise the fewest repeats, ``2 m - n - 1`` for the most frequent gesture's count ``m`` of
    ``n``; with equal counts it is a round-robin over the gestures in the seeded rank order.
    """
    rng = np.random.default_rng(seed)
    gestures = sorted(set(int(label) for label in labels))
    rank = dict(zip(gestures, rng.permutation(len(gestures)).tolist()))
    queues = {g: [int(i) for i in rng.permutation(np.flatnonzero(np.asarray(labels) == g))] for g in gestures}
    order: list[int] = []
    previous = None
    while len(order) < len(labels):
        left = [g for g in gestures if queues[g]]
        candidates = [g for g in left if g != previous] or left
        gesture = max(candidates, key=lambda g: (len(queues[g]), -rank[g]))
        order.append(queues[gesture].pop(0))
        previous = gesture
    return order


def build_stream(repetitions: Sequence, order: str = "interleaved", seed: int = 0) -> EvaluationStream:
    """One person's stream from their repetitions (``(label, rep, int8 (T, C))`` each), every one exactly once.

    ``recording``: the repetitions back to back as given. ``interleaved``: the active repetitions in
    :func:`interleaved_order`, each preceded by a rest segment; the person's noGesture repetitions,
    concatenated in the given order, are split into as many near-equal consecutive segments as there
    are active repetitions (every rest sample used once; no rest when the person has none). Every
    sample's label is its repetition's label.
    """
    if order not in ORDERS:
        raise ValueError(f"order={order!r}: expected one of {list(ORDERS)}")
    items = _checked(repetitions)
    if order == "recording":
        sequence = [(index, 0, len(emg)) for index, (_, _, emg) in enumerate(items)]
    else:
        sequence = _interleaved_sequence(items, seed)
    pieces, chunks, start = [], [], 0
    for index, first, last in sequence:
        label, rep, emg = items[index]
        pieces.append(StreamPiece(start, start + last - first, label, rep, index))
        chunks.append(emg[first:last])
        start += last - first
    signal = np.ascontiguousarray(np.concatenate(chunks), dtype=np.int8)
    labels = np.concatenate([np.full(p.end - p.start, p.label, dtype=np.int8) for p in pieces])
    return EvaluationStream(signal, labels, pieces)


def _interleaved_sequence(items: list[tuple[int, int, np.ndarray]], seed: int) -> list[tuple[int, int, int]]:
    """(input index, first, last) sample ranges: rest segment + active repetition, for each active repetition."""
    active = [index for index, item in enumerate(items) if item[0] != REST]
    rest = [index for index, item in enumerate(items) if item[0] == REST]
    if not active:
        return [(index, 0, len(items[index][2])) for index in rest]
    ordered = [active[i] for i in interleaved_order([items[index][0] for index in active], seed)]
    # rest material: the noGesture repetitions back to back; segment k is [edges[k], edges[k + 1])
    lengths = np.array([len(items[index][2]) for index in rest], dtype=np.int64)
    rest_starts = np.concatenate([[0], np.cumsum(lengths)])
    edges = np.linspace(0, rest_starts[-1], len(ordered) + 1).round().astype(np.int64)
    sequence = []
    for k, index in enumerate(ordered):
        for j, source in enumerate(rest):  # the parts of each rest repetition that fall in segment k
            first = max(edges[k], rest_starts[j]) - rest_starts[j]
            last = min(edges[k + 1], rest_starts[j + 1]) - rest_starts[j]
            if last > first:
                sequence.append((source, int(first), int(last)))
        sequence.append((index, 0, len(items[index][2])))
    return sequence


def recording_stream_windows(
    rec: UserRecording, rep_rows, starts, window: int, order: str, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One person's evaluation stream and where their windows fall in it: ``(signal, new_starts, kept)``.

    ``rep_rows``/``starts`` are the person's windows as a window index gives them (row of the
    repetition table, absolute start in the stored signal). ``recording``: the stored signal as it
    is, every window where it was. ``interleaved``: :func:`build_stream` of the person's
    repetitions (used classes only); a window moves with its repetition and keeps its content; a
    rest window that a rest segment boundary cuts through is dropped (``kept`` False), since its
    samples are no longer consecutive in the stream.
    """
    rep_rows = np.asarray(rep_rows, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    if order not in ORDERS:
        raise ValueError(f"order={order!r}: expected one of {list(ORDERS)}")
    if order == "recording":
        return rec.signal, starts.copy(), np.ones(len(starts), dtype=bool)
    labels = rec.reps["label"].to_numpy()
    rows = [row for row in range(len(rec.reps)) if int(labels[row]) in set(USED_CLASSES)]
    source_of_row = np.full(len(rec.reps), -1, dtype=np.int64)
    source_of_row[rows] = np.arange(len(rows))
    if np.any(source_of_row[rep_rows] < 0):
        bad = int(rep_rows[np.argmax(source_of_row[rep_rows] < 0)])
        raise ValueError(f"subject {rec.subject}: a window lies in repetition row {bad}, which is not a used class")
    stream = build_stream(repetitions_from_recording(rec), order, seed)
    offsets = rec.reps["offset"].to_numpy().astype(np.int64)
    source = source_of_row[rep_rows]
    within = starts - offsets[rep_rows]  # first sample of each window inside its repetition
    new_starts = np.full(len(starts), -1, dtype=np.int64)
    done = np.zeros(len(rows), dtype=np.int64)  # samples of each source placed so far (its pieces are in order)
    for piece in stream.pieces:
        first = done[piece.source]
        length = piece.end - piece.start
        done[piece.source] += length
        inside = (source == piece.source) & (within >= first) & (within + window <= first + length)
        new_starts[inside] = piece.start + within[inside] - first
    return stream.signal, new_starts, new_starts >= 0

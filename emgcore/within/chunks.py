"""Subjects split into fixed-size chunks, one job each, with stable names and the reverse lookup.

Subjects are sorted and cut into consecutive runs of `size`: every subject lands in exactly one
chunk, the result never depends on the order the subjects were given in, and adding subjects
above the current highest id leaves every earlier full chunk (and its name) unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK_PREFIX = "chunk"
_NAME = re.compile(rf"{CHUNK_PREFIX}(\d+)")


def chunk_name(index: int) -> str:
    """Name of chunk `index` (0-based), e.g. ``chunk007`` (three digits, more when needed)."""
    if isinstance(index, bool) or int(index) != index or index < 0:
        raise ValueError(f"chunk index must be a non-negative integer, got {index!r}")
    return f"{CHUNK_PREFIX}{int(index):03d}"


def chunk_index(name: str) -> int:
    """Index of a chunk from its name (the inverse of :func:`chunk_name`)."""
    match = _NAME.fullmatch(str(name))
    if match is None or chunk_name(int(match.group(1))) != name:
        raise ValueError(f"{name!r} is not a chunk name (expected e.g. {chunk_name(0)!r}, {chunk_name(12)!r})")
    return int(match.group(1))


@dataclass(frozen=True)
class SubjectChunks:
    """Sorted subjects cut into consecutive chunks of `size` (the last one may be shorter)."""

    size: int
    chunks: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, subjects: Iterable[int], size: int) -> SubjectChunks:
        """Chunk `subjects` (each at most once) into runs of `size` in increasing id order."""
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ValueError(f"chunk size must be a positive integer, got {size!r}")
        size = int(size)
        subjects = [int(s) for s in subjects]
        seen, repeated = set(), set()
        for s in subjects:
            (repeated if s in seen else seen).add(s)
        if repeated:
            raise ValueError(f"subjects listed more than once: {sorted(repeated)[:10]}")
        ordered = sorted(subjects)
        return cls(size, tuple(tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)))

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def names(self) -> list[str]:
        """Every chunk's name, in index order."""
        return [chunk_name(i) for i in range(len(self.chunks))]

    def subjects_of(self, chunk: int | str) -> list[int]:
        """The subjects of a chunk, by index or by name."""
        index = chunk_index(chunk) if isinstance(chunk, str) else int(chunk)
        if not 0 <= index < len(self.chunks):
            raise KeyError(f"no chunk {chunk!r}: there are {len(self.chunks)} chunks ({chunk_name(0)}..)")
        return list(self.chunks[index])

    def chunk_of(self, subject: int) -> int:
        """Index of the chunk holding `subject`."""
        lookup = self.lookup()
        if int(subject) not in lookup:
            raise KeyError(f"subject {subject} is in no chunk (chunked subjects: {len(lookup)})")
        return lookup[int(subject)]

    def lookup(self) -> dict[int, int]:
        """Subject -> chunk index, for every chunked subject."""
        return {s: i for i, chunk in enumerate(self.chunks) for s in chunk}

    def as_dict(self) -> dict[str, list[int]]:
        """Chunk name -> its subjects (JSON-ready)."""
        return {chunk_name(i): list(chunk) for i, chunk in enumerate(self.chunks)}

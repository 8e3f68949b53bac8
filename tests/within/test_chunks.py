"""Subject chunks for jobs: every subject once, deterministic, stable names, reverse lookup."""

import random

import pytest

from emgcore.within.chunks import SubjectChunks, chunk_index, chunk_name


def test_every_subject_exactly_once_in_sorted_runs_of_size():
    subjects = list(range(0, 612, 1))
    chunks = SubjectChunks.of(subjects, 50)
    assert len(chunks) == 13
    flat = [s for chunk in chunks.chunks for s in chunk]
    assert flat == subjects  # each once, in order
    assert [len(c) for c in chunks.chunks] == [50] * 12 + [12]
    assert chunks.subjects_of(0) == list(range(50)) and chunks.subjects_of("chunk012") == list(range(600, 612))


def test_independent_of_input_order_and_stable_when_subjects_are_added():
    subjects = [3, 17, 5, 40, 41, 8, 9, 100]
    shuffled = subjects[:]
    random.Random(1).shuffle(shuffled)
    a, b = SubjectChunks.of(subjects, 3), SubjectChunks.of(shuffled, 3)
    assert a == b and a.as_dict() == {"chunk000": [3, 5, 8], "chunk001": [9, 17, 40], "chunk002": [41, 100]}
    grown = SubjectChunks.of(subjects + [101, 150, 151], 3)
    assert grown.chunks[:2] == a.chunks[:2]  # full chunks keep their subjects and names


def test_reverse_lookup():
    chunks = SubjectChunks.of([10, 11, 12, 20, 21], 2)
    assert chunks.lookup() == {10: 0, 11: 0, 12: 1, 20: 1, 21: 2}
    for name in chunks.names:
        for subject in chunks.subjects_of(name):
            assert chunks.chunk_of(subject) == chunk_index(name)
    with pytest.raises(KeyError, match="subject 13 is in no chunk"):
        chunks.chunk_of(13)
    with pytest.raises(KeyError, match="no chunk 'chunk003'"):
        chunks.subjects_of("chunk003")


def test_names_round_trip_and_bad_names_are_refused():
    assert chunk_name(0) == "chunk000" and chunk_name(7) == "chunk007" and chunk_name(1234) == "chunk1234"
    assert all(chunk_index(chunk_name(i)) == i for i in (0, 7, 99, 1000, 1234))
    for bad in ("chunk7", "chunk", "Chunk001", "chunk001x", "001"):
        with pytest.raises(ValueError, match="not a chunk name"):
            chunk_index(bad)
    with pytest.raises(ValueError, match="non-negative"):
        chunk_name(-1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"more than once: \[4\]"):
        SubjectChunks.of([1, 4, 2, 4], 2)
    for size in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="chunk size"):
            SubjectChunks.of([1, 2], size)
    assert len(SubjectChunks.of([], 4)) == 0

"""The feeding policy shared by every stream: bounded slices, a smaller first one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inferwire.sansio._slicing import FEED_LIMIT, FIRST_FEED_LIMIT, BodySlicer


def _slices(slicer: BodySlicer, chunk: bytes) -> list[bytes]:
    out = [slicer.slice_of(chunk)]
    while slicer.pending:
        out.append(slicer.next_slice())
    return out


def test_a_large_first_chunk_starts_with_a_small_slice() -> None:
    slicer = BodySlicer()
    pieces = _slices(slicer, b"x" * 40_000)
    assert [len(p) for p in pieces] == [FIRST_FEED_LIMIT, FEED_LIMIT, FEED_LIMIT,
                                        40_000 - FIRST_FEED_LIMIT - 2 * FEED_LIMIT]
    assert [len(p) for p in _slices(slicer, b"y" * 20_000)] == [FEED_LIMIT, 20_000 - FEED_LIMIT]


@given(st.lists(st.binary(max_size=50_000), max_size=6))
def test_slices_reassemble_every_chunk_and_stay_bounded(chunks: list[bytes]) -> None:
    slicer = BodySlicer()
    for chunk in chunks:
        pieces = _slices(slicer, chunk)
        assert b"".join(pieces) == chunk
        assert all(len(p) <= FEED_LIMIT for p in pieces)


def test_clear_forgets_the_rest() -> None:
    slicer = BodySlicer()
    slicer.slice_of(b"z" * 5000)
    assert slicer.pending
    slicer.clear()
    assert not slicer.pending

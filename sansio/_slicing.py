"""How a transport hands a streamed body to its decoder: the policy, written once.

One socket read may bring 64 KiB or more (hundreds of events). Feeding it to the decoder in
slices keeps few items alive at a time, so a long stream's peak memory stays small, and a
smaller first slice hands the first token over before the rest of the first read is decoded.
"""

from __future__ import annotations

__all__ = ["DRAIN_LIMIT", "FEED_LIMIT", "FIRST_FEED_LIMIT", "BodySlicer"]

FEED_LIMIT = 16 * 1024
"""The most body bytes handed to a decoder at once."""
FIRST_FEED_LIMIT = 1024
"""The size of a stream's first slice (time to first token)."""
DRAIN_LIMIT = 64 * 1024
"""After a stream's end marker, at most this much of the rest of the body is read (so the
connection can be reused); a server that keeps sending gets its connection closed instead."""


class BodySlicer:
    """Cuts body chunks into slices of at most `FEED_LIMIT` bytes (the first: `FIRST_FEED_LIMIT`).

    ``slice_of(chunk)`` returns the first slice of a new chunk and keeps the rest; while
    `pending` is true, ``next_slice()`` returns the following slices.
    """

    __slots__ = ("_limit", "_offset", "_rest")

    def __init__(self) -> None:
        self._rest = b""
        self._offset = 0
        self._limit = FIRST_FEED_LIMIT

    @property
    def pending(self) -> bool:
        """Whether slices of the last chunk remain."""
        return bool(self._rest)

    def slice_of(self, chunk: bytes) -> bytes:
        """The first slice of `chunk` (all of it when it is small enough)."""
        if len(chunk) <= self._limit:
            self._limit = FEED_LIMIT
            return chunk
        self._rest = chunk
        self._offset = 0
        return self.next_slice()

    def next_slice(self) -> bytes:
        """The next slice of the kept chunk."""
        rest = self._rest
        start = self._offset
        end = start + self._limit
        self._limit = FEED_LIMIT
        if end >= len(rest):
            self._rest = b""
            self._offset = 0
            return rest[start:]
        self._offset = end
        return rest[start:end]

    def clear(self) -> None:
        """Forget what remains (the stream ended or was closed)."""
        self._rest = b""
        self._offset = 0

"""Decisions every transport makes the same way while it answers effects, written once.

- `BodyCollector`: how much of a `Send`'s body is read (its limit; error bodies are cut short);
- `sleep_seconds`: a `Sleep` that would outlast the call's deadline ends the call instead;
- `STREAM_END_GRACE`: after a stream's end marker (``[DONE]``, TGI's final event) the rest of
  the body is awaited only this long before the connection is given up (the items are already
  delivered: the caller never waits on a server that does not close the body).
"""

from __future__ import annotations

import contextlib
import io

from ._effects import Send
from ._errors import InferenceTimeoutError, ResponseTooLargeError
from ._http import ResponseHead

__all__ = ["RESERVE_AT", "STREAM_END_GRACE", "BodyCollector", "sleep_seconds"]

RESERVE_AT = 256 << 10
"""From this size on, a body of known length is read into a buffer made for it (`reserve`)."""

STREAM_END_GRACE = 0.1
"""Seconds a finished stream waits for the end of its body (to reuse the connection)."""


class BodyCollector:
    """Collects the body pieces of a `Send` answer under the effect's limit.

    ``while collector.add(piece): piece = <next piece>`` — `add` answers whether more should
    be read: False at the end of the body (``b""``), or once an error body (status >= 400)
    reached its cut (the transport then discards the connection: `complete` is False). A
    success body beyond the limit raises `ResponseTooLargeError`.
    """

    __slots__ = ("_buffer", "_cut", "_first", "_head", "_limit", "_size", "_view", "complete")

    def __init__(self, send: Send, head: ResponseHead) -> None:
        self._limit, strict = send.body_limit(head.status)
        self._cut = not strict
        self._head = head
        # One piece (a small answer) is kept as it came; from the second on, the pieces are
        # written into a BytesIO, whose getvalue() hands its buffer over without a copy: a
        # large body costs its size once, not pieces plus a joined copy.
        self._first = b""
        self._buffer: io.BytesIO | None = None
        self._view: memoryview | None = None
        self._size = 0
        self.complete = False

    def reserve(self, length: int | None) -> memoryview | None:
        """For a body whose remaining `length` is known before it is read (Content-Length,
        no content coding): a writable buffer of exactly that size for the transport to read
        the whole body into, then `reserved_filled()`; None when the body is better read piece
        by piece with `add` (small, unknown size, or an error body cut short). A success body
        over the limit is refused here, before any of it is read.

        The buffer is a `BytesIO`'s own, so `body` hands it over as `bytes` without a copy: a
        large body costs one copy, kernel to buffer, as a hand-written `recv_into` would.
        """
        if length is None or length < RESERVE_AT or self._size or self._buffer is not None:
            return None
        if length > self._limit:
            if self._cut:
                return None
            raise self._too_large()
        buffer = io.BytesIO()
        buffer.seek(length - 1)
        buffer.write(b"\0")  # sizes the buffer once (zeroed, as bytearray(length) would be)
        self._buffer = buffer
        self._view = view = buffer.getbuffer()
        return view

    def reserved_filled(self) -> None:
        """The transport filled the buffer `reserve` gave: the body is complete."""
        view = self._view
        if view is None:
            raise RuntimeError("reserved_filled() without a reserved buffer")
        self._size = len(view)
        self._release()
        self.complete = True

    def _release(self) -> None:
        view, self._view = self._view, None
        if view is not None:
            # (a slice still alive keeps the buffer exported: getvalue() then copies)
            with contextlib.suppress(BufferError):
                view.release()

    def _too_large(self) -> ResponseTooLargeError:
        request = self._head.request
        return ResponseTooLargeError(
            f"the response body from {request.method} {request.url} exceeds "
            f"{self._limit} bytes (after decompression); raise the limit if this "
            "is expected", status=self._head.status)

    def _keep(self, piece: bytes) -> None:
        if self._buffer is not None:
            self._buffer.write(piece)
        elif self._size == 0:
            self._first = piece
        else:
            self._buffer = io.BytesIO()
            self._buffer.write(self._first)
            self._buffer.write(piece)
            self._first = b""

    def add(self, piece: bytes) -> bool:
        """Take the next decoded piece (``b""``: the body ended); whether to read on."""
        if not piece:
            self.complete = True
            return False
        size = self._size + len(piece)
        if size > self._limit:
            if not self._cut:
                raise self._too_large()
            self._keep(piece[: self._limit - self._size])
            self._size = self._limit
            return False
        self._keep(piece)
        self._size = size
        return True

    @property
    def body(self) -> bytes:
        """The body collected so far."""
        if self._buffer is None:
            return self._first
        self._release()
        return self._buffer.getvalue()


def sleep_seconds(seconds: float, remaining: float | None) -> float:
    """How long to perform a `Sleep` of `seconds` with `remaining` seconds left before the
    call's deadline (None: no deadline); raises `InferenceTimeoutError` when the sleep would
    outlast it (a retry that could not be made in time is not waited for)."""
    if remaining is not None and seconds >= remaining:
        raise InferenceTimeoutError(
            f"the call's deadline leaves {max(remaining, 0.0):.3g} s, less than the "
            f"{seconds:.3g} s wait before the next retry")
    return seconds

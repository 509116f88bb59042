"""The streamed response a `ConnectionPool` hands out: the body read piece by piece, then the
connection given back (body ended) or closed (anything else)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inferwire.sansio._errors import InferenceError, UsageError
from inferwire.sansio._http import ResponseHead

from ._connection import HTTP11Connection
from ._content import ContentDecoder, make_decoder

if TYPE_CHECKING:
    from ._pool import ConnectionPool

__all__ = ["PooledResponse"]


def _content_encoding(head: ResponseHead) -> str | None:
    values = [value for name, value in head.headers if name == "content-encoding"]
    if not values:
        return None
    return values[0] if len(values) == 1 else ",".join(values)


_OPEN = 0
_COMPLETE = 1
_CLOSED = 2


class PooledResponse:
    """A response whose head arrived; its body is read with `receive`/`read`, then closed.

    `receive` answers the next piece of the decoded body (gzip/deflate undone, at most
    `_content.PIECE` bytes) as soon as a socket read brought some; ``b""`` means the body
    ended. The connection goes back to the pool when the body ends; `aclose` before that
    closes the socket instead, and `finish(grace)` waits a bounded time for the end first. Any
    error or cancellation inside `receive` closes the socket too. `async for piece in
    response` and `async with response` work as expected.
    """

    __slots__ = ("_conn", "_decoder", "_pool", "_read_timeout", "_state", "head")

    def __init__(
        self,
        pool: ConnectionPool,
        conn: HTTP11Connection,
        head: ResponseHead,
        read_timeout: float | None,
        decode: bool = True,
    ) -> None:
        self.head = head
        self._pool = pool
        self._conn: HTTP11Connection | None = conn
        self._read_timeout = read_timeout
        self._decoder: ContentDecoder | None = None
        if decode:
            encoding = _content_encoding(head)
            if encoding is not None:
                self._decoder = make_decoder(
                    encoding, f"the HTTP {head.status} response from {head.request.url}")
        self._state = _OPEN

    @property
    def complete(self) -> bool:
        """True once the whole body was received."""
        return self._state == _COMPLETE

    @property
    def closed(self) -> bool:
        """True once the response no longer holds a connection (ended, closed or failed)."""
        return self._conn is None

    async def receive(self) -> bytes:
        """The next piece of the decoded body: all that one socket read brought (bounded when
        decompressing); ``b""`` at the end."""
        decoder = self._decoder
        conn = self._conn
        if conn is None:
            if self._state == _COMPLETE:
                return b"" if decoder is None else decoder.finish()
            raise UsageError(
                f"the response from {self.head.request.url} was closed before its body ended"
            )
        try:
            if decoder is not None and decoder.pending:
                data = decoder.decode(b"")
                if data:
                    return data
            while True:
                raw = await conn.receive_body(self._read_timeout)
                if conn.body_done:
                    self._state = _COMPLETE
                    self._conn = None
                    self._pool._release(conn, self.head)
                    if decoder is None:
                        return raw
                    data = decoder.decode(raw) if raw else b""
                    return data or decoder.finish()
                if decoder is None:
                    return raw
                data = decoder.decode(raw)
                if data:
                    return data
        except BaseException:
            self.close_nowait()
            raise

    @property
    def sized_length(self) -> int | None:
        """How many body bytes are still to come when they need no decoding and their number
        is known (Content-Length, no content coding); else None. Such a body can be read with
        `read_into`."""
        conn = self._conn
        if conn is None or self._decoder is not None:
            return None
        return conn.sized_remaining

    async def read_into(self, view: memoryview) -> None:
        """Fill `view` with the rest of a body of `sized_length` bytes (``len(view)`` must be
        that number): the socket reads go straight into it. The connection is then given
        back, as when `receive` reaches the end."""
        conn = self._conn
        if conn is None or self._decoder is not None or conn.sized_remaining != len(view):
            raise UsageError(
                f"read_into needs a buffer of the rest of the body's size; the response from "
                f"{self.head.request.url} has {self.sized_length} bytes to come, the buffer "
                f"{len(view)}")
        try:
            await conn.receive_body_into(view, self._read_timeout)
            self._state = _COMPLETE
            self._conn = None
            self._pool._release(conn, self.head)
        except BaseException:
            self.close_nowait()
            raise

    async def read(self) -> bytes:
        """The rest of the decoded body."""
        parts: list[bytes] = []
        while True:
            piece = await self.receive()
            if not piece:
                return b"".join(parts)
            parts.append(piece)

    async def finish(self, grace: float) -> None:
        """The caller has what it needs (a stream's end marker came): wait at most `grace`
        seconds for the rest of the body, to reuse the connection, else close it. Never
        raises for what the server does then (a drop, junk, silence)."""
        conn = self._conn
        if conn is None:
            return
        pool = self._pool
        now = pool._now
        until = now() + grace
        try:
            if not conn.drain_buffered():
                while not conn.body_done and until > now():
                    await conn.receive_body(until - now())
        except InferenceError:
            pass
        except BaseException:
            self.close_nowait()
            raise
        if not conn.body_done:
            self.close_nowait()
            return
        self._state = _COMPLETE
        self._conn = None
        try:
            reusable = await pool._learn_stream_keepalive(conn, until)
        except BaseException:
            pool._discard(conn)
            raise
        if reusable:
            pool._release(conn, self.head)
        else:
            pool._discard(conn)

    async def aclose(self) -> None:
        """Release the connection: back to the pool if the body ended, else closed. Idempotent.

        Performs no I/O and never blocks, so it is safe in a cancelled task or trio scope.
        """
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        if self._state == _OPEN:
            self._state = _CLOSED
        if conn.drain_buffered():
            self._pool._release(conn, self.head)
        else:
            self._pool._discard(conn)

    def close_nowait(self) -> None:
        """Close the socket at once, without I/O (for errors, cancellations and finalizers).
        The connection is held only while the body is open, so it is never reusable here."""
        conn = self._conn
        if conn is not None:
            self._conn = None
            self._state = _CLOSED
            self._pool._discard(conn)

    def __aiter__(self) -> PooledResponse:
        return self

    async def __anext__(self) -> bytes:
        piece = await self.receive()
        if not piece:
            raise StopAsyncIteration
        return piece

    async def __aenter__(self) -> PooledResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = ("open", "complete", "closed")[self._state]
        return f"<PooledResponse {self.head.status} {self.head.request.url} {state}>"

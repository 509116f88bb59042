"""How bytes move: the network backend protocol and the asyncio backend.

A backend opens `AsyncNetworkStream`s and sleeps. Streams are deliberately small:

- `read(timeout)` returns the bytes available now (waiting for at least one if none are), and
  ``b""`` at end of file;
- `write(data, timeout)` sends `data`;
- `close()` closes the socket at once, without I/O and without awaiting, so it works in a
  cancelled task or a cancelled trio scope;
- `is_readable()` tells, without blocking, whether an idle connection has something to read,
  which for an idle HTTP/1.1 connection means the server closed it (or broke the protocol).

Failures are reported as `OSError` (refused, reset, TLS failure, ...) or `StreamTimeout`; the
connection layer turns them into inferwire errors that name the URL and what was going on. The
caller's own cancellation (an asyncio task cancel, `asyncio.timeout`, a trio cancel scope) is
never caught here.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import sys
from collections.abc import Awaitable
from typing import Any, Literal, Protocol, TypeVar

from inferwire.sansio._errors import UsageError

__all__ = [
    "LARGE_READ_SIZE",
    "READ_SIZE",
    "AsyncBackend",
    "AsyncNetworkStream",
    "AsyncioBackend",
    "AsyncioStream",
    "BackendName",
    "StreamTimeout",
    "TLSTimeout",
    "get_backend",
]

READ_SIZE = 64 * 1024
LARGE_READ_SIZE = 1 << 20
"""The read size for the rest of a large body of known length (images, audio): fewer reads,
each a scheduler round trip on trio, for the same bytes."""
"""How many bytes one socket read asks for."""

_PAUSE_READING_AT = 4 * READ_SIZE
"""Stop reading from the socket while this much received data waits for the reader."""

_WRITE_SLICE = 256 * 1024
"""A write larger than this is handed to the transport in slices of this size."""

BackendName = Literal["asyncio", "trio", "sync"]

T = TypeVar("T")


class StreamTimeout(Exception):  # noqa: N818 - internal signal, never escapes the package
    """A connect, read or write took longer than its timeout (internal: mapped by the caller)."""


class TLSTimeout(StreamTimeout):
    """The TLS handshake (after the TCP connection was made) took longer than its timeout."""


class AsyncNetworkStream(Protocol):
    """One connected byte stream (TCP, or TLS over TCP)."""

    async def read(self, timeout: float | None, size: int = READ_SIZE) -> bytes:
        """The bytes available now (at most about `size`: a hint for a large body known to
        follow), waiting up to `timeout` for some; ``b""`` at end of file."""
        ...

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data`, waiting up to `timeout` for the socket to take it."""
        ...

    def is_readable(self) -> bool:
        """True if reading would not block (data or end of file arrived, or the stream failed)."""
        ...

    def close(self) -> None:
        """Close now: no graceful TLS shutdown, no awaiting. Idempotent."""
        ...


class AsyncBackend(Protocol):
    """Opens streams and sleeps, in one async library."""

    @property
    def name(self) -> BackendName:
        """`"asyncio"` or `"trio"`."""
        ...

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        timeout: float | None,
    ) -> AsyncNetworkStream:
        """Open a TCP connection (and do the TLS handshake if `ssl_context` is given; a
        handshake that times out raises `TLSTimeout`)."""
        ...

    async def start_tls(
        self,
        stream: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float | None,
    ) -> AsyncNetworkStream:
        """TLS over an open stream (a proxy's CONNECT tunnel); the stream to use from then on."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep, honouring the caller's cancellation."""
        ...

    def now(self) -> float:
        """The backend's clock, in seconds (monotonic): what deadlines are instants of."""
        ...


# --------------------------------------------------------------------------------------------
# asyncio


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(StreamTimeout())


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class AsyncioStream(asyncio.Protocol):
    """An asyncio protocol that is also the stream: received data waits in a list of pieces.

    Cheaper than `asyncio.StreamReader`: a read hands over everything received so far as one
    bytes object, and arms a timer only when it actually has to wait.
    """

    __slots__ = (
        "_closed",
        "_drain_waiter",
        "_eof",
        "_error",
        "_loop",
        "_pieces",
        "_read_waiter",
        "_reading_paused",
        "_size",
        "_socket",
        "_transport",
        "_writing_paused",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._pieces: list[bytes] = []
        self._size = 0
        self._eof = False
        self._closed = False
        self._error: Exception | None = None
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._socket: Any = None

    # asyncio.Protocol callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        self._pieces.append(data)
        self._size += len(data)
        _wake(self._read_waiter)
        if self._size > _PAUSE_READING_AT and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        _wake(self._read_waiter)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if exc is not None and self._error is None:
            self._error = exc
        self._eof = True
        _wake(self._read_waiter)
        _wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        _wake(self._drain_waiter)

    # AsyncNetworkStream ----------------------------------------------------------------------

    async def read(self, timeout: float | None, size: int = READ_SIZE) -> bytes:
        # (`size` is moot here: the protocol already buffers what the loop read)
        pieces = self._pieces
        if not pieces:
            if self._eof:
                if self._error is not None:
                    raise ConnectionError(f"connection lost: {self._error}")
                return b""
            await self._wait("_read_waiter", timeout)
            if not pieces:
                if self._error is not None:
                    raise ConnectionError(f"connection lost: {self._error}")
                return b""
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        pieces.clear()
        self._size = 0
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._closed:
                self._transport.resume_reading()
        return data

    async def write(self, data: bytes, timeout: float | None) -> None:
        transport = self._transport
        if self._closed or transport is None or transport.is_closing():
            raise ConnectionError(f"connection lost: {self._error or 'closed'}")
        if len(data) <= _WRITE_SLICE:
            transport.write(data)
            while self._writing_paused and not self._closed:
                await self._wait("_drain_waiter", timeout)
            if self._closed:
                raise ConnectionError(f"connection lost: {self._error or 'closed'}")
            return
        # A large body goes in slices of a memoryview, each waited for while the transport's
        # buffer is above its high-water mark: handed over whole, the part the socket did not
        # take at once would be copied into the transport's buffer (on 3.11, `data[n:]` and
        # then `bytearray.extend`: two more copies of a 10 MB upload).
        view = memoryview(data)
        for start in range(0, len(view), _WRITE_SLICE):
            if self._closed or transport.is_closing():
                raise ConnectionError(f"connection lost: {self._error or 'closed'}")
            transport.write(view[start : start + _WRITE_SLICE])
            while self._writing_paused and not self._closed:
                await self._wait("_drain_waiter", timeout)
        if self._closed:
            raise ConnectionError(f"connection lost: {self._error or 'closed'}")

    def is_readable(self) -> bool:
        # A connection made under another (finished) event loop is unusable here: report it
        # as readable, so the pool drops it instead of reusing it.
        if (
            self._pieces
            or self._eof
            or self._closed
            or self._loop is not asyncio.get_running_loop()
        ):
            return True
        # The loop may not have run its selector since the server's FIN arrived (a server
        # that closes right after a response): ask the socket itself, without blocking.
        sock = self._socket
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._eof = True
            if self._error is None:
                self._error = ConnectionAbortedError("closed by the client")
            if self._transport is not None:
                try:
                    self._transport.abort()
                except RuntimeError:
                    _close_orphaned(self._transport)
            _wake(self._read_waiter)
            _wake(self._drain_waiter)

    async def _wait(
        self, slot: Literal["_read_waiter", "_drain_waiter"], timeout: float | None
    ) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        setattr(self, slot, waiter)
        timer = None if timeout is None else self._loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            setattr(self, slot, None)
            if timer is not None:
                timer.cancel()


def _close_orphaned(transport: asyncio.Transport) -> None:
    """Close the socket of a transport whose event loop has already closed (a connection kept
    idle across ``asyncio.run()`` calls): `abort` cannot run without its loop, and asyncio's
    selector transports hold the socket in ``_sock`` (closed here, so it is not leaked)."""
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        sock.close()
        transport._sock = None  # type: ignore[attr-defined]


if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[T], timeout: float | None) -> T:
        if timeout is None:
            return await awaitable
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise StreamTimeout from None
            raise

else:  # pragma: no cover - Python 3.10

    async def _within(awaitable: Awaitable[T], timeout: float | None) -> T:
        if timeout is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except asyncio.TimeoutError:
            raise StreamTimeout from None


class AsyncioBackend:
    """Streams on asyncio transports (`loop.create_connection`, TLS by asyncio's SSL layer)."""

    __slots__ = ()

    @property
    def name(self) -> BackendName:
        return "asyncio"

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        timeout: float | None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        started = loop.time()
        _, stream = await _within(
            loop.create_connection(lambda: AsyncioStream(loop), host, port), timeout
        )
        if ssl_context is None:
            return stream
        left = None if timeout is None else max(timeout - (loop.time() - started), 1e-3)
        try:
            return await self.start_tls(stream, ssl_context, server_hostname or host, left)
        except BaseException:
            stream.close()
            raise

    async def start_tls(
        self,
        stream: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float | None,
    ) -> AsyncioStream:
        assert isinstance(stream, AsyncioStream)
        transport = stream._transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        try:
            tls = await _within(
                loop.start_tls(transport, stream, ssl_context, server_hostname=server_hostname),
                timeout,
            )
        except StreamTimeout:
            raise TLSTimeout from None
        if tls is None:  # pragma: no cover - only when the transport closed meanwhile
            raise ConnectionError("the connection closed during the TLS handshake")
        stream._transport = tls
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def __repr__(self) -> str:
        return "AsyncioBackend()"


_ASYNCIO = AsyncioBackend()


def get_backend(name: BackendName) -> AsyncBackend:
    """The backend for `name`. The trio backend (and trio itself) is imported only here."""
    if name == "asyncio":
        return _ASYNCIO
    if name == "trio":
        try:
            from ._trio_backend import TrioBackend
        except ImportError as exc:  # pragma: no cover - trio is a dev dependency
            raise UsageError(
                "the trio backend needs trio: pip install 'inferwire[trio]'", argument="backend"
            ) from exc
        return TrioBackend()
    if name == "sync":
        from ._sync_backend import SyncBackend

        return SyncBackend()
    raise UsageError(f"unknown backend {name!r}: use 'asyncio' or 'trio'", argument="backend")

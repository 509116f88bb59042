"""The asyncio backend: streams on asyncio transports, received into buffers we own.

`AsyncioStream` is an `asyncio.BufferedProtocol` and the stream in one: the loop receives
into a scratch buffer kept per connection, or straight into the caller's buffer during a
`fill`; a timer is armed only when a read must wait; a large plain-TCP write goes to the
socket directly when the loop allows it.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import math
import select
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from . import _bulk
from ._backends import READ_SIZE, AsyncNetworkStream, BackendName, StreamTimeout, TLSTimeout

__all__ = ["ASYNCIO", "AsyncioBackend", "AsyncioStream"]

_PAUSE_READING_AT = 4 * READ_SIZE
"""Stop reading from the socket while this much received data waits for the reader."""

_SCRATCH_SIZE = 256 * 1024
"""The buffer an asyncio connection receives into (asyncio's own read size)."""

_WRITE_SLICE = 256 * 1024
"""A write larger than this is handed to the transport in slices of this size."""

T = TypeVar("T")


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(StreamTimeout())


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class AsyncioStream(asyncio.BufferedProtocol):
    """An asyncio protocol that is also the stream: received data waits in a list of pieces.

    Cheaper than `asyncio.StreamReader`: a read hands over everything received so far as one
    bytes object, and arms a timer only when it actually has to wait. It is a buffered
    protocol: the loop receives into a scratch buffer kept for the connection (no allocation
    of a 256 KiB bytes object per socket read), or, while `fill` waits, straight into the
    caller's buffer.
    """

    __slots__ = (
        "_closed",
        "_drain_waiter",
        "_eof",
        "_error",
        "_filled",
        "_loop",
        "_lowat",
        "_pieces",
        "_plain",
        "_read_waiter",
        "_reading_paused",
        "_scratch",
        "_size",
        "_socket",
        "_target",
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
        self._scratch: memoryview | None = None
        self._target: memoryview | None = None  # the buffer a waiting `fill` fills
        self._filled = 0
        self._plain = True  # no TLS layer: large writes may go to the socket directly
        self._lowat = 1  # the socket's receive low-water mark while a `fill` waits

    # asyncio.BufferedProtocol callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def get_buffer(self, sizehint: int) -> memoryview:
        target = self._target
        if target is not None and self._filled < len(target):
            return target[self._filled :]
        scratch = self._scratch
        if scratch is None:
            scratch = self._scratch = memoryview(bytearray(_SCRATCH_SIZE))
        return scratch

    def buffer_updated(self, nbytes: int) -> None:
        target = self._target
        if target is not None and self._filled < len(target):
            self._filled += nbytes
            left = len(target) - self._filled
            if not left:
                _wake(self._read_waiter)
            elif left < self._lowat:
                self._lowat = left
                _bulk.set_lowat(self._socket, left)
            return
        assert self._scratch is not None
        self.data_received(bytes(self._scratch[:nbytes]))

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

    def _lost(self) -> ConnectionError:
        return ConnectionError(f"connection lost: {self._error}")

    async def read(self, timeout: float | None, size: int = READ_SIZE) -> bytes:
        # (`size` is moot here: the protocol already buffers what the loop read)
        pieces = self._pieces
        if not pieces:
            if self._eof:
                if self._error is not None:
                    raise self._lost()
                return b""
            await self._wait("_read_waiter", timeout)
            if not pieces:
                if self._error is not None:
                    raise self._lost()
                return b""
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        pieces.clear()
        self._size = 0
        self._resume_reading()
        return data

    def _resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._closed:
                self._transport.resume_reading()

    async def fill(self, view: memoryview, timeout: float | None, deadline: float | None) -> int:
        size = len(view)
        filled = self._take_pieces(view) if self._pieces else 0
        if filled == size or self._eof:
            if filled < size and self._error is not None:
                raise self._lost()
            return filled
        # The loop now receives straight into `view`; the reader is woken once, when it is
        # full or the stream ends. The timer checks progress when it fires instead of being
        # re-armed at every socket read.
        loop = self._loop
        waiter: asyncio.Future[None] = loop.create_future()
        self._read_waiter = waiter
        self._target, self._filled = view, filled
        if _bulk.LOWAT_SUPPORTED and self._plain and self._socket is not None:
            self._lowat = min(size - filled, _bulk.lowat_limit(_bulk.LOWAT_CAP))
            _bulk.set_lowat(self._socket, self._lowat)
        timer = (
            _StallTimer(loop, waiter, timeout, deadline, self._progress)
            if (timeout is not None or deadline is not None)
            else None
        )
        try:
            await waiter
        finally:
            filled = self._filled
            self._read_waiter = None
            self._target, self._filled = None, 0
            if timer is not None:
                timer.cancel()
            if self._lowat != 1:
                self._lowat = 1
                _bulk.set_lowat(self._socket, 1)
        if filled < size and self._error is not None:
            raise self._lost()
        return filled

    def _progress(self) -> int:
        """What a `fill` has: the bytes in its buffer, and those that arrived below the
        socket's low-water mark (see `_bulk`)."""
        if self._lowat == 1:
            return self._filled
        return self._filled + _bulk.queued(self._socket.fileno())

    def _take_pieces(self, view: memoryview) -> int:
        """Copy waiting pieces into `view`: as many bytes as fit; the rest stays waiting."""
        pieces = self._pieces
        room, at = len(view), 0
        taken = 0
        for piece in pieces:
            n = min(len(piece), room - at)
            view[at : at + n] = piece[:n]
            at += n
            if n < len(piece):
                pieces[taken] = piece[n:]
                break
            taken += 1
            if at == room:
                break
        del pieces[:taken]
        self._size -= at
        if not pieces:
            self._resume_reading()
        return at

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
        view = memoryview(data)
        if (
            self._plain
            and transport.get_write_buffer_size() == 0
            and isinstance(self._loop, asyncio.selector_events.BaseSelectorEventLoop)
        ):
            await self._write_direct(view, timeout)
            return
        # A large body goes in slices of a memoryview, each waited for while the transport's
        # buffer is above its high-water mark: handed over whole, the part the socket did not
        # take at once would be copied into the transport's buffer (on 3.11, `data[n:]` and
        # then `bytearray.extend`: two more copies of a 10 MB upload).
        for start in range(0, len(view), _WRITE_SLICE):
            if self._closed or transport.is_closing():
                raise ConnectionError(f"connection lost: {self._error or 'closed'}")
            transport.write(view[start : start + _WRITE_SLICE])
            while self._writing_paused and not self._closed:
                await self._wait("_drain_waiter", timeout)
        if self._closed:
            raise ConnectionError(f"connection lost: {self._error or 'closed'}")

    async def _write_direct(self, view: memoryview, timeout: float | None) -> None:
        """A large body on plain TCP, sent on a duplicate of the socket's descriptor with a
        writability callback of our own, as `loop.sock_sendall` does: no copy into the
        transport's buffer, and one wake-up of this task at the end instead of one per drain.
        The transport's buffer is empty (checked by the caller), so nothing is reordered; the
        transport never learns of these bytes, which is what HTTP/1.1 framing needs."""
        try:
            sock = self._socket.dup()
        except (AttributeError, OSError) as exc:
            raise ConnectionError(f"connection lost: {exc}") from exc
        try:
            _bulk.grow_send_buffer(sock, len(view))
            sender = _DirectSend(sock, view)
            if sender.send_now():
                return
            loop = self._loop
            waiter = sender.waiter = loop.create_future()
            fd = sock.fileno()
            loop.add_writer(fd, sender.on_writable)
            timer = (
                None
                if timeout is None
                else _StallTimer(loop, waiter, timeout, None, sender.progress)
            )
            try:
                await waiter
            finally:
                loop.remove_writer(fd)
                if timer is not None:
                    timer.cancel()
        finally:
            sock.close()

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


class _StallTimer:
    """The timeout of a transfer that a loop callback advances (`fill`, a direct write):
    fires after `timeout` without progress or at `deadline`, whichever comes first; progress
    made meanwhile re-arms it for the rest, so no timer is touched per socket operation."""

    __slots__ = ("_deadline", "_handle", "_loop", "_progress", "_seen", "_timeout", "_waiter")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        waiter: asyncio.Future[None],
        timeout: float | None,
        deadline: float | None,
        progress: Callable[[], int],
    ) -> None:
        self._loop, self._waiter, self._progress = loop, waiter, progress
        self._timeout, self._deadline = timeout, deadline
        self._seen = progress()
        self._handle = self._arm(loop.time())

    def _arm(self, now: float) -> asyncio.TimerHandle:
        at = math.inf if self._timeout is None else now + self._timeout
        if self._deadline is not None:
            at = min(at, self._deadline)
        return self._loop.call_at(at, self._fire)

    def _fire(self) -> None:
        done, now = self._progress(), self._loop.time()
        if done > self._seen and (self._deadline is None or now < self._deadline):
            self._seen = done
            self._handle = self._arm(now)
            return
        _expire(self._waiter)

    def cancel(self) -> None:
        self._handle.cancel()


class _DirectSend:
    """The state of `AsyncioStream._write_direct`: a view sent as the socket takes it."""

    __slots__ = ("_sock", "_view", "sent", "waiter")

    def __init__(self, sock: socket.socket, view: memoryview) -> None:
        self._sock, self._view = sock, view
        self.sent = 0
        self.waiter: asyncio.Future[None] | None = None

    def progress(self) -> int:
        return self.sent

    def send_now(self) -> bool:
        """Send what the socket takes now; True once all is sent. Raises what `send` raises
        but "would block"."""
        view, total = self._view, len(self._view)
        while self.sent < total:
            try:
                want = total - self.sent
                got = self._sock.send(view[self.sent :] if self.sent else view)
            except (BlockingIOError, InterruptedError):
                return False
            self.sent += got
            if got < want:
                return False  # the socket's buffer is full: wait without asking again
        return True

    def on_writable(self) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            if self.send_now():
                waiter.set_result(None)
        except OSError as exc:
            waiter.set_exception(ConnectionError(f"connection lost: {exc}"))


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
        stream._plain = False
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def __repr__(self) -> str:
        return "AsyncioBackend()"


ASYNCIO = AsyncioBackend()
"""The asyncio backend (stateless: one is shared)."""

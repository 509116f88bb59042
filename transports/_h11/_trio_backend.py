"""The trio backend: streams on `trio.SocketStream` / `trio.SSLStream`.

Imported only by `get_backend("trio")`. Timeouts are per-operation cancel scopes whose expiry
becomes `StreamTimeout`; a cancellation from the caller's own scopes passes through untouched.
The `timeout` parameters (ruff ASYNC109) are the connection layer's own connect/read/write
timeouts, which it must impose per operation; callers still use cancel scopes for overall limits.
"""

from __future__ import annotations

import contextlib
import math
import socket
import ssl
from collections.abc import Awaitable, Callable

import trio

from ._backends import READ_SIZE, AsyncNetworkStream, BackendName, StreamTimeout, TLSTimeout
from ._bulk import LOWAT_CAP_TRIO, LOWAT_SUPPORTED, grow_send_buffer, lowat_limit, queued, set_lowat

__all__ = ["TrioBackend", "TrioStream"]

_HAS_NOTSENT_LOWAT = hasattr(socket, "TCP_NOTSENT_LOWAT")
_UNSENT_LIMIT_AT = 256 * 1024
"""From this size on, a write lifts trio's cap on unsent bytes (see `TrioStream.write`)."""
_NO_UNSENT_LIMIT = 0x7FFFFFFF



def _as_oserror(exc: BaseException) -> OSError:
    """The OSError behind a trio stream error (trio wraps socket and SSL errors)."""
    cause = exc.__cause__
    if isinstance(cause, OSError):
        return cause
    if isinstance(exc, trio.ClosedResourceError):
        return ConnectionAbortedError("closed by the client")
    return ConnectionError(str(exc) or type(exc).__name__)


def _unless_would_block(sock: socket.socket, exc: OSError) -> None:
    """Return if `exc` only says the socket would block (and it is still open); else raise
    the error the connection layer expects."""
    if sock.fileno() == -1:  # closed by `close()` while this task waited
        raise ConnectionAbortedError("closed by the client") from exc
    if not isinstance(exc, BlockingIOError):
        raise exc


async def _waited(wait: Callable[[socket.socket], Awaitable[None]], sock: socket.socket,
                  timeout: float | None) -> bool:  # noqa: ASYNC109 - see module doc
    """Wait for `sock` to become readable or writable (`wait`); False if `timeout` came
    first."""
    if timeout is None:
        await wait(sock)
        return True
    with trio.move_on_after(timeout) as scope:
        await wait(sock)
    return not scope.cancelled_caught


class TrioStream:
    """A TCP or TLS stream under trio.

    On plain TCP, reads and writes use the socket directly: a write loops over partial
    sends and waits for the socket only when its buffer is full, a read waits only when
    nothing has arrived. `trio.SocketStream` instead makes every partial send and every
    read a full scheduler round trip (two checkpoints each), which for a 10 MB upload is
    most of the client's CPU. Cancellation is still checked at the start of each operation
    and at every wait, and each write ends with a schedule point.
    """

    __slots__ = ("_raw", "_socket", "_stream")

    def __init__(self, stream: trio.SocketStream | trio.SSLStream[trio.SocketStream]) -> None:
        self._stream = stream
        tcp = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        self._socket = tcp.socket
        raw = getattr(tcp.socket, "_sock", None)  # (trio keeps the stdlib socket there)
        plain = not isinstance(stream, trio.SSLStream) and isinstance(raw, socket.socket)
        self._raw: socket.socket | None = raw if plain else None

    async def read(self, timeout: float | None,  # noqa: ASYNC109 - see module doc
                   size: int = READ_SIZE) -> bytes:
        if self._raw is not None:
            if timeout is None:
                return await self._read_raw(self._raw, size)
            with trio.CancelScope(deadline=trio.current_time() + timeout):
                return await self._read_raw(self._raw, size)
            raise StreamTimeout
        try:
            if timeout is None:
                data = await self._stream.receive_some(size)
            else:
                with trio.CancelScope(deadline=trio.current_time() + timeout):
                    data = await self._stream.receive_some(size)
                    return data if type(data) is bytes else bytes(data)
                raise StreamTimeout
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise _as_oserror(exc) from exc
        return data if type(data) is bytes else bytes(data)

    async def fill(self, view: memoryview, timeout: float | None,  # noqa: ASYNC109
                   deadline: float | None) -> int:
        size, filled = len(view), 0
        sock = self._raw
        if sock is None:  # TLS: trio's SSLStream reads; each piece is copied into the view
            while filled < size:
                data = await self.read(self._wait(timeout, deadline), size - filled)
                if not data:
                    break
                view[filled : filled + len(data)] = data
                filled += len(data)
            return filled
        await trio.lowlevel.checkpoint_if_cancelled()
        lowat, seen = 1, -1  # the socket's low-water mark (see `_bulk`); progress at a timeout
        cap = lowat_limit(LOWAT_CAP_TRIO)
        try:
            while filled < size:
                try:
                    got = sock.recv_into(view[filled:] if filled else view)
                    if not got:
                        break
                    filled += got
                    continue
                except OSError as exc:
                    _unless_would_block(sock, exc)
                if LOWAT_SUPPORTED and (low := min(size - filled, cap)) != lowat:
                    set_lowat(sock, low)
                    lowat = low
                if not await _waited(trio.lowlevel.wait_readable, sock,
                                     self._wait(timeout, deadline)):
                    # Bytes that arrived below the low-water mark are progress, not a stall.
                    now = filled + queued(sock.fileno()) if lowat > 1 else filled
                    if now <= seen or now == filled:
                        raise StreamTimeout
                    seen = now
        finally:
            if lowat != 1:
                set_lowat(sock, 1)
        return filled

    @staticmethod
    def _wait(timeout: float | None, deadline: float | None) -> float | None:
        if deadline is None:
            return timeout
        left = deadline - trio.current_time()
        if left <= 0:
            raise StreamTimeout
        return left if timeout is None else min(timeout, left)

    async def _read_raw(self, sock: socket.socket, size: int) -> bytes:
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                return sock.recv(size)
            except OSError as exc:
                _unless_would_block(sock, exc)
            await trio.lowlevel.wait_readable(sock)

    async def _write_raw(self, sock: socket.socket, data: bytes,
                         timeout: float | None) -> None:  # noqa: ASYNC109 - see module doc
        """Send all of `data`; `timeout` bounds each wait for the socket to take more (a
        stall), not the whole body."""
        await trio.lowlevel.checkpoint_if_cancelled()
        view = memoryview(data)
        sent, total = 0, len(view)
        waited = False
        while sent < total:
            try:
                want = total - sent
                got = sock.send(view[sent:] if sent else view)
                sent += got
                if got == want:
                    continue
                # a partial send: the socket's buffer is full, so wait without asking again
            except OSError as exc:
                _unless_would_block(sock, exc)
            waited = True
            if not await _waited(trio.lowlevel.wait_writable, sock, timeout):
                raise StreamTimeout
        if not waited:
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def write(self, data: bytes, timeout: float | None) -> None:  # noqa: ASYNC109
        sock = self._raw
        if sock is not None:
            if len(data) <= _UNSENT_LIMIT_AT or not _HAS_NOTSENT_LOWAT:
                await self._write_raw(sock, data, timeout)
                return
            # trio caps a socket's unsent bytes at 16 KiB (TCP_NOTSENT_LOWAT, for latency):
            # a 10 MB body would then go in ~140 small sends and ~40 waits. Lifted for the
            # body, restored after.
            grow_send_buffer(sock, len(data))
            try:
                kept = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, _NO_UNSENT_LIMIT)
            except OSError:
                kept = None
            try:
                await self._write_raw(sock, data, timeout)
            finally:
                if kept is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, kept)
            return
        try:
            if timeout is None:
                await self._stream.send_all(data)
                return
            with trio.CancelScope(deadline=trio.current_time() + timeout):
                await self._stream.send_all(data)
                return
            raise StreamTimeout
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise _as_oserror(exc) from exc

    def is_readable(self) -> bool:
        return self._socket.fileno() == -1 or self._socket.is_readable()

    def close(self) -> None:
        # trio's socket close is synchronous and wakes any task blocked on this socket; it
        # needs no checkpoint, so it works inside a cancelled scope. No TLS close_notify: the
        # HTTP/1.1 framing already tells where each response ends.
        self._socket.close()


class TrioBackend:
    """Connects with `trio.open_tcp_stream` and `trio.SSLStream`."""

    __slots__ = ()

    @property
    def name(self) -> BackendName:
        return "trio"

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        timeout: float | None,  # noqa: ASYNC109
    ) -> TrioStream:
        tcp: trio.SocketStream | None = None
        connected = False
        deadline = math.inf if timeout is None else trio.current_time() + timeout
        try:
            with trio.CancelScope(deadline=deadline):
                tcp = await trio.open_tcp_stream(host, port)
            if tcp is None:
                raise StreamTimeout
            if ssl_context is None:
                connected = True
                return TrioStream(tcp)
            stream = await self._handshake(tcp, ssl_context, server_hostname or host, deadline)
            connected = True
            return stream
        except trio.BrokenResourceError as exc:
            raise _as_oserror(exc) from exc
        finally:
            if not connected and tcp is not None:
                # Timeout, TLS failure or the caller's cancellation: close without a checkpoint.
                tcp.socket.close()

    async def _handshake(
        self, tcp: trio.SocketStream, ssl_context: ssl.SSLContext, server_hostname: str,
        deadline: float,
    ) -> TrioStream:
        tls = trio.SSLStream(tcp, ssl_context, server_hostname=server_hostname,
                             https_compatible=True)
        try:
            with trio.CancelScope(deadline=deadline):
                await tls.do_handshake()
                return TrioStream(tls)
        except trio.BrokenResourceError as exc:
            raise _as_oserror(exc) from exc
        raise TLSTimeout

    async def start_tls(
        self,
        stream: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float | None,  # noqa: ASYNC109
    ) -> TrioStream:
        assert isinstance(stream, TrioStream)
        tcp = stream._stream
        assert isinstance(tcp, trio.SocketStream)
        deadline = math.inf if timeout is None else trio.current_time() + timeout
        return await self._handshake(tcp, ssl_context, server_hostname, deadline)

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    def now(self) -> float:
        return trio.current_time()

    def __repr__(self) -> str:
        return "TrioBackend()"

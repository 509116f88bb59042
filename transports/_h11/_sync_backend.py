"""The blocking backend: the shared connection layer driven without an event loop.

`SyncBackend` opens `SyncStream`s on blocking sockets. Their methods are coroutines that never
suspend (they block in the socket call instead), so the pool and connection code written once
for asyncio and trio runs unchanged under `run_sync`, which steps a coroutine to its end in one
`send`. The sync `InferenceClient` mounts the pool as its httpx transport (see `_sync.py`).

Timeouts are socket timeouts (set only when they change: `settimeout` costs system calls);
their expiry becomes `StreamTimeout`, as on the other backends.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from ._backends import READ_SIZE, AsyncNetworkStream, BackendName, StreamTimeout, TLSTimeout

__all__ = ["SyncBackend", "SyncStream", "run_sync"]

T = TypeVar("T")

_SENDALL_AT = 256 * 1024
"""Up to this size a write is one `sendall` (its timeout then bounds a short transfer)."""


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine of the connection layer on the sync backend: it never suspends."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()  # pragma: no cover - only a non-sync awaitable could get here
    raise RuntimeError("a coroutine run on the sync backend tried to suspend")


class SyncStream:
    """A connected blocking socket (TCP, or TLS over TCP)."""

    __slots__ = ("_closed", "_sock", "_timeout")

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self._sock = sock
        self._timeout: object = timeout
        self._closed = False

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    async def read(self, timeout: float | None,  # blocks: see the module doc
                   size: int = READ_SIZE) -> bytes:
        if self._closed:
            raise ConnectionAbortedError("closed by the client")
        if timeout != self._timeout:
            self._set_timeout(timeout)
        try:
            return self._sock.recv(size)
        except TimeoutError:
            raise StreamTimeout from None

    async def fill(self, view: memoryview, timeout: float | None,
                   deadline: float | None) -> int:
        if self._closed:
            raise ConnectionAbortedError("closed by the client")
        size, filled = len(view), 0
        sock = self._sock
        try:
            while filled < size:
                wait = timeout
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StreamTimeout
                    wait = left if wait is None else min(wait, left)
                if wait != self._timeout:
                    self._set_timeout(wait)
                got = sock.recv_into(view[filled:] if filled else view)
                if not got:
                    break
                filled += got
        except TimeoutError:
            raise StreamTimeout from None
        return filled

    async def write(self, data: bytes, timeout: float | None) -> None:
        if self._closed:
            raise ConnectionAbortedError("closed by the client")
        if timeout != self._timeout:
            self._set_timeout(timeout)
        try:
            if timeout is None or len(data) <= _SENDALL_AT:
                self._sock.sendall(data)
                return
            # `sendall`'s timeout bounds the whole body; `send` in a loop makes `timeout` the
            # longest stall, as on the other backends.
            view, sent, total = memoryview(data), 0, len(data)
            send = self._sock.send
            while sent < total:
                sent += send(view[sent:] if sent else view)
        except TimeoutError:
            raise StreamTimeout from None

    def is_readable(self) -> bool:
        if self._closed:
            return True
        sock = self._sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sock.close()


class SyncBackend:
    """Blocking sockets; TLS by `ssl.SSLContext.wrap_socket`."""

    __slots__ = ()

    @property
    def name(self) -> BackendName:
        return "sync"

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        timeout: float | None,
    ) -> SyncStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise StreamTimeout from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        stream = SyncStream(sock, sock.gettimeout())
        if ssl_context is None:
            return stream
        left = None if deadline is None else max(deadline - time.monotonic(), 1e-3)
        try:
            return await self.start_tls(stream, ssl_context, server_hostname or host, left)
        except BaseException:
            sock.close()
            raise

    async def start_tls(
        self,
        stream: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float | None,
    ) -> SyncStream:
        assert isinstance(stream, SyncStream)
        sock = stream._sock
        sock.settimeout(timeout)
        try:
            tls = ssl_context.wrap_socket(sock, server_hostname=server_hostname)
        except TimeoutError:
            raise TLSTimeout from None
        return SyncStream(tls, timeout)

    async def sleep(self, seconds: float) -> None:
        time.sleep(seconds)  # noqa: ASYNC251 - this backend blocks by design

    def now(self) -> float:
        return time.monotonic()

    def __repr__(self) -> str:
        return "SyncBackend()"

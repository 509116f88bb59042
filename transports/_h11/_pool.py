"""The keep-alive connection pool and the streamed response it hands out.

`ConnectionPool.open(request)` checks out a connection for the request's origin (reusing the most
recently returned idle one), sends the request and answers with a `PooledResponse` once the head
arrived. The response owns its connection exclusively until its body ended (the connection then
goes back to the pool if h11 says it can be reused) or until it is closed, fails or is cancelled
(the socket is then closed: a half-read connection never goes back to the pool).

The pool holds no locks: checking a connection out or in never awaits, and both asyncio and trio
run one task at a time, so many tasks can share one pool.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import h11

from inferwire.sansio._errors import ConnectError, ConnectTimeoutError, UsageError
from inferwire.sansio._http import Request, ResponseHead

from ._backends import AsyncBackend, StreamTimeout
from ._connection import HTTP11Connection, Origin, StaleConnection, Timeouts
from ._content import ContentDecoder, make_decoder
from ._wire import RequestTemplate, build_event, make_template

__all__ = ["ConnectionPool", "PooledResponse", "make_ssl_context"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
Verify = bool | ssl.SSLContext | Callable[[], ssl.SSLContext]
_TEMPLATES_MAX = 64
# Characters left alone when a target needs quoting: the URL delimiters and existing escapes.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%~"


def make_ssl_context(verify: Verify = True) -> ssl.SSLContext:
    """The TLS context for `verify`: a given context as is (or made by a given factory, when
    first needed); True: verified (certifi's CAs when certifi is installed, else the system's);
    False: no certificate or host name checks."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if callable(verify):
        return verify()
    if verify:
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with httpx
            context = ssl.create_default_context()
        else:
            context = ssl.create_default_context(cafile=certifi.where())
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


@functools.lru_cache(maxsize=512)
def _parse_url(url: str) -> tuple[Origin, str, str]:
    """(origin, request target, Host header value) of an absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}", argument="url") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UsageError(f"unsupported URL scheme in {url!r}: use http or https", argument="url")
    host = parts.hostname
    if not host:
        raise UsageError(f"the URL {url!r} has no host", argument="url")
    default_port = _DEFAULT_PORTS[scheme]
    if port is None:
        port = default_port
    authority = f"[{host}]" if ":" in host else host
    if port != default_port:
        authority = f"{authority}:{port}"
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        target = quote(target, safe=_TARGET_SAFE)
    return (scheme, host, port), target, authority


def _content_encoding(head: ResponseHead) -> str | None:
    values = [value for name, value in head.headers if name == "content-encoding"]
    if not values:
        return None
    return values[0] if len(values) == 1 else ",".join(values)


class ConnectionPool:
    """HTTP/1.1 keep-alive connections keyed by (scheme, host, port), on one backend.

    Each request gets a connection of its own; idle ones are reused last-in first-out, and at
    most `max_keepalive_connections` are kept idle. `connections_opened` counts TCP connections
    made, so tests and benchmarks can prove reuse.
    """

    def __init__(
        self,
        backend: AsyncBackend,
        *,
        timeouts: Timeouts | None = None,
        verify: Verify = True,
        max_keepalive_connections: int = 10,
    ) -> None:
        if max_keepalive_connections < 0:
            raise UsageError(
                "max_keepalive_connections must be >= 0", argument="max_keepalive_connections"
            )
        self._backend = backend
        self._timeouts = timeouts if timeouts is not None else Timeouts()
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = None
        self._max_idle = max_keepalive_connections
        self._idle: list[HTTP11Connection] = []
        self._active: set[HTTP11Connection] = set()
        self._closed = False
        # Event loops run one task at a time; the sync backend may be used from many threads,
        # so its checkout and return take a lock (they never block inside it).
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if backend.name == "sync" else contextlib.nullcontext()
        )
        self.connections_opened = 0
        # Request-head templates by (method, target, Host, headers, has body): see `_wire.py`.
        self._templates: dict[
            tuple[str, str, str, tuple[tuple[str, str], ...], bool], RequestTemplate | None
        ] = {}

    @property
    def backend(self) -> AsyncBackend:
        """The backend the pool's connections run on."""
        return self._backend

    @property
    def timeouts(self) -> Timeouts:
        """The timeouts used when `open` is not given any."""
        return self._timeouts

    @property
    def idle_connections(self) -> int:
        """How many connections wait in the pool for reuse."""
        return len(self._idle)

    @property
    def active_connections(self) -> int:
        """How many connections are checked out by open responses."""
        return len(self._active)

    @property
    def closed(self) -> bool:
        """True once `aclose` was called."""
        return self._closed

    async def open(
        self, request: Request, timeouts: Timeouts | None = None, *, decode: bool = True
    ) -> PooledResponse:
        """Send `request`; answer once the response head arrived, with the body still pending.

        A reused connection that the server had closed (the write fails, or it ends before any
        response byte) is replaced by a fresh one and the request is sent again, once. With
        ``decode=False`` the body is handed over still content-encoded (gzip, deflate).
        """
        if self._closed:
            raise UsageError("the connection pool is closed")
        if timeouts is None:
            timeouts = self._timeouts
        origin, target, authority = _parse_url(request.url)
        event = self._event(request, target, authority)
        conn = self._checkout(origin)
        if conn is not None:
            try:
                head = await conn.start(event, request.body, request, timeouts)
            except StaleConnection:
                self._discard(conn)
            except BaseException:
                self._discard(conn)
                raise
            else:
                return PooledResponse(self, conn, head, timeouts.read, decode)
        conn = await self._connect(origin, request, timeouts)
        try:
            head = await conn.start(event, request.body, request, timeouts)
        except BaseException:
            self._discard(conn)
            raise
        return PooledResponse(self, conn, head, timeouts.read, decode)

    async def aclose(self) -> None:
        """Close every connection, idle or in use (open responses then fail). Idempotent."""
        self.close_nowait()

    def close_nowait(self) -> None:
        """`aclose` without awaiting, for finalizers: sockets are closed at once (no I/O)."""
        self._closed = True
        # Swapped, not cleared under the lock: this may run in a finalizer, in any thread.
        idle, self._idle = self._idle, []
        active, self._active = self._active, set()
        for conn in [*idle, *active]:
            # RuntimeError: the event loop is already closed; its transports go with it.
            with contextlib.suppress(RuntimeError):
                conn.close()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"<ConnectionPool {self._backend.name} idle={len(self._idle)} "
            f"active={len(self._active)} opened={self.connections_opened}>"
        )

    def _event(
        self, request: Request, target: str, authority: str
    ) -> h11.Request | RequestTemplate:
        """The request's template (see `_wire.py`), or its h11 event when it has none."""
        key = (request.method, target, authority, request.headers, request.body is not None)
        templates = self._templates
        try:
            template = templates[key]
        except KeyError:
            if len(templates) >= _TEMPLATES_MAX:
                templates.clear()
            template = templates[key] = make_template(*key)
        except TypeError:  # headers given as a list: not a key
            template = None
        if template is None or not template.useful:
            return build_event(request, target, authority)
        return template

    # -- checkout and return -------------------------------------------------------------------

    def _checkout(self, origin: Origin) -> HTTP11Connection | None:
        idle = self._idle
        while True:
            with self._lock:
                for index in range(len(idle) - 1, -1, -1):
                    conn = idle[index]
                    if conn.origin == origin:
                        del idle[index]
                        self._active.add(conn)
                        break
                else:
                    return None
            if conn.stream.is_readable():
                # Readable while idle: the server closed it (or sent junk). Drop it.
                self._discard(conn)
                continue
            conn.reused = True
            return conn

    def _release(self, conn: HTTP11Connection) -> None:
        """Take back a connection whose response body ended."""
        with self._lock:
            self._active.discard(conn)
            if self._closed or not conn.finish_cycle():
                conn.close()
                return
            idle = self._idle
            idle.append(conn)
            oldest = idle.pop(0) if len(idle) > self._max_idle else None
        if oldest is not None:
            oldest.close()

    def _discard(self, conn: HTTP11Connection) -> None:
        with self._lock:
            self._active.discard(conn)
        conn.close()

    async def _connect(
        self, origin: Origin, request: Request, timeouts: Timeouts
    ) -> HTTP11Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            context = self._ssl_context
            if context is None:
                context = self._ssl_context = make_ssl_context(self._verify)
        try:
            stream = await self._backend.connect(
                host,
                port,
                ssl_context=context,
                server_hostname=host if context is not None else None,
                timeout=timeouts.connect,
            )
        except StreamTimeout:
            raise ConnectTimeoutError(
                f"connect timeout ({timeouts.connect:g} s) connecting to {host}:{port} "
                f"for {request.method} {request.url}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise ConnectError(
                f"TLS certificate verification failed for {host}:{port} ({request.url}): "
                f"{exc.verify_message or exc}"
            ) from exc
        except ssl.SSLError as exc:
            raise ConnectError(
                f"TLS handshake with {host}:{port} failed ({request.url}): {exc}"
            ) from exc
        except socket.gaierror as exc:
            raise ConnectError(
                f"could not resolve host {host!r} ({request.url}): {exc.strerror or exc}"
            ) from exc
        except OSError as exc:
            raise ConnectError(
                f"could not connect to {host}:{port} ({request.url}): {exc.strerror or exc}"
            ) from exc
        conn = HTTP11Connection(stream, origin)
        with self._lock:
            self.connections_opened += 1
            closed = self._closed
            if not closed:
                self._active.add(conn)
        if closed:
            conn.close()
            raise UsageError("the connection pool was closed while connecting")
        return conn


_OPEN = 0
_COMPLETE = 1
_CLOSED = 2


class PooledResponse:
    """A response whose head arrived; its body is read with `receive`/`read`, then closed.

    `receive` answers the next piece of the decoded body (gzip/deflate undone) as soon as a
    socket read brought some; ``b""`` means the body ended. The connection goes back to the pool
    when the body ends; `aclose` before that closes the socket instead. Any error or
    cancellation inside `receive` closes the socket too. `async for piece in response` and
    `async with response` work as expected.
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
        self._decoder: ContentDecoder | None = (
            make_decoder(_content_encoding(head)) if decode else None
        )
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
        """The next piece of the decoded body: all that one socket read brought; b"" at the end."""
        conn = self._conn
        if conn is None:
            if self._state == _COMPLETE:
                return b""
            raise UsageError(
                f"the response from {self.head.request.url} was closed before its body ended"
            )
        decoder = self._decoder
        try:
            while True:
                raw = await conn.receive_body(self._read_timeout)
                if conn.body_done:
                    if decoder is not None:
                        raw = decoder.decode(raw) + decoder.flush() if raw else decoder.flush()
                    self._state = _COMPLETE
                    self._conn = None
                    self._pool._release(conn)
                    return raw
                if decoder is None:
                    return raw
                data = decoder.decode(raw)
                if data:
                    return data
        except BaseException:
            self._abort()
            raise

    async def read(self) -> bytes:
        """The rest of the decoded body."""
        parts: list[bytes] = []
        while True:
            piece = await self.receive()
            if not piece:
                return b"".join(parts)
            parts.append(piece)

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
            self._pool._release(conn)
        else:
            self._pool._discard(conn)

    def _abort(self) -> None:
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

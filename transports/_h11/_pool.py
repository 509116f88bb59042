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
import re
import socket
import ssl
import threading
from typing import Any
from urllib.parse import quote, urlsplit

import h11

from inferwire.sansio._errors import (
    ConnectError,
    ConnectTimeoutError,
    ProxyError,
    TLSError,
    TransportError,
    UsageError,
)
from inferwire.sansio._http import Request, ResponseHead

from ._backends import AsyncBackend, AsyncNetworkStream, StreamTimeout, TLSTimeout
from ._connection import (
    DeadlinePassed,
    HTTP11Connection,
    Origin,
    StaleConnection,
    Timeouts,
    bounded,
    deadline_error,
)
from ._proxy import Proxy, ProxyRules, connect_request, parse_connect_reply
from ._response import PooledResponse
from ._tls import Verify, check_verify, make_ssl_context
from ._wire import RequestTemplate, build_event, make_template

__all__ = ["KEEPALIVE_EXPIRY", "ConnectionPool", "PooledResponse", "make_ssl_context"]

# PooledResponse and make_ssl_context live in `_response.py` and `_tls.py`; they are
# re-exported here because the pool's users take them from the pool.

_DEFAULT_PORTS = {"http": 80, "https": 443}

KEEPALIVE_EXPIRY = 4.0
"""Seconds an idle connection is kept for reuse: below the 5 s that common servers (uvicorn,
gunicorn, Node) wait before closing an idle one, so a request is not written to a connection
the server is closing. A ``Keep-Alive: timeout=N`` header shortens it to N - 1 s."""

_KEEP_ALIVE_TIMEOUT = re.compile(r"(?:^|[,;\s])timeout\s*=\s*(\d+)", re.IGNORECASE)
_LEARN_WAIT = 0.02
"""Seconds the end of an origin's first stream waits to see whether the server closes."""
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_TEMPLATES_MAX = 64
# Characters left alone when a target needs quoting: the URL delimiters and existing escapes.
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%~"


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


class ConnectionPool:
    """HTTP/1.1 keep-alive connections keyed by (scheme, host, port), on one backend.

    Each request gets a connection of its own; idle ones are reused last-in first-out, for at
    most `keepalive_expiry` seconds, and at most `max_keepalive_connections` are kept idle.
    `verify` is the TLS trust (see `make_ssl_context`); `proxy` an ``http://`` proxy for every
    request, else with `trust_env` the proxy variables apply (see `_proxy.py`).
    `connections_opened` counts TCP connections made, so tests and benchmarks can prove reuse.
    """

    def __init__(
        self,
        backend: AsyncBackend,
        *,
        timeouts: Timeouts | None = None,
        verify: Verify = True,
        proxy: str | None = None,
        trust_env: bool = True,
        max_keepalive_connections: int = 10,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        if max_keepalive_connections < 0:
            raise UsageError(
                "max_keepalive_connections must be >= 0", argument="max_keepalive_connections"
            )
        check_verify(verify)
        self._backend = backend
        self._now = backend.now
        self._timeouts = timeouts if timeouts is not None else Timeouts()
        self._verify = verify
        self._trust_env = trust_env
        self._proxies = ProxyRules(proxy, trust_env)
        self._proxied = self._proxies.active
        self._ssl_context: ssl.SSLContext | None = None
        self._max_idle = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._idle: list[HTTP11Connection] = []
        self._active: set[HTTP11Connection] = set()
        self._closed = False
        # Whether an origin's server keeps the connection open after a streamed response:
        # some close it without saying so (cpp-httplib, so llama.cpp). Learned at the end of
        # the first stream (`_learn_stream_keepalive`), or when a connection that carried a
        # stream is found closed; such origins' connections are not pooled after streams.
        self._stream_keepalive: dict[Origin, bool] = {}
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

        A reused keep-alive connection found closed before the request could be written to it
        is replaced by a fresh one, and the request sent there. When the server closes a reused
        connection after the request was written, without answering, only an idempotent
        request (GET, HEAD, ...) is sent again: a POST it may have processed raises
        `TransportError`. With ``decode=False`` the body is handed over still content-encoded.
        """
        if self._closed:
            raise UsageError("the connection pool is closed")
        if timeouts is None:
            timeouts = self._timeouts
        origin, target, authority = _parse_url(request.url)
        proxy = None
        if self._proxied:
            proxy = self._proxies.for_origin(*origin)
            if proxy is not None and origin[0] == "http":
                target = f"http://{authority}{target}" if target.startswith("/") else target
                if proxy.authorization is not None:
                    request = _with_header(request, "Proxy-Authorization", proxy.authorization)
        event = self._event(request, target, authority)
        conn = self._checkout(origin)
        if conn is not None:
            try:
                head = await conn.start(event, request.body, request, timeouts)
            except StaleConnection as stale:
                self._discard(conn)
                if conn.after_stream:
                    self._stream_keepalive[origin] = False
                if stale.written and request.method not in _IDEMPOTENT:
                    raise TransportError(
                        f"the server closed the kept-alive connection after {request.method} "
                        f"{request.url} was sent, without answering; it was not sent again "
                        "because it may have been processed"
                    ) from None
            except BaseException:
                self._discard(conn)
                raise
            else:
                return PooledResponse(self, conn, head, timeouts.read, decode)
        conn = await self._connect(origin, request, timeouts, proxy)
        try:
            head = await conn.start(event, request.body, request, timeouts)
        except StaleConnection:  # pragma: no cover - only reused connections are stale
            self._discard(conn)
            raise TransportError(f"the connection for {request.url} closed") from None
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
        if not idle:
            return None
        now = self._now()
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
            if conn.expires_at <= now or conn.stream.is_readable():
                # Idle too long (the server may be closing it), or readable while idle: the
                # server closed it (or sent junk), or it belongs to a finished event loop.
                if conn.after_stream and conn.expires_at > now:
                    self._stream_keepalive[origin] = False
                self._discard(conn)
                continue
            conn.reused = True
            return conn

    def _release(self, conn: HTTP11Connection, head: ResponseHead) -> None:
        """Take back a connection whose response body ended."""
        expiry = self._expiry
        after_stream = (head.header("content-type") or "").startswith("text/event-stream")
        if after_stream and self._stream_keepalive.get(conn.origin) is False:
            expiry = 0.0
        conn.after_stream = after_stream
        keep_alive = head.header("keep-alive")
        if keep_alive:
            match = _KEEP_ALIVE_TIMEOUT.search(keep_alive)
            if match:
                expiry = min(expiry, int(match.group(1)) - 1.0)
        with self._lock:
            self._active.discard(conn)
            if self._closed or expiry <= 0 or not conn.finish_cycle():
                conn.close()
                return
            conn.expires_at = self._now() + expiry
            idle = self._idle
            idle.append(conn)
            oldest = idle.pop(0) if len(idle) > self._max_idle else None
        if oldest is not None:
            oldest.close()

    async def _learn_stream_keepalive(self, conn: HTTP11Connection, until: float) -> bool:
        """After the first stream to an origin, watch (within the stream's grace) whether the
        server closes the connection: some do after every stream without saying so
        (cpp-httplib, so llama.cpp). Learned once per origin; answers whether to pool it."""
        known = self._stream_keepalive.get(conn.origin)
        if known is not None:
            return known
        wait = min(_LEARN_WAIT, until - self._now())
        keeps = True
        if wait > 0:
            try:
                data = await conn.stream.read(wait)
            except StreamTimeout:
                keeps = True  # still open: the server keeps connections after streams
            except OSError:
                keeps = False
            else:
                if data:
                    return False  # bytes after the response: junk, do not reuse (not learned)
                keeps = False
        self._stream_keepalive[conn.origin] = keeps
        return keeps

    def _discard(self, conn: HTTP11Connection) -> None:
        with self._lock:
            self._active.discard(conn)
        # RuntimeError: a connection of an event loop that has since closed.
        with contextlib.suppress(RuntimeError):
            conn.close()

    def _tls_context(self) -> ssl.SSLContext:
        context = self._ssl_context
        if context is None:
            context = self._ssl_context = make_ssl_context(self._verify,
                                                           trust_env=self._trust_env)
        return context

    async def _connect(
        self, origin: Origin, request: Request, timeouts: Timeouts, proxy: Proxy | None
    ) -> HTTP11Connection:
        scheme, host, port = origin
        context = self._tls_context() if scheme == "https" else None
        where = f"{host}:{port}"
        connect_timeout = timeouts.connect
        by_deadline = False
        try:
            wait, by_deadline = bounded(connect_timeout, timeouts.deadline, self._now())
            if proxy is None:
                stream = await self._backend.connect(
                    host, port, ssl_context=context,
                    server_hostname=host if context is not None else None, timeout=wait)
            else:
                stream = await self._through(proxy, origin, context, wait, request)
        except DeadlinePassed:
            raise deadline_error(f"connecting to {where} for {request.url}") from None
        except TLSTimeout:
            raise TLSError(
                f"the TLS handshake with {where} ({request.url}) did not complete in "
                f"{wait:g} s: is it an https server? (an http:// URL reaches a plain-HTTP one)"
            ) from None
        except StreamTimeout:
            if by_deadline:
                raise deadline_error(f"connecting to {where} for {request.url}") from None
            raise ConnectTimeoutError(
                f"connect timeout ({wait:g} s) connecting to "
                f"{where if proxy is None else proxy.shown} for {request.method} {request.url}"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise TLSError(
                f"TLS certificate verification failed for {where} ({request.url}): "
                f"{exc.verify_message or exc}"
            ) from exc
        except ssl.SSLError as exc:
            hint = ""
            if "WRONG_VERSION_NUMBER" in str(exc) or "wrong version number" in str(exc) or (
                    "record layer failure" in str(exc)):
                hint = ": the server does not speak TLS there (use http:// for a plain-HTTP server)"
            raise TLSError(
                f"TLS handshake with {where} failed ({request.url}): {exc.reason or exc}{hint}"
            ) from exc
        except socket.gaierror as exc:
            what = where if proxy is None else f"the proxy {proxy.shown}"
            error = ConnectError if proxy is None else ProxyError
            raise error(
                f"could not resolve {what} ({request.url}): {exc.strerror or exc}"
            ) from exc
        except OSError as exc:
            if proxy is not None:
                raise ProxyError(
                    f"could not connect to the proxy {proxy.shown} for {request.url}: "
                    f"{exc.strerror or exc}"
                ) from exc
            if context is not None and isinstance(exc, ConnectionError) and "handshake" in str(
                    exc).lower():
                raise TLSError(f"TLS handshake with {where} failed ({request.url}): {exc}") from exc
            raise ConnectError(
                f"could not connect to {where} ({request.url}): {exc.strerror or exc}"
            ) from exc
        conn = HTTP11Connection(stream, origin, self._now)
        with self._lock:
            self.connections_opened += 1
            closed = self._closed
            if not closed:
                self._active.add(conn)
        if closed:
            conn.close()
            raise UsageError("the connection pool was closed while connecting")
        return conn

    async def _through(
        self,
        proxy: Proxy,
        origin: Origin,
        context: ssl.SSLContext | None,
        timeout: float | None,
        request: Request,
    ) -> AsyncNetworkStream:
        """A stream to `origin` through `proxy`: the proxy connection itself for http, a
        CONNECT tunnel with TLS inside for https."""
        stream = await self._backend.connect(
            proxy.host, proxy.port, ssl_context=None, server_hostname=None, timeout=timeout)
        if context is None:
            return stream
        _, host, port = origin
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            await stream.write(connect_request(proxy, authority), timeout)
            buffer = b""
            while True:
                data = await stream.read(timeout)
                if not data:
                    raise ProxyError(  # noqa: TRY301 - the socket is closed below
                        f"the proxy {proxy.shown} closed the connection instead of opening a "
                        f"tunnel to {authority} ({request.url})")
                buffer += data
                if parse_connect_reply(buffer, proxy, authority):
                    break
            return await self._backend.start_tls(stream, context, host, timeout)
        except BaseException:
            stream.close()
            raise


def _with_header(request: Request, name: str, value: str) -> Request:
    return Request(request.method, request.url, (*request.headers, (name.lower(), value)),
                   request.body)



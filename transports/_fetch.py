"""The fetch transport: `AsyncInferenceClient` under Pyodide, on the JavaScript ``fetch`` API.

It answers the same effects as the h11 pool and has the same shape (`FetchPool.open` hands out
a response whose body is read piece by piece), so `AsyncInferenceClient._run` and `AsyncStream`
drive it unchanged: retries, redirects of the core, error bodies and stream decoding are the
core's, decided once. What is fetch's own:

- each request has an ``AbortController``: closing a response before its end, a cancelled task
  and a timeout abort it (the browser then drops the connection);
- bodies are read from ``response.body.getReader()`` one chunk at a time, never buffered whole;
- the browser owns connections, TLS, proxies, decompression and cookies: the headers it sets
  itself (`BROWSER_HEADERS`) are not passed, and a ``Cookie`` header is refused;
- a rejected ``fetch`` is a `ConnectError` (the browser does not say more, for CORS reasons).

Nothing here is imported outside Pyodide; ``js`` and ``pyodide.ffi`` are looked up on first use.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any, Literal

from ._timeouts import Timeouts
from .sansio._errors import (
    ConnectError,
    InferenceError,
    InferenceTimeoutError,
    TransportError,
    UsageError,
)
from .sansio._http import Request, ResponseHead

__all__ = ["BROWSER_HEADERS", "FetchBackend", "FetchPool", "FetchResponse", "fetch_headers",
           "sync_unavailable"]

BROWSER_HEADERS = frozenset({
    "accept-charset", "accept-encoding", "connection", "content-length", "date", "expect",
    "host", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "via",
})
"""Headers the browser sets itself (the Fetch standard forbids scripts to): not passed on."""


def _js() -> Any:
    return importlib.import_module("js")


def _ffi() -> Any:
    return importlib.import_module("pyodide.ffi")


def sync_unavailable(name: str) -> UsageError:
    """The error for the sync client under Pyodide, where ``fetch`` can only be awaited."""
    return UsageError(
        f"inferwire.{name} (the sync client) is not available under Pyodide: the browser's "
        "fetch can only be awaited there. Use AsyncInferenceClient (``await`` works at the "
        "top level of Pyodide code)")


def fetch_headers(request: Request) -> list[tuple[str, str]]:
    """The headers of `request` that ``fetch`` may send (`BROWSER_HEADERS` left to the
    browser); a ``Cookie`` header, which the browser would drop, is a `UsageError`."""
    headers = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            raise UsageError(
                "a browser does not let a script send a Cookie header (fetch drops it): the "
                "browser sends its own cookies for the site; pass no cookies= to the client",
                argument="cookies")
        if lower not in BROWSER_HEADERS:
            headers.append((name, value))
    return headers


class FetchBackend:
    """The clock and sleep of the fetch transport (asyncio runs on Pyodide's WebLoop)."""

    __slots__ = ()

    @property
    def name(self) -> Literal["pyodide"]:
        """Always ``"pyodide"``."""
        return "pyodide"

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a ``setTimeout`` underneath)."""
        await asyncio.sleep(seconds)

    def now(self) -> float:
        """The monotonic clock, in seconds."""
        return time.monotonic()


def _left(timeout: float | None, deadline: float | None) -> tuple[float | None, bool]:
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    if timeout is None or left < timeout:
        return max(left, 0.0), True
    return timeout, False


def _seconds(value: float) -> str:
    return f"{value:.3g} s"


async def _wait(promise: Any, controller: Any, timeout: float | None, deadline: float | None,
                doing: str) -> Any:
    """Await a JavaScript promise within `timeout` and the call's `deadline`; a timeout or a
    cancellation aborts the request."""
    limit, by_deadline = _left(timeout, deadline)
    try:
        if limit is None:
            return await promise
        return await asyncio.wait_for(promise, limit)
    except asyncio.TimeoutError:
        controller.abort()
        if by_deadline:
            raise InferenceTimeoutError(f"the call's deadline passed while {doing}") from None
        assert timeout is not None
        raise InferenceTimeoutError(
            f"read timeout ({_seconds(timeout)}) {doing}") from None
    except BaseException:
        controller.abort()
        raise


class FetchResponse:
    """A fetched response whose head arrived; `receive` reads its body chunk by chunk.

    ``b""`` means the body ended. `aclose` before that aborts the request (the server sees the
    connection dropped); errors and cancellations inside `receive` abort it too.
    """

    __slots__ = ("_controller", "_deadline", "_done", "_read_timeout", "_reader", "head")

    def __init__(self, head: ResponseHead, js_response: Any, controller: Any,
                 read_timeout: float | None, deadline: float | None) -> None:
        self.head = head
        body = js_response.body
        self._reader: Any = None if body is None else body.getReader()
        self._controller = controller
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._done = self._reader is None

    @property
    def closed(self) -> bool:
        """True once the body ended or the request was aborted."""
        return self._done

    async def receive(self) -> bytes:
        """The next chunk of the body as the browser decoded it; ``b""`` at the end."""
        if self._done:
            return b""
        url = self.head.request.url
        try:
            result = await _wait(self._reader.read(), self._controller, self._read_timeout,
                                 self._deadline, f"reading the response body from {url}")
        except InferenceError:
            self._done = True
            raise
        except BaseException as exc:
            self._done = True
            self._controller.abort()
            if isinstance(exc, _ffi().JsException):
                raise TransportError(
                    f"connection lost while reading the response body from {url}: {exc}"
                ) from None
            raise
        if result.done:
            self._done = True
            return b""
        chunk: bytes = result.value.to_bytes()
        return chunk

    @property
    def sized_length(self) -> int | None:
        """None: the browser hands the body over in its own chunks (see `PooledResponse`)."""
        return None

    async def read_into(self, view: memoryview) -> None:
        """Not available on fetch (`sized_length` is None)."""
        raise UsageError("a fetch response body is read with receive(), not read_into()")

    async def read(self) -> bytes:
        """The rest of the body."""
        parts: list[bytes] = []
        while piece := await self.receive():
            parts.append(piece)
        return b"".join(parts)

    async def finish(self, grace: float) -> None:
        """The caller has what it needs: read what remains for at most `grace` seconds, then
        abort the request. Never raises for what the server does then."""
        until = time.monotonic() + grace
        try:
            while not self._done and time.monotonic() < until:
                # what follows the end marker is discarded
                result = await _wait(self._reader.read(), self._controller,
                                     until - time.monotonic(), None, "finishing the stream")
                if result.done:
                    self._done = True
        except InferenceError:
            pass
        except BaseException as exc:
            if not isinstance(exc, _ffi().JsException):
                self.close_nowait()
                raise
        self.close_nowait()

    async def aclose(self) -> None:
        """Abort the request unless its body ended. Idempotent; never blocks."""
        self.close_nowait()

    def close_nowait(self) -> None:
        """Abort the request unless its body ended (for errors and finalizers too)."""
        if not self._done:
            self._done = True
            self._controller.abort()


def _head(js_response: Any, request: Request) -> ResponseHead:
    headers = tuple((str(name).lower(), str(value))
                    for name, value in js_response.headers.entries())
    return ResponseHead(int(js_response.status), headers, request, str(js_response.statusText))


class FetchPool:
    """Opens requests with ``fetch``: the counterpart of the h11 `ConnectionPool` (the browser
    keeps the connections, so there is nothing to pool or to close)."""

    __slots__ = ("connections_opened",)

    def __init__(self) -> None:
        # requests sent: the browser's reuse of connections cannot be seen from a script
        self.connections_opened = 0

    async def open(self, request: Request, timeouts: Timeouts) -> FetchResponse:
        """Send `request`; answer once the response head arrived."""
        js, ffi = _js(), _ffi()
        headers = fetch_headers(request)
        controller = js.AbortController.new()
        init: dict[str, Any] = {
            "method": request.method,
            "headers": ffi.to_js(headers),
            "signal": controller.signal,
            "redirect": "follow",
        }
        if request.body is not None:
            init["body"] = ffi.to_js(request.body)
        options = ffi.to_js(init, dict_converter=js.Object.fromEntries)
        self.connections_opened += 1
        limit = timeouts.read if timeouts.connect is None or timeouts.read is None else max(
            timeouts.connect, timeouts.read)
        try:
            js_response = await _wait(js.fetch(request.url, options), controller, limit,
                                      timeouts.deadline,
                                      f"waiting for the response to {request.method} "
                                      f"{request.url}")
        except InferenceError:
            raise
        except ffi.JsException as exc:
            raise ConnectError(
                f"could not fetch {request.method} {request.url}: {exc} (the browser gives no "
                "detail: the server is down, refused the connection, or its CORS headers do "
                "not allow this page)") from None
        return FetchResponse(_head(js_response, request), js_response, controller,
                             timeouts.read, timeouts.deadline)

    async def aclose(self) -> None:
        """Nothing to close: the browser owns the connections."""

    def close_nowait(self) -> None:
        """Nothing to close: the browser owns the connections."""

"""The synchronous client: `InferenceClient`.

By default it drives the HTTP/1.1 connection layer that the async clients use (`inferwire._h11`)
over blocking sockets, so the three transports share one pool, one proxy and TLS story, one
bounded decompression and one set of redirect and retry rules (the core's). A user-supplied
`httpx.Client` is used as a plain transport instead: its own settings (proxies, HTTP/2,
auth, event hooks) apply, but redirects, retries and decompression still follow inferwire's
rules.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._common import Chat, ClientOptions, ClientProperties, client_config, hf_debug
from ._h11 import ConnectionPool, PooledResponse, Timeouts
from ._h11._content import iter_decoded, make_decoder
from ._h11._sync_backend import SyncBackend, run_sync
from ._observe import begin
from ._sync_hf_tasks import SyncHFTaskMethods
from ._sync_legacy import SyncLegacyMethods
from ._sync_tasks import SyncTaskMethods
from .sansio._driving import STREAM_END_GRACE, BodyCollector, sleep_seconds
from .sansio._effects import (
    DEFAULT_BODY_LIMIT,
    Done,
    Flow,
    FlowRunner,
    Open,
    Receive,
    Send,
    Sleep,
    StreamDecoder,
    Streaming,
)
from .sansio._errors import (
    ConnectError,
    ConnectTimeoutError,
    IncompleteStreamError,
    InferenceError,
    InferenceTimeoutError,
    RemoteProtocolError,
    TransportError,
    UsageError,
)
from .sansio._http import Request, Response, ResponseHead
from .sansio._retry import RetryPolicy
from .sansio._slicing import BodySlicer

if TYPE_CHECKING:
    from os import PathLike
    from ssl import SSLContext

    import httpx

    from .sansio._providers._jobs import JobProgress

__all__ = ["InferenceClient", "Stream"]

T = TypeVar("T")


def _map_httpx_error(exc: Exception, request: Request, *, body_started: bool) -> InferenceError:
    import httpx

    where = f"{request.method} {request.url}"
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimeoutError(f"timed out connecting for {where}")
    if isinstance(exc, httpx.TimeoutException):
        return InferenceTimeoutError(f"timed out waiting for the server ({type(exc).__name__}) "
                                     f"on {where}")
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"could not connect for {where}: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError):
        if body_started:
            return IncompleteStreamError(f"the response body of {where} ended early: {exc}")
        return RemoteProtocolError(f"the server broke HTTP on {where}: {exc}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return UsageError(f"cannot send {where}: {exc}", argument="model")
    return TransportError(f"{type(exc).__name__} on {where}: {exc}")


class _PoolBody:
    """A response body on the shared connection pool, read over blocking sockets."""

    __slots__ = ("_response", "head")

    def __init__(self, response: PooledResponse) -> None:
        self._response = response
        self.head = response.head

    def receive(self) -> bytes:
        return run_sync(self._response.receive())

    @property
    def sized_length(self) -> int | None:
        return self._response.sized_length

    def read_into(self, view: memoryview) -> None:
        run_sync(self._response.read_into(view))

    def finish(self, grace: float) -> None:
        run_sync(self._response.finish(grace))

    def close(self) -> None:
        run_sync(self._response.aclose())


class _HttpxBody:
    """A response body from a user-supplied `httpx.Client`: raw bytes, decoded here (bounded),
    so decompression follows the same rules as on the pool."""

    __slots__ = ("_decoded", "_raw", "_request", "_response", "head")

    def __init__(self, response: httpx.Response, request: Request) -> None:
        self._response = response
        self._request = request
        self.head = ResponseHead(
            response.status_code,
            tuple((k.decode("latin-1").lower(), v.decode("latin-1"))
                  for k, v in response.headers.raw),
            request, response.reason_phrase)
        decoder = make_decoder(self.head.header("content-encoding"))
        self._raw: Iterator[bytes] = response.iter_raw()
        self._decoded: Iterator[bytes] = (
            self._raw if decoder is None else iter_decoded(decoder, self._raw))

    def receive(self) -> bytes:
        import httpx

        try:
            for piece in self._decoded:
                if piece:
                    return piece
        except httpx.HTTPError as exc:
            self.close()
            raise _map_httpx_error(exc, self._request, body_started=True) from None
        self.close()
        return b""

    sized_length = None  # httpx hands the body over in its own pieces

    def read_into(self, view: memoryview) -> None:
        raise UsageError("an httpx response body is read with receive(), not read_into()")

    def finish(self, grace: float) -> None:
        # httpx gives no bounded wait for the rest of a body: the connection is given up.
        self.close()

    def close(self) -> None:
        self._response.close()


_Body = _PoolBody | _HttpxBody


class Stream(Generic[T]):
    """A streamed result: iterate it for items; `close()` (or `with`) to stop early.

    Iteration ends at the stream's end marker (``[DONE]``, TGI's final event) with what was
    received, without waiting for the server to close the body. Reading to the end lets the
    connection be reused; closing early, an error, or dropping the stream unread closes it.
    `head` holds the response status and headers.
    """

    __slots__ = ("_body", "_closed", "_decoder", "_index", "_items", "_owner", "_slicer",
                 "head")

    def __init__(self, body: _Body, head: ResponseHead, decoder: StreamDecoder[T],
                 owner: object = None) -> None:
        self._owner = owner  # keeps the client (and its pool) alive while the stream is read
        self._body = body
        self._decoder = decoder
        self._items: list[T] = []
        self._index = 0
        self._slicer = BodySlicer()
        self._closed = False
        self.head = head

    @property
    def provider(self) -> str | None:
        """The inference provider serving this stream, when the server said so (the Hugging
        Face router's ``x-inference-provider`` header), else None."""
        return self.head.header("x-inference-provider") or None

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        items = self._items
        index = self._index
        if index < len(items):
            self._index = index + 1
            return items[index]
        return self._refill()

    def _refill(self) -> T:
        decoder = self._decoder
        body = self._body
        slicer = self._slicer
        while True:
            if self._closed:
                raise StopIteration
            try:
                if decoder.finished:
                    slicer.clear()
                    self._closed = True
                    body.finish(STREAM_END_GRACE)
                    items = list(decoder.close())
                elif slicer.pending:
                    items = list(decoder.feed(slicer.next_slice()))
                else:
                    chunk = body.receive()
                    if chunk:
                        items = list(decoder.feed(slicer.slice_of(chunk)))
                    else:
                        self._closed = True
                        body.close()
                        items = list(decoder.close())
            except BaseException:
                self.close()
                raise
            if items:
                self._items = items
                self._index = 1
                return items[0]

    def close(self) -> None:
        """Stop the stream; the connection is discarded unless the body was fully read."""
        self._closed = True
        self._body.close()

    def __del__(self) -> None:
        # A stream dropped unread closes its connection now, not when the client closes.
        try:
            body = self._body
        except AttributeError:
            return
        with contextlib.suppress(Exception):  # nothing can be reported from a finalizer
            body.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _close_pool(pool: ConnectionPool) -> None:
    pool.close_nowait()


class InferenceClient(SyncTaskMethods, SyncHFTaskMethods, SyncLegacyMethods, ClientProperties):
    """Synchronous client for Hugging Face inference (Inference Providers router, Inference
    Endpoints, TGI, TEI, and any OpenAI-compatible server such as llama.cpp or vLLM).

    Mirrors `huggingface_hub.InferenceClient`: same method and parameter names, same result
    shapes. `model` is a Hub model id or a URL (`base_url` is an alias for a URL); the token
    comes from `token=`/`api_key=`, else ``HF_TOKEN`` or the token saved by ``hf auth login``
    (a token found that way is sent only to Hugging Face hosts).

    - `timeout`: seconds to wait for a connection and for each read (None: no limit);
      `deadline`: seconds for a whole call, connection to last byte, retries included.
    - `max_retries`: retries only when the server cannot have processed the request (connect
      failures, 429, 503; honouring ``Retry-After``), or a `RetryPolicy`.
    - `max_response_size`: the most bytes a success body may have after decompression
      (64 MiB); beyond it `ResponseTooLargeError` (error bodies are cut at 256 KiB).
    - `verify`: TLS verification: True (``SSL_CERT_FILE``/``SSL_CERT_DIR``, else certifi),
      False, a CA bundle path, or an `ssl.SSLContext`. `proxy`: an ``http://`` proxy URL;
      with `trust_env` (default) ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY``
      apply when `proxy` is not given.
    - `http_client`: your own `httpx.Client` to send requests with (its transport settings
      apply; it is not closed by `close()`); `verify`, `proxy` and `trust_env` are then its.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        provider: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        bill_to: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int | RetryPolicy = 2,
        max_response_size: int = DEFAULT_BODY_LIMIT,
        deadline: float | None = None,
        verify: bool | str | PathLike[str] | SSLContext = True,
        proxy: str | None = None,
        trust_env: bool = True,
        job_timeout: float | None = 600.0,
        job_poll_interval: float | None = None,
        on_job_progress: Callable[[JobProgress], None] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._config = client_config(
            model=model, base_url=base_url, provider=provider, token=token, api_key=api_key,
            headers=headers, cookies=cookies, bill_to=bill_to, max_retries=max_retries,
            max_response_size=max_response_size, job_timeout=job_timeout,
            job_poll_interval=job_poll_interval, on_job_progress=on_job_progress,
        )
        self._options = ClientOptions.build(timeout=timeout, deadline=deadline, verify=verify,
                                            proxy=proxy, trust_env=trust_env)
        self._http: httpx.Client | None = None
        self._pool: ConnectionPool | None = None
        if http_client is not None:
            import httpx

            if not isinstance(http_client, httpx.Client):
                raise UsageError("http_client must be an httpx.Client", argument="http_client")
            self._http = http_client
            self._finalizer = None
        else:
            self._pool = ConnectionPool(
                SyncBackend(), timeouts=self._options.timeouts(), verify=verify, proxy=proxy,
                trust_env=trust_env)
            # A client dropped without close() still closes its sockets when collected.
            self._finalizer = weakref.finalize(self, _close_pool, self._pool)
        self._curl = hf_debug()
        self._chat = Chat(self)

    @property
    def chat(self) -> Chat:
        """OpenAI-style namespace: ``client.chat.completions.create(...)``."""
        return self._chat

    @property
    def connections_opened(self) -> int:
        """How many TCP connections this client has opened (0 with your own httpx client)."""
        return 0 if self._pool is None else self._pool.connections_opened

    def __repr__(self) -> str:
        return f"<InferenceClient(model={self.model!r}, timeout={self.timeout})>"

    def __reduce__(self) -> Any:
        raise UsageError("an InferenceClient cannot be pickled (it holds connections and "
                         "credentials): create one in each process")

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (a user-supplied `httpx.Client` is left open)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the transport loop ------------------------------------------------------------

    def _open(self, request: Request, timeouts: Timeouts) -> _Body:
        if self._pool is not None:
            return _PoolBody(run_sync(self._pool.open(request, timeouts)))
        import httpx

        assert self._http is not None
        http = self._http
        extensions = {}
        if self._options.timeout is not None:
            extensions["timeout"] = httpx.Timeout(self._options.timeout).as_dict()
        try:
            built = http.build_request(request.method, request.url,
                                       headers=list(request.headers), content=request.body,
                                       extensions=extensions)
            response = http.send(built, stream=True, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise _map_httpx_error(exc, request, body_started=False) from None
        return _HttpxBody(response, request)

    def _send(self, send: Send, timeouts: Timeouts) -> Response:
        body = self._open(send.request, timeouts)
        try:
            collector = BodyCollector(send, body.head)
            buffer = collector.reserve(body.sized_length)
            if buffer is not None:
                body.read_into(buffer)
                collector.reserved_filled()
            else:
                while collector.add(body.receive()):
                    pass
        finally:
            body.close()
        head = body.head
        return Response(head.status, head.headers, collector.body, send.request, head.reason)

    def _run(self, flow: Flow[Any]) -> Any:
        runner: FlowRunner[Any] = FlowRunner(flow)
        options = self._options
        deadline = None if options.deadline is None else time.monotonic() + options.deadline
        timeouts = options.timeouts(deadline)
        pending: _Body | None = None
        curl = self._curl
        try:
            step = runner.start()
            while not isinstance(step, Done):
                try:
                    if isinstance(step, Receive):
                        if pending is None:
                            raise RuntimeError("flow asked for a body with no open response")
                        answer: Any = pending.receive()
                    else:
                        if pending is not None:
                            pending.close()
                            pending = None
                        if isinstance(step, Send):
                            watch = begin(step.request, step.attempt, curl)
                            try:
                                answer = self._send(step, timeouts)
                            except BaseException as exc:
                                if watch is not None:
                                    watch.failed(exc)
                                raise
                            if watch is not None:
                                watch.done(answer)
                        elif isinstance(step, Open):
                            watch = begin(step.request, step.attempt, curl)
                            try:
                                pending = self._open(step.request, timeouts)
                            except BaseException as exc:
                                if watch is not None:
                                    watch.failed(exc)
                                raise
                            answer = pending.head
                            if watch is not None:
                                watch.done(answer)
                        elif isinstance(step, Sleep):
                            remaining = None if deadline is None else deadline - time.monotonic()
                            time.sleep(sleep_seconds(step.seconds, remaining))
                            answer = None
                        else:  # pragma: no cover - exhaustive
                            raise TypeError(f"unknown effect {step!r}")
                except InferenceError as exc:
                    step = runner.fail(exc)
                else:
                    step = runner.answer(answer)
            result = step.value
            if isinstance(result, Streaming):
                if pending is None:
                    raise RuntimeError("flow returned a stream with no open response")
                stream: Stream[Any] = Stream(pending, result.head, result.decoder, owner=self)
                pending = None
                return stream
            return result
        finally:
            if pending is not None:
                pending.close()
            runner.close()

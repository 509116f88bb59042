"""The asynchronous client: `AsyncInferenceClient`, on h11, under asyncio or trio."""

from __future__ import annotations

import contextlib
import sys
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ._async_hf_tasks import AsyncHFTaskMethods
from ._async_legacy import AsyncLegacyMethods
from ._async_tasks import AsyncTaskMethods
from ._common import Chat, ClientOptions, ClientProperties, client_config, hf_debug
from ._observe import begin, last_response
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
from .sansio._errors import InferenceError, UsageError
from .sansio._http import Response, ResponseHead
from .sansio._retry import RetryPolicy
from .sansio._slicing import BodySlicer

if TYPE_CHECKING:
    from os import PathLike
    from ssl import SSLContext

    from ._fetch import FetchBackend, FetchPool, FetchResponse
    from ._h11 import AsyncBackend, ConnectionPool, PooledResponse
    from .sansio._providers._jobs import JobProgress

    Pool = ConnectionPool | FetchPool
    Backend = AsyncBackend | FetchBackend
    Pending = PooledResponse | FetchResponse


__all__ = ["AsyncInferenceClient", "AsyncStream", "TrioInferenceClient", "current_async_library"]

T = TypeVar("T")


def current_async_library() -> Literal["asyncio", "trio"]:
    """Which event loop runs the current task: ``"trio"`` or ``"asyncio"``."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return "trio"
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise UsageError(
            "AsyncInferenceClient must be used from a running asyncio or trio event loop"
        ) from None
    return "asyncio"


class AsyncStream(Generic[T]):
    """A streamed result: ``async for`` it; `aclose()` (or ``async with``) to stop early.

    Iteration ends at the stream's end marker (``[DONE]``, TGI's final event) with what was
    received, without waiting for the server to close the body. Reading to the end lets the
    connection be reused; closing early, an error, a cancellation, or dropping the stream
    unread closes it. `head` holds the response status and headers.
    """

    __slots__ = ("_closed", "_decoder", "_index", "_items", "_owner", "_response", "_slicer",
                 "head")

    def __init__(self, response: Pending, head: ResponseHead,
                 decoder: StreamDecoder[T], owner: object = None) -> None:
        self._owner = owner  # keeps the client (and its pool) alive while the stream is read
        self._response = response
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

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        index = self._index
        if index < len(items):
            self._index = index + 1
            return items[index]
        return await self._refill()

    async def _refill(self) -> T:
        decoder = self._decoder
        response = self._response
        slicer = self._slicer
        while True:
            if self._closed:
                raise StopAsyncIteration
            try:
                if decoder.finished:
                    slicer.clear()
                    self._closed = True
                    await response.finish(STREAM_END_GRACE)
                    items = list(decoder.close())
                elif slicer.pending:
                    items = list(decoder.feed(slicer.next_slice()))
                else:
                    chunk = await response.receive()
                    if chunk:
                        items = list(decoder.feed(slicer.slice_of(chunk)))
                    else:
                        self._closed = True
                        await response.aclose()
                        items = list(decoder.close())
            except BaseException:
                await self.aclose()
                raise
            if items:
                self._items = items
                self._index = 1
                return items[0]

    async def aclose(self) -> None:
        """Stop the stream; the connection is discarded unless the body was fully read."""
        self._closed = True
        await self._response.aclose()

    def __del__(self) -> None:
        # A stream dropped unread (left by break, or its task cancelled while the caller's own
        # code ran) closes its socket now, not when the client closes.
        try:
            response = self._response
        except AttributeError:
            return
        with contextlib.suppress(Exception):  # nothing can be reported from a finalizer
            response.close_nowait()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


def _close_pools_now(pools: list[Pool]) -> None:
    for pool in pools:
        pool.close_nowait()
    pools.clear()


class AsyncInferenceClient(AsyncTaskMethods, AsyncHFTaskMethods, AsyncLegacyMethods,
                           ClientProperties):
    """Asynchronous client with the same methods and parameters as `InferenceClient`.

    Runs under asyncio and under trio (it finds which one is running; or name it with
    `async_library=`), over inferwire's HTTP/1.1 connection pool on h11: keep-alive, TLS
    verified by default, proxies, bounded gzip/deflate. `timeout`, `deadline`, `verify`,
    `max_response_size`,
    `proxy` and `trust_env` mean what they mean on `InferenceClient`; your own
    ``asyncio.timeout``/cancel scopes are honoured too. One client may be used from
    successive ``asyncio.run()`` calls (connections of a finished loop are dropped). Close it
    with ``await client.close()`` or ``async with``.

    Under Pyodide (``sys.platform == "emscripten"``, or ``async_library="pyodide"``) it runs on
    the JavaScript ``fetch`` API instead (h11 is never imported): see the "Browser and Pyodide"
    page for what differs there.
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
        async_library: Literal["asyncio", "trio", "pyodide"] | None = None,
    ) -> None:
        self._config = client_config(
            model=model, base_url=base_url, provider=provider, token=token, api_key=api_key,
            headers=headers, cookies=cookies, bill_to=bill_to, max_retries=max_retries,
            max_response_size=max_response_size, job_timeout=job_timeout,
            job_poll_interval=job_poll_interval, on_job_progress=on_job_progress,
        )
        self._options = ClientOptions.build(timeout=timeout, deadline=deadline, verify=verify,
                                            proxy=proxy, trust_env=trust_env)
        if async_library not in (None, "asyncio", "trio", "pyodide"):
            raise UsageError("async_library must be 'asyncio', 'trio', 'pyodide' or None",
                             argument="async_library")
        if async_library is None and sys.platform == "emscripten":
            async_library = "pyodide"
        if async_library == "pyodide" and (verify is not True or proxy is not None):
            raise UsageError(
                "under Pyodide the browser (or Node) makes the connections: its own TLS "
                "verification and proxy settings apply; pass neither verify= nor proxy=",
                argument="verify" if verify is not True else "proxy")
        self._library = async_library
        self._pool: Pool | None = None
        self._backend: Backend | None = None
        self._pools: list[Pool] = []
        # A client dropped without close() still closes its sockets when collected.
        weakref.finalize(self, _close_pools_now, self._pools)
        self._curl = hf_debug()
        self._chat = Chat(self)

    @property
    def chat(self) -> Chat:
        """OpenAI-style namespace: ``await client.chat.completions.create(...)``."""
        return self._chat

    def __repr__(self) -> str:
        return f"<AsyncInferenceClient(model={self.model!r}, timeout={self.timeout})>"

    def __reduce__(self) -> Any:
        raise UsageError("an AsyncInferenceClient cannot be pickled (it holds connections and "
                         "credentials): create one in each process")

    @property
    def connections_opened(self) -> int:
        """How many TCP connections this client has opened (keep-alive reuse shows here)."""
        return 0 if self._pool is None else self._pool.connections_opened

    # -- lifecycle ---------------------------------------------------------------------

    async def close(self) -> None:
        """Close every pooled connection."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()

    async def __aenter__(self) -> AsyncInferenceClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # -- the transport loop ------------------------------------------------------------

    def _get_pool(self) -> tuple[Pool, Backend]:
        if self._library == "pyodide":
            if self._pool is None or self._backend is None:
                from ._fetch import FetchBackend, FetchPool

                self._backend = FetchBackend()
                self._pool = FetchPool()
            return self._pool, self._backend
        library = self._library or current_async_library()
        if self._backend is not None and self._backend.name != library:
            raise UsageError(
                f"this AsyncInferenceClient was first used under {self._backend.name}; "
                f"create another one for {library}")
        if self._pool is None or self._backend is None:
            # The h11 pool is imported here, not with the module: the fetch transport never
            # loads it (nor h11).
            from ._h11 import ConnectionPool, get_backend

            backend = self._backend or get_backend(library)
            self._backend = backend
            options = self._options
            self._pool = ConnectionPool(backend, timeouts=options.timeouts(),
                                        verify=options.verify, proxy=options.proxy,
                                        trust_env=options.trust_env)
            self._pools.append(self._pool)
        return self._pool, self._backend

    async def _send(self, pool: Pool, send: Send, timeouts: Any) -> Response:
        opened = await pool.open(send.request, timeouts)
        try:
            collector = BodyCollector(send, opened.head)
            buffer = collector.reserve(opened.sized_length)
            if buffer is not None:
                await opened.read_into(buffer)
                collector.reserved_filled()
            else:
                while collector.add(await opened.receive()):
                    pass
        finally:
            await opened.aclose()
        head = opened.head
        return Response(head.status, head.headers, collector.body, send.request, head.reason)

    async def _run(self, flow: Flow[Any]) -> Any:
        pool, backend = self._get_pool()
        options = self._options
        deadline = None if options.deadline is None else backend.now() + options.deadline
        timeouts = options.timeouts(deadline)
        runner: FlowRunner[Any] = FlowRunner(flow)
        pending: Pending | None = None
        curl = self._curl
        try:
            step = runner.start()
            while not isinstance(step, Done):
                try:
                    if isinstance(step, Receive):
                        if pending is None:
                            raise RuntimeError("flow asked for a body with no open response")
                        answer: Any = await pending.receive()
                    else:
                        if pending is not None:
                            await pending.aclose()
                            pending = None
                        if isinstance(step, Send):
                            watch = begin(step.request, step.attempt, curl)
                            try:
                                answer = await self._send(pool, step, timeouts)
                            except BaseException as exc:
                                if watch is not None:
                                    watch.failed(exc)
                                raise
                            if watch is not None:
                                watch.done(answer)
                            last_response.set(answer)
                        elif isinstance(step, Open):
                            watch = begin(step.request, step.attempt, curl)
                            try:
                                pending = await pool.open(step.request, timeouts)
                            except BaseException as exc:
                                if watch is not None:
                                    watch.failed(exc)
                                raise
                            answer = pending.head
                            if watch is not None:
                                watch.done(answer)
                            last_response.set(answer)
                        elif isinstance(step, Sleep):
                            remaining = None if deadline is None else deadline - backend.now()
                            await backend.sleep(sleep_seconds(step.seconds, remaining))
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
                stream: AsyncStream[Any] = AsyncStream(pending, result.head, result.decoder,
                                                       self)
                pending = None
                return stream
            return result
        finally:
            if pending is not None:
                await pending.aclose()
            runner.close()


class TrioInferenceClient(AsyncInferenceClient):
    """`AsyncInferenceClient` pinned to trio (no event-loop detection)."""

    def __init__(self, model: str | None = None, **kwargs: Any) -> None:
        kwargs["async_library"] = "trio"
        super().__init__(model, **kwargs)

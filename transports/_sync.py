"""The synchronous client: `InferenceClient` on an `httpx.Client`."""

from __future__ import annotations

import time
import urllib.request
import weakref
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar, overload

import httpx

from ._common import client_config, collect_params, to_numpy, validate_timeout
from ._h11 import ConnectionPool, PooledResponse, Timeouts
from ._h11._sync_backend import SyncBackend, run_sync
from .sansio import _tasks
from .sansio._chat_types import ChatCompletionOutput, ChatCompletionStreamOutput
from .sansio._effects import (
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
from .sansio._slicing import DRAIN_LIMIT, BodySlicer
from .sansio._textgen_types import TextGenerationOutput, TextGenerationStreamOutput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["InferenceClient", "Stream"]

T = TypeVar("T")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _map_httpx_error(
    exc: httpx.HTTPError, request: Request, *, body_started: bool
) -> InferenceError:
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
    if isinstance(exc, httpx.DecodingError):
        return RemoteProtocolError(f"the response body of {where} could not be decoded: {exc}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return UsageError(f"cannot send {where}: {exc}", argument="model")
    return TransportError(f"{type(exc).__name__} on {where}: {exc}")


class _PooledBody(httpx.SyncByteStream):
    """The body of a response from `InferwireTransport`: one piece per socket read."""

    __slots__ = ("_response",)

    def __init__(self, response: PooledResponse) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        receive = self._response.receive
        while True:
            piece = run_sync(receive())
            if not piece:
                return
            yield piece

    def close(self) -> None:
        run_sync(self._response.aclose())


class InferwireTransport(httpx.BaseTransport):
    """An httpx transport on inferwire's HTTP/1.1 connection layer, over blocking sockets.

    `InferenceClient` mounts it in the `httpx.Client` it creates (a client you pass keeps its
    own transport). It is the connection pool the async clients use (keep-alive, TLS, the
    chunked decoder that hands over every HTTP chunk of a socket read at once), driven by the
    sync backend; httpx keeps everything above the transport (redirects, cookies, proxies from
    the environment, content decoding). TLS uses `httpx.create_ssl_context()`, so certificates
    are verified exactly as httpx would. Errors are inferwire's own (`ConnectError`,
    `InferenceTimeoutError`, `IncompleteStreamError`, ...), with the URL in the message.
    """

    def __init__(self) -> None:
        self._pool = ConnectionPool(SyncBackend(), verify=httpx.create_ssl_context)

    @property
    def connections_opened(self) -> int:
        """How many TCP connections this transport has opened."""
        return self._pool.connections_opened

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout") or {}
        timeouts = Timeouts(connect=timeout.get("connect"), read=timeout.get("read"),
                            write=timeout.get("write"))
        body = request.read()
        ours = Request(
            request.method, str(request.url),
            tuple((k.decode("latin-1").lower(), v.decode("latin-1"))
                  for k, v in request.headers.raw),
            body if body or request.method in ("POST", "PUT", "PATCH") else None,
        )
        pooled = run_sync(self._pool.open(ours, timeouts, decode=False))
        head = pooled.head
        return httpx.Response(
            head.status,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in head.headers],
            stream=_PooledBody(pooled),
            extensions={"http_version": b"HTTP/1.1",
                        "reason_phrase": head.reason.encode("latin-1")},
        )

    def close(self) -> None:
        self._pool.close_nowait()


def _environment_proxies() -> bool:
    """Whether httpx would route some requests through a proxy from the environment."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def _head(response: httpx.Response, request: Request) -> ResponseHead:
    headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in response.headers.raw)
    return ResponseHead(response.status_code, headers, request, response.reason_phrase)


class Stream(Generic[T]):
    """A streamed result: iterate it for items; `close()` (or `with`) to stop early.

    Reading to the end returns the connection to the pool; closing early discards it.
    `head` holds the response status and headers.
    """

    __slots__ = ("_chunks", "_closed", "_decoder", "_index", "_items", "_owner", "_request",
                 "_response", "_slicer", "head")

    def __init__(self, response: httpx.Response | _PooledBody, request: Request,
                 head: ResponseHead, decoder: StreamDecoder[T], *, owner: object = None,
                 chunks: Iterator[bytes] | None = None) -> None:
        self._owner = owner  # keeps the client (and its pool) alive while the stream is read
        self._response = response
        self._request = request
        # the body iterator the flow may already have read from (httpx allows only one)
        if chunks is None:
            chunks = response.iter_bytes() if isinstance(response, httpx.Response) else iter(
                response)
        self._chunks: Iterator[bytes] = chunks
        self._decoder = decoder
        self._items: list[T] = []
        self._index = 0
        self._slicer = BodySlicer()
        self._closed = False
        self.head = head

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
        while True:
            if self._closed:
                raise StopIteration
            if decoder.finished:
                self._drain()
                items = list(decoder.close())
            else:
                try:
                    slicer = self._slicer
                    if slicer.pending:
                        chunk = slicer.next_slice()
                    else:
                        chunk = slicer.slice_of(next(self._chunks))
                except StopIteration:
                    self._release()
                    items = list(decoder.close())
                    self._closed = True
                except httpx.HTTPError as exc:
                    self.close()
                    raise _map_httpx_error(exc, self._request, body_started=True) from None
                except BaseException:
                    self.close()
                    raise
                else:
                    try:
                        items = list(decoder.feed(chunk))
                    except BaseException:
                        self.close()
                        raise
            if items:
                self._items = items
                self._index = 1
                return items[0]

    def _drain(self) -> None:
        """After the stream's end marker: read the little that remains so the connection stays
        reusable; a server that keeps sending gets its connection closed instead."""
        self._slicer.clear()
        received = 0
        try:
            for chunk in self._chunks:
                received += len(chunk)
                if received > DRAIN_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        self._closed = True
        self._response.close()

    def _release(self) -> None:
        self._response.close()

    def close(self) -> None:
        """Stop the stream; the connection is discarded unless the body was fully read."""
        if not self._closed:
            self._closed = True
            self._response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _noop() -> None:
    return None


class _ChatCompletions:
    __slots__ = ("_client",)

    def __init__(self, client: InferenceClient) -> None:
        self._client = client

    @property
    def create(self) -> Any:
        """OpenAI-style alias: ``client.chat.completions.create`` is ``client.chat_completion``."""
        return self._client.chat_completion


class _Chat:
    __slots__ = ("completions",)

    def __init__(self, client: InferenceClient) -> None:
        self.completions = _ChatCompletions(client)


class InferenceClient:
    """Synchronous client for Hugging Face inference (Inference Providers router, Inference
    Endpoints, TGI, TEI, and any OpenAI-compatible server such as llama.cpp or vLLM).

    Mirrors `huggingface_hub.InferenceClient`: same method and parameter names, same result
    shapes. `model` is a Hub model id or a URL (`base_url` is an alias for a URL); the token
    comes from `token=`/`api_key=` or ``HF_TOKEN``. `timeout` is in seconds (None: no
    timeout). `max_retries` retries a request only when the server cannot have processed it
    (connect failures, 429, 503; honouring ``Retry-After``). Pass `http_client` to use your own
    `httpx.Client` (its settings are kept; it is not closed by `close()`).
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
        http_client: httpx.Client | None = None,
    ) -> None:
        self._config = client_config(
            model=model, base_url=base_url, provider=provider, token=token, api_key=api_key,
            headers=headers, cookies=cookies, bill_to=bill_to, max_retries=max_retries,
        )
        self.timeout = validate_timeout(timeout)
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise UsageError("http_client must be an httpx.Client", argument="http_client")
        self._owns_http = http_client is None
        # The connection pool behind our own httpx client, called directly while nothing needs
        # httpx's request machinery (see `_direct_open`); None for a client you pass.
        self._direct: ConnectionPool | None = None
        if http_client is None and _environment_proxies():
            # Proxies from the environment: httpx's own transports know how to use them.
            http_client = httpx.Client(timeout=self.timeout, follow_redirects=True)
        elif http_client is None:
            transport = InferwireTransport()
            http_client = httpx.Client(timeout=self.timeout, follow_redirects=True,
                                       transport=transport)
            self._direct = transport._pool
        self._http = http_client
        t = self.timeout
        self._timeouts = Timeouts(connect=t, read=t, write=t)
        # A client dropped without close() still closes its own pool when collected.
        self._finalizer = weakref.finalize(self, self._http.close if self._owns_http else _noop)
        self.chat = _Chat(self)

    @property
    def model(self) -> str | None:
        """The client-level model id or URL."""
        return self._config.model

    @property
    def provider(self) -> str | None:
        """The provider name given at construction (None: decided per call)."""
        return self._config.provider

    def __repr__(self) -> str:
        return f"<InferenceClient(model={self.model!r}, timeout={self.timeout})>"

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (unless it is a user-supplied `httpx.Client`)."""
        self._finalizer()

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the transport loop ------------------------------------------------------------

    def _build(self, request: Request) -> httpx.Request:
        extensions = {}
        if not self._owns_http and self.timeout is not None:
            extensions["timeout"] = httpx.Timeout(self.timeout).as_dict()
        return self._http.build_request(
            request.method, request.url, headers=list(request.headers), content=request.body,
            extensions=extensions,
        )

    def _direct_open(self, request: Request) -> PooledResponse | None:
        """Send `request` straight to our own client's connection pool, or answer None when
        httpx must send it instead.

        `Client.send` costs about as much CPU per request as everything else in a call (URL
        and header models, the auth, redirect and cookie layers), so while none of them has
        anything to do, the loop skips it: the client is ours (no auth, no hooks, no mounts),
        no proxy is configured in the environment, its cookie jar is empty and the URL has no
        credentials. A redirect answered here is discarded and the request goes through httpx,
        which follows it; a Set-Cookie is stored in the httpx client's jar, so later requests
        carry it (through httpx).
        """
        pool = self._direct
        if pool is None or self._http.cookies or "@" in request.url:
            return None
        pooled = run_sync(pool.open(request, self._timeouts))
        head = pooled.head
        if head.status in _REDIRECTS and head.header("location") is not None:
            run_sync(pooled.aclose())
            return None
        if head.header("set-cookie") is not None:
            self._http.cookies.extract_cookies(httpx.Response(
                head.status, headers=list(head.headers),
                request=httpx.Request(request.method, request.url)))
        return pooled

    def _send(self, request: Request) -> Response:
        pooled = self._direct_open(request)
        if pooled is not None:
            try:
                body = run_sync(pooled.read())
            finally:
                run_sync(pooled.aclose())
            head = pooled.head
            return Response(head.status, head.headers, body, request, head.reason)
        try:
            response = self._http.send(self._build(request))
        except httpx.HTTPError as exc:
            raise _map_httpx_error(exc, request, body_started=False) from None
        head = _head(response, request)
        return Response(head.status, head.headers, response.content, request, head.reason)

    def _open(
        self, request: Request
    ) -> tuple[httpx.Response | _PooledBody, Iterator[bytes], ResponseHead]:
        """Open `request`: (the response to close, its decoded body pieces, its head)."""
        pooled = self._direct_open(request)
        if pooled is not None:
            body = _PooledBody(pooled)
            return body, iter(body), pooled.head
        try:
            response = self._http.send(self._build(request), stream=True)
        except httpx.HTTPError as exc:
            raise _map_httpx_error(exc, request, body_started=False) from None
        return response, response.iter_bytes(), _head(response, request)

    def _run(self, flow: Flow[Any]) -> Any:
        runner: FlowRunner[Any] = FlowRunner(flow)
        pending: httpx.Response | _PooledBody | None = None
        pending_request: Request | None = None
        chunks: Iterator[bytes] | None = None
        try:
            step = runner.start()
            while not isinstance(step, Done):
                try:
                    if isinstance(step, Receive):
                        if chunks is None or pending_request is None:
                            raise RuntimeError("flow asked for a body with no open response")
                        try:
                            answer: Any = next(chunks, b"")
                        except httpx.HTTPError as exc:
                            raise _map_httpx_error(exc, pending_request,
                                                   body_started=True) from None
                    else:
                        if pending is not None:
                            pending.close()
                            pending = chunks = pending_request = None
                        if isinstance(step, Send):
                            answer = self._send(step.request)
                        elif isinstance(step, Open):
                            pending, chunks, answer = self._open(step.request)
                            pending_request = step.request
                        elif isinstance(step, Sleep):
                            time.sleep(step.seconds)
                            answer = None
                        else:  # pragma: no cover - exhaustive
                            raise TypeError(f"unknown effect {step!r}")
                except InferenceError as exc:
                    step = runner.fail(exc)
                else:
                    step = runner.answer(answer)
            result = step.value
            if isinstance(result, Streaming):
                if pending is None or pending_request is None:
                    raise RuntimeError("flow returned a stream with no open response")
                stream: Stream[Any] = Stream(pending, pending_request, result.head,
                                             result.decoder, owner=self, chunks=chunks)
                pending = None
                return stream
            return result
        finally:
            if pending is not None:
                pending.close()
            runner.close()

    # -- tasks -------------------------------------------------------------------------

    @overload
    def chat_completion(
        self, messages: list[Any], *, model: str | None = None,
        stream: Literal[False] = False, frequency_penalty: float | None = None,
        logit_bias: dict[str, float] | None = None, logprobs: bool | None = None,
        max_tokens: int | None = None, n: int | None = None,
        presence_penalty: float | None = None, response_format: dict[str, Any] | None = None,
        seed: int | None = None, stop: list[str] | None = None,
        stream_options: dict[str, Any] | None = None, temperature: float | None = None,
        tool_choice: str | dict[str, Any] | None = None, tool_prompt: str | None = None,
        tools: list[dict[str, Any]] | None = None, top_logprobs: int | None = None,
        top_p: float | None = None, extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> ChatCompletionOutput: ...

    @overload
    def chat_completion(
        self, messages: list[Any], *, model: str | None = None,
        stream: Literal[True], frequency_penalty: float | None = None,
        logit_bias: dict[str, float] | None = None, logprobs: bool | None = None,
        max_tokens: int | None = None, n: int | None = None,
        presence_penalty: float | None = None, response_format: dict[str, Any] | None = None,
        seed: int | None = None, stop: list[str] | None = None,
        stream_options: dict[str, Any] | None = None, temperature: float | None = None,
        tool_choice: str | dict[str, Any] | None = None, tool_prompt: str | None = None,
        tools: list[dict[str, Any]] | None = None, top_logprobs: int | None = None,
        top_p: float | None = None, extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> Stream[ChatCompletionStreamOutput]: ...

    @overload
    def chat_completion(
        self, messages: list[Any], *, model: str | None = None,
        stream: bool = False, frequency_penalty: float | None = None,
        logit_bias: dict[str, float] | None = None, logprobs: bool | None = None,
        max_tokens: int | None = None, n: int | None = None,
        presence_penalty: float | None = None, response_format: dict[str, Any] | None = None,
        seed: int | None = None, stop: list[str] | None = None,
        stream_options: dict[str, Any] | None = None, temperature: float | None = None,
        tool_choice: str | dict[str, Any] | None = None, tool_prompt: str | None = None,
        tools: list[dict[str, Any]] | None = None, top_logprobs: int | None = None,
        top_p: float | None = None, extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> ChatCompletionOutput | Stream[ChatCompletionStreamOutput]: ...

    def chat_completion(
        self, messages: list[Any], *, model: str | None = None,
        stream: bool = False, frequency_penalty: float | None = None,
        logit_bias: dict[str, float] | None = None, logprobs: bool | None = None,
        max_tokens: int | None = None, n: int | None = None,
        presence_penalty: float | None = None, response_format: dict[str, Any] | None = None,
        seed: int | None = None, stop: list[str] | None = None,
        stream_options: dict[str, Any] | None = None, temperature: float | None = None,
        tool_choice: str | dict[str, Any] | None = None, tool_prompt: str | None = None,
        tools: list[dict[str, Any]] | None = None, top_logprobs: int | None = None,
        top_p: float | None = None, extra_body: dict[str, Any] | None = None,
        **unexpected: NoReturn,
    ) -> ChatCompletionOutput | Stream[ChatCompletionStreamOutput]:
        """Generate a chat answer (OpenAI chat-completions API); `stream=True` yields chunks.

        Returns a `ChatCompletionOutput`, or with `stream=True` a `Stream` of
        `ChatCompletionStreamOutput` chunks. Parameters not listed go in `extra_body`
        (merged at the root of the JSON payload).
        """
        params = collect_params("chat_completion", locals(), _tasks.CHAT_COMPLETION_PARAMS)
        flow = _tasks.chat_completion(self._config, messages, model=model, stream=stream,
                                      extra_body=extra_body, params=params)
        return self._run(flow)  # type: ignore[no-any-return]

    @overload
    def text_generation(
        self, prompt: str, *, details: Literal[False] | None = None,
        stream: Literal[False] | None = None, model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> str: ...

    @overload
    def text_generation(
        self, prompt: str, *, details: Literal[True],
        stream: Literal[False] | None = None, model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> TextGenerationOutput: ...

    @overload
    def text_generation(
        self, prompt: str, *, details: Literal[False] | None = None,
        stream: Literal[True], model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> Stream[str]: ...

    @overload
    def text_generation(
        self, prompt: str, *, details: Literal[True],
        stream: Literal[True], model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> Stream[TextGenerationStreamOutput]: ...

    @overload
    def text_generation(
        self, prompt: str, *, details: bool | None = None,
        stream: bool | None = None, model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> (str | TextGenerationOutput | Stream[str] | Stream[TextGenerationStreamOutput]): ...

    def text_generation(
        self, prompt: str, *, details: bool | None = None,
        stream: bool | None = None, model: str | None = None,
        adapter_id: str | None = None, best_of: int | None = None,
        decoder_input_details: bool | None = None, do_sample: bool | None = None,
        frequency_penalty: float | None = None, grammar: dict[str, Any] | None = None,
        max_new_tokens: int | None = None, repetition_penalty: float | None = None,
        return_full_text: bool | None = None, seed: int | None = None,
        stop: list[str] | None = None, temperature: float | None = None,
        top_k: int | None = None, top_n_tokens: int | None = None, top_p: float | None = None,
        truncate: int | None = None, typical_p: float | None = None,
        watermark: bool | None = None, **unexpected: NoReturn,
    ) -> str | TextGenerationOutput | Stream[str] | Stream[TextGenerationStreamOutput]:
        """Generate text from a prompt (TGI ``/generate`` shape, or ``/v1/completions`` for
        OpenAI-compatible URLs ending in ``/v1``).

        Returns the generated `str`; with `details=True` a `TextGenerationOutput`; with
        `stream=True` a `Stream` of token strings (or of `TextGenerationStreamOutput` with
        `details=True`).
        """
        params = collect_params("text_generation", locals(), _tasks.TEXT_GENERATION_PARAMS)
        flow = _tasks.text_generation(self._config, prompt, model=model, details=details,
                                      stream=stream, params=params)
        return self._run(flow)  # type: ignore[no-any-return]

    def feature_extraction(
        self, text: str | list[str], *, normalize: bool | None = None,
        prompt_name: str | None = None, truncate: bool | None = None,
        truncation_direction: Literal["left", "right"] | None = None,
        model: str | None = None, dimensions: int | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        **unexpected: NoReturn,
    ) -> npt.NDArray[np.float32]:
        """Embed `text` (a string or a list of strings) as a float32 numpy array.

        URLs ending in ``/v1`` are OpenAI-compatible servers (``POST <url>/embeddings``, result
        shape ``(len(texts), dim)``); other URLs and Hub model ids take the HF/TEI shape
        ``{"inputs": ...}`` and return the server's array as is.
        """
        collect_params("feature_extraction", locals(), {})
        flow = _tasks.feature_extraction(
            self._config, text, model=model, normalize=normalize, prompt_name=prompt_name,
            truncate=truncate, truncation_direction=truncation_direction,
            dimensions=dimensions, encoding_format=encoding_format,
        )
        return to_numpy(self._run(flow))

    def health_check(self, model: str | None = None) -> bool:
        """Whether the endpoint at `model` (a URL; default: the client's) answers
        ``GET /health`` with 200."""
        return bool(self._run(_tasks.health_check(self._config, model)))

    def get_endpoint_info(self, *, model: str | None = None) -> dict[str, Any]:
        """The endpoint's ``GET /info`` document (TGI/TEI), as a dict."""
        return self._run(_tasks.get_endpoint_info(self._config, model))  # type: ignore[no-any-return]

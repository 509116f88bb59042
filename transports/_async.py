"""The asynchronous client: `AsyncInferenceClient`, on h11, under asyncio or trio."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar, overload

from ._common import client_config, collect_params, to_numpy, validate_timeout
from ._h11 import AsyncBackend, ConnectionPool, PooledResponse, Timeouts, get_backend
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
from .sansio._errors import InferenceError, UsageError
from .sansio._http import Response, ResponseHead
from .sansio._retry import RetryPolicy
from .sansio._slicing import DRAIN_LIMIT, BodySlicer
from .sansio._textgen_types import TextGenerationOutput, TextGenerationStreamOutput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

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

    Reading to the end returns the connection to the pool; closing early, an error or a
    cancellation discards it. `head` holds the response status and headers.
    """

    __slots__ = ("_closed", "_decoder", "_index", "_items", "_owner", "_response", "_slicer",
                 "head")

    def __init__(self, response: PooledResponse, head: ResponseHead,
                 decoder: StreamDecoder[T], owner: object = None) -> None:
        self._owner = owner  # keeps the client (and its pool) alive while the stream is read
        self._response = response
        self._decoder = decoder
        self._items: list[T] = []
        self._index = 0
        self._slicer = BodySlicer()
        self._closed = False
        self.head = head

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
        while True:
            if self._closed:
                raise StopAsyncIteration
            try:
                if decoder.finished:
                    self._slicer.clear()
                    await self._drain()
                    items = list(decoder.close())
                elif self._slicer.pending:
                    items = list(decoder.feed(self._slicer.next_slice()))
                else:
                    chunk = await response.receive()
                    if chunk:
                        items = list(decoder.feed(self._slicer.slice_of(chunk)))
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

    async def _drain(self) -> None:
        """After the end marker: read what remains (the chunked terminator) so the connection
        can be reused; a server that keeps sending gets its connection closed instead."""
        received = 0
        response = self._response
        while received <= DRAIN_LIMIT:
            chunk = await response.receive()
            if not chunk:
                break
            received += len(chunk)
        self._closed = True
        await response.aclose()

    async def aclose(self) -> None:
        """Stop the stream; the connection is discarded unless the body was fully read."""
        self._closed = True
        await self._response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


def _close_pools_now(pools: list[ConnectionPool]) -> None:
    for pool in pools:
        pool.close_nowait()
    pools.clear()


class _ChatCompletions:
    __slots__ = ("_client",)

    def __init__(self, client: AsyncInferenceClient) -> None:
        self._client = client

    @property
    def create(self) -> Any:
        """OpenAI-style alias: ``client.chat.completions.create`` is ``client.chat_completion``."""
        return self._client.chat_completion


class _Chat:
    __slots__ = ("completions",)

    def __init__(self, client: AsyncInferenceClient) -> None:
        self.completions = _ChatCompletions(client)


class AsyncInferenceClient:
    """Asynchronous client with the same methods and parameters as `InferenceClient`.

    Runs under asyncio and under trio (it finds which one is running; or name it with
    `async_library=`), over inferwire's HTTP/1.1 connection pool on h11: keep-alive, TLS
    verified by default, connect/read timeouts (`timeout=` seconds), gzip/deflate. Your own
    ``asyncio.timeout``/cancel scopes are honoured too. Close it with ``await client.close()``
    or ``async with``.
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
        async_library: Literal["asyncio", "trio"] | None = None,
        verify: bool = True,
    ) -> None:
        self._config = client_config(
            model=model, base_url=base_url, provider=provider, token=token, api_key=api_key,
            headers=headers, cookies=cookies, bill_to=bill_to, max_retries=max_retries,
        )
        self.timeout = validate_timeout(timeout)
        if async_library not in (None, "asyncio", "trio"):
            raise UsageError("async_library must be 'asyncio', 'trio' or None",
                             argument="async_library")
        self._library = async_library
        self._verify = verify
        self._pool: ConnectionPool | None = None
        self._backend: AsyncBackend | None = None
        self._pools: list[ConnectionPool] = []
        # A client dropped without close() still closes its sockets when collected.
        weakref.finalize(self, _close_pools_now, self._pools)
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
        return f"<AsyncInferenceClient(model={self.model!r}, timeout={self.timeout})>"

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

    def _get_pool(self) -> tuple[ConnectionPool, AsyncBackend]:
        library = self._library or current_async_library()
        if self._backend is not None and self._backend.name != library:
            raise UsageError(
                f"this AsyncInferenceClient was first used under {self._backend.name}; "
                f"create another one for {library}")
        if self._pool is None or self._backend is None:
            self._backend = self._backend or get_backend(library)
            t = self.timeout
            self._pool = ConnectionPool(self._backend,
                                        timeouts=Timeouts(connect=t, read=t, write=t),
                                        verify=self._verify)
            self._pools.append(self._pool)
        return self._pool, self._backend

    async def _run(self, flow: Flow[Any]) -> Any:
        pool, backend = self._get_pool()
        runner: FlowRunner[Any] = FlowRunner(flow)
        pending: PooledResponse | None = None
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
                            opened = await pool.open(step.request)
                            try:
                                body = await opened.read()
                            finally:
                                await opened.aclose()
                            head = opened.head
                            answer = Response(head.status, head.headers, body, step.request,
                                              head.reason)
                        elif isinstance(step, Open):
                            pending = await pool.open(step.request)
                            answer = pending.head
                        elif isinstance(step, Sleep):
                            await backend.sleep(step.seconds)
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

    # -- tasks -------------------------------------------------------------------------

    @overload
    async def chat_completion(
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
    async def chat_completion(
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
    ) -> AsyncStream[ChatCompletionStreamOutput]: ...

    @overload
    async def chat_completion(
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
    ) -> ChatCompletionOutput | AsyncStream[ChatCompletionStreamOutput]: ...

    async def chat_completion(
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
    ) -> ChatCompletionOutput | AsyncStream[ChatCompletionStreamOutput]:
        """Generate a chat answer (OpenAI chat-completions API); `stream=True` yields chunks.

        Returns a `ChatCompletionOutput`, or with `stream=True` a `AsyncStream` of
        `ChatCompletionStreamOutput` chunks. Parameters not listed go in `extra_body`
        (merged at the root of the JSON payload).
        """
        params = collect_params("chat_completion", locals(), _tasks.CHAT_COMPLETION_PARAMS)
        flow = _tasks.chat_completion(self._config, messages, model=model, stream=stream,
                                      extra_body=extra_body, params=params)
        return await self._run(flow)  # type: ignore[no-any-return]

    @overload
    async def text_generation(
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
    async def text_generation(
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
    async def text_generation(
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
    ) -> AsyncStream[str]: ...

    @overload
    async def text_generation(
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
    ) -> AsyncStream[TextGenerationStreamOutput]: ...

    @overload
    async def text_generation(
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
    ) -> (str | TextGenerationOutput | AsyncStream[str]
          | AsyncStream[TextGenerationStreamOutput]): ...

    async def text_generation(
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
    ) -> str | TextGenerationOutput | AsyncStream[str] | AsyncStream[TextGenerationStreamOutput]:
        """Generate text from a prompt (TGI ``/generate`` shape, or ``/v1/completions`` for
        OpenAI-compatible URLs ending in ``/v1``).

        Returns the generated `str`; with `details=True` a `TextGenerationOutput`; with
        `stream=True` a `AsyncStream` of token strings (or of `TextGenerationStreamOutput` with
        `details=True`).
        """
        params = collect_params("text_generation", locals(), _tasks.TEXT_GENERATION_PARAMS)
        flow = _tasks.text_generation(self._config, prompt, model=model, details=details,
                                      stream=stream, params=params)
        return await self._run(flow)  # type: ignore[no-any-return]

    async def feature_extraction(
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
        return to_numpy(await self._run(flow))

    async def health_check(self, model: str | None = None) -> bool:
        """Whether the endpoint at `model` (a URL; default: the client's) answers
        ``GET /health`` with 200."""
        return bool(await self._run(_tasks.health_check(self._config, model)))

    async def get_endpoint_info(self, *, model: str | None = None) -> dict[str, Any]:
        """The endpoint's ``GET /info`` document (TGI/TEI), as a dict."""
        return await self._run(_tasks.get_endpoint_info(self._config, model))  # type: ignore[no-any-return]


class TrioInferenceClient(AsyncInferenceClient):
    """`AsyncInferenceClient` pinned to trio (no event-loop detection)."""

    def __init__(self, model: str | None = None, **kwargs: Any) -> None:
        kwargs["async_library"] = "trio"
        super().__init__(model, **kwargs)

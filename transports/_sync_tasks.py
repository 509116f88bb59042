"""The task methods of `InferenceClient`: the one source of every method's signature,
overloads and docstring.

`AsyncInferenceClient` gets the same methods from `_async_tasks.py`, which
``python tools/gen_async_tasks.py`` derives from this file (``def`` becomes ``async def``,
``self._run(`` is awaited, `Stream` becomes `AsyncStream`); a test fails when the derived file
is stale. A method's body stays one call that hands the task's flow to the transport loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

from ._common import collect_params, to_numpy
from .sansio import _tasks
from .sansio._chat_types import ChatCompletionOutput, ChatCompletionStreamOutput
from .sansio._textgen_types import TextGenerationOutput, TextGenerationStreamOutput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._sync import Stream
    from .sansio._config import ClientConfig
    from .sansio._effects import Flow

__all__ = ["SyncTaskMethods"]


class SyncTaskMethods:
    """Every task method of the sync client (mixed into `InferenceClient`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        _config: ClientConfig

        def _run(self, flow: Flow[Any]) -> Any: ...

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
        dimensions: int | None = None,
        encoding_format: Literal["float", "base64"] | None = None, model: str | None = None,
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

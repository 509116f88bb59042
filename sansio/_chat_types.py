"""Typed results of chat completion (non-stream and stream), as in ``huggingface_hub``.

Type and field names follow ``huggingface_hub.inference._generated.types.chat_completion``.
See `._models` for the common behaviour (lenient parsing, unknown fields kept, ``to_dict``).

Deviations, on purpose:

* a missing list field that the API requires (``choices``, ``logprobs.content``,
  ``top_logprobs``) reads as ``[]``; a missing required object (``delta``, ``message``,
  ``function``) reads as an empty object whose fields are all None, so
  ``chunk.choices[0].delta.content`` never fails on a terse server. ``to_dict()`` still gives
  back exactly what the server sent.
* ``reasoning`` falls back to ``reasoning_content`` (the vLLM / llama.cpp spelling), which also
  stays reachable as an extra field.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import MalformedResponseError
from ._models import (
    Model,
    child,
    load_json_body,
    raise_for_error_object,
    shape_error,
    with_received,
)

__all__ = [
    "ChatCompletionOutput",
    "ChatCompletionOutputComplete",
    "ChatCompletionOutputFunctionDefinition",
    "ChatCompletionOutputLogprob",
    "ChatCompletionOutputLogprobs",
    "ChatCompletionOutputMessage",
    "ChatCompletionOutputToolCall",
    "ChatCompletionOutputTopLogprob",
    "ChatCompletionOutputUsage",
    "ChatCompletionStreamOutput",
    "ChatCompletionStreamOutputChoice",
    "ChatCompletionStreamOutputDelta",
    "ChatCompletionStreamOutputDeltaToolCall",
    "ChatCompletionStreamOutputFunction",
    "ChatCompletionStreamOutputLogprob",
    "ChatCompletionStreamOutputLogprobs",
    "ChatCompletionStreamOutputTopLogprob",
    "ChatCompletionStreamOutputUsage",
    "parse_arguments_json",
    "parse_chat_completion",
    "parse_chunk",
]


def _reasoning(obj: dict[str, Any]) -> Any:
    value = dict.get(obj, "reasoning")
    return dict.get(obj, "reasoning_content") if value is None else value


def parse_arguments_json(arguments: Any) -> Any:
    """Parse a tool call's ``arguments`` (a JSON string; some servers send the object itself).

    None and "" (a call without arguments) give ``{}``. Raises `MalformedResponseError` when
    the string is not valid JSON.
    """
    if arguments is None:
        return {}
    if isinstance(arguments, str):
        if not arguments.strip():
            return {}
        try:
            return json.loads(arguments)
        except (ValueError, RecursionError) as exc:
            raise MalformedResponseError(
                f"tool call arguments are not valid JSON ({exc})", received=arguments
            ) from None
    return arguments


# -- non-stream ----------------------------------------------------------------------------------


class ChatCompletionOutputFunctionDefinition(Model):
    """The function of a tool call: ``name`` and ``arguments`` (a JSON string)."""

    __slots__ = ()

    arguments: str
    name: str
    description: str | None

    def parse_arguments(self) -> Any:
        """``arguments`` parsed as JSON (see `parse_arguments_json`)."""
        return parse_arguments_json(dict.get(self, "arguments"))


class ChatCompletionOutputToolCall(Model):
    """A complete tool call (``id``, ``type``, ``function``)."""

    __slots__ = ()

    function: ChatCompletionOutputFunctionDefinition = child(
        ChatCompletionOutputFunctionDefinition, required=True
    )
    id: str
    type: str

    def parse_arguments(self) -> Any:
        """The function's ``arguments`` parsed as JSON; `MalformedResponseError` if invalid."""
        return self.function.parse_arguments()


class ChatCompletionOutputTopLogprob(Model):
    """One of the most likely tokens at a position, with its log-probability."""

    __slots__ = ()

    logprob: float
    token: str


class ChatCompletionOutputLogprob(Model):
    """A generated token's log-probability, and the most likely tokens at its position."""

    __slots__ = ()

    logprob: float
    token: str
    top_logprobs: list[ChatCompletionOutputTopLogprob] = child(
        ChatCompletionOutputTopLogprob, many=True, required=True
    )


class ChatCompletionOutputLogprobs(Model):
    """The log-probabilities of a choice's tokens."""

    __slots__ = ()

    content: list[ChatCompletionOutputLogprob] = child(
        ChatCompletionOutputLogprob, many=True, required=True
    )


class ChatCompletionOutputMessage(Model):
    """The generated message: ``content``, ``tool_calls``, ``reasoning``."""

    __slots__ = ()
    _computed = ("reasoning",)

    role: str
    content: str | None
    tool_call_id: str | None
    tool_calls: list[ChatCompletionOutputToolCall] | None = child(
        ChatCompletionOutputToolCall, many=True
    )

    @property
    def reasoning(self) -> str | None:
        """``reasoning``, or ``reasoning_content`` (vLLM, llama.cpp) when it is missing."""
        value: str | None = _reasoning(self)
        return value


class ChatCompletionOutputComplete(Model):
    """One choice of a chat completion."""

    __slots__ = ()

    finish_reason: str
    index: int
    message: ChatCompletionOutputMessage = child(ChatCompletionOutputMessage, required=True)
    logprobs: ChatCompletionOutputLogprobs | None = child(ChatCompletionOutputLogprobs)


class ChatCompletionOutputUsage(Model):
    """Token counts. Provider details (``prompt_tokens_details``...) are extras."""

    __slots__ = ()

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int


class ChatCompletionOutput(Model):
    """A (non-stream) chat completion.

    `provider` is the inference provider that served it, when the server said so (the
    Hugging Face router's ``x-inference-provider`` header): not part of the JSON.
    """

    __slots__ = ("_provider",)

    @property
    def provider(self) -> str | None:
        """The provider that served this completion (the router's answer), or None."""
        try:
            served: str | None = self._provider
        except AttributeError:
            return None
        return served

    choices: list[ChatCompletionOutputComplete] = child(
        ChatCompletionOutputComplete, many=True, required=True
    )
    created: int
    id: str
    model: str
    system_fingerprint: str
    usage: ChatCompletionOutputUsage | None = child(ChatCompletionOutputUsage)


# -- stream --------------------------------------------------------------------------------------


class ChatCompletionStreamOutputFunction(Model):
    """A piece of a streamed tool call's function: ``name`` (first piece), ``arguments``."""

    __slots__ = ()

    arguments: str
    name: str | None


class ChatCompletionStreamOutputDeltaToolCall(Model):
    """A tool-call delta; `ToolCallAccumulator` assembles them into complete calls."""

    __slots__ = ()

    function: ChatCompletionStreamOutputFunction = child(
        ChatCompletionStreamOutputFunction, required=True
    )
    id: str
    index: int
    type: str


class ChatCompletionStreamOutputDelta(Model):
    """What a chunk adds to a choice: ``content``, ``reasoning``, ``tool_calls``..."""

    __slots__ = ()
    _computed = ("reasoning",)

    role: str
    content: str | None
    tool_call_id: str | None
    tool_calls: list[ChatCompletionStreamOutputDeltaToolCall] | None = child(
        ChatCompletionStreamOutputDeltaToolCall, many=True
    )

    @property
    def reasoning(self) -> str | None:
        """``reasoning``, or ``reasoning_content`` (vLLM, llama.cpp) when it is missing."""
        value: str | None = _reasoning(self)
        return value


class ChatCompletionStreamOutputTopLogprob(ChatCompletionOutputTopLogprob):
    """A top log-probability in a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()


class ChatCompletionStreamOutputLogprob(ChatCompletionOutputLogprob):
    """A token's log-probability in a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()

    top_logprobs: list[ChatCompletionStreamOutputTopLogprob] = child(  # type: ignore[assignment]
        ChatCompletionStreamOutputTopLogprob, many=True, required=True
    )


class ChatCompletionStreamOutputLogprobs(ChatCompletionOutputLogprobs):
    """The log-probabilities of a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()

    content: list[ChatCompletionStreamOutputLogprob] = child(  # type: ignore[assignment]
        ChatCompletionStreamOutputLogprob, many=True, required=True
    )


class ChatCompletionStreamOutputChoice(Model):
    """One choice of a chunk: its ``delta`` and, on the last chunk, ``finish_reason``."""

    __slots__ = ()

    delta: ChatCompletionStreamOutputDelta = child(ChatCompletionStreamOutputDelta, required=True)
    index: int
    finish_reason: str | None
    logprobs: ChatCompletionStreamOutputLogprobs | None = child(ChatCompletionStreamOutputLogprobs)

    @classmethod
    def _from_json(cls, raw: dict[str, Any]) -> ChatCompletionStreamOutputChoice:
        return _stream_choice(raw)


class ChatCompletionStreamOutputUsage(ChatCompletionOutputUsage):
    """Token counts of a stream (usage-only chunk, or the last chunk)."""

    __slots__ = ()


_Choice = ChatCompletionStreamOutputChoice
_Delta = ChatCompletionStreamOutputDelta
_StreamUsage = ChatCompletionStreamOutputUsage
_delta_from_json = ChatCompletionStreamOutputDelta._from_json
_logprobs_from_json = ChatCompletionStreamOutputLogprobs._from_json


def _stream_choice(raw: Any) -> ChatCompletionStreamOutputChoice:
    """A typed choice from its JSON, flat: the hot path of chat streaming."""
    if raw.__class__ is not dict:
        raise shape_error("choices[]", raw)
    delta = raw.get("delta")
    if delta.__class__ is dict:
        raw["delta"] = _Delta(delta) if "tool_calls" not in delta else _delta_from_json(delta)
    elif delta is not None:
        raise shape_error("delta", delta)
    logprobs = raw.get("logprobs")
    if logprobs is not None:
        if logprobs.__class__ is not dict:
            raise shape_error("logprobs", logprobs)
        raw["logprobs"] = _logprobs_from_json(logprobs)
    return _Choice(raw)


class ChatCompletionStreamOutput(Model):
    """One chunk of a chat-completion stream. ``choices`` is ``[]`` on a usage-only chunk."""

    __slots__ = ()

    choices: list[ChatCompletionStreamOutputChoice] = child(
        ChatCompletionStreamOutputChoice, many=True, required=True
    )
    created: int
    id: str
    model: str
    system_fingerprint: str
    usage: ChatCompletionStreamOutputUsage | None = child(ChatCompletionStreamOutputUsage)

    @classmethod
    def _from_json(cls, raw: dict[str, Any]) -> ChatCompletionStreamOutput:
        return parse_chunk(raw)


def parse_chunk(raw: dict[str, Any]) -> ChatCompletionStreamOutput:
    """A typed chunk from its parsed JSON object (taking ownership of it), flat: the hot path
    of chat streaming."""
    choices = raw.get("choices")
    if choices.__class__ is list:
        if len(choices) == 1:
            # One text choice, inline: what almost every chunk is.
            choice = choices[0]
            delta = choice.get("delta") if choice.__class__ is dict else None
            if (
                delta.__class__ is dict
                and "tool_calls" not in delta
                and choice.get("logprobs") is None
            ):
                choice["delta"] = _Delta(delta)
                choices[0] = _Choice(choice)
            else:
                choices[0] = _stream_choice(choice)
        else:
            for i, choice in enumerate(choices):
                choices[i] = _stream_choice(choice)
    elif choices is not None:
        raise shape_error("choices[]", choices)
    usage = raw.get("usage")
    if usage is not None:
        if usage.__class__ is not dict:
            raise shape_error("usage", usage)
        raw["usage"] = _StreamUsage(usage)
    return _Chunk(raw)


_Chunk = ChatCompletionStreamOutput


def parse_chat_completion(body: bytes) -> ChatCompletionOutput:
    """Parse a (non-stream) chat-completion response body.

    Raises `MalformedResponseError` (with the body) when it is not a JSON object of the
    expected shape, and the mapped `InStreamError` when it is an error object (``{"error":
    ...}`` sent with a 2xx status).
    """
    obj = load_json_body(body, "chat completion")
    if obj.__class__ is not dict:
        raise MalformedResponseError(
            f"chat completion: expected a JSON object, got {type(obj).__name__}", received=body
        )
    raise_for_error_object(obj, "chat completion")
    try:
        return ChatCompletionOutput._from_json(obj)
    except MalformedResponseError as exc:
        raise with_received(exc, body) from None

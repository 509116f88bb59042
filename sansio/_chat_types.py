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
from typing import Any, ClassVar

from ._errors import MalformedResponseError
from ._models import (
    Model,
    field,
    load_json_body,
    model_list,
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
]


def _reasoning(raw: dict[str, Any]) -> Any:
    value = raw.get("reasoning")
    return raw.get("reasoning_content") if value is None else value


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
    _fields = ("arguments", "name", "description")

    arguments: str = field("arguments")
    name: str = field("name")
    description: str | None = field("description")

    def parse_arguments(self) -> Any:
        """``arguments`` parsed as JSON (see `parse_arguments_json`)."""
        return parse_arguments_json(self._raw.get("arguments"))


_EMPTY_FUNCTION = ChatCompletionOutputFunctionDefinition({})


class ChatCompletionOutputToolCall(Model):
    """A complete tool call (``id``, ``type``, ``function``)."""

    __slots__ = ("function",)
    _fields = ("function", "id", "type")
    _children = frozenset({"function"})

    function: ChatCompletionOutputFunctionDefinition
    id: str = field("id")
    type: str = field("type")

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("tool_calls[]", raw)
        self._raw = raw
        function = raw.get("function")
        self.function = (
            _EMPTY_FUNCTION
            if function is None
            else ChatCompletionOutputFunctionDefinition(function)
        )

    def parse_arguments(self) -> Any:
        """The function's ``arguments`` parsed as JSON; `MalformedResponseError` if invalid."""
        return self.function.parse_arguments()


class ChatCompletionOutputTopLogprob(Model):
    __slots__ = ()
    _fields = ("logprob", "token")

    logprob: float = field("logprob")
    token: str = field("token")


class ChatCompletionOutputLogprob(Model):
    __slots__ = ("top_logprobs",)
    _fields = ("logprob", "token", "top_logprobs")
    _children = frozenset({"top_logprobs"})

    logprob: float = field("logprob")
    token: str = field("token")
    top_logprobs: list[ChatCompletionOutputTopLogprob]

    _top: ClassVar[type[ChatCompletionOutputTopLogprob]] = ChatCompletionOutputTopLogprob

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("logprobs.content[]", raw)
        self._raw = raw
        top = raw.get("top_logprobs")
        self.top_logprobs = [] if top is None else model_list(self._top, top, "top_logprobs")


class ChatCompletionOutputLogprobs(Model):
    __slots__ = ("content",)
    _fields = ("content",)
    _children = frozenset({"content"})

    content: list[ChatCompletionOutputLogprob]

    _item: ClassVar[type[ChatCompletionOutputLogprob]] = ChatCompletionOutputLogprob

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("logprobs", raw)
        self._raw = raw
        content = raw.get("content")
        self.content = (
            [] if content is None else model_list(self._item, content, "logprobs.content")
        )


class ChatCompletionOutputMessage(Model):
    """The generated message: ``content``, ``tool_calls``, ``reasoning``."""

    __slots__ = ("tool_calls",)
    _fields = ("role", "content", "reasoning", "tool_call_id", "tool_calls")
    _children = frozenset({"tool_calls"})

    role: str = field("role")
    content: str | None = field("content")
    tool_call_id: str | None = field("tool_call_id")
    tool_calls: list[ChatCompletionOutputToolCall] | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("message", raw)
        self._raw = raw
        calls = raw.get("tool_calls")
        self.tool_calls = (
            None if calls is None else model_list(ChatCompletionOutputToolCall, calls, "tool_calls")
        )

    @property
    def reasoning(self) -> str | None:
        """``reasoning``, or ``reasoning_content`` (vLLM, llama.cpp) when it is missing."""
        value: str | None = _reasoning(self._raw)
        return value


_EMPTY_MESSAGE = ChatCompletionOutputMessage({})


class ChatCompletionOutputComplete(Model):
    """One choice of a chat completion."""

    __slots__ = ("logprobs", "message")
    _fields = ("finish_reason", "index", "message", "logprobs")
    _children = frozenset({"message", "logprobs"})

    finish_reason: str = field("finish_reason")
    index: int = field("index")
    message: ChatCompletionOutputMessage
    logprobs: ChatCompletionOutputLogprobs | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("choices[]", raw)
        self._raw = raw
        message = raw.get("message")
        self.message = _EMPTY_MESSAGE if message is None else ChatCompletionOutputMessage(message)
        logprobs = raw.get("logprobs")
        self.logprobs = None if logprobs is None else ChatCompletionOutputLogprobs(logprobs)


class ChatCompletionOutputUsage(Model):
    """Token counts. Provider details (``prompt_tokens_details``...) are extras."""

    __slots__ = ()
    _fields = ("completion_tokens", "prompt_tokens", "total_tokens")

    completion_tokens: int = field("completion_tokens")
    prompt_tokens: int = field("prompt_tokens")
    total_tokens: int = field("total_tokens")


class ChatCompletionOutput(Model):
    """A (non-stream) chat completion."""

    __slots__ = ("choices", "usage")
    _fields = ("choices", "created", "id", "model", "system_fingerprint", "usage")
    _children = frozenset({"choices", "usage"})

    choices: list[ChatCompletionOutputComplete]
    created: int = field("created")
    id: str = field("id")
    model: str = field("model")
    system_fingerprint: str = field("system_fingerprint")
    usage: ChatCompletionOutputUsage | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("chat completion", raw)
        self._raw = raw
        choices = raw.get("choices")
        self.choices = (
            [] if choices is None else model_list(ChatCompletionOutputComplete, choices, "choices")
        )
        usage = raw.get("usage")
        self.usage = None if usage is None else ChatCompletionOutputUsage(usage)


# -- stream --------------------------------------------------------------------------------------


class ChatCompletionStreamOutputFunction(Model):
    """A piece of a streamed tool call's function: ``name`` (first piece), ``arguments``."""

    __slots__ = ()
    _fields = ("arguments", "name")

    arguments: str = field("arguments")
    name: str | None = field("name")


_EMPTY_STREAM_FUNCTION = ChatCompletionStreamOutputFunction({})


class ChatCompletionStreamOutputDeltaToolCall(Model):
    """A tool-call delta; `ToolCallAccumulator` assembles them into complete calls."""

    __slots__ = ("function",)
    _fields = ("function", "id", "index", "type")
    _children = frozenset({"function"})

    function: ChatCompletionStreamOutputFunction
    id: str = field("id")
    index: int = field("index")
    type: str = field("type")

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("delta.tool_calls[]", raw)
        self._raw = raw
        function = raw.get("function")
        self.function = (
            _EMPTY_STREAM_FUNCTION
            if function is None
            else ChatCompletionStreamOutputFunction(function)
        )


class ChatCompletionStreamOutputDelta(Model):
    """What a chunk adds to a choice: ``content``, ``reasoning``, ``tool_calls``..."""

    __slots__ = ("tool_calls",)
    _fields = ("role", "content", "reasoning", "tool_call_id", "tool_calls")
    _children = frozenset({"tool_calls"})

    role: str = field("role")
    content: str | None = field("content")
    tool_call_id: str | None = field("tool_call_id")
    tool_calls: list[ChatCompletionStreamOutputDeltaToolCall] | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("delta", raw)
        self._raw = raw
        calls = raw.get("tool_calls")
        self.tool_calls = (
            None
            if calls is None
            else model_list(ChatCompletionStreamOutputDeltaToolCall, calls, "delta.tool_calls")
        )

    @property
    def reasoning(self) -> str | None:
        """``reasoning``, or ``reasoning_content`` (vLLM, llama.cpp) when it is missing."""
        value: str | None = _reasoning(self._raw)
        return value


_EMPTY_DELTA = ChatCompletionStreamOutputDelta({})


class ChatCompletionStreamOutputTopLogprob(ChatCompletionOutputTopLogprob):
    """A top log-probability in a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()


class ChatCompletionStreamOutputLogprob(ChatCompletionOutputLogprob):
    """A token's log-probability in a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()
    _top = ChatCompletionStreamOutputTopLogprob


class ChatCompletionStreamOutputLogprobs(ChatCompletionOutputLogprobs):
    """The log-probabilities of a streamed chunk (same shape as in a complete output)."""

    __slots__ = ()
    _item = ChatCompletionStreamOutputLogprob


class ChatCompletionStreamOutputChoice(Model):
    """One choice of a chunk: its ``delta`` and, on the last chunk, ``finish_reason``."""

    __slots__ = ("delta", "logprobs")
    _fields = ("delta", "index", "finish_reason", "logprobs")
    _children = frozenset({"delta", "logprobs"})

    delta: ChatCompletionStreamOutputDelta
    index: int = field("index")
    finish_reason: str | None = field("finish_reason")
    logprobs: ChatCompletionStreamOutputLogprobs | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("choices[]", raw)
        self._raw = raw
        delta = raw.get("delta")
        self.delta = _EMPTY_DELTA if delta is None else ChatCompletionStreamOutputDelta(delta)
        logprobs = raw.get("logprobs")
        self.logprobs = None if logprobs is None else ChatCompletionStreamOutputLogprobs(logprobs)


class ChatCompletionStreamOutputUsage(ChatCompletionOutputUsage):
    """Token counts of a stream (usage-only chunk, or the last chunk)."""

    __slots__ = ()


_Choice = ChatCompletionStreamOutputChoice
_Delta = ChatCompletionStreamOutputDelta
_Logprobs = ChatCompletionStreamOutputLogprobs
_StreamUsage = ChatCompletionStreamOutputUsage
_new = object.__new__


def _stream_choice(raw: Any) -> ChatCompletionStreamOutputChoice:
    """`ChatCompletionStreamOutputChoice(raw)` without the two ``__init__`` calls when the
    delta has no tool calls (every chunk of a text stream): the hot path of chat streaming."""
    if raw.__class__ is not dict:
        raise shape_error("choices[]", raw)
    choice = _new(_Choice)
    choice._raw = raw
    delta = raw.get("delta")
    if delta.__class__ is dict and "tool_calls" not in delta:
        built = _new(_Delta)
        built._raw = delta
        built.tool_calls = None
        choice.delta = built
    else:
        choice.delta = _EMPTY_DELTA if delta is None else _Delta(delta)
    logprobs = raw.get("logprobs")
    choice.logprobs = None if logprobs is None else _Logprobs(logprobs)
    return choice


class ChatCompletionStreamOutput(Model):
    """One chunk of a chat-completion stream. ``choices`` is ``[]`` on a usage-only chunk."""

    __slots__ = ("choices", "usage")
    _fields = ("choices", "created", "id", "model", "system_fingerprint", "usage")
    _children = frozenset({"choices", "usage"})

    choices: list[ChatCompletionStreamOutputChoice]
    created: int = field("created")
    id: str = field("id")
    model: str = field("model")
    system_fingerprint: str = field("system_fingerprint")
    usage: ChatCompletionStreamOutputUsage | None

    def __init__(self, raw: dict[str, Any]) -> None:
        # The hot path of chat streaming: keep it flat.
        if raw.__class__ is not dict:
            raise shape_error("chat completion chunk", raw)
        self._raw = raw
        choices = raw.get("choices")
        if choices.__class__ is list:
            if len(choices) == 1:
                self.choices = [_stream_choice(choices[0])]
            else:
                self.choices = [_stream_choice(c) for c in choices]
        elif choices is None:
            self.choices = []
        else:
            raise shape_error("choices[]", choices)
        usage = raw.get("usage")
        self.usage = None if usage is None else _StreamUsage(usage)


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
    raise_for_error_object(obj)
    try:
        return ChatCompletionOutput(obj)
    except MalformedResponseError as exc:
        raise with_received(exc, body) from None

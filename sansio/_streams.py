"""Typed stream decoders: SSE bytes in, typed chunks out.

Each decoder implements the `StreamDecoder` protocol (`finished`, `feed`, `close`):

* `ChatCompletionStreamDecoder`: OpenAI-style chat-completion streams (TGI, vLLM, llama.cpp,
  LiteLLM, ``transformers serve``, Inference Providers) → `ChatCompletionStreamOutput`.
* `TextGenerationStreamDecoder`: TGI ``/generate_stream`` → `TextGenerationStreamOutput`
  (``details=True``) or the token text (``details=False``, as ``huggingface_hub`` yields).
* `CompletionStreamDecoder`: OpenAI ``/v1/completions`` streams mapped to the same items as
  TGI's, so that ``text_generation(stream=True)`` behaves the same on every server.

They share one piece of plumbing (`_JSONEventDecoder`): SSE decoding (`SSEDecoder`), JSON
parsing of each event's data, the ``[DONE]`` end marker and in-stream error objects.

Rules common to the three decoders:

* ``[DONE]`` (any spelling: ``data: [DONE]``, ``data:[DONE]``, surrounding spaces, any line
  end) ends the stream: `finished` turns true and later bytes are ignored. A last
  ``data: [DONE]`` line without its line end is accepted too. Streams may also simply end
  (``transformers serve`` sends no ``[DONE]``).
* A body that ends without any event raises `IncompleteStreamError` (llama-cpp-python answers
  200 with an empty stream when the prompt overflows the context); so does a body cut in the
  middle of a line.
* An event whose JSON has a non-null ``error`` raises the mapped `InStreamError` (OpenAI shape
  ``{"error": {"message", "type", "code"}}`` and TGI shape ``{"error": "...", "error_type":
  "validation"}``). An ``event: error`` event raises too, whatever its data (a JSON error
  object, any JSON object, or plain text).
* Events of another type than "message" (``event: ping``...) are ignored, unless their data
  is a JSON error object (then they raise as above) or ``[DONE]``.
* Data that is not JSON raises `MalformedResponseError` with the data; so does JSON of the
  wrong shape. An event with empty (or blank) data is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar, overload

from ._chat_types import (
    ChatCompletionOutputToolCall,
    ChatCompletionStreamOutput,
    ChatCompletionStreamOutputDeltaToolCall,
    parse_chunk,
)
from ._errors import (
    IncompleteStreamError,
    InferenceError,
    MalformedResponseError,
    in_stream_error,
)
from ._models import shape_error, with_received
from ._sse import ServerSentEvent, SSEDecoder
from ._textgen_types import TextGenerationStreamOutput, parse_stream_event

__all__ = [
    "ChatCompletionStreamDecoder",
    "CompletionStreamDecoder",
    "TextGenerationStreamDecoder",
    "ToolCallAccumulator",
]

T = TypeVar("T")

# The C scanner behind json.loads, called directly: json.loads adds two regex matches and
# three Python calls around it, a sizeable share of the cost of a small chunk. Any event it
# does not accept as a whole (leading or trailing blanks, [DONE], invalid JSON) goes through
# json.loads, so the results and errors are json.loads's.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_DEFAULT_LINE = 1 << 20
_DEFAULT_EVENT = 8 << 20


def _is_done_line(line: bytes) -> bool:
    return line[:5] == b"data:" and line[5:].strip() == b"[DONE]"


class _JSONEventDecoder(Generic[T]):
    """SSE events whose data is JSON: the plumbing shared by the typed decoders.

    A subclass sets `_item` (a callable turning each event's JSON object into an item, or
    None for no item) or overrides `_build` (which may append any number of items), and may
    override `_end` (called once at ``[DONE]`` or at the end of the body).
    """

    __slots__ = ("_decode", "_error", "_finished", "_item", "_seen", "_sse")

    def __init__(self, max_line_size: int, max_event_size: int) -> None:
        sse = SSEDecoder(max_line_size, max_event_size)
        sse._typed = True
        self._sse = sse
        self._decode = sse._decode
        self._finished = False
        self._seen = False
        # An error met after some items of a feed: those items are returned, the error is
        # raised at the next feed() or close(), and again at every later call (`_finished`
        # is set too, so that the hot path checks one flag).
        self._error: InferenceError | None = None
        self._item: Callable[[dict[str, Any]], T | None] | None = None

    @property
    def finished(self) -> bool:
        """Whether the stream's end marker (``[DONE]``) was seen."""
        return self._finished and self._error is None

    @property
    def sse(self) -> SSEDecoder:
        """The underlying SSE decoder (last event id, retry, bytes received)."""
        return self._sse

    def feed(self, data: bytes) -> list[T]:
        """Decode the next chunk of the body; return the items it completes.

        When an error follows some items of the chunk, those items are returned and the
        error is raised at the next call (`feed` or `close`), whatever the split.
        """
        if self._finished:
            if self._error is not None:
                raise self._error
            return []
        try:
            events = self._decode(data)
        except InferenceError as exc:
            return self._stop(exc, [])
        return self._convert(events) if events else events

    def close(self) -> list[T]:
        """The body ended: return the last items, or raise `IncompleteStreamError`."""
        if self._error is not None:
            raise self._error
        if self._finished:
            return []
        out: list[T] = []
        pending = self._sse.pending
        if pending and _is_done_line(pending[pending.rfind(b"\n") + 1 :]):
            # A last "data: [DONE]" without its line end: accept it.
            out = self.feed(b"\n\n")
            self._raise_error()
            if self.finished:
                return out
        try:
            events = self._sse.close()
        except InferenceError as exc:
            self._fail(exc)
            raise
        if events:
            out.extend(self._convert(events))
            self._raise_error()
        if not self._finished:
            self._end(out)
        if not self._seen:
            raise IncompleteStreamError(
                "the response body ended without any event "
                f"({self._sse.bytes_received} bytes received)"
            )
        return out

    def _fail(self, error: InferenceError) -> None:
        self._error = error
        self._finished = True

    def _raise_error(self) -> None:
        """Raise the error kept from an earlier call, if any."""
        if self._error is not None:
            raise self._error

    def _convert(self, events: list[Any]) -> list[T]:
        """The items of `events`. An error after some items is kept for the next call and
        the items returned; an error before any item is raised now."""
        self._seen = True
        out: list[T] = []
        item = self._item
        scan = _scan_once
        data: Any = None
        try:
            for data in events:
                if data.__class__ is str:
                    try:
                        obj, end = scan(data, 0)
                    except (ValueError, StopIteration, RecursionError):
                        end = -1
                    if end != len(data):
                        obj = self._parse_slow(data, out)
                        if obj is None:
                            if self._finished:
                                break
                            continue
                else:
                    obj = self._parse_other(data, out)
                    if obj is None:
                        if self._finished:
                            break
                        continue
                if obj.__class__ is not dict:
                    raise shape_error("stream event", obj)
                if "error" in obj and obj["error"] is not None:
                    raise in_stream_error(obj["error"], obj.get("error_type"))
                if item is not None:
                    built = item(obj)
                    if built is not None:
                        out.append(built)
                else:
                    self._build(obj, out)
        except InferenceError as exc:
            if isinstance(exc, MalformedResponseError):
                received = data.data if isinstance(data, ServerSentEvent) else data
                exc = with_received(exc, received)
            return self._stop(exc, out)
        return out

    def _stop(self, error: InferenceError, out: list[T]) -> list[T]:
        """The stream stopped at `error` (met in a feed): the items held back are released
        after `out` and returned, the error kept for the next call; with no item at all, the
        error is raised now."""
        if not self._finished:
            self._end(out)
        self._fail(error)
        if out:
            return out
        raise error from None

    def _parse_slow(self, data: str, out: list[T]) -> Any:
        """Parse event data the fast scan did not take: [DONE], blank, spaced or invalid."""
        text = data.strip()
        if text == "[DONE]":
            self._finished = True
            self._end(out)
            return None
        if not text:
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise MalformedResponseError(
                f"stream event data is not valid JSON ({exc})", received=data
            ) from None

    def _parse_other(self, event: ServerSentEvent, out: list[T]) -> Any:
        """An event of another type than "message": see the module documentation."""
        if event.event == "message":
            return self._parse_slow(event.data, out)
        if event.data.strip() == "[DONE]":
            self._finished = True
            self._end(out)
            return None
        try:
            obj = json.loads(event.data)
        except (ValueError, RecursionError):
            obj = None
        if event.event == "error":
            if obj.__class__ is dict:
                error = obj.get("error")
                raise in_stream_error(obj if error is None else error, obj.get("error_type"))
            raise in_stream_error(event.data)
        if obj.__class__ is dict and obj.get("error") is not None:
            raise in_stream_error(obj["error"], obj.get("error_type"))
        return None

    def _build(self, obj: dict[str, Any], out: list[T]) -> None:
        raise NotImplementedError  # pragma: no cover - subclasses set _item or override this

    def _end(self, out: list[T]) -> None:
        """The stream ended ([DONE] or end of body): append any held-back item."""


class ChatCompletionStreamDecoder(_JSONEventDecoder[ChatCompletionStreamOutput]):
    """Decode an OpenAI-style chat-completion SSE stream into `ChatCompletionStreamOutput`.

    Usage-only chunks (``choices: []``) are items like any other. See the module
    documentation for ``[DONE]``, errors and other event types.
    """

    __slots__ = ()

    def __init__(
        self, max_line_size: int = _DEFAULT_LINE, max_event_size: int = _DEFAULT_EVENT
    ) -> None:
        super().__init__(max_line_size, max_event_size)
        self._item = parse_chunk


def _token_text(obj: dict[str, Any]) -> str | None:
    token = obj.get("token")
    if token is None:
        return None
    if token.__class__ is not dict:
        raise shape_error("token", token)
    text = token.get("text")
    if text is None or text.__class__ is str:
        return text
    raise MalformedResponseError(f"token.text: expected a string, got {type(text).__name__}")


class TextGenerationStreamDecoder(_JSONEventDecoder[T]):
    """Decode a TGI ``/generate_stream`` SSE stream (``data:{...}`` events).

    Items are `TextGenerationStreamOutput` when `details` is true, else the token text
    (``str``), as ``huggingface_hub`` yields them (an event without a token yields nothing).
    Type checkers see the item type when `details` is a literal, ``Any`` otherwise.
    """

    __slots__ = ()

    @overload
    def __init__(
        self: TextGenerationStreamDecoder[str],
        details: Literal[False] = False,
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: TextGenerationStreamDecoder[TextGenerationStreamOutput],
        details: Literal[True],
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: TextGenerationStreamDecoder[Any],
        details: bool,
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    def __init__(
        self,
        details: bool = False,
        *,
        max_line_size: int = _DEFAULT_LINE,
        max_event_size: int = _DEFAULT_EVENT,
    ) -> None:
        super().__init__(max_line_size, max_event_size)
        item: Callable[[dict[str, Any]], Any] = (
            parse_stream_event if details else _token_text
        )
        self._item = item


def _completion_logprobs(logprobs: Any) -> tuple[Any, Any, Any]:
    """(token id, logprob, top tokens) of a one-token completion chunk (-1, None, None when
    the server does not say).

    Two shapes are known: OpenAI's legacy ``{"tokens", "token_logprobs", "top_logprobs":
    [{token: logprob}]}`` and llama.cpp's ``{"content": [{"id", "token", "logprob",
    "top_logprobs": [...]}]}``. Anything else (or several tokens in one chunk) gives
    (-1, None, None).
    """
    if logprobs.__class__ is not dict:
        return -1, None, None
    content = logprobs.get("content")
    if content.__class__ is list and len(content) == 1 and content[0].__class__ is dict:
        entry = content[0]
        top = entry.get("top_logprobs")
        tops = None
        if top.__class__ is list:
            tops = [
                {
                    "id": t.get("id", -1),
                    "text": t.get("token"),
                    "logprob": t.get("logprob"),
                    "special": False,
                }
                for t in top
                if t.__class__ is dict
            ]
        token_id = entry.get("id")
        return (-1 if token_id is None else token_id), entry.get("logprob"), tops
    values = logprobs.get("token_logprobs")
    if values.__class__ is list and len(values) == 1:
        top = logprobs.get("top_logprobs")
        tops = None
        if top.__class__ is list and len(top) == 1 and top[0].__class__ is dict:
            tops = [
                {"id": -1, "text": k, "logprob": v, "special": False} for k, v in top[0].items()
            ]
        return -1, values[0], tops
    return -1, None, None


class CompletionStreamDecoder(_JSONEventDecoder[T]):
    """Decode an OpenAI ``/v1/completions`` SSE stream into TGI-style items.

    Items are `TextGenerationStreamOutput` when `details` is true, else the text (``str``):

    * each chunk's text (of choice 0) becomes one item whose ``token`` has that ``text``,
      ``id`` -1 (OpenAI completions send no token ids, except llama.cpp with logprobs; -1
      keeps ``id`` an ``int`` as in TGI), ``special`` False and ``logprob`` (and
      ``top_tokens``) from ``logprobs`` when present; ``index`` counts the items from 1.
      Chunks with empty text make no item.
    * the item of the last token also gets ``generated_text`` (the whole text) and
      ``details``, as TGI's last event does. Servers send the finish in a chunk of its own
      with empty text (llama.cpp, ``transformers serve``), so each item is held back until
      the next event says whether the stream finished (one event of delay, with
      ``details=True`` only); a stream that finishes before any text has one item, with an
      empty token. ``details`` has: ``finish_reason`` as the server sent it ("stop", "length"),
      ``generated_tokens`` and ``input_length`` from ``usage`` (else the number of text chunks
      and None). When that chunk has no ``usage``, its item is held back until the next
      event, so that a usage-only chunk that follows (vLLM's ``include_usage``) can fill it.
    * usage-only chunks (``choices: []``) produce no item.
    * the original chunk stays reachable as the extra field ``completion``.

    Type checkers see the item type when `details` is a literal, ``Any`` otherwise.
    """

    __slots__ = ("_count", "_details", "_held", "_index", "_pending", "_texts")

    @overload
    def __init__(
        self: CompletionStreamDecoder[str],
        details: Literal[False] = False,
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: CompletionStreamDecoder[TextGenerationStreamOutput],
        details: Literal[True],
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: CompletionStreamDecoder[Any],
        details: bool,
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
    ) -> None: ...
    def __init__(
        self,
        details: bool = False,
        *,
        max_line_size: int = _DEFAULT_LINE,
        max_event_size: int = _DEFAULT_EVENT,
    ) -> None:
        super().__init__(max_line_size, max_event_size)
        self._details = details
        self._index = 0
        self._count = 0
        self._texts: list[str] = []
        self._pending: dict[str, Any] | None = None
        self._held: dict[str, Any] | None = None

    def _build(self, obj: dict[str, Any], out: list[Any]) -> None:
        choices = obj.get("choices")
        if not choices:
            if choices is not None and choices.__class__ is not list:
                raise shape_error("choices[]", choices)
            pending = self._pending
            if pending is not None:
                usage = obj.get("usage")
                if usage.__class__ is dict:
                    _fill_usage(pending["details"], usage)
                    self._flush(out)
            return
        if self._pending is not None:
            self._flush(out)
        if choices.__class__ is not list:
            raise shape_error("choices[]", choices)
        choice = None
        for candidate in choices:
            if candidate.__class__ is not dict:
                raise shape_error("choices[]", candidate)
            if candidate.get("index") in (0, None):
                choice = candidate
                break
        if choice is None:
            return
        text = choice.get("text")
        if text is None:
            text = ""
        elif text.__class__ is not str:
            raise MalformedResponseError(f"text: expected a string, got {type(text).__name__}")
        finish_reason = choice.get("finish_reason")
        if text:
            self._count += 1
        if not self._details:
            if text:
                out.append(text)
            return
        if not text and finish_reason is None:
            return
        held = self._held
        if text:
            self._texts.append(text)
            self._index += 1
            token_id, logprob, tops = _completion_logprobs(choice.get("logprobs"))
            raw: dict[str, Any] = {
                "index": self._index,
                "token": {"id": token_id, "text": text, "logprob": logprob, "special": False},
                "generated_text": None,
                "details": None,
            }
            if tops is not None:
                raw["top_tokens"] = tops
            raw["completion"] = obj
            if held is not None:
                out.append(parse_stream_event(held))
            if finish_reason is None:
                # Held back until the next event: if that one only says the stream finished
                # (empty text), it becomes this token's finish, as TGI's last event is.
                self._held = raw
                return
            self._held = None
        elif held is not None:
            raw = held
            raw["completion"] = obj
            self._held = None
        else:
            # Nothing was generated: the one item has an empty token.
            self._index += 1
            raw = {
                "index": self._index,
                "token": {"id": -1, "text": "", "logprob": None, "special": False},
                "generated_text": None,
                "details": None,
                "completion": obj,
            }
        raw["generated_text"] = "".join(self._texts)
        details = raw["details"] = {
            "finish_reason": finish_reason,
            "generated_tokens": self._count,
            "input_length": None,
        }
        usage = obj.get("usage")
        if usage.__class__ is dict:
            _fill_usage(details, usage)
            out.append(parse_stream_event(raw))
        else:
            self._pending = raw

    def _flush(self, out: list[Any]) -> None:
        if self._pending is not None:
            out.append(parse_stream_event(self._pending))
            self._pending = None

    def _end(self, out: list[Any]) -> None:
        if self._held is not None:
            out.append(parse_stream_event(self._held))
            self._held = None
        self._flush(out)


def _fill_usage(details: dict[str, Any], usage: dict[str, Any]) -> None:
    completion_tokens = usage.get("completion_tokens")
    if completion_tokens is not None:
        details["generated_tokens"] = completion_tokens
    prompt_tokens = usage.get("prompt_tokens")
    if prompt_tokens is not None:
        details["input_length"] = prompt_tokens


# -- tool calls ----------------------------------------------------------------------------------


class _PendingCall:
    __slots__ = ("arguments", "extra", "function_extra", "id", "name", "type")

    def __init__(self) -> None:
        self.id: Any = None
        self.type: Any = None
        self.name: Any = None
        self.arguments: list[str] = []
        self.extra: dict[str, Any] = {}
        self.function_extra: dict[str, Any] = {}

    def add(self, delta: ChatCompletionStreamOutputDeltaToolCall) -> None:
        raw = delta
        if self.id is None:
            self.id = raw.get("id")
        if self.type is None:
            self.type = raw.get("type")
        for key, value in raw.items():
            if key not in ("id", "index", "type", "function"):
                self.extra[key] = value
        function = delta.function
        if self.name is None:
            self.name = function.get("name")
        arguments = function.get("arguments")
        if arguments is not None:
            self.arguments.append(
                arguments
                if arguments.__class__ is str
                else json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
            )
        for key, value in function.items():
            if key not in ("name", "arguments"):
                self.function_extra[key] = value

    def build(self) -> ChatCompletionOutputToolCall:
        raw: dict[str, Any] = {
            "id": self.id,
            "type": self.type if self.type is not None else "function",
            "function": {
                "name": self.name,
                "arguments": "".join(self.arguments),
                **self.function_extra,
            },
        }
        raw.update(self.extra)
        return ChatCompletionOutputToolCall._from_json(raw)


class ToolCallAccumulator:
    """Assemble streamed tool-call deltas into complete tool calls.

    Feed it every chunk with `add`; it returns the calls completed by that chunk (those of a
    choice that got its ``finish_reason``); `finish` returns the rest at the end of the stream.
    Deltas are grouped by (choice index, tool-call index): ``id``, ``type`` and ``name`` come
    from the first delta that has them, ``arguments`` are concatenated (None counts as "").
    Unknown fields of the deltas (e.g. provider signatures) are kept on the assembled call.
    The assembled ``type`` defaults to "function".

    Deviations handled: a delta without ``index`` (Ollama sends each call whole, without an
    index) is a call of its own; a delta with a new ``id`` at an index already in use (a
    server that numbers every call 0) closes the call before it and starts a new one.
    Complete calls have `ChatCompletionOutputToolCall.parse_arguments`.
    """

    __slots__ = ("_calls", "_unindexed")

    def __init__(self) -> None:
        # choice index -> {key -> pending call}; key is the tool-call index, or a unique
        # ("unindexed", n) for a delta without an index.
        self._calls: dict[Any, dict[Any, _PendingCall]] = {}
        self._unindexed = 0

    def add(self, chunk: ChatCompletionStreamOutput) -> list[ChatCompletionOutputToolCall]:
        """Take one chunk; return the tool calls it completes."""
        done: list[ChatCompletionOutputToolCall] = []
        for choice in chunk.choices:
            choice_index = dict.get(choice, "index")
            if not isinstance(choice_index, int):
                choice_index = 0
            deltas = choice.delta.tool_calls
            if deltas:
                calls = self._calls.setdefault(choice_index, {})
                for delta in deltas:
                    key = dict.get(delta, "index")
                    if not isinstance(key, (int, str)):
                        self._unindexed -= 1
                        key = ("unindexed", self._unindexed)
                    call = calls.get(key)
                    new_id = delta.id
                    if call is not None and new_id and call.id and new_id != call.id:
                        done.append(call.build())
                        del calls[key]
                        call = None
                    if call is None:
                        call = calls[key] = _PendingCall()
                    call.add(delta)
            if choice.finish_reason is not None:
                finished = self._calls.pop(choice_index, None)
                if finished:
                    done.extend(call.build() for call in finished.values())
        return done

    def finish(self) -> list[ChatCompletionOutputToolCall]:
        """The stream ended: return the calls not completed yet."""
        done = [call.build() for calls in self._calls.values() for call in calls.values()]
        self._calls.clear()
        return done

"""A scriptable fake inference server for tests: no model, real HTTP, real wire formats.

`FakeInferenceServer` listens on ``127.0.0.1`` (a free port) and serves from background
threads, so the same server works for sync code, asyncio and trio alike::

    from inferwire.testing import FakeInferenceServer, chat_stream, error

    with FakeInferenceServer(tokens=["Hello", ",", " world"]) as server:
        client = InferenceClient(base_url=server.url("/v1"))
        ...
        server.enqueue(error(503, headers={"Retry-After": "0"}))  # next request fails once
        server.route("POST", "/v1/chat/completions", chat_stream(["Hi"], split_events=True))
        assert server.requests[-1].json["stream"] is True

Without a script, the server answers like the real servers do (shapes taken from captures of
llama.cpp, ``transformers serve``, LiteLLM, infinity, TGI and the HF Inference Toolkit). Routes
match by path suffix, so a prefix such as ``/models/org/name/v1/chat/completions`` works too:

- ``POST .../chat/completions``: OpenAI chat. SSE when ``"stream": true`` (a role chunk, one
  content chunk per token, a finish chunk, a usage chunk when
  ``stream_options.include_usage``, ``data: [DONE]``), else a ``chat.completion`` object.
- ``POST .../completions``: OpenAI legacy completions, streamed or not.
- ``POST .../embeddings``: OpenAI embeddings; ``input`` a string or a list,
  ``encoding_format`` float or base64, ``dimensions`` honoured; vectors are
  `fake_embedding` of each input.
- ``POST .../generate``: TGI ``{"generated_text", "details"?}`` (details when
  ``parameters.details``).
- ``POST .../generate_stream``: TGI SSE (``data:{...}`` without a space; the last event has
  ``generated_text`` and, when asked, ``details``).
- ``POST`` to a path containing ``/pipeline/feature-extraction``: HF feature extraction,
  ``{"inputs": str | list}`` to nested lists.
- ``POST`` to any other path (``/``, ``/models/org/name``): the server's ``root_task``, by
  default TGI-compatible text generation (SSE when ``"stream": true``, else
  ``[{"generated_text": ...}]``).
- ``GET .../health`` (``{"status":"ok"}``), ``GET .../info`` (TGI-like), ``GET .../models``
  (OpenAI model list); any other ``GET`` is a 404 in llama.cpp's error shape.

Scripting, in order of precedence for each request:

1. `FakeInferenceServer.enqueue`: a FIFO of replies for the next requests, whatever their route.
2. `FakeInferenceServer.route`: replies for one method and path (exact match, no query).
3. `FakeInferenceServer.default_reply`: the defaults above (override it in a subclass).

A reply is a `Reply` built by the builders here (`chat_stream`, `chat_completion`,
`completion_stream`, `completion`, `tgi_stream`, `tgi_generate`, `embeddings`, `hf_features`,
`json_reply`, `sse`, `error`, `raw`, `replay`, `close_connection`), or a function of the
`RecordedRequest` returning a reply (or None to fall through to the next level). Every builder
takes the `ReplyOptions` keywords: delays, mid-stream disconnects, split events, gzip, chunked
or Content-Length, keep-alive, extra headers and status.

Only the standard library is used: importing this module never imports httpx, h11 or trio.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import http
import os
import re
import struct
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ._fake_server import (
    HeaderPairs,
    HeadersLike,
    RecordedRequest,
    Reply,
    ReplyOptions,
    ServerCore,
    SSEStyle,
    apply_options,
    dumps,
    merge_headers,
    sse_events,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._fake_server import _HeadOptions, _TransportOptions

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TOKENS",
    "FakeInferenceServer",
    "RecordedRequest",
    "Reply",
    "ReplyFactory",
    "ReplyOptions",
    "ReplySource",
    "chat_completion",
    "chat_stream",
    "close_connection",
    "completion",
    "completion_stream",
    "embeddings",
    "error",
    "fake_embedding",
    "hf_features",
    "json_reply",
    "raw",
    "replay",
    "sse",
    "tgi_generate",
    "tgi_stream",
]

for _cls in (Reply, RecordedRequest):
    _cls.__module__ = __name__

ReplyFactory: TypeAlias = Callable[[RecordedRequest], "Reply | None"]
"""A function of the request that returns the reply, or None to fall through."""

ReplySource: TypeAlias = "Reply | ReplyFactory"
"""What `FakeInferenceServer.enqueue` and `FakeInferenceServer.route` accept."""

DEFAULT_TOKENS: tuple[str, ...] = ("Hello", ",", " world", "!")
"""The tokens the server generates when not told otherwise."""

DEFAULT_MODEL = "fake-model"
"""The model name replies carry when the request names none."""

_CREATED = 1_700_000_000  # fixed, so replies are deterministic
_SSE_HEADERS: HeaderPairs = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("X-Accel-Buffering", "no"),
)
_JSON_HEADERS: HeaderPairs = (("Content-Type", "application/json"),)
_TOKEN_RE = re.compile(r"\s*\S+|\s+")


def _tokens(tokens: str | Sequence[str]) -> list[str]:
    if isinstance(tokens, str):
        return _TOKEN_RE.findall(tokens)
    out = list(tokens)
    for token in out:
        if not isinstance(token, str):
            raise TypeError(f"tokens must be str, got {type(token).__name__}")
    return out


def _token_id(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") % 32000 + 3


def _logprob(position: int, rank: int = 0) -> float:
    return -round(0.0625 * ((position % 7) + 1) + 0.5 * rank, 4)


def _build(
    events: Iterable[bytes],
    headers: HeaderPairs,
    options: Mapping[str, Any],
    *,
    status: int = 200,
    chunked: bool = False,
) -> Reply:
    return apply_options(
        Reply(status=status, headers=headers, events=tuple(events), chunked=chunked), options
    )


def _json_body(obj: Any, options: Mapping[str, Any], *, status: int = 200) -> Reply:
    return _build([dumps(obj).encode()], _JSON_HEADERS, options, status=status)


def _style(
    data_space: bool, crlf: bool, keepalive_comments: bool, event_lines: bool, multiline_data: bool
) -> SSEStyle:
    return SSEStyle(data_space, crlf, keepalive_comments, event_lines, multiline_data)


def _usage(
    usage: bool | Mapping[str, Any] | None, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any] | None:
    if usage is None or usage is False:
        return None
    if usage is True:
        return {
            "completion_tokens": completion_tokens,
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return dict(usage)


def _stream_error(error: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(error, str):
        return {"error": {"message": error, "type": "server_error", "code": 500}}
    return dict(error)


def _tool_call_parts(call: Mapping[str, Any], index: int) -> tuple[str, str, str]:
    function = call.get("function", call)
    name = function["name"]
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):
        arguments = dumps(arguments)
    return str(call.get("id", f"call_{index}")), str(name), arguments


# --------------------------------------------------------------------------------------------
# OpenAI chat and completions
# --------------------------------------------------------------------------------------------


def chat_stream(
    tokens: str | Sequence[str] = DEFAULT_TOKENS,
    *,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
    usage: bool | Mapping[str, Any] | None = None,
    reasoning: str | Sequence[str] | None = None,
    reasoning_field: str = "reasoning_content",
    done: bool = True,
    error: str | Mapping[str, Any] | None = None,
    error_after: int | None = None,
    finish_reason: str | None = None,
    model: str = DEFAULT_MODEL,
    completion_id: str = "chatcmpl-fake",
    created: int = _CREATED,
    system_fingerprint: str | None = "fake",
    prompt_tokens: int = 5,
    crlf: bool = False,
    keepalive_comments: bool = False,
    event_lines: bool = False,
    multiline_data: bool = False,
    data_space: bool = True,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """An OpenAI ``chat.completion.chunk`` SSE stream, shaped like llama.cpp's.

    Events, in order: a role chunk (``delta: {"role": "assistant", "content": null}``), one
    ``reasoning_field`` chunk per reasoning token, one ``content`` chunk per token, the tool
    call deltas, a finish chunk (``delta: {}`` with ``finish_reason``), a usage chunk
    (``choices: []``) when ``usage`` is given, then ``data: [DONE]``.

    Args:
        tokens: The content deltas (a ``str`` is cut into word-like tokens).
        tool_calls: Tool calls to stream, each ``{"name", "arguments", "id"?}`` or OpenAI's
            ``{"id"?, "type": "function", "function": {"name", "arguments"}}``; arguments as a
            JSON string or an object. Each call streams as a first delta with id, type, name
            and empty arguments, then the arguments in 8-character fragments. The finish
            reason becomes ``"tool_calls"``.
        usage: ``True`` for a computed usage object, a mapping for an exact one, None for no
            usage chunk.
        reasoning: Reasoning deltas sent before the content (a ``str`` is cut into tokens).
        reasoning_field: The delta field for reasoning (``"reasoning_content"`` as llama.cpp
            and vLLM; ``"reasoning"`` for newer servers).
        done: End with ``data: [DONE]`` (``transformers serve`` does not).
        error: An in-stream error: a message (sent as
            ``{"error": {"message", "type": "server_error", "code": 500}}``) or the exact
            object to send. It replaces the finish and usage chunks; ``[DONE]`` still follows
            when ``done``.
        error_after: Number of content tokens sent before the error (default: all).
        finish_reason: Default ``"stop"``, or ``"tool_calls"`` with tool calls.
        model, completion_id, created, system_fingerprint: Chunk fields (None omits the
            fingerprint).
        prompt_tokens: Prompt token count used when ``usage=True``.
        crlf: End lines with CRLF instead of LF.
        keepalive_comments: Send a ``: ping - keep-alive`` comment before every event (each
            comment counts as an event for delays and disconnects).
        event_lines: Give each event ``event: message`` and ``id: <n>`` lines.
        multiline_data: Spread each JSON payload over several ``data:`` lines.
        data_space: ``data: `` (True) or ``data:`` (False, as TGI).
        **options: `ReplyOptions`.
    """
    toks = _tokens(tokens)
    style = _style(data_space, crlf, keepalive_comments, event_lines, multiline_data)

    def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        if system_fingerprint is not None:
            out["system_fingerprint"] = system_fingerprint
        out["choices"] = (
            [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        )
        return out

    items: list[Mapping[str, Any] | str] = [chunk({"role": "assistant", "content": None})]
    items.extend(chunk({reasoning_field: tok}) for tok in _tokens(reasoning or ()))
    stop_at = len(toks) if error is None or error_after is None else min(error_after, len(toks))
    items.extend(chunk({"content": tok}) for tok in toks[:stop_at])
    if error is not None:
        items.append(_stream_error(error))
    else:
        for index, call in enumerate(tool_calls or ()):
            call_id, name, arguments = _tool_call_parts(call, index)
            first = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            items.append(chunk({"tool_calls": [first]}))
            items.extend(
                chunk(
                    {
                        "tool_calls": [
                            {"index": index, "function": {"arguments": arguments[i : i + 8]}}
                        ]
                    }
                )
                for i in range(0, len(arguments), 8)
            )
        reason = finish_reason or ("tool_calls" if tool_calls else "stop")
        items.append(chunk({}, reason))
        usage_obj = _usage(usage, prompt_tokens, len(toks))
        if usage_obj is not None:
            last = chunk(None)
            last["usage"] = usage_obj
            items.append(last)
    if done:
        items.append("[DONE]")
    return _build(sse_events(items, style), _SSE_HEADERS, options, chunked=True)


def chat_completion(
    text: str = "".join(DEFAULT_TOKENS),
    *,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
    usage: bool | Mapping[str, Any] | None = True,
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    finish_reason: str | None = None,
    model: str = DEFAULT_MODEL,
    completion_id: str = "chatcmpl-fake",
    created: int = _CREATED,
    system_fingerprint: str | None = "fake",
    prompt_tokens: int = 5,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A non-streamed OpenAI ``chat.completion`` object.

    Args:
        text: The assistant message content.
        tool_calls: Tool calls, as for `chat_stream` (``{"name", "arguments", "id"?}``); with
            them and an empty ``text`` the message has ``content: null``, and the finish
            reason is ``"tool_calls"``.
        usage: ``True`` (default) for a computed usage object, a mapping for an exact one,
            None to omit it.
        reasoning: Reasoning text, put in the message's ``reasoning_field``.
        finish_reason: Default ``"stop"`` (``"tool_calls"`` with tool calls).
        model, completion_id, created, system_fingerprint, prompt_tokens: As for
            `chat_stream`.
        **options: `ReplyOptions`.
    """
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text or (None if tool_calls else text),
    }
    if reasoning is not None:
        message[reasoning_field] = reasoning
    if tool_calls:
        calls = []
        for index, call in enumerate(tool_calls):
            call_id, name, arguments = _tool_call_parts(call, index)
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            )
        message["tool_calls"] = calls
    obj: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
    }
    if system_fingerprint is not None:
        obj["system_fingerprint"] = system_fingerprint
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    obj["choices"] = [{"index": 0, "message": message, "finish_reason": reason}]
    usage_obj = _usage(usage, prompt_tokens, len(_tokens(text)))
    if usage_obj is not None:
        obj["usage"] = usage_obj
    return _json_body(obj, options)


def completion_stream(
    tokens: str | Sequence[str] = DEFAULT_TOKENS,
    *,
    usage: bool | Mapping[str, Any] | None = None,
    done: bool = True,
    error: str | Mapping[str, Any] | None = None,
    error_after: int | None = None,
    finish_reason: str = "stop",
    model: str = DEFAULT_MODEL,
    completion_id: str = "cmpl-fake",
    created: int = _CREATED,
    system_fingerprint: str | None = "fake",
    prompt_tokens: int = 5,
    crlf: bool = False,
    keepalive_comments: bool = False,
    event_lines: bool = False,
    multiline_data: bool = False,
    data_space: bool = True,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """An OpenAI legacy ``text_completion`` SSE stream, shaped like llama.cpp's.

    One chunk per token (``choices: [{"text", "index", "logprobs": null, "finish_reason":
    null}]``), a final chunk with ``text: ""`` and ``finish_reason``, a usage chunk
    (``choices: []``) when ``usage`` is given, then ``[DONE]`` when ``done``. The other
    parameters are those of `chat_stream`.
    """
    toks = _tokens(tokens)
    style = _style(data_space, crlf, keepalive_comments, event_lines, multiline_data)

    def chunk(text: str | None, finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": completion_id,
            "object": "text_completion",
            "created": created,
            "model": model,
        }
        if system_fingerprint is not None:
            out["system_fingerprint"] = system_fingerprint
        out["choices"] = (
            []
            if text is None
            else [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]
        )
        return out

    stop_at = len(toks) if error is None or error_after is None else min(error_after, len(toks))
    items: list[Mapping[str, Any] | str] = [chunk(tok) for tok in toks[:stop_at]]
    if error is not None:
        items.append(_stream_error(error))
    else:
        items.append(chunk("", finish_reason))
        usage_obj = _usage(usage, prompt_tokens, len(toks))
        if usage_obj is not None:
            last = chunk(None)
            last["usage"] = usage_obj
            items.append(last)
    if done:
        items.append("[DONE]")
    return _build(sse_events(items, style), _SSE_HEADERS, options, chunked=True)


def completion(
    text: str = "".join(DEFAULT_TOKENS),
    *,
    usage: bool | Mapping[str, Any] | None = True,
    finish_reason: str = "stop",
    model: str = DEFAULT_MODEL,
    completion_id: str = "cmpl-fake",
    created: int = _CREATED,
    system_fingerprint: str | None = "fake",
    prompt_tokens: int = 5,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A non-streamed OpenAI legacy ``text_completion`` object (see `chat_completion`)."""
    obj: dict[str, Any] = {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
    }
    if system_fingerprint is not None:
        obj["system_fingerprint"] = system_fingerprint
    obj["choices"] = [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}]
    usage_obj = _usage(usage, prompt_tokens, len(_tokens(text)))
    if usage_obj is not None:
        obj["usage"] = usage_obj
    return _json_body(obj, options)


# --------------------------------------------------------------------------------------------
# TGI
# --------------------------------------------------------------------------------------------


def _tgi_token(text: str, position: int, rank: int = 0, *, special: bool = False) -> dict[str, Any]:
    return {
        "id": _token_id(text if rank == 0 else f"{text}#{rank}"),
        "text": text if rank == 0 else f"{text}#{rank}",
        "logprob": _logprob(position, rank),
        "special": special,
    }


def _tgi_top(text: str, position: int, n: int) -> list[dict[str, Any]]:
    return [_tgi_token(text, position, rank) for rank in range(n)]


def tgi_stream(
    tokens: str | Sequence[str] = DEFAULT_TOKENS,
    *,
    details: bool = True,
    top_n_tokens: int = 0,
    error: str | Mapping[str, Any] | None = None,
    error_after: int | None = None,
    error_type: str = "generation",
    finish_reason: str = "length",
    seed: int | None = None,
    input_length: int = 5,
    generated_text: str | None = None,
    crlf: bool = False,
    keepalive_comments: bool = False,
    event_lines: bool = False,
    multiline_data: bool = False,
    data_space: bool = False,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A TGI ``/generate_stream`` SSE stream: ``data:{...}`` events with no space.

    Each event is ``{"index", "token": {"id", "text", "logprob", "special"}, "top_tokens"?,
    "generated_text": null, "details": null}``; the last token's event carries the full
    ``generated_text`` and, when ``details``, ``{"finish_reason", "generated_tokens", "seed",
    "input_length"}``. There is no ``[DONE]``. Token ids and logprobs are deterministic.

    Args:
        tokens: The token texts (a ``str`` is cut into word-like tokens).
        details: Put stream details on the last event (TGI does when the request asks).
        top_n_tokens: Add ``top_tokens`` (n alternatives, the first being the chosen token).
        error: An in-stream error: a message (sent as ``{"error", "error_type"}``) or the
            exact object to send; the stream ends after it.
        error_after: Tokens sent before the error (default: all of them, no final event).
        error_type: The ``error_type`` of a message ``error``.
        finish_reason: ``"length"``, ``"eos_token"`` or ``"stop_sequence"``.
        seed: The details' seed.
        input_length: The details' input length.
        generated_text: The final text (default: the tokens joined).
        crlf, keepalive_comments, event_lines, multiline_data, data_space: As `chat_stream`.
        **options: `ReplyOptions`.
    """
    toks = _tokens(tokens)
    style = _style(data_space, crlf, keepalive_comments, event_lines, multiline_data)
    stop_at = len(toks) if error is None or error_after is None else min(error_after, len(toks))
    items: list[Mapping[str, Any]] = []
    for position, tok in enumerate(toks[:stop_at]):
        event: dict[str, Any] = {"index": position + 1, "token": _tgi_token(tok, position)}
        if top_n_tokens:
            event["top_tokens"] = _tgi_top(tok, position, top_n_tokens)
        last = error is None and position == len(toks) - 1
        event["generated_text"] = (
            ("".join(toks) if generated_text is None else generated_text) if last else None
        )
        event["details"] = (
            {
                "finish_reason": finish_reason,
                "generated_tokens": len(toks),
                "seed": seed,
                "input_length": input_length,
            }
            if last and details
            else None
        )
        items.append(event)
    if error is not None:
        items.append(
            {"error": error, "error_type": error_type} if isinstance(error, str) else dict(error)
        )
    return _build(sse_events(items, style), _SSE_HEADERS, options, chunked=True)


def tgi_generate(
    tokens: str | Sequence[str] = DEFAULT_TOKENS,
    *,
    details: bool = True,
    top_n_tokens: int = 0,
    finish_reason: str = "length",
    seed: int | None = None,
    prefill: Sequence[str] = (),
    generated_text: str | None = None,
    as_list: bool = False,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A TGI ``/generate`` reply: ``{"generated_text", "details"?}``.

    Args:
        tokens: The generated token texts (a ``str`` is cut into word-like tokens).
        details: Add ``details``: ``finish_reason``, ``generated_tokens``, ``seed``,
            ``prefill`` and ``tokens`` (and ``top_tokens`` with ``top_n_tokens``).
        top_n_tokens: Alternatives per token in ``details.top_tokens``.
        finish_reason, seed: Details fields.
        prefill: Input token texts for ``details.prefill`` (the first has ``logprob: null``).
        generated_text: The text (default: the tokens joined).
        as_list: Wrap the object in a one-element list, as TGI's ``POST /`` and the HF
            serverless API answer.
        **options: `ReplyOptions`.
    """
    toks = _tokens(tokens)
    obj: dict[str, Any] = {
        "generated_text": "".join(toks) if generated_text is None else generated_text
    }
    if details:
        info: dict[str, Any] = {
            "finish_reason": finish_reason,
            "generated_tokens": len(toks),
            "seed": seed,
            "prefill": [
                {"id": _token_id(t), "text": t, "logprob": None if i == 0 else _logprob(i)}
                for i, t in enumerate(prefill)
            ],
            "tokens": [_tgi_token(t, i) for i, t in enumerate(toks)],
        }
        if top_n_tokens:
            info["top_tokens"] = [_tgi_top(t, i, top_n_tokens) for i, t in enumerate(toks)]
        obj["details"] = info
    return _json_body([obj] if as_list else obj, options)


# --------------------------------------------------------------------------------------------
# Embeddings and features
# --------------------------------------------------------------------------------------------


def fake_embedding(text: str, dim: int = 16) -> list[float]:
    """The deterministic vector the fake server returns for ``text``.

    Values are multiples of 1/128 in [-1, 1), so they are exact in float32 and survive the
    base64 encoding unchanged.
    """
    out: list[float] = []
    counter = 0
    while len(out) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        out.extend((byte - 128) / 128 for byte in digest)
        counter += 1
    return out[:dim]


def embeddings(
    vectors: Sequence[Sequence[float]],
    *,
    encoding: Literal["float", "base64"] = "float",
    model: str = DEFAULT_MODEL,
    usage: Mapping[str, Any] | None = None,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """An OpenAI embeddings list: ``{"object": "list", "data": [...], "model", "usage"}``.

    Args:
        vectors: One vector per input.
        encoding: ``"float"`` (JSON numbers) or ``"base64"`` (little-endian float32, base64
            encoded, as OpenAI's ``encoding_format: "base64"``).
        model: The ``model`` field.
        usage: The usage object (default: one prompt token per vector).
        **options: `ReplyOptions`.
    """
    data = []
    for index, vector in enumerate(vectors):
        values = [float(v) for v in vector]
        embedding: list[float] | str
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        elif encoding == "float":
            embedding = values
        else:
            raise ValueError(f"encoding must be 'float' or 'base64', got {encoding!r}")
        data.append({"object": "embedding", "embedding": embedding, "index": index})
    obj = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": dict(usage)
        if usage is not None
        else {
            "prompt_tokens": len(data),
            "total_tokens": len(data),
        },
    }
    return _json_body(obj, options)


def hf_features(nested: Any, **options: Unpack[ReplyOptions]) -> Reply:
    """An HF feature-extraction reply: ``nested`` (lists of floats, any depth) as JSON."""
    return _json_body(nested, options)


# --------------------------------------------------------------------------------------------
# Generic replies
# --------------------------------------------------------------------------------------------


def json_reply(obj: Any, **options: Unpack[ReplyOptions]) -> Reply:
    """Any JSON value as an ``application/json`` body (status 200 unless ``status=``)."""
    return _json_body(obj, options)


def sse(
    events: Iterable[str | bytes | Mapping[str, Any]],
    *,
    done: bool = False,
    crlf: bool = False,
    keepalive_comments: bool = False,
    event_lines: bool = False,
    multiline_data: bool = False,
    data_space: bool = True,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A custom SSE stream (``text/event-stream``, chunked).

    Each item is a JSON object (sent as one ``data:`` event), a ``str`` (the event's data; a
    newline in it starts another ``data:`` line) or ``bytes`` (one event sent verbatim, for
    hand-written fields, comments or broken framing). ``done`` appends ``data: [DONE]``.
    The style parameters are those of `chat_stream`.
    """
    items: list[str | bytes | Mapping[str, Any]] = list(events)
    if done:
        items.append("[DONE]")
    style = _style(data_space, crlf, keepalive_comments, event_lines, multiline_data)
    return _build(sse_events(items, style), _SSE_HEADERS, options, chunked=True)


def error(
    status: int,
    json: Any = None,
    text: str | None = None,
    html: str | None = None,
    *,
    message: str | None = None,
    shape: Literal["openai", "tgi", "fastapi"] = "openai",
    error_type: str | None = None,
    **options: Unpack[_HeadOptions],
) -> Reply:
    """An error response, with the body in one of the shapes real servers use.

    Give at most one of ``json`` (any JSON value, sent as is), ``text`` (``text/plain``) or
    ``html`` (``text/html``, like a proxy's error page). Without any, the body is built from
    ``message`` (default: the reason phrase) in the chosen ``shape``:

    - ``"openai"``: ``{"error": {"message", "type", "code": status}}`` (llama.cpp, vLLM,
      LiteLLM); ``type`` defaults from the status (``invalid_request_error``,
      ``authentication_error``, ``not_found_error``, ``rate_limit_error``,
      ``unavailable_error``, ``server_error``).
    - ``"tgi"``: ``{"error": message, "error_type": ...}`` (default ``error_type``:
      ``"validation"`` for 4xx, ``"generation"`` otherwise).
    - ``"fastapi"``: ``{"detail": message}``.

    Retries are easy to script: ``error(503, headers={"Retry-After": "0"})``.

    Args:
        status: The HTTP status code.
        json, text, html: An explicit body.
        message: The message for a built body.
        shape: The shape of a built body.
        error_type: The OpenAI ``type`` or TGI ``error_type`` of a built body.
        **options: `ReplyOptions` except ``status`` (``headers``, delays, ``keepalive``...).
    """
    if sum(x is not None for x in (json, text, html)) > 1:
        raise ValueError("give at most one of json, text and html")
    if text is not None:
        return _build(
            [text.encode()],
            (("Content-Type", "text/plain; charset=utf-8"),),
            options,
            status=status,
        )
    if html is not None:
        return _build(
            [html.encode()], (("Content-Type", "text/html; charset=utf-8"),), options, status=status
        )
    if json is None:
        msg = message if message is not None else _phrase(status)
        if shape == "openai":
            json = {
                "error": {
                    "message": msg,
                    "type": error_type or _openai_type(status),
                    "code": status,
                }
            }
        elif shape == "tgi":
            json = {
                "error": msg,
                "error_type": error_type or ("validation" if status < 500 else "generation"),
            }
        elif shape == "fastapi":
            json = {"detail": msg}
        else:
            raise ValueError(f"unknown error shape {shape!r}")
    return _json_body(json, options, status=status)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _openai_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        501: "not_supported_error",
        503: "unavailable_error",
    }.get(status, "invalid_request_error" if status < 500 else "server_error")


def raw(
    status: int,
    headers: HeadersLike = (),
    body_chunks: Iterable[bytes] = (),
    *,
    reason: str | None = None,
    **options: Unpack[_TransportOptions],
) -> Reply:
    """A reply written as given: your status, headers and body pieces.

    The server still adds the framing (``Content-Length``, or chunked with ``chunked=True``)
    unless ``headers`` set ``Content-Length`` or ``Transfer-Encoding`` themselves: then the
    body pieces are written verbatim, framing included, so broken framing can be tested. Each
    body piece is one "event" for the delay, split and disconnect options.
    """
    pairs = merge_headers((), headers)
    return apply_options(
        Reply(status=status, headers=pairs, events=tuple(body_chunks), reason=reason), options
    )


def close_connection(*, delay_before_headers: float = 0.0) -> Reply:
    """A reply that sends nothing: the server reads the request, then closes the socket.

    This is what a stale keep-alive connection looks like to a client (the server went away
    before answering). With ``delay_before_headers`` the server waits first.
    """
    return Reply(hang_up=True, delay_before_headers=delay_before_headers)


_EVENT_END = re.compile(rb"(?:\r\n|\r|\n)(?:\r\n|\r|\n)")


def replay(path: str | os.PathLike[str], **options: Unpack[ReplyOptions]) -> Reply:
    """Replay a recorded exchange verbatim, from a capture file.

    The capture format is the one of ``curl -sN -D -`` output (as in the project's
    ``conformance/real_streams``): the status line, the header lines, a blank line, then the
    body bytes as received (de-chunked). Informational ``1xx`` heads before the final head are
    skipped. The status, reason phrase, headers (order and case) and body bytes are sent
    back unchanged, except the framing: ``Content-Length`` is recomputed from the body (some
    captures were edited), a capture that said ``Transfer-Encoding: chunked`` is re-chunked,
    and ``Connection: close`` makes the server close after the reply. An SSE body
    (``text/event-stream``) is cut into its events, so the delay, split and disconnect options
    act per event.
    """
    with open(path, "rb") as f:
        data = f.read()
    while True:
        match = re.search(rb"\r?\n\r?\n", data)
        if not data.startswith(b"HTTP/") or match is None:
            raise ValueError(
                f"{os.fspath(path)!r} is not a capture: expected a status line and headers"
            )
        head, data = data[: match.start()], data[match.end() :]
        lines = head.decode("latin-1").splitlines()
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        if not 100 <= status < 200:
            break
    reason = parts[2] if len(parts) > 2 else ""
    headers: list[tuple[str, str]] = []
    chunked = False
    keepalive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        lower = name.lower()
        if lower == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif lower == "content-length":
            continue
        elif lower == "connection" and "close" in value.lower():
            keepalive = False
        else:
            headers.append((name, value))
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    if "text/event-stream" in content_type.lower():
        events: list[bytes] = []
        start = 0
        for match in _EVENT_END.finditer(data):
            events.append(data[start : match.end()])
            start = match.end()
        if start < len(data):
            events.append(data[start:])
    else:
        events = [data] if data else []
    reply = Reply(
        status=status,
        headers=tuple(headers),
        events=tuple(events),
        reason=reason,
        chunked=chunked,
        keepalive=keepalive,
    )
    return apply_options(reply, options)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return _words(value.get("content")) + _words(value.get("text"))
    return 0


class FakeInferenceServer:
    """A scriptable fake inference server on ``127.0.0.1``, for tests.

    It serves real HTTP/1.1 (keep-alive, Content-Length and chunked bodies both ways) from
    background threads: one accept thread and one thread per connection, so it works the same
    under sync code, asyncio and trio. Use it as a context manager, or call `start` and
    `stop`::

        with FakeInferenceServer(tokens=["Hello", ",", " world"]) as server:
            url = server.url("/v1/chat/completions")

    Args:
        tokens: What the default routes generate (a ``str`` is cut into word-like tokens).
            ``max_tokens`` / ``max_new_tokens`` in a request truncate it (finish reason
            ``"length"``; otherwise ``"stop"`` for OpenAI routes, ``"eos_token"`` for TGI).
        model: The model name used when the request names none (OpenAI routes echo the
            request's ``model``).
        embedding_dim: Size of the default embedding and feature vectors (an OpenAI request's
            ``dimensions`` overrides it).
        root_task: What ``POST`` to any path without a known suffix (``/``, ``/models/x``)
            does: ``"text-generation"`` (TGI-compatible: SSE when ``"stream": true``, else a
            one-element list) or ``"feature-extraction"``.
        features: Shape of feature extraction: ``"pooled"`` (sentence-transformers: ``[dim]``
            per text) or ``"tokens"`` (transformers: ``[1, T, dim]`` per text, T tokens).
        host: The address to bind (loopback by default).
        port: The port (0: a free one).
    """

    def __init__(
        self,
        *,
        tokens: str | Sequence[str] = DEFAULT_TOKENS,
        model: str = DEFAULT_MODEL,
        embedding_dim: int = 16,
        root_task: Literal["text-generation", "feature-extraction"] = "text-generation",
        features: Literal["pooled", "tokens"] = "pooled",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._tokens = _tokens(tokens)
        self.model = model
        self.embedding_dim = embedding_dim
        self.root_task = root_task
        self.features = features
        self._core = ServerCore(self._dispatch, host=host, port=port)
        self._queue: collections.deque[ReplySource] = collections.deque()
        self._routes: dict[tuple[str, str], list[list[Any]]] = {}
        self._persistent: dict[tuple[str, str], ReplySource] = {}
        self._script_lock = threading.Lock()

    @property
    def tokens(self) -> list[str]:
        """The tokens the default routes generate; assignable (a ``str`` is cut into tokens)."""
        return list(self._tokens)

    @tokens.setter
    def tokens(self, value: str | Sequence[str]) -> None:
        self._tokens = _tokens(value)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeInferenceServer:
        """Bind and start serving in background threads; returns the server.

        Raises ``RuntimeError`` if the server was already started (a server runs once).
        """
        self._core.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake every delay, close every socket and join every thread.

        Idempotent. Replies in the middle of a delay or a stream are cut off.
        """
        self._core.stop()

    def __enter__(self) -> FakeInferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._core.running

    @property
    def host(self) -> str:
        """The bound address (``"127.0.0.1"``)."""
        return self._core.host

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        return self._core.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server (a leading ``/`` is added if missing)."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._core.lock:
            return list(self._core.requests)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request (``LookupError`` when there is none)."""
        with self._core.lock:
            if not self._core.requests:
                raise LookupError("the fake server has received no request")
            return self._core.requests[-1]

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server accepted: compare with the number of requests
        to prove keep-alive reuse."""
        with self._core.lock:
            return self._core.connections_accepted

    @property
    def open_connections(self) -> int:
        """How many connections are open right now (clients that closed are gone)."""
        return self._core.open_connections

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by reply functions or default routes (each was answered with a
        500 ``text/plain`` traceback)."""
        with self._core.lock:
            return list(self._core.errors)

    @property
    def pending_replies(self) -> int:
        """How many `enqueue`-d replies are still waiting for a request."""
        with self._script_lock:
            return len(self._queue)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; returns them.

        Raises ``TimeoutError`` after ``timeout`` seconds. Don't call it from an event loop
        thread that the client needs (use it from sync code or a worker thread).
        """
        return self._core.wait_for_requests(count, timeout)

    # -- scripting ---------------------------------------------------------------------------

    def enqueue(self, *replies: ReplySource) -> None:
        """Queue replies for the next requests, whatever their route, first in first out.

        Each is a `Reply` or a function of the `RecordedRequest` returning one (or None: that
        request then falls through to the routes and defaults). Queued replies take
        precedence over `route` and the defaults. A retry test::

            server.enqueue(error(503, headers={"Retry-After": "0"}))
            # the first request gets 503, the retry gets the default reply
        """
        for reply in replies:
            _check_source(reply)
        with self._script_lock:
            self._queue.extend(replies)

    def route(
        self, method: str, path: str, reply: ReplySource, *, times: int | None = None
    ) -> None:
        """Answer ``method`` on ``path`` (exact path, query ignored) with ``reply``.

        With ``times=None`` the reply is used for every matching request from now on, and
        replaces an earlier persistent reply for that route. With ``times=n`` it is used for
        the next n matching requests only; such limited replies are used first, in the order
        added, before the persistent one. `enqueue`-d replies still come first.
        """
        _check_source(reply)
        key = (method.upper(), path)
        with self._script_lock:
            if times is None:
                self._persistent[key] = reply
            elif times > 0:
                self._routes.setdefault(key, []).append([reply, times])

    def reset(self) -> None:
        """Forget queued replies, routes, recorded requests and errors (not the counters)."""
        with self._script_lock:
            self._queue.clear()
            self._routes.clear()
            self._persistent.clear()
        with self._core.lock:
            self._core.requests.clear()
            self._core.errors.clear()

    def _next_scripted(self, request: RecordedRequest) -> Reply | None:
        with self._script_lock:
            source = self._queue.popleft() if self._queue else None
        if source is not None:
            reply = _resolve(source, request)
            if reply is not None:
                return reply
        key = (request.method, request.path)
        with self._script_lock:
            limited = self._routes.get(key)
            if limited:
                entry = limited[0]
                source = entry[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    limited.pop(0)
            else:
                source = self._persistent.get(key)
        return None if source is None else _resolve(source, request)

    def _dispatch(self, request: RecordedRequest) -> Reply:
        reply = self._next_scripted(request)
        return reply if reply is not None else self.default_reply(request)

    # -- default routes ----------------------------------------------------------------------

    def default_reply(self, request: RecordedRequest) -> Reply:
        """The reply when nothing is scripted: the default routes (see the module docs).

        Override it in a subclass to change the defaults; call ``super().default_reply``
        for the routes you keep.
        """
        path = request.path.rstrip("/") or "/"
        if request.method in ("GET", "HEAD"):
            if path.endswith("/health"):
                return json_reply({"status": "ok"})
            if path.endswith("/info"):
                return json_reply(self._info())
            if path.endswith("/models"):
                return json_reply(
                    {
                        "object": "list",
                        "data": [
                            {
                                "id": self.model,
                                "object": "model",
                                "created": _CREATED,
                                "owned_by": "inferwire",
                            }
                        ],
                    }
                )
            return error(404, message="File Not Found", error_type="not_found_error")
        if request.method != "POST":
            return error(405, message=f"Method {request.method} not allowed")
        body = request.json
        if path.endswith("/chat/completions"):
            return self._chat(request, body)
        if path.endswith("/completions"):
            return self._completions(request, body)
        if path.endswith("/embeddings"):
            return self._embeddings(body)
        if path.endswith("/generate_stream"):
            return self._tgi(body, "generate_stream")
        if path.endswith("/generate"):
            return self._tgi(body, "generate")
        if "/pipeline/feature-extraction" in path or "/pipeline/sentence-similarity" in path:
            return self._features(body)
        if "/pipeline/text-generation" in path or self.root_task == "text-generation":
            return self._tgi(body, "root")
        return self._features(body)

    def _info(self) -> dict[str, Any]:
        return {
            "model_id": self.model,
            "model_sha": None,
            "model_pipeline_tag": "text-generation",
            "model_device_type": "cpu",
            "max_concurrent_requests": 128,
            "max_best_of": 2,
            "max_stop_sequences": 4,
            "max_input_tokens": 1024,
            "max_total_tokens": 2048,
            "validation_workers": 2,
            "max_client_batch_size": 4,
            "router": "text-generation-router",
            "version": "3.3.6-fake",
            "sha": None,
            "docker_label": None,
        }

    def _limit(self, limit: Any) -> tuple[list[str], bool]:
        toks = self._tokens
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(toks):
            return toks[:limit], True
        return toks, False

    def _chat(self, request: RecordedRequest, body: Any) -> Reply:
        if not isinstance(body, dict):
            return error(400, message="Invalid JSON body", error_type="invalid_request_error")
        messages = body.get("messages")
        if not isinstance(messages, list):
            return error(400, message="Expected 'messages' to be an array")
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        return self._openai_reply(body, limit, messages, chat_stream, chat_completion)

    def _completions(self, request: RecordedRequest, body: Any) -> Reply:
        if not isinstance(body, dict) or "prompt" not in body:
            return error(400, message="'prompt' is required")
        return self._openai_reply(body, body.get("max_tokens"), body["prompt"],
                                  completion_stream, completion)

    def _openai_reply(
        self,
        body: dict[str, Any],
        limit: Any,
        prompt: Any,
        stream_reply: Callable[..., Reply],
        whole_reply: Callable[..., Reply],
    ) -> Reply:
        """The default answer of an OpenAI route (chat or completions), streamed or not."""
        model = body["model"] if isinstance(body.get("model"), str) else self.model
        toks, truncated = self._limit(limit)
        finish = "length" if truncated else "stop"
        prompt_tokens = max(1, _words(prompt))
        if body.get("stream"):
            stream_options = body.get("stream_options") or {}
            include_usage = isinstance(stream_options, dict) and bool(
                stream_options.get("include_usage")
            )
            return stream_reply(
                toks,
                usage=True if include_usage else None,
                finish_reason=finish,
                model=model,
                prompt_tokens=prompt_tokens,
            )
        return whole_reply(
            "".join(toks),
            finish_reason=finish,
            model=model,
            usage=_usage(True, prompt_tokens, len(toks)),
        )

    def _embeddings(self, body: Any) -> Reply:
        if not isinstance(body, dict) or "input" not in body:
            return error(400, message="'input' is required")
        raw_input = body["input"]
        texts = [raw_input] if isinstance(raw_input, str) else raw_input
        if not isinstance(texts, list) or not texts:
            return error(400, message="'input' must be a string or a non-empty list")
        dim = body.get("dimensions")
        dim = (
            dim
            if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0
            else self.embedding_dim
        )
        encoding: Literal["float", "base64"]
        if body.get("encoding_format") in (None, "float"):
            encoding = "float"
        elif body.get("encoding_format") == "base64":
            encoding = "base64"
        else:
            return error(400, message=f"unsupported encoding_format {body['encoding_format']!r}")
        model = body["model"] if isinstance(body.get("model"), str) else self.model
        tokens = max(1, _words(texts))
        return embeddings(
            [fake_embedding(t if isinstance(t, str) else dumps(t), dim) for t in texts],
            encoding=encoding,
            model=model,
            usage={"prompt_tokens": tokens, "total_tokens": tokens},
        )

    def _tgi(self, body: Any, route: Literal["generate", "generate_stream", "root"]) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
            return error(
                422,
                message="Input validation error: `inputs` must be a string",
                shape="tgi",
                error_type="validation",
            )
        params = body.get("parameters") or {}
        if not isinstance(params, dict):
            params = {}
        toks, truncated = self._limit(params.get("max_new_tokens"))
        finish = "length" if truncated else "eos_token"
        top_n = params.get("top_n_tokens")
        top_n = top_n if isinstance(top_n, int) and not isinstance(top_n, bool) and top_n > 0 else 0
        seed = params.get("seed") if isinstance(params.get("seed"), int) else None
        text = "".join(toks)
        if params.get("return_full_text"):
            text = body["inputs"] + text
        details = bool(params.get("details"))
        stream = route == "generate_stream" or (route == "root" and bool(body.get("stream")))
        if stream:
            return tgi_stream(
                toks,
                details=details,
                top_n_tokens=top_n,
                finish_reason=finish,
                seed=seed,
                input_length=max(1, len(_tokens(body["inputs"]))),
                generated_text=text,
            )
        prefill = _tokens(body["inputs"]) if params.get("decoder_input_details") else ()
        return tgi_generate(
            toks,
            details=details,
            top_n_tokens=top_n,
            finish_reason=finish,
            seed=seed,
            prefill=prefill,
            generated_text=text,
            as_list=route == "root",
        )

    def _features(self, body: Any) -> Reply:
        if not isinstance(body, dict) or "inputs" not in body:
            return error(
                400,
                json={"error": f"Body needs to provide a inputs key, received: {dumps(body)!r}"},
            )
        inputs = body["inputs"]
        dim = self.embedding_dim

        def one(text: str) -> Any:
            if self.features == "pooled":
                return fake_embedding(text, dim)
            toks = [t.strip() for t in _tokens(text)] or [""]
            return [[fake_embedding(f"{t}#{i}", dim) for i, t in enumerate(toks)]]

        if isinstance(inputs, str):
            return hf_features(one(inputs))
        if isinstance(inputs, list) and all(isinstance(t, str) for t in inputs):
            return hf_features([one(t) for t in inputs])
        return error(400, json={"error": "inputs must be a string or a list of strings"})


def _check_source(source: object) -> None:
    if not isinstance(source, Reply) and not callable(source):
        raise TypeError(f"a reply must be a Reply or a function of the request, got {source!r}")


def _resolve(source: ReplySource, request: RecordedRequest) -> Reply | None:
    if isinstance(source, Reply):
        return source
    reply = source(request)
    if reply is not None and not isinstance(reply, Reply):
        raise TypeError(f"a reply function must return a Reply or None, got {reply!r}")
    return reply

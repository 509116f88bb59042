"""OpenAI-compatible replies: chat and legacy completions (streamed or not), embeddings."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._common import (
    _CREATED,
    _SSE_HEADERS,
    DEFAULT_MODEL,
    DEFAULT_TOKENS,
    _build,
    _json_body,
    _stream_error,
    _style,
    _tokens,
    _tool_call_parts,
    _usage,
)
from ._reply import Reply, ReplyOptions, sse_events

if TYPE_CHECKING:
    from typing_extensions import Unpack


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



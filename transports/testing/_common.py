"""Shared pieces of the reply builders: defaults, token cutting, body assembly."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._reply import HeaderPairs, Reply, SSEStyle, apply_options, dumps

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


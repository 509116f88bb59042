"""Text Generation Inference replies: ``/generate`` and ``/generate_stream``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._common import (
    _SSE_HEADERS,
    DEFAULT_TOKENS,
    _build,
    _json_body,
    _logprob,
    _style,
    _token_id,
    _tokens,
)
from ._reply import Reply, ReplyOptions, sse_events

if TYPE_CHECKING:
    from typing_extensions import Unpack


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



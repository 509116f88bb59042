"""Typed results of text generation (TGI ``/generate`` and ``/generate_stream``).

Type and field names follow ``huggingface_hub.inference._generated.types.text_generation``.
See `._models` for the common behaviour (lenient parsing, unknown fields kept, ``to_dict``).
A missing required list (``prefill``, ``tokens``) reads as ``[]`` and a missing ``token`` as
an empty token whose fields are None; ``to_dict()`` still gives back what the server sent.
"""

from __future__ import annotations

from typing import Any, Literal

from ._errors import MalformedResponseError
from ._models import (
    Model,
    child,
    load_json_body,
    model_list,
    raise_for_error_object,
    shape_error,
    with_received,
)

__all__ = [
    "TextGenerationOutput",
    "TextGenerationOutputBestOfSequence",
    "TextGenerationOutputDetails",
    "TextGenerationOutputFinishReason",
    "TextGenerationOutputPrefillToken",
    "TextGenerationOutputToken",
    "TextGenerationStreamOutput",
    "TextGenerationStreamOutputStreamDetails",
    "TextGenerationStreamOutputToken",
    "completion_tokens",
    "parse_completion_as_text_generation",
    "parse_stream_event",
    "parse_text_generation",
]

TextGenerationOutputFinishReason = Literal["length", "eos_token", "stop_sequence"]
"""TGI's finish reasons. Other servers send other strings ("stop"); they are kept as sent."""


class TextGenerationOutputPrefillToken(Model):
    """A prompt token (``details.prefill``, with ``decoder_input_details=True``)."""

    __slots__ = ()

    id: int
    logprob: float | None
    text: str


class TextGenerationOutputToken(Model):
    """A generated token."""

    __slots__ = ()

    id: int
    logprob: float
    special: bool
    text: str


class TextGenerationOutputBestOfSequence(Model):
    """One of the ``best_of`` sequences."""

    __slots__ = ()

    finish_reason: str
    generated_text: str
    generated_tokens: int
    prefill: list[TextGenerationOutputPrefillToken] = child(
        TextGenerationOutputPrefillToken, many=True, required=True
    )
    tokens: list[TextGenerationOutputToken] = child(
        TextGenerationOutputToken, many=True, required=True
    )
    seed: int | None
    top_tokens: list[list[TextGenerationOutputToken]] | None = child(
        TextGenerationOutputToken, many=2
    )


class TextGenerationOutputDetails(Model):
    """The details of a generation (``details=True``)."""

    __slots__ = ()

    finish_reason: str
    generated_tokens: int
    prefill: list[TextGenerationOutputPrefillToken] = child(
        TextGenerationOutputPrefillToken, many=True, required=True
    )
    tokens: list[TextGenerationOutputToken] = child(
        TextGenerationOutputToken, many=True, required=True
    )
    best_of_sequences: list[TextGenerationOutputBestOfSequence] | None = child(
        TextGenerationOutputBestOfSequence, many=True
    )
    seed: int | None
    top_tokens: list[list[TextGenerationOutputToken]] | None = child(
        TextGenerationOutputToken, many=2
    )


class TextGenerationOutput(Model):
    """A (non-stream) text generation: ``generated_text`` and, if asked for, ``details``."""

    __slots__ = ()

    generated_text: str
    details: TextGenerationOutputDetails | None = child(TextGenerationOutputDetails)


class TextGenerationStreamOutputStreamDetails(Model):
    """The details on the last event of a stream (``details=True``)."""

    __slots__ = ()

    finish_reason: str
    generated_tokens: int
    input_length: int
    seed: int | None


class TextGenerationStreamOutputToken(Model):
    """A streamed token. ``id`` is -1 when the server does not say (OpenAI completions)."""

    __slots__ = ()

    id: int
    logprob: float | None
    special: bool
    text: str


_Token = TextGenerationStreamOutputToken
_StreamDetails = TextGenerationStreamOutputStreamDetails


class TextGenerationStreamOutput(Model):
    """One event of a TGI token stream; the last one carries ``generated_text`` and
    ``details``."""

    __slots__ = ()

    index: int
    token: TextGenerationStreamOutputToken = child(TextGenerationStreamOutputToken, required=True)
    details: TextGenerationStreamOutputStreamDetails | None = child(
        TextGenerationStreamOutputStreamDetails
    )
    generated_text: str | None
    top_tokens: list[TextGenerationStreamOutputToken] | None = child(
        TextGenerationStreamOutputToken, many=True
    )

    @classmethod
    def _from_json(cls, raw: dict[str, Any]) -> TextGenerationStreamOutput:
        return parse_stream_event(raw)


def parse_stream_event(raw: dict[str, Any]) -> TextGenerationStreamOutput:
    """A typed stream event from its parsed JSON object (taking ownership of it), flat: the
    hot path of TGI streaming."""
    token = raw.get("token")
    if token is not None:
        if token.__class__ is not dict:
            raise shape_error("token", token)
        raw["token"] = _Token(token)
    top = raw.get("top_tokens")
    if top is not None:
        raw["top_tokens"] = model_list(_Token, top, "top_tokens")
    details = raw.get("details")
    if details is not None:
        if details.__class__ is not dict:
            raise shape_error("details", details)
        raw["details"] = _StreamDetails(details)
    return _Event(raw)


_Event = TextGenerationStreamOutput


def parse_text_generation(body: bytes) -> TextGenerationOutput:
    """Parse a (non-stream) text-generation response body.

    TGI answers with an object; the HF Inference Toolkit with ``[{"generated_text": ...}]``
    (a list: its first item is taken). Raises `MalformedResponseError` (with the body) for
    anything else, and the mapped `InStreamError` for an error object sent with a 2xx status.
    """
    obj = load_json_body(body, "text generation")
    if obj.__class__ is list:
        if not obj:
            raise MalformedResponseError(
                "text generation: the body is an empty list", received=body
            )
        obj = obj[0]
    if obj.__class__ is not dict:
        raise MalformedResponseError(
            f"text generation: expected a JSON object, got {type(obj).__name__}", received=body
        )
    raise_for_error_object(obj, "text generation")
    try:
        return TextGenerationOutput._from_json(obj)
    except MalformedResponseError as exc:
        raise with_received(exc, body) from None


def parse_completion_as_text_generation(body: bytes) -> TextGenerationOutput:
    """Parse an OpenAI ``/v1/completions`` (non-stream) body as a `TextGenerationOutput`.

    ``choices[0].text`` becomes ``generated_text``; ``details`` gets ``finish_reason`` (the
    server's string, kept as sent: "stop", "length"...), ``generated_tokens``
    (``usage.completion_tokens``), ``tokens`` and ``top_tokens`` from the choice's
    ``logprobs`` when the server sent them (see `completion_tokens`) and the prompt's length
    as the extra field ``input_length`` (``usage.prompt_tokens``). The original object stays
    reachable as the extra field ``completion`` (``output.completion`` /
    ``output["completion"]``).
    """
    obj = load_json_body(body, "completion")
    if obj.__class__ is not dict:
        raise MalformedResponseError(
            f"completion: expected a JSON object, got {type(obj).__name__}", received=body
        )
    raise_for_error_object(obj, "completion")
    choices = obj.get("choices")
    if choices.__class__ is not list or not choices or choices[0].__class__ is not dict:
        raise MalformedResponseError(
            "completion: expected a non-empty list of choice objects in 'choices'", received=body
        )
    choice = choices[0]
    text = choice.get("text")
    if text is None:
        text = ""
    elif text.__class__ is not str:
        raise MalformedResponseError("completion: 'text' is not a string", received=body)
    usage = obj.get("usage")
    usage = usage if usage.__class__ is dict else {}
    finish_reason = choice.get("finish_reason")
    raw: dict[str, Any] = {"generated_text": text, "details": None, "completion": obj}
    tokens, top_tokens = completion_tokens(choice.get("logprobs"))
    if finish_reason is not None or usage or tokens:
        details = raw["details"] = {
            "finish_reason": finish_reason,
            "generated_tokens": usage.get("completion_tokens"),
            "input_length": usage.get("prompt_tokens"),
            "prefill": [],
            "tokens": tokens,
        }
        if top_tokens is not None:
            details["top_tokens"] = top_tokens
    return TextGenerationOutput._from_json(raw)


def _token(token_id: Any, text: Any, logprob: Any) -> dict[str, Any]:
    return {"id": -1 if token_id is None else token_id, "text": text, "logprob": logprob,
            "special": False}


def completion_tokens(logprobs: Any) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """The generated tokens (TGI-shaped JSON) and the top alternatives at each position (None
    when the server sent none) of an OpenAI completions choice's ``logprobs``.

    Two shapes are known: llama.cpp's ``{"content": [{"id", "token", "logprob",
    "top_logprobs": [...]}]}`` and OpenAI's legacy ``{"tokens", "token_logprobs",
    "top_logprobs": [{token: logprob}]}`` (vLLM). Token ids are -1 where the server sends none.
    Anything else gives no tokens.
    """
    if logprobs.__class__ is not dict:
        return [], None
    content = logprobs.get("content")
    if content.__class__ is list:
        tokens = []
        tops: list[Any] = []
        for entry in content:
            if entry.__class__ is not dict:
                raise shape_error("logprobs.content[]", entry)
            tokens.append(_token(entry.get("id"), entry.get("token"), entry.get("logprob")))
            top = entry.get("top_logprobs")
            if top.__class__ is list:
                tops.append([
                    _token(t.get("id"), t.get("token"), t.get("logprob"))
                    for t in top
                    if t.__class__ is dict
                ])
        return tokens, (tops if tops else None)
    texts = logprobs.get("tokens")
    if texts.__class__ is not list:
        return [], None
    values = logprobs.get("token_logprobs")
    if values.__class__ is not list or len(values) != len(texts):
        values = [None] * len(texts)
    tokens = [_token(None, text, value) for text, value in zip(texts, values, strict=True)]
    top = logprobs.get("top_logprobs")
    if top.__class__ is list and len(top) == len(texts):
        return tokens, [
            [_token(None, k, v) for k, v in alternatives.items()]
            if alternatives.__class__ is dict
            else []
            for alternatives in top
        ]
    return tokens, None

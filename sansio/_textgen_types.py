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
    field,
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
    "parse_completion_as_text_generation",
    "parse_text_generation",
]

TextGenerationOutputFinishReason = Literal["length", "eos_token", "stop_sequence"]
"""TGI's finish reasons. Other servers send other strings ("stop"); they are kept as sent."""


class TextGenerationOutputPrefillToken(Model):
    __slots__ = ()
    _fields = ("id", "logprob", "text")

    id: int = field("id")
    logprob: float | None = field("logprob")
    text: str = field("text")


class TextGenerationOutputToken(Model):
    __slots__ = ()
    _fields = ("id", "logprob", "special", "text")

    id: int = field("id")
    logprob: float = field("logprob")
    special: bool = field("special")
    text: str = field("text")


def _token_lists(value: Any, what: str) -> list[list[TextGenerationOutputToken]]:
    if value.__class__ is not list:
        raise shape_error(what + "[]", value)
    return [model_list(TextGenerationOutputToken, item, what) for item in value]


class TextGenerationOutputBestOfSequence(Model):
    __slots__ = ("prefill", "tokens", "top_tokens")
    _fields = (
        "finish_reason",
        "generated_text",
        "generated_tokens",
        "prefill",
        "tokens",
        "seed",
        "top_tokens",
    )
    _children = frozenset({"prefill", "tokens", "top_tokens"})

    finish_reason: str = field("finish_reason")
    generated_text: str = field("generated_text")
    generated_tokens: int = field("generated_tokens")
    prefill: list[TextGenerationOutputPrefillToken]
    tokens: list[TextGenerationOutputToken]
    seed: int | None = field("seed")
    top_tokens: list[list[TextGenerationOutputToken]] | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("best_of_sequences[]", raw)
        self._raw = raw
        _init_details(self, raw)


class TextGenerationOutputDetails(Model):
    __slots__ = ("best_of_sequences", "prefill", "tokens", "top_tokens")
    _fields = (
        "finish_reason",
        "generated_tokens",
        "prefill",
        "tokens",
        "best_of_sequences",
        "seed",
        "top_tokens",
    )
    _children = frozenset({"prefill", "tokens", "best_of_sequences", "top_tokens"})

    finish_reason: str = field("finish_reason")
    generated_tokens: int = field("generated_tokens")
    prefill: list[TextGenerationOutputPrefillToken]
    tokens: list[TextGenerationOutputToken]
    best_of_sequences: list[TextGenerationOutputBestOfSequence] | None
    seed: int | None = field("seed")
    top_tokens: list[list[TextGenerationOutputToken]] | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("details", raw)
        self._raw = raw
        _init_details(self, raw)
        best = raw.get("best_of_sequences")
        self.best_of_sequences = (
            None
            if best is None
            else model_list(TextGenerationOutputBestOfSequence, best, "best_of_sequences")
        )


def _init_details(
    obj: TextGenerationOutputDetails | TextGenerationOutputBestOfSequence, raw: dict[str, Any]
) -> None:
    prefill = raw.get("prefill")
    obj.prefill = (
        [] if prefill is None else model_list(TextGenerationOutputPrefillToken, prefill, "prefill")
    )
    tokens = raw.get("tokens")
    obj.tokens = [] if tokens is None else model_list(TextGenerationOutputToken, tokens, "tokens")
    top = raw.get("top_tokens")
    obj.top_tokens = None if top is None else _token_lists(top, "top_tokens")


class TextGenerationOutput(Model):
    """A (non-stream) text generation: ``generated_text`` and, if asked for, ``details``."""

    __slots__ = ("details",)
    _fields = ("generated_text", "details")
    _children = frozenset({"details"})

    generated_text: str = field("generated_text")
    details: TextGenerationOutputDetails | None

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error("text generation", raw)
        self._raw = raw
        details = raw.get("details")
        self.details = None if details is None else TextGenerationOutputDetails(details)


class TextGenerationStreamOutputStreamDetails(Model):
    __slots__ = ()
    _fields = ("finish_reason", "generated_tokens", "input_length", "seed")

    finish_reason: str = field("finish_reason")
    generated_tokens: int = field("generated_tokens")
    input_length: int = field("input_length")
    seed: int | None = field("seed")


class TextGenerationStreamOutputToken(Model):
    """A streamed token. ``id`` is -1 when the server does not say (OpenAI completions)."""

    __slots__ = ()
    _fields = ("id", "logprob", "special", "text")

    id: int = field("id")
    logprob: float | None = field("logprob")
    special: bool = field("special")
    text: str = field("text")


_Token = TextGenerationStreamOutputToken
_StreamDetails = TextGenerationStreamOutputStreamDetails
_EMPTY_TOKEN = TextGenerationStreamOutputToken({})


class TextGenerationStreamOutput(Model):
    """One event of a TGI token stream; the last one carries ``generated_text`` and
    ``details``."""

    __slots__ = ("details", "token", "top_tokens")
    _fields = ("index", "token", "details", "generated_text", "top_tokens")
    _children = frozenset({"token", "details", "top_tokens"})

    index: int = field("index")
    token: TextGenerationStreamOutputToken
    details: TextGenerationStreamOutputStreamDetails | None
    generated_text: str | None = field("generated_text")
    top_tokens: list[TextGenerationStreamOutputToken] | None

    def __init__(self, raw: dict[str, Any]) -> None:
        # The hot path of TGI streaming: keep it flat.
        if raw.__class__ is not dict:
            raise shape_error("text generation stream event", raw)
        self._raw = raw
        token = raw.get("token")
        self.token = _EMPTY_TOKEN if token is None else _Token(token)
        top = raw.get("top_tokens")
        self.top_tokens = None if top is None else model_list(_Token, top, "top_tokens")
        details = raw.get("details")
        self.details = None if details is None else _StreamDetails(details)


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
    raise_for_error_object(obj)
    try:
        return TextGenerationOutput(obj)
    except MalformedResponseError as exc:
        raise with_received(exc, body) from None


def parse_completion_as_text_generation(body: bytes) -> TextGenerationOutput:
    """Parse an OpenAI ``/v1/completions`` (non-stream) body as a `TextGenerationOutput`.

    ``choices[0].text`` becomes ``generated_text``; ``details`` gets ``finish_reason`` (the
    server's string, kept as sent: "stop", "length"...) and ``generated_tokens``
    (``usage.completion_tokens``). The original object stays reachable as the extra field
    ``completion`` (``output.completion`` / ``output["completion"]``).
    """
    obj = load_json_body(body, "completion")
    if obj.__class__ is not dict:
        raise MalformedResponseError(
            f"completion: expected a JSON object, got {type(obj).__name__}", received=body
        )
    raise_for_error_object(obj)
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
    if finish_reason is not None or usage:
        raw["details"] = {
            "finish_reason": finish_reason,
            "generated_tokens": usage.get("completion_tokens"),
        }
    return TextGenerationOutput(raw)

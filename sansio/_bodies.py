"""Bodies that answer a call in an unusual way, and small documents.

A stream request may be answered with one complete JSON body instead of an event stream (the
HF Inference Toolkit ignores ``stream``; some servers send a 200 with an error object); these
helpers turn such a body into the one item of a stream, or into the error it carries.
"""

from __future__ import annotations

import json
from typing import Any

from ._chat_types import ChatCompletionOutput, ChatCompletionStreamOutput
from ._errors import MalformedResponseError, in_stream_error
from ._http import ResponseHead
from ._textgen_types import TextGenerationOutput, TextGenerationStreamOutput

__all__ = [
    "JSON_BODY_LIMIT",
    "Prefilled",
    "chat_stream_item",
    "check_json_error",
    "is_event_stream",
    "parse_endpoint_info",
    "text_stream_item",
]

JSON_BODY_LIMIT = 64 << 20
"""Largest JSON body read when a server answers a stream request without streaming."""


def is_event_stream(head: ResponseHead) -> bool:
    content_type = (head.header("content-type") or "").lower()
    return not content_type or "event-stream" in content_type or "text/plain" in content_type


class Prefilled:
    """A decoder for a stream request the server answered with one complete JSON body."""

    __slots__ = ("_items",)

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    @property
    def finished(self) -> bool:
        return True

    def feed(self, data: bytes) -> list[Any]:
        return []

    def close(self) -> list[Any]:
        items, self._items = self._items, []
        return items


def check_json_error(body: bytes) -> None:
    """Raise the in-body error of a 200 JSON answer to a stream request, if it carries one."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise MalformedResponseError(
            "the JSON answer to a stream request is nested too deeply to read",
            received=body) from None
    except ValueError:
        raise MalformedResponseError(
            "expected an event stream or a JSON body", received=body) from None
    if isinstance(data, dict) and data.get("error") is not None:
        raise in_stream_error(data["error"], data.get("error_type"))


def chat_stream_item(output: ChatCompletionOutput) -> ChatCompletionStreamOutput:
    data = dict(output.to_dict())
    choices = []
    for choice in data.get("choices") or []:
        if isinstance(choice, dict):
            choices.append({
                "index": choice.get("index", 0),
                "delta": choice.get("message") or {},
                "finish_reason": choice.get("finish_reason"),
                "logprobs": choice.get("logprobs"),
            })
    data["choices"] = choices
    data["object"] = "chat.completion.chunk"
    return ChatCompletionStreamOutput.parse(data)


def text_stream_item(output: TextGenerationOutput, details: bool) -> Any:
    """The one stream item of a text-generation body: its text, or a final detailed event."""
    if not details:
        return output.generated_text
    item = {
        "index": 0,
        "token": {"id": -1, "text": output.generated_text, "logprob": None, "special": False},
        "generated_text": output.generated_text,
        "details": output.details.to_dict() if output.details is not None else None,
    }
    return TextGenerationStreamOutput.parse(item)


def parse_endpoint_info(body: bytes) -> dict[str, Any]:
    """An endpoint's ``/info`` document (a JSON object)."""
    try:
        info = json.loads(body)
    except RecursionError:
        raise MalformedResponseError("the /info response is nested too deeply to read",
                                     received=body) from None
    except ValueError:
        raise MalformedResponseError("the /info response is not JSON", received=body) from None
    if not isinstance(info, dict):
        raise MalformedResponseError("the /info response is not a JSON object", received=body)
    return info

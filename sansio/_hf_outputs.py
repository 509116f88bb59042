"""How the answers of the hf-inference tasks are read: one reader per answer shape.

A reader takes the complete `Response` and returns the task's result: typed objects (the
types of ``inferwire.sansio._types``, imported when a task first needs them, so that
``import inferwire.sansio`` does not pay for a hundred classes), plain numbers, or the bytes
of an image, a clip or a video. A JSON error object sent with a 2xx status raises the mapped
error; any other shape than the task's raises `MalformedResponseError` with the body.
"""

from __future__ import annotations

import base64
import binascii
import importlib
from collections.abc import Callable
from typing import Any

from ._errors import MalformedResponseError
from ._http import Response
from ._models import Model, load_json_body, raise_for_error_object, with_received

__all__ = [
    "OutputReader",
    "audio_elements",
    "binary",
    "elements",
    "first_element",
    "floats",
    "one_or_many",
    "result_type",
    "single",
    "values",
    "zero_shot_elements",
]

OutputReader = Callable[[Response], Any]


def result_type(module: str, name: str) -> type[Model]:
    """The result class `name` of ``inferwire.sansio._types.<module>`` (imported on demand)."""
    cls: type[Model] = getattr(importlib.import_module(f"._types.{module}", __package__), name)
    return cls


def _json(response: Response, what: str) -> Any:
    data = load_json_body(response.body, what)
    if isinstance(data, dict):
        raise_for_error_object(data, what)
    return data


def _typed(cls: type[Model], value: Any, response: Response, what: str) -> Model:
    if not isinstance(value, dict):
        raise MalformedResponseError(
            f"{what}: expected a JSON object, got {type(value).__name__}",
            received=response.body)
    try:
        return cls._from_json(value)
    except MalformedResponseError as exc:
        raise with_received(exc, response.body) from None


def _list(data: Any, response: Response, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise MalformedResponseError(f"{what}: expected a JSON list, got {type(data).__name__}",
                                     received=response.body)
    return data


def elements(module: str, name: str, *, nested: bool = False) -> OutputReader:
    """A list of typed elements. With `nested`, a list of such lists (one per input, as
    text classification answers) gives its first list."""

    def read(response: Response) -> list[Model]:
        cls = result_type(module, name)
        data = _list(_json(response, name), response, name)
        if nested and data and isinstance(data[0], list):
            data = data[0]
        return [_typed(cls, item, response, name) for item in data]

    return read


def first_element(module: str, name: str) -> OutputReader:
    """One typed object: the first of a list (summaries, translations, captions), or the
    object itself."""

    def read(response: Response) -> Model:
        cls = result_type(module, name)
        data = _json(response, name)
        if isinstance(data, list):
            if not data:
                raise MalformedResponseError(f"{name}: the answer is an empty list",
                                             received=response.body)
            data = data[0]
        return _typed(cls, data, response, name)

    return read


single = first_element
"""One typed object (an object, or a list of one)."""


def one_or_many(module: str, name: str) -> OutputReader:
    """A typed object, or a list of them when the server sends a list (``top_k`` > 1)."""

    def read(response: Response) -> Model | list[Model]:
        cls = result_type(module, name)
        data = _json(response, name)
        if isinstance(data, list):
            return [_typed(cls, item, response, name) for item in data]
        return _typed(cls, data, response, name)

    return read


def floats() -> OutputReader:
    """A list of numbers, as floats."""

    def read(response: Response) -> list[float]:
        data = _list(_json(response, "scores"), response, "scores")
        out = []
        for value in data:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise MalformedResponseError(
                    f"expected a list of numbers, found {type(value).__name__} {value!r:.40}",
                    received=response.body)
            out.append(float(value))
        return out

    return read


def values() -> OutputReader:
    """A list of values as the server sent them (the labels of tabular classification)."""

    def read(response: Response) -> list[Any]:
        return _list(_json(response, "labels"), response, "labels")

    return read


def binary() -> OutputReader:
    """The body's bytes (an image, audio, a video). A JSON error object is raised instead."""

    def read(response: Response) -> bytes:
        content_type = (response.header("content-type") or "").split(";", 1)[0].strip()
        if content_type == "application/json":
            data = _json(response, "binary answer")
            raise MalformedResponseError(
                f"expected binary content (an image, audio or video), got JSON "
                f"{type(data).__name__}", received=response.body)
        return response.body

    return read


def audio_elements() -> OutputReader:
    """Audio-to-audio: ``[{"label", "blob": base64, "content-type"}]``, the blobs decoded."""

    def read(response: Response) -> list[Model]:
        cls = result_type("audio_to_audio", "AudioToAudioOutputElement")
        out = []
        for item in _list(_json(response, "audio"), response, "audio"):
            if not isinstance(item, dict) or not isinstance(item.get("blob"), str):
                raise MalformedResponseError(
                    "audio-to-audio: expected objects with a base64 'blob'",
                    received=response.body)
            try:
                blob = base64.b64decode(item["blob"], validate=True)
            except (binascii.Error, ValueError):
                raise MalformedResponseError("audio-to-audio: a 'blob' is not valid base64",
                                             received=response.body) from None
            fields = {k: v for k, v in item.items() if k != "content-type"}
            fields["blob"] = blob
            fields["content_type"] = item.get("content-type", item.get("content_type"))
            out.append(cls(**fields))
        return out

    return read


def zero_shot_elements() -> OutputReader:
    """Zero-shot classification: a list of ``{"label", "score"}``, or the older single
    object ``{"sequence", "labels", "scores"}`` turned into that list."""

    def read(response: Response) -> list[Model]:
        cls = result_type("zero_shot_classification", "ZeroShotClassificationOutputElement")
        data = _json(response, "zero-shot classification")
        if isinstance(data, dict) and "labels" in data:
            labels, scores = data.get("labels"), data.get("scores")
            if not isinstance(labels, list) or not isinstance(scores, list) or len(
                labels
            ) != len(scores):
                raise MalformedResponseError(
                    "zero-shot classification: 'labels' and 'scores' must be lists of the "
                    "same length", received=response.body)
            return [cls(label=label, score=score)
                    for label, score in zip(labels, scores, strict=True)]
        items = _list(data, response, "zero-shot classification")
        return [_typed(cls, item, response, "ZeroShotClassificationOutputElement")
                for item in items]

    return read

"""The hf-inference task cassettes of huggingface_hub: which inferwire call replays each
recorded request, what its request must carry, and what its result must be.

Two eras of cassettes record these tasks: ``InferenceClientVCRTest`` (api-inference, older
clients) and ``TestInferenceClient`` (the router, huggingface_hub 1.x/2.x). Their request
bodies place the same content differently (``{"question", "context"}`` at the root or under
``inputs``, labels as "a,b" or a list); requests are compared in one canonical form
(`canonical_request`), and the placements inferwire chooses are in `sansio/_hf_tasks.py`.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from conformance import Interaction

_ROUTES = ("/hf-inference/", "api-inference.huggingface.co/models/",
           "/pipeline/sentence-similarity/")
#: an early zero-shot image endpoint answered the bare text "tree": no shape to replay
_ANSWERS_NOT_JSON = frozenset({"InferenceClientVCRTest.test_zero_image_classification.yaml"})
# cassette test name -> method (the rest are the method's own name)
_ALIASES: dict[str, str] = {}
_SUFFIXES = ("_default", "_with_parameters", "_with_source_and_target_language",
             "_multi_label", "_single_label")
TASK_METHODS = frozenset({
    "audio_classification", "audio_to_audio", "automatic_speech_recognition",
    "document_question_answering", "fill_mask", "image_classification", "image_segmentation",
    "image_to_text", "object_detection", "question_answering", "sentence_similarity",
    "summarization", "table_question_answering", "text_classification", "text_to_image",
    "text_to_speech", "token_classification", "translation", "visual_question_answering",
    "zero_shot_classification", "zero_shot_image_classification",
})


def task_method(it: Interaction) -> str | None:
    """The task method a cassette's hf-inference POST exercises, or None."""
    if it.method != "POST":
        return None
    if not any(route in it.uri for route in _ROUTES) or it.cassette in _ANSWERS_NOT_JSON:
        return None
    match = re.match(r"(?:TestInferenceClient|InferenceClientVCRTest)\.test_([a-z_]+)",
                     it.cassette)
    if match is None:
        return None
    name = match.group(1)
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    name = _ALIASES.get(name, name)
    return name if name in TASK_METHODS else None


def _labels(value: Any) -> list[str]:
    return value.split(",") if isinstance(value, str) else list(value)


def _part(body: dict[str, Any], key: str) -> Any:
    inputs = body.get("inputs")
    if isinstance(inputs, dict) and key in inputs:
        return inputs[key]
    return body.get(key)


def task_call(it: Interaction, method: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The (args, kwargs) of the inferwire call that sends `it`'s request."""
    if it.request_json is None:  # a file posted as is
        assert isinstance(it.request_body, bytes)
        return (it.request_body,), {}
    body: dict[str, Any] = it.request_json
    params = dict(body.get("parameters") or {})
    inputs = body.get("inputs")
    if method == "question_answering":
        return (_part(body, "question"), _part(body, "context")), params
    if method in ("document_question_answering", "visual_question_answering"):
        image = _part(body, "image")
        if not isinstance(image, str):  # VQA of huggingface_hub 1.x: the image as inputs
            image = inputs
        return (base64.b64decode(image), _part(body, "question")), params
    if method == "sentence_similarity":
        return (_part(body, "source_sentence"), _part(body, "sentences")), params
    if method == "table_question_answering":
        return (_part(body, "table"), _part(body, "query")), params
    if method == "zero_shot_classification":
        labels = _labels(params.pop("candidate_labels"))
        return (inputs, labels), params
    if method == "zero_shot_image_classification":
        image = inputs if isinstance(inputs, str) else _part(body, "image")
        labels = params.pop("candidate_labels", None) or _part(body, "text")
        return (base64.b64decode(image), _labels(labels)), params
    if method == "text_classification" and isinstance(inputs, list):
        return (inputs[0],), params  # one text, sent as a list by older clients
    return (inputs,), params


def canonical_request(method: str, body: bytes, content_json: Any) -> Any:
    """A request's content in one form, whatever the client's placement: the raw bytes, or
    ``{"inputs": {...}, "parameters": {...}}`` with the parts under ``inputs``, images
    decoded, labels as lists and defaults (``multi_label: false``) dropped."""
    if content_json is None:
        return body
    args, kwargs = task_call(_Fake(body, content_json), method)
    if method == "zero_shot_classification" and kwargs.get("multi_label") is False:
        kwargs.pop("multi_label")
    return {"args": list(args), "parameters": kwargs}


class _Fake:
    """Enough of an `Interaction` for `task_call` over a request we sent."""

    def __init__(self, body: bytes, content_json: Any) -> None:
        self.request_body = body
        self.request_json = content_json


def check_task(method: str, result: Any, it: Interaction) -> None:
    """`result` is what the recorded answer says, in the task's return type."""
    if method in ("text_to_image",):
        from PIL import Image

        expected = Image.open(io.BytesIO(it.body))
        assert isinstance(result, Image.Image)
        assert result.size == expected.size
        return
    if method == "text_to_speech":
        assert result == it.body
        return
    recorded = json.loads(it.body)
    if method == "audio_to_audio":
        assert [(e.label, e.blob, e.content_type) for e in result] == [
            (r["label"], base64.b64decode(r["blob"]), r["content-type"]) for r in recorded]
        return
    if method == "image_segmentation":
        from PIL import Image

        assert [(e.label, e.score) for e in result] == [(r["label"], r["score"])
                                                        for r in recorded]
        for element, raw in zip(result, recorded, strict=True):
            assert isinstance(element.mask, Image.Image)
            assert element.mask.size == Image.open(
                io.BytesIO(base64.b64decode(raw["mask"]))).size
        return
    if method == "zero_shot_classification" and isinstance(recorded, dict):
        assert [(e.label, e.score) for e in result] == list(
            zip(recorded["labels"], recorded["scores"], strict=True))
        return
    plain = json.loads(json.dumps(result))
    if method == "text_classification" and recorded and isinstance(recorded[0], list):
        recorded = recorded[0]
    if method in ("summarization", "translation", "image_to_text") and isinstance(recorded,
                                                                                   list):
        recorded = recorded[0]
    assert plain == recorded
    # and typed: the elements are huggingface_hub's types
    first = result[0] if isinstance(result, list) and result else result
    if isinstance(first, dict):
        assert type(first).__module__.startswith("inferwire.sansio._types."), type(first)

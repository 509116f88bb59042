"""What the fake server answers when a model (or ``root_task``) plays an hf-inference task:
the request is checked the way hf-inference checks it (a wrong shape gets a 400 ``{"error"}``),
and the default reply is built from it with the builders of `._hf_tasks`.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import _hf_tasks as build
from ._common import _json_body
from ._hf_tasks import Box
from ._reply import RecordedRequest, Reply, dumps

JSON_TASKS = frozenset({
    "fill-mask", "question-answering", "sentence-similarity", "summarization",
    "table-question-answering", "tabular-classification", "tabular-regression",
    "text-classification", "text-to-image", "text-to-speech", "text-to-video",
    "token-classification", "translation", "zero-shot-classification",
    "document-question-answering", "visual-question-answering",
})
"""Tasks whose request is JSON ``{"inputs", "parameters"?}`` (the question answering ones over
images carry the image base64-encoded in it)."""

BINARY_TASKS = frozenset({
    "audio-classification", "audio-to-audio", "automatic-speech-recognition",
    "image-classification", "image-segmentation", "image-to-image", "image-to-text",
    "image-to-video", "object-detection", "zero-shot-image-classification",
})
"""Tasks whose input is a file: a raw body, or JSON ``{"inputs": "<base64>", "parameters"}``."""

HF_TASKS = JSON_TASKS | BINARY_TASKS
"""Every task `task_reply` plays (the server adds text-generation and feature-extraction)."""

_MASKS = ("<mask>", "[MASK]")
_SENTENCE_START = re.compile(r"^(?:.*[.!?])?\s*$", re.DOTALL)
_CAPITALISED = re.compile(r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")


class TaskInputError(ValueError):
    """The request does not have the shape the task needs (answered with a 400)."""


def _bad_request(message: str) -> Reply:
    return _json_body({"error": message}, {}, status=400)


def _object(request: RecordedRequest) -> dict[str, Any]:
    body = request.json
    if not isinstance(body, dict):
        raise TaskInputError(
            "Body needs to be a JSON object with an inputs key, received: "
            + (repr(request.body[:60]) if body is None else dumps(body)[:60])
        )
    return body


def _parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    params = body.get("parameters")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise TaskInputError(f"parameters must be an object, got {dumps(params)[:60]}")
    return params


def _text(body: Mapping[str, Any], name: str = "inputs") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise TaskInputError(f"{name} must be a non-empty string")
    return value


def _decode(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise TaskInputError(f"{name} must be a base64-encoded file")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TaskInputError(f"{name} is not valid base64") from None
    if not data:
        raise TaskInputError(f"{name} is empty")
    return data


def _file_input(request: RecordedRequest) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """A binary task's input: (file bytes, parameters, the JSON body or {})."""
    content_type = (request.header("content-type") or "").lower()
    body = request.json
    if isinstance(body, dict) and ("inputs" in body or "json" in content_type):
        return _decode(body.get("inputs"), "inputs"), _parameters(body), body
    if "application/json" in content_type:
        raise TaskInputError('a JSON body must be {"inputs": "<base64>", "parameters": {...}}')
    if not request.body:
        raise TaskInputError("the request has no body: send the file, or JSON with inputs")
    return request.body, {}, {}


def _int(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TaskInputError(f"parameters.{name} must be a positive integer")
    return value


def _float(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TaskInputError(f"parameters.{name} must be a number")
    return float(value)


def _top(items: Sequence[tuple[str, float]], params: Mapping[str, Any]) -> list[tuple[str, float]]:
    top_k = _int(params, "top_k")
    return list(items if top_k is None else items[:top_k])


def _labels(params: Mapping[str, Any]) -> list[str]:
    labels = params.get("candidate_labels")
    if isinstance(labels, str):
        labels = [label.strip() for label in labels.split(",") if label.strip()]
    if not isinstance(labels, list) or not labels or not all(
        isinstance(label, str) for label in labels
    ):
        raise TaskInputError("parameters.candidate_labels must be a non-empty list of strings")
    return labels


def _spread(labels: Sequence[str], *, multi_label: bool = False) -> list[tuple[str, float]]:
    """Deterministic decreasing scores for ``labels`` (summing to 1 unless ``multi_label``)."""
    weights = [1 / (i + 1) ** 2 for i in range(len(labels))]
    total = 1.0 if multi_label else sum(weights)
    return [(label, round(w / total, 6)) for label, w in zip(labels, weights, strict=True)]


def _table(value: Any, name: str) -> dict[str, list[Any]]:
    if not isinstance(value, dict) or not value or not all(
        isinstance(column, list) for column in value.values()
    ):
        raise TaskInputError(f"{name} must be an object of columns (name: list of cells)")
    lengths = {len(column) for column in value.values()}
    if len(lengths) != 1:
        raise TaskInputError(f"{name}: every column must have the same number of cells")
    return value


def _image_size(params: Mapping[str, Any], default: tuple[int, int]) -> tuple[int, int]:
    target = params.get("target_size")
    if isinstance(target, dict):
        params = target
    width, height = _int(params, "width"), _int(params, "height")
    # Small images, whatever was asked: each side is capped at 64 pixels.
    return (
        default[0] if width is None else min(64, width),
        default[1] if height is None else min(64, height),
    )


def _image_type(request: RecordedRequest) -> str:
    accept = (request.header("accept") or "").lower()
    types = [part.split(";")[0].strip() for part in accept.split(",")]
    if "image/bmp" in types and "image/png" not in types:
        return "image/bmp"
    return "image/png"


def task_reply(task: str, request: RecordedRequest) -> Reply:
    """The reply hf-inference gives ``request`` for ``task``: a 400 ``{"error"}`` when its shape
    is wrong, else the task's default reply, built from the request where that is cheap."""
    try:
        return _play(task, request)
    except TaskInputError as exc:
        return _bad_request(str(exc))


def _play(task: str, request: RecordedRequest) -> Reply:
    if task in BINARY_TASKS:
        data, params, _body = _file_input(request)
        return _play_file(task, data, params, request)
    if task not in JSON_TASKS:
        raise ValueError(f"unknown task {task!r}")
    body = _object(request)
    params = _parameters(body)
    inputs = body.get("inputs")
    if task == "text-classification":
        items = (("POSITIVE", 0.9998), ("NEGATIVE", 0.0002))
        if isinstance(inputs, list) and inputs and all(isinstance(t, str) for t in inputs):
            return _json_list([build._label_list(_top(items, params)) for _ in inputs])
        _text(body)
        return build.text_classification(_top(items, params))
    if task == "token-classification":
        text = _text(body)
        strategy = params.get("aggregation_strategy", "simple")
        entities: list[dict[str, Any]] = []
        for match in _CAPITALISED.finditer(text):
            if " " not in match.group() and _SENTENCE_START.match(text[: match.start()]):
                continue  # a capital that only starts the sentence: not a name
            if strategy == "none":
                for n, word in enumerate(re.finditer(r"\S+", match.group())):
                    entities.append({
                        "entity": ("B-" if n == 0 else "I-") + "PER", "score": 0.99,
                        "index": len(entities) + 1, "word": word.group(),
                        "start": match.start() + word.start(), "end": match.start() + word.end(),
                    })
            else:
                entities.append({"entity_group": "PER", "score": 0.99, "word": match.group(),
                                 "start": match.start(), "end": match.end()})
        return build.token_classification(entities)
    if task == "fill-mask":
        text = _text(body)
        mask = next((m for m in _MASKS if m in text), None)
        if mask is None:
            raise TaskInputError(f"No mask_token ({_MASKS[0]}) found on the input")
        targets = params.get("targets")
        if isinstance(targets, str):
            targets = [targets]
        words = (
            [str(t) for t in targets] if isinstance(targets, list) and targets
            else [" happiness", " freedom", " love", " peace", " knowledge"]
        )
        return build.fill_mask(words[: _int(params, "top_k") or 5], text=text, mask=mask)
    if task == "question-answering":
        pair = inputs if isinstance(inputs, dict) else body
        _text(pair, "question")
        context = _text(pair, "context")
        first = re.search(r"\S+", context)
        answer, start = (first.group(), first.start()) if first else (context, 0)
        top_k = _int(params, "top_k")
        return build.question_answering(answer, start=start,
                                        as_list=top_k is not None and top_k > 1)
    if task == "zero-shot-classification":
        text = _text(body)
        multi = bool(params.get("multi_label", False))
        return build.zero_shot_classification(_spread(_labels(params), multi_label=multi),
                                        sequence=text)
    if task == "summarization":
        words = _text(body).split()
        return build.summarization(" ".join(words[: max(1, min(12, len(words) // 2))]))
    if task == "translation":
        return build.translation(_text(body))
    if task == "table-question-answering":
        holder = inputs if isinstance(inputs, dict) else body
        _text(holder, "query")
        table = _table(holder.get("table"), "table")
        column = next(iter(table.values()))
        if not column:
            raise TaskInputError("table has no rows")
        cell = str(column[0])
        return build.table_question_answering(cell, coordinates=((0, 0),), cells=[cell])
    if task in ("tabular-classification", "tabular-regression"):
        raw_table = body.get("table", inputs.get("data", inputs) if isinstance(inputs, dict)
                             else inputs)
        rows = len(next(iter(_table(raw_table, "table").values())))
        if task == "tabular-classification":
            return build.tabular_classification([str(i % 2) for i in range(rows)])
        return build.tabular_regression([round(0.5 + i, 2) for i in range(rows)])
    if task == "sentence-similarity":
        holder = inputs if isinstance(inputs, dict) else body
        source = _text(holder, "source_sentence")
        sentences = holder.get("sentences")
        if not isinstance(sentences, list) or not sentences or not all(
            isinstance(s, str) for s in sentences
        ):
            raise TaskInputError("sentences must be a non-empty list of strings")
        return build.sentence_similarity([_similarity(source, s) for s in sentences])
    if task == "text-to-image":
        _text(body)
        width, height = _image_size(params, (8, 8))
        return build.text_to_image(width=width, height=height, content_type=_image_type(request))
    if task == "text-to-speech":
        text = _text(body)
        return build.text_to_speech(seconds=min(2.0, max(0.05, 0.01 * len(text))))
    if task == "text-to-video":
        _text(body)
        return build.text_to_video()
    # visual and document question answering: an image and a question, in inputs or at the root
    holder = inputs if isinstance(inputs, dict) else body
    image = holder.get("image", inputs if isinstance(inputs, str) else None)
    data = _decode(image, "image")
    question = holder.get("question", body.get("question"))
    if not isinstance(question, str) or not question:
        raise TaskInputError("question must be a non-empty string")
    top_k = _int(params, "top_k")
    if task == "visual-question-answering":
        return build.visual_question_answering(_top(_spread(["yes", "no", "maybe"]), params))
    answers = [(f"{len(data)} bytes", 0.96), ("unknown", 0.02)]
    return build.document_question_answering(answers[: top_k or 1])


def _similarity(a: str, b: str) -> float:
    va, vb = build.fake_embedding(a, 32), build.fake_embedding(b, 32)
    dot = sum(x * y for x, y in zip(va, vb, strict=True))
    norm = math.sqrt(sum(x * x for x in va)) * math.sqrt(sum(y * y for y in vb))
    return round(dot / norm, 6) if norm else 0.0


def _json_list(obj: Any) -> Reply:
    """Any JSON value as a 200 reply (used for batched inputs)."""
    return _json_body(obj, {})


def _play_file(
    task: str, data: bytes, params: Mapping[str, Any], request: RecordedRequest
) -> Reply:
    if task == "automatic-speech-recognition":
        text = f"a fake transcription of {len(data)} bytes"
        generation = params.get("generation_parameters")
        timestamps = params.get("return_timestamps") or (
            isinstance(generation, dict) and generation.get("return_timestamps")
        )
        return build.automatic_speech_recognition(
            text, chunks=[(text, 0.0, round(len(data) / 32000, 3))] if timestamps else None
        )
    if task == "audio-classification":
        return build.audio_classification(_top((("male", 0.9987), ("female", 0.0013)), params))
    if task == "audio-to-audio":
        return build.audio_to_audio()
    if task == "image-classification":
        return build.image_classification(
            _top((("tabby cat", 0.82), ("tiger cat", 0.12), ("lynx", 0.06)), params)
        )
    if task == "image-segmentation":
        threshold = _float(params, "threshold") or 0.0
        segments = [(label, s) for label, s in (("person", 0.99), ("LABEL_199", 0.92),
                                                ("sky", 0.4)) if s >= threshold]
        return build.image_segmentation(segments)
    if task == "object-detection":
        given = _float(params, "threshold")
        threshold = 0.5 if given is None else given
        found: list[tuple[str, float, Box]] = [
            ("person", 0.95, (1, 1, 6, 7)), ("umbrella", 0.57, (0, 0, 7, 4)),
            ("dog", 0.31, (2, 4, 5, 7)),
        ]
        return build.object_detection([d for d in found if d[1] >= threshold])
    if task == "image-to-text":
        return build.image_to_text(f"a fake caption of a {len(data)}-byte image")
    if task == "image-to-image":
        width, height = _image_size(params, (8, 8))
        return build.image_to_image(width=width, height=height, content_type=_image_type(request))
    if task == "image-to-video":
        return build.image_to_video()
    # zero-shot image classification
    return build.zero_shot_image_classification(_spread(_labels(params)))

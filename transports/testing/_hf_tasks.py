"""hf-inference replies: feature extraction and the task pipelines (text, image, audio...).

Each builder returns a `Reply` with the body hf-inference (``router.huggingface.co/hf-inference``
and Inference Endpoints running the HF Inference Toolkit) sends for one task, in the shapes the
huggingface_hub VCR cassettes recorded. `task_reply` is what `FakeInferenceServer` answers when
a model or ``root_task`` plays a task: it checks the request like hf-inference and builds the
default reply from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import struct
import wave
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from ._common import _build, _json_body
from ._fake_server import RecordedRequest, Reply, ReplyOptions, dumps

if TYPE_CHECKING:
    from typing_extensions import Unpack

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



def hf_features(nested: Any, **options: Unpack[ReplyOptions]) -> Reply:
    """An HF feature-extraction reply: ``nested`` (lists of floats, any depth) as JSON."""
    return _json_body(nested, options)



# --------------------------------------------------------------------------------------------
# Media: small valid files built with the standard library
# --------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, rows: Sequence[bytes], color_type: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (None) on every row
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def _check_size(width: int, height: int) -> None:
    if not (1 <= width <= 4096 and 1 <= height <= 4096):
        raise ValueError(f"image size must be 1..4096 pixels a side, got {width}x{height}")


def fake_png(width: int = 8, height: int = 8, *, seed: str = "") -> bytes:
    """A valid RGB PNG of ``width`` x ``height`` pixels (a deterministic gradient of ``seed``)."""
    _check_size(width, height)
    tint = hashlib.sha256(seed.encode()).digest()
    rows = [
        bytes(
            channel
            for x in range(width)
            for channel in (
                (x * 255 // max(1, width - 1)) ^ tint[0],
                (y * 255 // max(1, height - 1)) ^ tint[1],
                tint[2],
            )
        )
        for y in range(height)
    ]
    return _png(width, height, rows, color_type=2)


def fake_mask_png(width: int = 8, height: int = 8, *, index: int = 0) -> bytes:
    """A valid grayscale PNG mask (0 or 255 per pixel), as image segmentation returns."""
    _check_size(width, height)
    rows = [
        bytes(255 if (x + y + index) % (index + 2) == 0 else 0 for x in range(width))
        for y in range(height)
    ]
    return _png(width, height, rows, color_type=0)


def fake_bmp(width: int = 8, height: int = 8) -> bytes:
    """A valid 24-bit BMP (for a text-to-image request that ``Accept``-s only ``image/bmp``)."""
    _check_size(width, height)
    stride = (width * 3 + 3) // 4 * 4
    pixels = b"".join(
        bytes(c for x in range(width) for c in (x * 31 % 256, y * 31 % 256, 128)).ljust(
            stride, b"\x00"
        )
        for y in range(height)
    )
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def fake_wav(seconds: float = 0.1, sample_rate: int = 16000) -> bytes:
    """A valid mono 16-bit PCM WAV: a quiet 440 Hz tone lasting ``seconds``."""
    if seconds < 0 or sample_rate < 1:
        raise ValueError("seconds must be >= 0 and sample_rate >= 1")
    frames = round(seconds * sample_rate)
    samples = struct.pack(
        f"<{frames}h",
        *(round(3000 * math.sin(2 * math.pi * 440 * i / sample_rate)) for i in range(frames)),
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def fake_mp4(payload: bytes = b"inferwire fake video") -> bytes:
    """Bytes that look like an MP4 file: an ``ftyp`` box (``isom``), a ``free`` and an ``mdat``
    box holding ``payload``. Not playable; enough for a client that checks the signature."""
    return (
        _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
        + _box(b"free", b"")
        + _box(b"mdat", payload)
    )


# --------------------------------------------------------------------------------------------
# Task replies (JSON)
# --------------------------------------------------------------------------------------------

LabelScores: TypeAlias = Sequence[tuple[str, float]] | Mapping[str, float]
"""Labels and their scores, in the order sent: ``[("POSITIVE", 0.99), ...]`` or a mapping."""


def _pairs(labels_scores: LabelScores) -> list[tuple[str, float]]:
    items = labels_scores.items() if isinstance(labels_scores, Mapping) else labels_scores
    out = []
    for label, score in items:
        if not isinstance(label, str):
            raise TypeError(f"labels must be str, got {label!r}")
        out.append((label, float(score)))
    return out


def _label_list(labels_scores: LabelScores) -> list[dict[str, Any]]:
    return [{"label": label, "score": score} for label, score in _pairs(labels_scores)]


def text_classification(
    labels_scores: LabelScores = (("POSITIVE", 0.9998), ("NEGATIVE", 0.0002)),
    *,
    nested: bool = True,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Text classification: ``[[{"label", "score"}, ...]]``, the nested list hf-inference
    sends for one input (``nested=False`` sends the flat list)."""
    items = _label_list(labels_scores)
    return _json_body([items] if nested else items, options)


def image_classification(
    labels_scores: LabelScores = (("tabby cat", 0.82), ("tiger cat", 0.12), ("lynx", 0.06)),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Image classification: ``[{"label", "score"}, ...]``."""
    return _json_body(_label_list(labels_scores), options)


def audio_classification(
    labels_scores: LabelScores = (("male", 0.9987), ("female", 0.0013)),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Audio classification: ``[{"label", "score"}, ...]``."""
    return _json_body(_label_list(labels_scores), options)


def zero_shot_image_classification(
    labels_scores: LabelScores = (("cat", 0.9), ("dog", 0.1)),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Zero-shot image classification: ``[{"label", "score"}, ...]``."""
    return _json_body(_label_list(labels_scores), options)


def zero_shot_classification(
    labels_scores: LabelScores = (("positive", 0.9), ("negative", 0.1)),
    *,
    sequence: str = "",
    as_list: bool = False,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Zero-shot text classification.

    hf-inference sends the transformers pipeline's object ``{"sequence", "labels",
    "scores"}`` (as the huggingface_hub cassettes recorded; the client turns it into a list
    of ``{"label", "score"}``). ``as_list=True`` sends that list instead.
    """
    pairs = _pairs(labels_scores)
    if as_list:
        return _json_body(_label_list(pairs), options)
    return _json_body(
        {
            "sequence": sequence,
            "labels": [label for label, _ in pairs],
            "scores": [score for _, score in pairs],
        },
        options,
    )


def token_classification(
    entities: Sequence[Mapping[str, Any]] = (
        {"entity_group": "PER", "score": 0.9991, "word": "Sarah", "start": 11, "end": 16},
    ),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Token classification: ``[{"entity_group" | "entity", "score", "word", "start",
    "end"}, ...]`` (each entity sent as given)."""
    return _json_body([dict(e) for e in entities], options)


def fill_mask(
    tokens: Sequence[str] = (" happiness", " freedom"),
    *,
    text: str = "The goal of life is <mask>.",
    mask: str = "<mask>",
    scores: Sequence[float] | None = None,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Fill mask: ``[{"score", "token", "token_str", "sequence"}, ...]``, one per token put in
    place of ``mask`` in ``text`` (token ids are deterministic)."""
    got = [round(0.5 / (i + 1), 4) for i in range(len(tokens))] if scores is None else list(scores)
    if len(got) != len(tokens):
        raise ValueError("give one score per token")
    return _json_body(
        [
            {
                "score": score,
                "token": _token_number(token),
                "token_str": token,
                "sequence": text.replace(mask, token.strip(), 1),
            }
            for token, score in zip(tokens, got, strict=True)
        ],
        options,
    )


def _token_number(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "little") + 1000


def question_answering(
    answer: str = "42",
    *,
    score: float = 0.98,
    start: int = 0,
    end: int | None = None,
    as_list: bool = False,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Question answering: ``{"answer", "score", "start", "end"}`` (``as_list``: a list of
    it, as sent when the request asks ``top_k`` > 1)."""
    obj = {"score": score, "start": start, "end": start + len(answer) if end is None else end,
           "answer": answer}
    return _json_body([obj] if as_list else obj, options)


def summarization(
    summary_text: str = "A short summary.", **options: Unpack[ReplyOptions]
) -> Reply:
    """Summarization: ``[{"summary_text"}]``."""
    return _json_body([{"summary_text": summary_text}], options)


def translation(
    translation_text: str = "Hallo Welt", **options: Unpack[ReplyOptions]
) -> Reply:
    """Translation: ``[{"translation_text"}]``."""
    return _json_body([{"translation_text": translation_text}], options)


def image_to_text(
    generated_text: str = "a fake caption", **options: Unpack[ReplyOptions]
) -> Reply:
    """Image to text (captioning): ``[{"generated_text"}]``."""
    return _json_body([{"generated_text": generated_text}], options)


def table_question_answering(
    answer: str = "36542",
    *,
    coordinates: Sequence[Sequence[int]] = ((0, 1),),
    cells: Sequence[str] | None = None,
    aggregator: str = "NONE",
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Table question answering: ``{"answer", "coordinates", "cells", "aggregator"}``."""
    return _json_body(
        {
            "answer": answer,
            "coordinates": [list(c) for c in coordinates],
            "cells": list(cells) if cells is not None else [answer],
            "aggregator": aggregator,
        },
        options,
    )


def tabular_classification(
    labels: Sequence[str | int] = ("1",), **options: Unpack[ReplyOptions]
) -> Reply:
    """Tabular classification: one label per table row."""
    return _json_body(list(labels), options)


def tabular_regression(
    values: Sequence[float] = (0.5,), **options: Unpack[ReplyOptions]
) -> Reply:
    """Tabular regression: one number per table row."""
    return _json_body([float(v) for v in values], options)


def sentence_similarity(
    scores: Sequence[float] = (0.78, 0.46), **options: Unpack[ReplyOptions]
) -> Reply:
    """Sentence similarity: one float per compared sentence."""
    return _json_body([float(s) for s in scores], options)


Box: TypeAlias = tuple[int, int, int, int]
"""A bounding box: ``(xmin, ymin, xmax, ymax)`` in pixels."""


def object_detection(
    detections: Sequence[tuple[str, float, Box]] = (
        ("person", 0.95, (59, 39, 420, 510)),
        ("umbrella", 0.57, (143, 4, 510, 387)),
    ),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Object detection: ``[{"score", "label", "box": {"xmin", "ymin", "xmax", "ymax"}}]``."""
    return _json_body(
        [
            {
                "score": float(score),
                "label": label,
                "box": dict(zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True)),
            }
            for label, score, box in detections
        ],
        options,
    )


def image_segmentation(
    segments: LabelScores = (("person", 0.99), ("LABEL_199", 0.92)),
    *,
    masks: Sequence[bytes] | None = None,
    size: tuple[int, int] = (8, 8),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Image segmentation: ``[{"score", "label", "mask": "<base64 PNG>"}, ...]``.

    ``masks`` are the PNG bytes of each mask (default: a `fake_mask_png` of ``size`` per
    segment).
    """
    pairs = _pairs(segments)
    if masks is not None and len(masks) != len(pairs):
        raise ValueError("give one mask per segment")
    return _json_body(
        [
            {
                "score": score,
                "label": label,
                "mask": base64.b64encode(
                    masks[i] if masks is not None else fake_mask_png(*size, index=i)
                ).decode(),
            }
            for i, (label, score) in enumerate(pairs)
        ],
        options,
    )


def visual_question_answering(
    answers_scores: LabelScores = (("woman", 0.94), ("girl", 0.34)),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Visual question answering: ``[{"score", "answer"}, ...]``."""
    return _json_body(
        [{"score": score, "answer": answer} for answer, score in _pairs(answers_scores)], options
    )


def document_question_answering(
    answers_scores: LabelScores = (("$1,000,000", 0.96),),
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Document question answering: ``[{"answer", "score", "start", "end"}, ...]`` (``start``
    and ``end`` are word indices)."""
    return _json_body(
        [
            {"answer": answer, "score": score, "start": i, "end": i}
            for i, (answer, score) in enumerate(_pairs(answers_scores))
        ],
        options,
    )


def automatic_speech_recognition(
    text: str = "a man said to the universe sir i exist",
    *,
    chunks: Sequence[tuple[str, float, float]] | None = None,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Speech recognition: ``{"text"}``, plus ``"chunks": [{"text", "timestamp": [start,
    end]}]`` when ``chunks`` are given (as with ``return_timestamps``)."""
    obj: dict[str, Any] = {"text": text}
    if chunks is not None:
        obj["chunks"] = [{"text": t, "timestamp": [a, b]} for t, a, b in chunks]
    return _json_body(obj, options)


def audio_to_audio(
    blobs: Sequence[tuple[str, bytes]] | None = None,
    *,
    content_type: str = "audio/wav",
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Audio to audio: ``[{"label", "blob": "<base64 audio>", "content-type"}, ...]``
    (default: one `fake_wav` labelled ``label_0``)."""
    pairs = list(blobs) if blobs is not None else [("label_0", fake_wav())]
    return _json_body(
        [
            {"label": label, "blob": base64.b64encode(data).decode(), "content-type": content_type}
            for label, data in pairs
        ],
        options,
    )


# --------------------------------------------------------------------------------------------
# Task replies (binary)
# --------------------------------------------------------------------------------------------


def _binary(data: bytes, content_type: str, options: Mapping[str, Any]) -> Reply:
    return _build([data], (("Content-Type", content_type),), options)


def text_to_image(
    image: bytes | None = None,
    *,
    width: int = 8,
    height: int = 8,
    content_type: str = "image/png",
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Text to image: the image bytes (default a `fake_png` of ``width`` x ``height``;
    ``content_type="image/bmp"`` sends a `fake_bmp`)."""
    if image is None:
        image = fake_bmp(width, height) if content_type == "image/bmp" else fake_png(width, height)
    return _binary(image, content_type, options)


def image_to_image(
    image: bytes | None = None,
    *,
    width: int = 8,
    height: int = 8,
    content_type: str = "image/png",
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Image to image: the image bytes (as `text_to_image`)."""
    return text_to_image(image, width=width, height=height, content_type=content_type, **options)


def text_to_speech(
    audio: bytes | None = None,
    *,
    seconds: float = 0.1,
    sample_rate: int = 16000,
    content_type: str = "audio/wav",
    **options: Unpack[ReplyOptions],
) -> Reply:
    """Text to speech: the audio bytes (default a `fake_wav` of ``seconds``)."""
    return _binary(fake_wav(seconds, sample_rate) if audio is None else audio, content_type,
                   options)


def text_to_video(
    video: bytes | None = None, *, content_type: str = "video/mp4", **options: Unpack[ReplyOptions]
) -> Reply:
    """Text to video: the video bytes (default `fake_mp4`). hf-inference has no such task; the
    providers that do answer with the MP4 bytes."""
    return _binary(fake_mp4() if video is None else video, content_type, options)


def image_to_video(
    video: bytes | None = None, *, content_type: str = "video/mp4", **options: Unpack[ReplyOptions]
) -> Reply:
    """Image to video: the video bytes (as `text_to_video`)."""
    return text_to_video(video, content_type=content_type, **options)


# --------------------------------------------------------------------------------------------
# Playing a task: request checks and default replies
# --------------------------------------------------------------------------------------------

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
            return _json_list([_label_list(_top(items, params)) for _ in inputs])
        _text(body)
        return text_classification(_top(items, params))
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
        return token_classification(entities)
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
        return fill_mask(words[: _int(params, "top_k") or 5], text=text, mask=mask)
    if task == "question-answering":
        pair = inputs if isinstance(inputs, dict) else body
        _text(pair, "question")
        context = _text(pair, "context")
        first = re.search(r"\S+", context)
        answer, start = (first.group(), first.start()) if first else (context, 0)
        top_k = _int(params, "top_k")
        return question_answering(answer, start=start, as_list=top_k is not None and top_k > 1)
    if task == "zero-shot-classification":
        text = _text(body)
        multi = bool(params.get("multi_label", False))
        return zero_shot_classification(_spread(_labels(params), multi_label=multi),
                                        sequence=text)
    if task == "summarization":
        words = _text(body).split()
        return summarization(" ".join(words[: max(1, min(12, len(words) // 2))]))
    if task == "translation":
        return translation(_text(body))
    if task == "table-question-answering":
        holder = inputs if isinstance(inputs, dict) else body
        _text(holder, "query")
        table = _table(holder.get("table"), "table")
        column = next(iter(table.values()))
        if not column:
            raise TaskInputError("table has no rows")
        cell = str(column[0])
        return table_question_answering(cell, coordinates=((0, 0),), cells=[cell])
    if task in ("tabular-classification", "tabular-regression"):
        raw_table = body.get("table", inputs.get("data", inputs) if isinstance(inputs, dict)
                             else inputs)
        rows = len(next(iter(_table(raw_table, "table").values())))
        if task == "tabular-classification":
            return tabular_classification([str(i % 2) for i in range(rows)])
        return tabular_regression([round(0.5 + i, 2) for i in range(rows)])
    if task == "sentence-similarity":
        holder = inputs if isinstance(inputs, dict) else body
        source = _text(holder, "source_sentence")
        sentences = holder.get("sentences")
        if not isinstance(sentences, list) or not sentences or not all(
            isinstance(s, str) for s in sentences
        ):
            raise TaskInputError("sentences must be a non-empty list of strings")
        return sentence_similarity([_similarity(source, s) for s in sentences])
    if task == "text-to-image":
        _text(body)
        width, height = _image_size(params, (8, 8))
        return text_to_image(width=width, height=height, content_type=_image_type(request))
    if task == "text-to-speech":
        text = _text(body)
        return text_to_speech(seconds=min(2.0, max(0.05, 0.01 * len(text))))
    if task == "text-to-video":
        _text(body)
        return text_to_video()
    # visual and document question answering: an image and a question, in inputs or at the root
    holder = inputs if isinstance(inputs, dict) else body
    image = holder.get("image", inputs if isinstance(inputs, str) else None)
    data = _decode(image, "image")
    question = holder.get("question", body.get("question"))
    if not isinstance(question, str) or not question:
        raise TaskInputError("question must be a non-empty string")
    top_k = _int(params, "top_k")
    if task == "visual-question-answering":
        return visual_question_answering(_top(_spread(["yes", "no", "maybe"]), params))
    answers = [(f"{len(data)} bytes", 0.96), ("unknown", 0.02)]
    return document_question_answering(answers[: top_k or 1])


def _similarity(a: str, b: str) -> float:
    va, vb = fake_embedding(a, 32), fake_embedding(b, 32)
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
        return automatic_speech_recognition(
            text, chunks=[(text, 0.0, round(len(data) / 32000, 3))] if timestamps else None
        )
    if task == "audio-classification":
        return audio_classification(_top((("male", 0.9987), ("female", 0.0013)), params))
    if task == "audio-to-audio":
        return audio_to_audio()
    if task == "image-classification":
        return image_classification(
            _top((("tabby cat", 0.82), ("tiger cat", 0.12), ("lynx", 0.06)), params)
        )
    if task == "image-segmentation":
        threshold = _float(params, "threshold") or 0.0
        segments = [(label, s) for label, s in (("person", 0.99), ("LABEL_199", 0.92),
                                                ("sky", 0.4)) if s >= threshold]
        return image_segmentation(segments)
    if task == "object-detection":
        given = _float(params, "threshold")
        threshold = 0.5 if given is None else given
        found: list[tuple[str, float, Box]] = [
            ("person", 0.95, (1, 1, 6, 7)), ("umbrella", 0.57, (0, 0, 7, 4)),
            ("dog", 0.31, (2, 4, 5, 7)),
        ]
        return object_detection([d for d in found if d[1] >= threshold])
    if task == "image-to-text":
        return image_to_text(f"a fake caption of a {len(data)}-byte image")
    if task == "image-to-image":
        width, height = _image_size(params, (8, 8))
        return image_to_image(width=width, height=height, content_type=_image_type(request))
    if task == "image-to-video":
        return image_to_video()
    # zero-shot image classification
    return zero_shot_image_classification(_spread(_labels(params)))

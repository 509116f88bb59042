"""hf-inference replies: feature extraction and the task pipelines (text, image, audio...).

Each builder returns a `Reply` with the body hf-inference (``router.huggingface.co/hf-inference``
and Inference Endpoints running the HF Inference Toolkit) sends for one task, in the shapes the
huggingface_hub VCR cassettes recorded. What the server answers by default when a model plays
a task (request checks and replies built from the request) is in `._hf_play`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import struct
import wave
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from ._common import _build, _json_body
from ._reply import Reply, ReplyOptions

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

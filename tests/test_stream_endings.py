"""Streams that end badly: any split of the bytes gives the same items, then the same error.

A stream of N valid events followed by an in-stream error, a truncated event, malformed JSON,
an event over `max_event_size` or a line over `max_line_size` must, for every split of its
bytes into `feed()` calls followed by `close()`, deliver all N items (none lost with the
chunk that also held the error), then raise the same error type with the same message. An
error found after some items of a `feed()` is raised at the next `feed()` or `close()`, and
again at every later call. Arbitrary bytes raise only the library's own errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire.sansio import (
    ChatCompletionStreamDecoder,
    CompletionStreamDecoder,
    EventTooLargeError,
    IncompleteStreamError,
    InferenceError,
    InStreamError,
    MalformedResponseError,
    SSEDecoder,
    TextGenerationStreamDecoder,
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MAX_LINE = 300
MAX_EVENT = 200


def chat_event(i: int) -> bytes:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def tgi_event(i: int) -> bytes:
    chunk = {
        "index": i,
        "token": {"id": i, "text": f"t{i}", "logprob": 0.0, "special": False},
        "generated_text": None,
        "details": None,
    }
    return b"data:" + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def completion_event(i: int) -> bytes:
    chunk = {
        "id": "c",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": f"t{i}", "finish_reason": None, "logprobs": None}],
    }
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def sse_event(i: int) -> bytes:
    return f"id: {i}\ndata: line {i}\ndata: more\n\n".encode()


Factory = Callable[[], Any]
DECODERS: dict[str, tuple[Factory, Callable[[int], bytes]]] = {
    "chat": (
        lambda: ChatCompletionStreamDecoder(max_line_size=MAX_LINE, max_event_size=MAX_EVENT),
        chat_event,
    ),
    "tgi": (
        lambda: TextGenerationStreamDecoder(
            True, max_line_size=MAX_LINE, max_event_size=MAX_EVENT
        ),
        tgi_event,
    ),
    "tgi-text": (
        lambda: TextGenerationStreamDecoder(max_line_size=MAX_LINE, max_event_size=MAX_EVENT),
        tgi_event,
    ),
    "completion": (
        lambda: CompletionStreamDecoder(max_line_size=MAX_LINE, max_event_size=MAX_EVENT),
        completion_event,
    ),
    "sse": (lambda: SSEDecoder(max_line_size=MAX_LINE, max_event_size=MAX_EVENT), sse_event),
}

# Endings common to every decoder (SSE-level failures).
SSE_ENDINGS: dict[str, tuple[bytes, type[InferenceError]]] = {
    "truncated mid-line": (b'data: {"choices": [{"ind', IncompleteStreamError),
    "truncated after a CR": (b"data: x\r\ndata: {\"a", IncompleteStreamError),
    "event over max_event_size": (
        b"".join(b"data: " + b"x" * 60 + b"\n" for _ in range(5)) + b"\n",
        EventTooLargeError,
    ),
    "event over max_event_size, cut": (
        b"".join(b"data:" + b"y" * 90 + b"\n" for _ in range(3)),
        EventTooLargeError,
    ),
    "line over max_line_size": (b"data: " + b"z" * 400 + b"\n\n", EventTooLargeError),
    "line over max_line_size, unfinished": (b"data: " + b"z" * 400, EventTooLargeError),
    "line over max_line_size after data lines": (
        b"data: a\ndata: b\n" + b"w" * 500,
        EventTooLargeError,
    ),
}

# Endings of the JSON decoders only.
JSON_ENDINGS: dict[str, tuple[bytes, type[InferenceError]]] = {
    "OpenAI error object": (
        b'data: {"error": {"message": "boom", "type": "x"}}\n\n',
        InStreamError,
    ),
    "TGI error": (b'data: {"error": "boom", "error_type": "generation"}\n\n', InStreamError),
    "event: error, JSON": (
        b'event: error\ndata: {"error": {"message": "boom"}}\n\n',
        InStreamError,
    ),
    "event: error, text": (b"event: error\ndata: boom\n\n", InStreamError),
    "malformed JSON": (b"data: {not json}\n\n", MalformedResponseError),
    "JSON of the wrong shape": (b"data: [1, 2]\n\n", MalformedResponseError),
    "deeply nested JSON": (b"data: " + b"[" * 150 + b"\n\n", MalformedResponseError),
}

CASES = [(name, ending) for name in DECODERS for ending in SSE_ENDINGS] + [
    (name, ending) for name in DECODERS if name != "sse" for ending in JSON_ENDINGS
]


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(body)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


def run(factory: Factory, chunks: list[bytes]) -> tuple[list[Any], BaseException | None]:
    """The items delivered by feed()/close() over `chunks`, and the error raised, if any."""
    dec = factory()
    items: list[Any] = []
    try:
        for chunk in chunks:
            items.extend(dec.feed(chunk))
        items.extend(dec.close())
    except InferenceError as exc:
        return items, exc
    return items, None


def valid_items(factory: Factory, event: Callable[[int], bytes], n: int) -> list[Any]:
    items, error = run(factory, [b"".join(event(i) for i in range(n))])
    assert error is None
    return items


@pytest.mark.parametrize(("decoder", "ending"), CASES)
@SETTINGS
@given(
    n=st.integers(0, 4),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
    bytewise=st.booleans(),
)
def test_bad_ending_any_split_same_items_then_same_error(
    decoder: str, ending: str, n: int, cuts: list[int], bytewise: bool
) -> None:
    """All N valid items come out, whatever the split; then the same error, same message."""
    factory, event = DECODERS[decoder]
    tail, kind = {**SSE_ENDINGS, **JSON_ENDINGS}[ending]
    body = b"".join(event(i) for i in range(n)) + tail
    expected_items, expected_error = run(factory, [body])
    assert isinstance(expected_error, kind)
    if n:
        assert expected_items == valid_items(factory, event, n)
    chunks = [body[i : i + 1] for i in range(len(body))] if bytewise else split_at(body, cuts)
    items, error = run(factory, chunks)
    assert items == expected_items
    assert type(error) is type(expected_error)
    assert str(error) == str(expected_error)


@pytest.mark.parametrize("decoder", list(DECODERS))
@pytest.mark.parametrize("ending", list(SSE_ENDINGS))
def test_error_after_items_of_one_feed_is_raised_at_next_call_and_again(
    decoder: str, ending: str
) -> None:
    """The items of the feed that met the error are returned; the error follows, and stays."""
    factory, event = DECODERS[decoder]
    tail, kind = SSE_ENDINGS[ending]
    dec = factory()
    items = dec.feed(event(0) + event(1) + tail)
    if kind is IncompleteStreamError:
        assert len(items) == 2
        with pytest.raises(kind):
            dec.close()
        return
    assert len(items) == 2
    with pytest.raises(kind) as first:
        dec.feed(b"data: {}\n\n")
    with pytest.raises(kind) as again:
        dec.close()
    assert str(again.value) == str(first.value)
    with pytest.raises(kind):
        dec.feed(b"")


@pytest.mark.parametrize("decoder", [name for name in DECODERS if name != "sse"])
@pytest.mark.parametrize("ending", list(JSON_ENDINGS))
def test_json_error_after_items_of_one_feed_is_raised_at_next_call(
    decoder: str, ending: str
) -> None:
    factory, event = DECODERS[decoder]
    tail, kind = JSON_ENDINGS[ending]
    dec = factory()
    assert len(dec.feed(event(0) + event(1) + tail)) == 2
    with pytest.raises(kind) as first:
        dec.close()
    with pytest.raises(kind) as again:
        dec.close()
    assert str(again.value) == str(first.value)


@pytest.mark.parametrize("decoder", list(DECODERS))
@SETTINGS
@given(body=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=8))
def test_arbitrary_bytes_raise_only_library_errors(
    decoder: str, body: bytes, cuts: list[int]
) -> None:
    """Whatever the bytes and split: items, or an `InferenceError` (never ValueError...)."""
    factory, _ = DECODERS[decoder]
    for chunks in ([body], split_at(body, cuts)):
        run(factory, chunks)  # anything but an InferenceError propagates and fails


@pytest.mark.parametrize("decoder", list(DECODERS))
@SETTINGS
@given(
    prefix=st.lists(
        st.sampled_from(
            [b"data: ", b"data:", b"event: error\n", b"\n", b"\r", b"[", b"{", b'"', b"\xff",
             b"\xef\xbb\xbf", b"data: [DONE]", b"1e999", b"NaN", b"z" * 120, b":"]
        ),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 600), max_size=8),
)
def test_sse_like_bytes_raise_only_library_errors_the_same_for_every_split(
    decoder: str, prefix: list[bytes], cuts: list[int]
) -> None:
    factory, _ = DECODERS[decoder]
    body = b"".join(prefix)
    whole_items, whole_error = run(factory, [body])
    items, error = run(factory, split_at(body, cuts))
    assert items == whole_items
    assert type(error) is type(whole_error)
    assert str(error) == str(whole_error)


def test_deeply_nested_stream_event_is_malformed_not_recursion() -> None:
    dec = ChatCompletionStreamDecoder()
    with pytest.raises(MalformedResponseError):
        dec.feed(b"data: " + b"[" * 100000 + b"\n\n")
    dec = TextGenerationStreamDecoder()
    with pytest.raises(MalformedResponseError):
        dec.feed(b"data: " + b"{\"a\":" * 100000 + b"\n\n")
    dec = ChatCompletionStreamDecoder()
    with pytest.raises(InStreamError):
        dec.feed(b"event: error\ndata: " + b"[" * 100000 + b"\n\n")

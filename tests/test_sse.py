"""The SSE decoder: WHATWG EventSource rules, bounds, the encoder, and split independence."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from inferwire.sansio._errors import (
    EventTooLargeError,
    IncompleteStreamError,
    RemoteProtocolError,
    UsageError,
)
from inferwire.sansio._sse import ServerSentEvent, SSEDecoder, encode_event

# SSE_EXAMPLES=5000 for a deeper search than the default run's.
SETTINGS = settings(
    max_examples=int(os.environ.get("SSE_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- helpers -------------------------------------------------------------------------------------


def decode(chunks: list[bytes], **bounds: int) -> list[ServerSentEvent]:
    dec = SSEDecoder(**bounds)
    out = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.close())
    return out


def one(body: bytes) -> list[ServerSentEvent]:
    return decode([body])


def bytewise(body: bytes) -> list[ServerSentEvent]:
    return decode([body[i : i + 1] for i in range(len(body))])


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(body)) for c in cuts})
    pieces = []
    last = 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


def run_decoder(
    chunks: list[bytes], *, typed: bool = False, **bounds: int
) -> tuple[str, list, SSEDecoder]:
    """("ok", items, decoder) or (error class name, items emitted before the error, decoder);
    `typed`: the typed decoders' mode ("message" events come out as their data `str`)."""
    dec = SSEDecoder(**bounds)
    dec._typed = typed
    out: list = []
    try:
        for chunk in chunks:
            out.extend(dec.feed(chunk))
        out.extend(dec.close())
    except RemoteProtocolError as exc:
        return type(exc).__name__, out, dec
    return "ok", out, dec


def outcome(chunks: list[bytes], **bounds: int) -> tuple[str, list[ServerSentEvent]]:
    """("ok", events) or (error class name, events emitted before the error)."""
    kind, out, _ = run_decoder(chunks, **bounds)
    return kind, out


def reference(
    body: bytes, max_line: int = 1 << 60, max_event: int = 1 << 60, *, closed: bool = True
) -> tuple[str, list]:
    """A plain transcription of the WHATWG algorithm, line by line (the test oracle).

    With `closed` false, `body` is what was received so far: only the events dispatched by a
    blank line count, and an incomplete last line is not an error.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    lines = re.split(rb"\r\n|\r|\n", body)
    incomplete = lines.pop()  # what follows the last line end
    events: list[ServerSentEvent] = []
    data: list[str] = []
    size = -1  # bytes of data: values joined with one byte between them
    event_type = ""
    last_id = None
    retry = None
    for raw in lines:
        if len(raw) > max_line:
            return "EventTooLargeError", events
        if not raw:
            if data:
                event = ServerSentEvent("\n".join(data), event_type or "message", last_id, retry)
                events.append(event)
            data, size, event_type, retry = [], -1, "", None
            continue
        if raw.startswith(b":"):
            continue
        name, colon, value = raw.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        text = value.decode("utf-8", "replace")
        if name == b"data":
            data.append(text)
            size += len(value) + 1
            if size > max_event:
                return "EventTooLargeError", events
        elif name == b"event":
            event_type = text
        elif name == b"id":
            if "\0" not in text:
                last_id = text
        elif name == b"retry" and value.isdigit():
            retry = int(value)
    if len(incomplete) > max_line:
        return "EventTooLargeError", events
    if not closed:
        return "ok", events
    if incomplete:
        return "IncompleteStreamError", events
    if data:
        events.append(ServerSentEvent("\n".join(data), event_type or "message", last_id, retry))
    return "ok", events


# -- scripted examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_line_ends(end: bytes) -> None:
    body = b"data: a" + end + end + b"data: b" + end + end
    assert [e.data for e in one(body)] == ["a", "b"]
    assert bytewise(body) == one(body)


def test_mixed_line_ends() -> None:
    body = b"data: a\r\ndata: b\rdata: c\n\r\n"
    assert one(body) == [ServerSentEvent("a\nb\nc")]


def test_cr_at_chunk_end_then_lf() -> None:
    # CR ends one chunk and LF starts the next: one line end, not two.
    events = decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [ServerSentEvent("a\nb")]
    # and a CR alone then a blank line made of CR is a dispatch
    assert decode([b"data: a\r", b"\r"]) == [ServerSentEvent("a")]


def test_bom_stripped_once() -> None:
    assert one(b"\xef\xbb\xbfdata: a\n\n") == [ServerSentEvent("a")]
    assert decode([b"\xef", b"\xbb", b"\xbfdata: a\n\n"]) == [ServerSentEvent("a")]
    # A second BOM is part of the field name: an unknown field, ignored.
    assert one(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []


def test_data_with_and_without_space() -> None:
    assert one(b"data:a\n\ndata: b\n\ndata:  c\n\n") == [
        ServerSentEvent("a"),
        ServerSentEvent("b"),
        ServerSentEvent(" c"),
    ]


def test_multiline_data() -> None:
    assert one(b'data: {"a":\ndata: 1}\n\n') == [ServerSentEvent('{"a":\n1}')]
    assert one(b"data\ndata\n\n") == [ServerSentEvent("\n")]
    assert one(b"data:\n\n") == [ServerSentEvent("")]


def test_event_id_retry() -> None:
    body = b"event: add\nid: 7\nretry: 1500\ndata: x\n\ndata: y\n\n"
    dec = SSEDecoder()
    events = dec.feed(body) + dec.close()
    assert events == [ServerSentEvent("x", "add", "7", 1500), ServerSentEvent("y", "message", "7")]
    assert dec.last_event_id == "7"
    assert dec.retry == 1500


def test_id_rules() -> None:
    # id persists; an id with NUL is ignored; an empty id resets to "".
    body = b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid\ndata: c\n\n"
    assert [e.id for e in one(body)] == ["1", "1", ""]


def test_retry_needs_digits() -> None:
    assert one(b"retry: 12a\ndata: a\n\n")[0].retry is None
    assert one(b"retry: -1\ndata: a\n\n")[0].retry is None
    assert one(b"retry:\ndata: a\n\n")[0].retry is None
    assert one(b"retry: 0042\ndata: a\n\n")[0].retry == 42


def test_event_name_empty_means_message() -> None:
    assert one(b"event:\ndata: a\n\n") == [ServerSentEvent("a", "message")]


def test_comments_and_unknown_fields_ignored() -> None:
    body = b": keep-alive\n\n:\ndata: a\nfoo: bar\nfoo\n: c\n\n"
    assert one(body) == [ServerSentEvent("a")]


def test_id_then_comment_block_dispatches_nothing() -> None:
    # Where openai and httpx-sse dispatch an empty event.
    body = b"data: 1\n\nid: 5\n: ping\n\ndata: 2\n\n"
    assert one(body) == [ServerSentEvent("1"), ServerSentEvent("2", id="5")]
    assert bytewise(body) == one(body)


def test_blank_line_without_data_resets_event_type() -> None:
    assert one(b"event: x\n\ndata: a\n\n") == [ServerSentEvent("a", "message")]


def test_no_split_on_unicode_separators() -> None:
    text = 'data: {"t":"a\u2028b\u0085c\u2029d\x0b\x0ce\x1cf"}\n\n'
    assert one(text.encode()) == [ServerSentEvent(text[6:-2])]


def test_utf8_split_across_chunks() -> None:
    body = "data: é東🤗\n\n".encode()
    for i in range(len(body)):
        assert decode([body[:i], body[i:]]) == [ServerSentEvent("é東🤗")]


def test_invalid_utf8_replaced() -> None:
    assert one(b"data: a\xffb\xe2\x82\n\n") == [ServerSentEvent("a\ufffdb\ufffd")]
    assert one(b"data: \xe2\ndata: x\n\n") == [ServerSentEvent("\ufffd\nx")]


def test_close_incomplete_line_raises() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\n\ndata: {") == [ServerSentEvent("a")]
    with pytest.raises(IncompleteStreamError) as info:
        dec.close()
    assert info.value.received == b"data: {"


def test_close_dispatches_last_event_without_blank_line() -> None:
    assert one(b"data: a\n\ndata: b\n") == [ServerSentEvent("a"), ServerSentEvent("b")]
    assert one(b"data: a\r\ndata: b\r") == [ServerSentEvent("a\nb")]
    assert one(b"event: x\n") == []
    assert one(b"") == []


def test_close_twice_and_feed_after_close() -> None:
    dec = SSEDecoder()
    dec.feed(b"data: a\n")
    assert dec.close() == [ServerSentEvent("a")]
    assert dec.close() == []
    with pytest.raises(UsageError):
        dec.feed(b"x")


def test_state_properties() -> None:
    dec = SSEDecoder()
    assert not dec.saw_any_bytes
    dec.feed(b"data: a\n")
    assert dec.saw_any_bytes
    assert dec.bytes_received == 8
    assert dec.feed(b"data: b") == []
    assert dec.pending.endswith(b"data: b")
    dec.feed(b"\n")
    assert dec.in_event or dec.pending
    assert dec.feed(b"\n") == [ServerSentEvent("a\nb")]
    assert not dec.in_event
    assert dec.pending == b""


def test_line_too_large_complete() -> None:
    with pytest.raises(EventTooLargeError, match="max_line_size=10"):
        SSEDecoder(max_line_size=10).feed(b"data: 0123456789\n\n")


def test_line_too_large_while_incomplete() -> None:
    dec = SSEDecoder(max_line_size=10)
    dec.feed(b"data: 01")
    with pytest.raises(EventTooLargeError, match="11 bytes"):
        dec.feed(b"234")


def test_line_bound_is_inclusive() -> None:
    assert decode([b"data: 0123", b"\n\n"], max_line_size=10) == [ServerSentEvent("0123")]


def test_event_too_large() -> None:
    body = b"data: 0123\ndata: 4567\n\n"
    with pytest.raises(EventTooLargeError, match="max_event_size=8"):
        one_bounded(body, max_event_size=8)
    assert one_bounded(body, max_event_size=9) == [ServerSentEvent("0123\n4567")]
    with pytest.raises(EventTooLargeError):
        one_bounded(b"data: 0123456789\n\n", max_event_size=9)


def one_bounded(body: bytes, **bounds: int) -> list[ServerSentEvent]:
    return decode([body], **bounds)


def test_many_lines_without_blank_line_are_bounded() -> None:
    dec = SSEDecoder(max_line_size=100, max_event_size=1000)
    for _ in range(80):
        dec.feed(b"data: 0123456789\n")
    with pytest.raises(EventTooLargeError):
        dec.feed(b"data: 0123456789\n" * 20)


def test_bad_bounds() -> None:
    with pytest.raises(UsageError):
        SSEDecoder(max_line_size=0)


# -- encoder -------------------------------------------------------------------------------------


def test_encode_event() -> None:
    assert encode_event(ServerSentEvent("a\nb")) == b"data: a\ndata: b\n\n"
    assert (
        encode_event(ServerSentEvent("x", "add", "7", 10), line_end="\r\n")
        == b"id: 7\r\nevent: add\r\nretry: 10\r\ndata: x\r\n\r\n"
    )
    assert encode_event(ServerSentEvent("", id="")) == b"id\ndata: \n\n"


@pytest.mark.parametrize(
    "event",
    [
        ServerSentEvent("a\rb"),
        ServerSentEvent("a", id="1\n"),
        ServerSentEvent("a", id="\x00"),
        ServerSentEvent("a", event=""),
        ServerSentEvent("a", event="x\ny"),
        ServerSentEvent("a", retry=-1),
    ],
)
def test_encode_rejects_what_sse_cannot_carry(event: ServerSentEvent) -> None:
    with pytest.raises(UsageError):
        encode_event(event)


def test_encode_rejects_bad_line_end() -> None:
    with pytest.raises(UsageError):
        encode_event(ServerSentEvent("a"), line_end="\n\n")


# -- properties ----------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"))
_name = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=1
).filter(lambda s: s != "message")
_id = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"))

events_strategy = st.builds(
    ServerSentEvent,
    data=_text,
    event=st.one_of(st.just("message"), _name),
    id=st.one_of(st.none(), _id),
    retry=st.one_of(st.none(), st.integers(0, 10**18)),
)


@SETTINGS
@given(
    st.lists(events_strategy, max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.lists(st.integers(0, 4000), max_size=8),
)
def test_encode_round_trip(events: list[ServerSentEvent], line_end: str, cuts: list[int]) -> None:
    body = b"".join(encode_event(e, line_end=line_end) for e in events)
    # The last event id persists: an event without id carries the one before it.
    expected = []
    last_id = None
    for e in events:
        last_id = e.id if e.id is not None else last_id
        expected.append(ServerSentEvent(e.data, e.event, last_id, e.retry))
    assert one(body) == expected
    assert decode(split_at(body, cuts)) == expected
    assert decode([encode_event(e, line_end=line_end) for e in events]) == expected
    if len(body) < 600:
        assert bytewise(body) == expected


@SETTINGS
@given(events_strategy, st.sampled_from(["\n", "\r\n", "\r"]))
def test_encode_round_trip_single(event: ServerSentEvent, line_end: str) -> None:
    assert one(encode_event(event, line_end=line_end)) == [event]


_LINES = [
    b"data: x",
    b"data:y",
    b"data:  z",
    b"data",
    b"data:",
    b'data: {"a": 1}',
    b"event: e",
    b"event:",
    b"id: 1",
    b"id",
    b"id: a\x00b",
    b"retry: 100",
    b"retry: x",
    b": comment",
    b":",
    b"",
    b"",
    b"foo: bar",
    "data: é東🤗\u2028\u0085".encode(),
    b"data: \xff\xe2\x82",
    b"\xef\xbb\xbfdata: bom",
    b"event: message",
    b"event:message",
    b": keep-alive",
    b"id: 7",
]


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(_LINES), max_size=30))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines)))
    body = b"".join(line + end for line, end in zip(lines, ends, strict=False))
    if draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body
    if draw(st.booleans()):
        body += draw(st.sampled_from([b"data: trunc", b"\r", b"da", b""]))
    if draw(st.booleans()):
        # corrupt a few bytes
        raw = bytearray(body)
        for pos, value in draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)))):
            if raw:
                raw[pos % len(raw)] = value
        body = bytes(raw)
    return body


@SETTINGS
@given(sse_bodies(), st.lists(st.integers(0, 1000), max_size=10))
def test_matches_reference_in_any_split(body: bytes, cuts: list[int]) -> None:
    expected = reference(body)
    assert outcome([body]) == expected
    assert outcome(split_at(body, cuts)) == expected
    assert outcome([body[i : i + 1] for i in range(len(body))]) == expected


@SETTINGS
@given(
    sse_bodies(),
    st.lists(st.integers(0, 1000), max_size=10),
    st.integers(1, 40),
    st.integers(1, 60),
)
def test_bounds_in_any_split(body: bytes, cuts: list[int], max_line: int, max_event: int) -> None:
    bounds = {"max_line_size": max_line, "max_event_size": max_event}
    kind, events = reference(body, max_line, max_event)
    for chunks in ([body], split_at(body, cuts), [body[i : i + 1] for i in range(len(body))]):
        got_kind, got = outcome(chunks, **bounds)
        assert got_kind == kind
        if kind == "EventTooLargeError":
            assert got == events[: len(got)]  # events before the error may be cut short
        else:
            assert got == events


@SETTINGS
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=6))
def test_arbitrary_bytes_only_protocol_errors(body: bytes, cuts: list[int]) -> None:
    for chunks in ([body], split_at(body, cuts)):
        kind, _ = outcome(chunks, max_line_size=64, max_event_size=128)
        assert kind in ("ok", "EventTooLargeError", "IncompleteStreamError")
    assert outcome([body]) == reference(body)


@SETTINGS
@given(st.lists(st.sampled_from(_LINES[:8]), min_size=1, max_size=40))
def test_fast_and_slow_paths_agree(lines: list[bytes]) -> None:
    # Bodies shaped like real streams (blank line after each event) go through the fast path
    # in one chunk and through the line-by-line path when fed byte by byte.
    body = b"".join(line + b"\n\n" for line in lines)
    assume(body)
    assert one(body) == bytewise(body) == reference(body)[1]


@SETTINGS
@given(sse_bodies(), st.lists(st.integers(0, 1000), max_size=10))
def test_events_are_dispatched_as_soon_as_complete(body: bytes, cuts: list[int]) -> None:
    # After each chunk, exactly the events whose blank line has arrived are out.
    dec = SSEDecoder()
    out: list[ServerSentEvent] = []
    received = b""
    for chunk in split_at(body, cuts):
        received += chunk
        out.extend(dec.feed(chunk))
        assert out == reference(received, closed=False)[1]


@SETTINGS
@given(sse_bodies())
def test_events_are_dispatched_as_soon_as_complete_bytewise(body: bytes) -> None:
    dec = SSEDecoder()
    out: list[ServerSentEvent] = []
    for i in range(min(len(body), 400)):
        out.extend(dec.feed(body[i : i + 1]))
        if body[i] in b"\r\n":
            assert out == reference(body[: i + 1], closed=False)[1]


_heads = st.sampled_from(
    [
        b"",
        b"event: e",
        b"event:message",
        b"event:",
        b"id: 5",
        b"id:a\x00",
        b"retry: 9",
        b": c",
        b"x",
    ]
)
_data_lines = st.lists(
    st.sampled_from([b"data: a", b"data:b", b"data:  c", b"data", b"data: \xc3\xa9"]),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(st.lists(st.tuples(st.lists(_heads, max_size=2), _data_lines), min_size=1, max_size=6))
def test_block_shapes(blocks: list[tuple[list[bytes], list[bytes]]]) -> None:
    # Field lines then data lines: the shapes the whole-block path takes.
    wires = [b"\n".join([*heads, *datas]) + b"\n\n" for heads, datas in blocks]
    body = b"".join(wires)
    expected = reference(body)
    assert outcome([body]) == expected
    assert outcome(wires) == expected
    assert outcome([body[i : i + 1] for i in range(len(body))]) == expected


@pytest.mark.parametrize("max_event", [8, 9])
def test_event_size_counted_across_chunks(max_event: int) -> None:
    # The first data line is interpreted in one chunk, the event ends in the next: the size
    # counts both values and the line feed between them (9 bytes).
    chunks = [b"data: aaaa\ndata: b", b"bbb\n\n"]
    for split in (chunks, [b"".join(chunks)]):
        if max_event < 9:
            with pytest.raises(EventTooLargeError):
                decode(split, max_line_size=100, max_event_size=max_event)
        else:
            assert decode(split, max_line_size=100, max_event_size=max_event) == [
                ServerSentEvent("aaaa\nbbbb")
            ]


# -- typed mode (used by the typed stream decoders) ----------------------------------------------


def typed_outcome(chunks: list[bytes], **bounds: int) -> tuple[str, list[object], str | None]:
    """Like `outcome` in typed mode: "message" events come out as their data `str`; also the
    last event id after the body ended."""
    kind, out, dec = run_decoder(chunks, typed=True, **bounds)
    return kind, out, dec.last_event_id if kind == "ok" else None


def typed_reference(body: bytes, **bounds: int) -> tuple[str, list[object], str | None]:
    kind, events = reference(
        body, bounds.get("max_line_size", 1 << 60), bounds.get("max_event_size", 1 << 60)
    )
    items = [e.data if e.event == "message" else e for e in events]
    if kind != "ok":
        return kind, items, None
    last_id = None
    stripped = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    for line in re.split(rb"\r\n|\r|\n", stripped)[:-1]:
        name, _, value = line.partition(b":")
        if name == b"id" and b"\0" not in value:
            last_id = (value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace")
    return kind, items, last_id


# Lines that change nothing dispatched in typed mode (comments, "event: message", ids), and
# the data lines of stream-shaped bodies.
_inert = st.sampled_from(
    [
        b": keep-alive",
        b":",
        b"event: message",
        b"event:message",
        b"id: 7",
        b"id",
        b"id:k\x00",
        "id: é".encode(),
    ]
)
_stream_data = st.sampled_from(
    [b'data: {"a": 1}', b"data: ", b"data:  two", "data: é東🤗".encode(), b"data: \xff"]
)
_stream_data_nospace = st.sampled_from([b'data:{"a":1}', b"data:", b"data:x", b"data: sp"])


@st.composite
def stream_bodies(draw: st.DrawFn) -> bytes:
    """Stream-shaped bodies: blocks of inert lines and data lines, one or two blank lines."""
    data_lines = draw(st.sampled_from([_stream_data, _stream_data_nospace]))
    blocks = []
    for _ in range(draw(st.integers(1, 8))):
        lines = draw(st.lists(st.one_of(_inert, data_lines), max_size=5))
        blanks = draw(st.sampled_from([b"\n", b"\n", b"\n\n"]))
        blocks.append(b"\n".join(lines) + b"\n" + blanks if lines else blanks)
    body = b"".join(blocks)
    line_end = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    return body.replace(b"\n", line_end)


@SETTINGS
@given(stream_bodies(), st.lists(st.integers(0, 400), max_size=10))
def test_stream_shapes_match_reference_in_any_split(body: bytes, cuts: list[int]) -> None:
    # Inert lines are dropped for the chunk fast path; multi-line data is joined there too.
    expected = reference(body)
    typed = typed_reference(body)
    for chunks in ([body], split_at(body, cuts), [body[i : i + 1] for i in range(len(body))]):
        assert outcome(chunks) == expected
        assert typed_outcome(chunks) == typed


@SETTINGS
@given(st.one_of(stream_bodies(), sse_bodies()), st.lists(st.integers(0, 1000), max_size=10))
def test_typed_mode_matches_reference_in_any_split(body: bytes, cuts: list[int]) -> None:
    expected = typed_reference(body)
    assert typed_outcome([body]) == expected
    assert typed_outcome(split_at(body, cuts)) == expected


@SETTINGS
@given(
    st.one_of(stream_bodies(), sse_bodies()),
    st.lists(st.integers(0, 1000), max_size=10),
    st.integers(1, 40),
    st.integers(1, 60),
)
def test_typed_mode_bounds_in_any_split(
    body: bytes, cuts: list[int], max_line: int, max_event: int
) -> None:
    bounds = {"max_line_size": max_line, "max_event_size": max_event}
    kind, items, last_id = typed_reference(body, **bounds)
    for chunks in ([body], split_at(body, cuts)):
        got_kind, got, got_id = typed_outcome(chunks, **bounds)
        assert got_kind == kind
        if kind == "EventTooLargeError":
            assert got == items[: len(got)]
        else:
            assert (got, got_id) == (items, last_id)


def test_inert_lines_in_typed_mode_set_the_last_id() -> None:
    dec = SSEDecoder()
    dec._typed = True
    body = b"event: message\nid: 1\ndata: a\n\n: ping\n\nid: 2\ndata: b\n\nid: x\x00\n\n"
    assert dec.feed(body) == ["a", "b"]
    assert dec.last_event_id == "2"


def test_multiline_data_in_one_chunk() -> None:
    body = b'data: {\ndata: "a": 1\ndata: }\n\ndata:x\n\n'
    assert one(body) == [ServerSentEvent('{\n"a": 1\n}'), ServerSentEvent("x")]
    assert one(body.replace(b"data: ", b"data:")) == [
        ServerSentEvent('{\n"a": 1\n}'),
        ServerSentEvent("x"),
    ]

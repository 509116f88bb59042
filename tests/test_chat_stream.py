"""Chat-completion stream decoding: [DONE], usage chunks, errors, tool calls, reasoning, real
recorded streams, and split independence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance import CASSETTES_DIR, REAL_STREAMS_DIR, capture_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire.sansio._chat_types import ChatCompletionOutputToolCall, ChatCompletionStreamOutput
from inferwire.sansio._errors import (
    EventTooLargeError,
    IncompleteStreamError,
    InStreamError,
    MalformedResponseError,
    RemoteProtocolError,
    UnknownError,
    ValidationError,
)
from inferwire.sansio._sse import ServerSentEvent, encode_event
from inferwire.sansio._streams import ChatCompletionStreamDecoder, ToolCallAccumulator

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])



def decode(chunks: list[bytes], **kwargs: int) -> list[ChatCompletionStreamOutput]:
    dec = ChatCompletionStreamDecoder(**kwargs)
    out = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.close())
    return out


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(body)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


PROTOCOL_OUTCOMES = {"ok", "MalformedResponseError", "IncompleteStreamError", "EventTooLargeError"}


def outcome(chunks: list[bytes]) -> tuple[str, list[Any]]:
    dec = ChatCompletionStreamDecoder()
    out: list[Any] = []
    try:
        for chunk in chunks:
            out.extend(dec.feed(chunk))
        out.extend(dec.close())
    except (RemoteProtocolError, InStreamError) as exc:
        return type(exc).__name__, out
    return "ok", out


def chunk_json(content: str | None = None, finish: str | None = None, **extra: Any) -> str:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    obj = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    obj.update(extra)
    return json.dumps(obj)


def sse(*datas: str, line_end: str = "\n") -> bytes:
    return b"".join(encode_event(ServerSentEvent(d), line_end=line_end) for d in datas)


def text_of(items: list[ChatCompletionStreamOutput]) -> str:
    return "".join(i.choices[0].delta.content or "" for i in items if i.choices)


# -- [DONE] and the end of the stream ------------------------------------------------------------


@pytest.mark.parametrize(
    "done",
    [
        b"data: [DONE]\n\n",
        b"data:[DONE]\n\n",
        b"data: [DONE]   \n\n",
        b"data:  [DONE]\t\n\n",
        b"data: [DONE]\r\n\r\n",
        b"data:[DONE]\r\r",
        b"event: done\ndata: [DONE]\n\n",
        b"data: [DONE]",  # the last line without its line end
        b"data: [DONE]\n",
    ],
)
def test_done_in_every_spelling(done: bytes) -> None:
    body = sse(chunk_json("a"), chunk_json("b")) + done
    if done.endswith((b"\n\n", b"\r\r")):
        body += b"data: {garbage after the end"
    dec = ChatCompletionStreamDecoder()
    items = dec.feed(body)
    items += dec.close()
    assert text_of(items) == "ab"
    assert dec.finished


def test_bytes_after_done_are_ignored() -> None:
    dec = ChatCompletionStreamDecoder()
    assert len(dec.feed(sse(chunk_json("a"), "[DONE]"))) == 1
    assert dec.finished
    assert dec.feed(b"data: not json\n\n") == []
    assert dec.close() == []


def test_stream_without_done_is_fine() -> None:
    dec = ChatCompletionStreamDecoder()
    items = dec.feed(sse(chunk_json("a"), chunk_json(finish="stop"))) + dec.close()
    assert len(items) == 2
    assert not dec.finished


@pytest.mark.parametrize("body", [b"", b": ping\n\n", b"\n\n\n", b"id: 3\n\n", b"event: x\n\n"])
def test_stream_without_any_event_raises(body: bytes) -> None:
    # llama-cpp-python answers 200 with an empty event stream when the prompt is too long.
    dec = ChatCompletionStreamDecoder()
    dec.feed(body)
    with pytest.raises(IncompleteStreamError, match="without any event"):
        dec.close()


def test_truncated_stream_raises() -> None:
    dec = ChatCompletionStreamDecoder()
    assert len(dec.feed(sse(chunk_json("a")) + b'data: {"choices": [')) == 1
    with pytest.raises(IncompleteStreamError):
        dec.close()


def test_blank_data_events_are_ignored() -> None:
    assert text_of(decode([b"data:\n\ndata:  \n\n" + sse(chunk_json("a"))])) == "a"


# -- chunks --------------------------------------------------------------------------------------


def test_usage_only_chunk_is_an_item() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    items = decode([sse(chunk_json("a"), json.dumps({"choices": [], "usage": usage}), "[DONE]")])
    assert len(items) == 2
    assert items[1].choices == []
    assert items[1].usage is not None
    assert items[1].usage.total_tokens == 5


def test_reasoning_fields() -> None:
    chunks = [
        json.dumps({"choices": [{"index": 0, "delta": {"reasoning_content": "think "}}]}),
        json.dumps({"choices": [{"index": 0, "delta": {"reasoning": "more"}}]}),
        json.dumps({"choices": [{"index": 0, "delta": {"content": "answer"}}]}),
    ]
    items = decode([sse(*chunks)])
    deltas = [i.choices[0].delta for i in items]
    assert [d.reasoning for d in deltas] == ["think ", "more", None]
    assert deltas[0]["reasoning_content"] == "think "
    assert deltas[0].reasoning_content == "think "
    assert [i.to_dict() for i in items] == [json.loads(c) for c in chunks]


def test_multi_line_data_and_unicode_separators() -> None:
    payload = chunk_json("a\u2028b\u0085c")
    body = ("data: " + payload.replace(", ", ",\ndata: ") + "\n\n").encode()
    assert text_of(decode([body])) == "a\u2028b\u0085c"


@pytest.mark.parametrize("head", [b"event: message\n", b"event:message\n", b"event:\n", b"id: 1\n"])
def test_event_and_id_lines(head: bytes) -> None:
    body = b"".join(head + sse(chunk_json(c)) for c in "abc")
    assert text_of(decode([body])) == "abc"
    assert text_of(decode([head + sse(chunk_json(c)) for c in "abc"])) == "abc"


def test_tgi_style_data_without_space_and_crlf() -> None:
    body = sse(chunk_json("a"), chunk_json("b"), line_end="\r\n").replace(b"data: ", b"data:")
    assert text_of(decode([body])) == "ab"


# -- errors --------------------------------------------------------------------------------------


def test_openai_error_object() -> None:
    body = sse(chunk_json("a"), '{"error": {"message": "boom", "type": "server_error", "code": 1}}')
    dec = ChatCompletionStreamDecoder()
    assert len(dec.feed(body)) == 1  # the item before the error is delivered first
    with pytest.raises(UnknownError, match="boom") as info:
        dec.close()
    assert info.value.error_type == "server_error"


def test_tgi_error_object() -> None:
    body = sse('{"error": "Input validation error", "error_type": "validation"}')
    with pytest.raises(ValidationError, match="Input validation error"):
        decode([body])


def test_error_null_is_not_an_error() -> None:
    assert text_of(decode([sse(chunk_json("a", error=None))])) == "a"


def test_error_event_with_json() -> None:
    body = b'event: error\ndata: {"message": "overloaded", "type": "overloaded"}\n\n'
    with pytest.raises(InStreamError, match="overloaded") as info:
        decode([body])
    assert info.value.error_type == "overloaded"
    body = b'event: error\ndata: {"error": {"message": "boom"}}\n\n'
    with pytest.raises(UnknownError, match="boom"):
        decode([body])


def test_error_event_with_text() -> None:
    with pytest.raises(UnknownError, match="upstream failed"):
        decode([b"event: error\ndata: upstream failed\n\n"])


def test_other_events_ignored_unless_error() -> None:
    body = b"event: ping\ndata: {}\n\nevent: ping\ndata: 12:00\n\n" + sse(chunk_json("a"))
    assert text_of(decode([body])) == "a"
    with pytest.raises(UnknownError, match="bad"):
        decode([b'event: status\ndata: {"error": "bad"}\n\n'])


@pytest.mark.parametrize(
    "data",
    ["not json", "{", '{"a": 1} x', "[1, 2]", "3", '"str"', '{"choices": 3}', '{"choices": [7]}'],
)
def test_malformed_data(data: str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        decode([sse(data)])
    assert info.value.received == data


def test_bounds_are_passed_on() -> None:
    with pytest.raises(EventTooLargeError):
        decode([sse(chunk_json("a" * 100))], max_line_size=64)
    with pytest.raises(EventTooLargeError):
        decode([sse(chunk_json("a" * 100))], max_event_size=64)


# -- real recorded streams -----------------------------------------------------------------------


def test_xllamacpp_stream() -> None:
    body = capture_body("xllamacpp_chat_stream.txt")
    dec = ChatCompletionStreamDecoder()
    items = dec.feed(body) + dec.close()
    assert dec.finished
    # the same text as the non-stream answer to the same request
    assert text_of(items) == "L'Étoile, la Marseillaise, la femme, la femme au"
    assert items[0].choices[0].delta.role == "assistant"
    assert items[-2].choices[0].finish_reason == "length"
    usage_chunk = items[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.completion_tokens == 20
    assert usage_chunk.usage.prompt_tokens_details == {"cached_tokens": 36}
    assert usage_chunk.timings["predicted_n"] == 20
    assert usage_chunk.extras["object"] == "chat.completion.chunk"


def test_transformers_serve_stream_without_done() -> None:
    dec = ChatCompletionStreamDecoder()
    items = dec.feed(capture_body("transformers_serve_chat_stream.txt")) + dec.close()
    assert not dec.finished
    assert text_of(items) == "The capital of France is Paris."
    assert items[-1].choices[0].finish_reason == "stop"
    assert items[-1].usage is not None
    assert items[-1].usage.total_tokens == 45


def test_litellm_streams() -> None:
    items = decode([capture_body("litellm_mock_chat_stream.txt")])
    assert text_of(items).startswith("Hel")
    assert text_of(items).endswith("s.")
    assert items[-1].usage is not None
    assert items[-1].usage.completion_tokens_details == {"reasoning_tokens": 0, "text_tokens": 17}
    items = decode([capture_body("litellm_proxy_to_xllamacpp_chat_stream.txt")])
    assert items[-1].choices[0].finish_reason == "length"
    assert all(i.model == "real-smollm2" for i in items)


REAL = sorted(p.name for p in REAL_STREAMS_DIR.glob("*_chat_stream.txt"))


@SETTINGS
@given(st.sampled_from(REAL), st.lists(st.integers(0, 7000), max_size=12))
def test_real_streams_in_any_split(name: str, cuts: list[int]) -> None:
    body = capture_body(name)
    expected = decode([body])
    assert decode(split_at(body, cuts)) == expected


@pytest.mark.parametrize("name", REAL)
def test_real_streams_byte_by_byte(name: str) -> None:
    body = capture_body(name)
    assert decode([body[i : i + 1] for i in range(len(body))]) == decode([body])


def _cassette_streams() -> list[tuple[str, bytes]]:
    try:
        import yaml
    except ImportError:  # pragma: no cover
        return []
    out = []
    for path in sorted(CASSETTES_DIR.glob("*chat_completion_with_stream*.yaml")) + sorted(
        CASSETTES_DIR.glob("*with_stream_true*.yaml")
    ):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            body = interaction["response"]["body"]["string"]
            if isinstance(body, str) and body.startswith("data:"):
                out.append((path.stem, body.encode()))
    return out


CASSETTE_STREAMS = _cassette_streams()


def test_the_hf_cassette_streams_are_found() -> None:
    assert CASSETTE_STREAMS, f"no SSE bodies found in {CASSETTES_DIR}"


@pytest.mark.parametrize(("name", "body"), CASSETTE_STREAMS, ids=[n for n, _ in CASSETTE_STREAMS])
def test_provider_streams_from_hf_cassettes(name: str, body: bytes) -> None:
    items = decode([body])
    assert text_of(items)
    assert any(c.finish_reason for i in items for c in i.choices)
    assert decode([body[i : i + 1] for i in range(len(body))]) == items


# -- tool calls ----------------------------------------------------------------------------------


def tool_chunk(calls: list[dict], finish: str | None = None, index: int = 0) -> Any:
    return ChatCompletionStreamOutput.parse(
        {"choices": [{"index": index, "delta": {"tool_calls": calls}, "finish_reason": finish}]}
    )


def finish_chunk(index: int = 0, reason: str = "tool_calls") -> Any:
    return ChatCompletionStreamOutput.parse(
        {"choices": [{"index": index, "delta": {}, "finish_reason": reason}]}
    )


def test_tool_call_deltas_assembled() -> None:
    acc = ToolCallAccumulator()
    chunks = [
        tool_chunk(
            [
                {
                    "index": 0,
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get", "arguments": ""},
                }
            ]
        ),
        tool_chunk([{"index": 0, "function": {"arguments": '{"city": '}}]),
        tool_chunk(
            [
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "put", "arguments": None},
                }
            ]
        ),
        tool_chunk([{"index": 0, "function": {"arguments": '"Paris"}'}}]),
        tool_chunk([{"index": 1, "function": {"arguments": "{}"}}]),
    ]
    for chunk in chunks:
        assert acc.add(chunk) == []
    done = acc.add(finish_chunk())
    assert [c.to_dict() for c in done] == [
        {
            "id": "call_a",
            "type": "function",
            "function": {"name": "get", "arguments": '{"city": "Paris"}'},
        },
        {"id": "call_b", "type": "function", "function": {"name": "put", "arguments": "{}"}},
    ]
    assert all(isinstance(c, ChatCompletionOutputToolCall) for c in done)
    assert done[0].parse_arguments() == {"city": "Paris"}
    assert acc.finish() == []


def test_tool_calls_completed_at_finish() -> None:
    acc = ToolCallAccumulator()
    acc.add(tool_chunk([{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{"}}]))
    (call,) = acc.finish()
    assert call.type == "function"  # defaulted
    with pytest.raises(MalformedResponseError):
        call.parse_arguments()


def test_tool_calls_per_choice() -> None:
    acc = ToolCallAccumulator()
    acc.add(
        tool_chunk([{"index": 0, "id": "a", "function": {"name": "f", "arguments": "1"}}], index=0)
    )
    acc.add(
        tool_chunk([{"index": 0, "id": "b", "function": {"name": "g", "arguments": "2"}}], index=1)
    )
    (done,) = acc.add(finish_chunk(index=1))
    assert done.id == "b"
    (rest,) = acc.finish()
    assert rest.id == "a"


def test_tool_calls_ollama_without_index() -> None:
    acc = ToolCallAccumulator()
    acc.add(tool_chunk([{"id": "1", "function": {"name": "f", "arguments": '{"x": 1}'}}]))
    acc.add(tool_chunk([{"id": "2", "function": {"name": "g", "arguments": {"y": 2}}}]))
    done = acc.add(finish_chunk(reason="stop"))
    assert [c.function.name for c in done] == ["f", "g"]
    assert [c.parse_arguments() for c in done] == [{"x": 1}, {"y": 2}]


def test_tool_calls_new_id_at_same_index() -> None:
    acc = ToolCallAccumulator()
    acc.add(tool_chunk([{"index": 0, "id": "1", "function": {"name": "f", "arguments": "{}"}}]))
    (first,) = acc.add(
        tool_chunk([{"index": 0, "id": "2", "function": {"name": "g", "arguments": "{}"}}])
    )
    assert first.id == "1"
    (second,) = acc.finish()
    assert second.function.name == "g"


def test_tool_call_extras_kept() -> None:
    acc = ToolCallAccumulator()
    acc.add(
        tool_chunk(
            [
                {
                    "index": 0,
                    "id": "1",
                    "type": "function",
                    "function": {"name": "f", "arguments": "{}"},
                    "extra_content": {"google": {"thought_signature": "sig"}},
                }
            ]
        )
    )
    acc.add(tool_chunk([{"index": 0, "function": {"arguments": "", "strict": True}}]))
    (call,) = acc.finish()
    assert call.extra_content == {"google": {"thought_signature": "sig"}}
    assert call.function.strict is True


def test_tool_calls_through_the_decoder() -> None:
    deltas = [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "f", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"a":'}},
        {"index": 0, "function": {"arguments": "1}"}},
    ]
    datas = [
        json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [d]}, "finish_reason": None}]})
        for d in deltas
    ]
    datas.append(
        json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    )
    acc = ToolCallAccumulator()
    done = [call for item in decode([sse(*datas, "[DONE]")]) for call in acc.add(item)]
    assert [c.parse_arguments() for c in done] == [{"a": 1}]


# -- properties ----------------------------------------------------------------------------------

_contents = st.text(max_size=8)
_chunk_datas = st.one_of(
    _contents.map(chunk_json),
    st.just(chunk_json(finish="stop")),
    st.just(json.dumps({"choices": [], "usage": {"total_tokens": 3}})),
    st.just("[DONE]"),
    st.just('{"error": "e", "error_type": "generation"}'),
    st.just("not json"),
    st.just(""),
)


@st.composite
def chat_bodies(draw: st.DrawFn) -> bytes:
    datas = draw(st.lists(_chunk_datas, max_size=8))
    parts = []
    for data in datas:
        framing = draw(st.sampled_from(["plain", "event", "multi", "comment", "id"]))
        if framing == "multi" and "," in data:
            data = data.replace(",", ",\n", 1)
        event = ServerSentEvent(data, "message", "7" if framing == "id" else None)
        wire = encode_event(event, line_end=draw(st.sampled_from(["\n", "\r\n", "\r"])))
        if framing == "event":
            wire = b"event: message\n" + wire
        if framing == "comment":
            wire = b": keep-alive\n\n" + wire
        parts.append(wire)
    body = b"".join(parts)
    if draw(st.booleans()) and body:
        raw = bytearray(body)
        for pos, value in draw(
            st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
        ):
            raw[pos % len(raw)] = value
        body = bytes(raw)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body


@SETTINGS
@given(chat_bodies(), st.lists(st.integers(0, 3000), max_size=10))
def test_any_split_same_result(body: bytes, cuts: list[int]) -> None:
    kind, items = outcome([body])
    for chunks in (split_at(body, cuts), [body[i : i + 1] for i in range(len(body))]):
        got_kind, got = outcome(chunks)
        assert got_kind == kind
        if kind == "ok":
            assert got == items
        else:
            assert items == got[: len(items)]  # one chunk may lose the items before an error


@SETTINGS
@given(st.binary(max_size=500), st.lists(st.integers(0, 500), max_size=6))
def test_arbitrary_bytes_only_protocol_errors(body: bytes, cuts: list[int]) -> None:
    # outcome() lets only RemoteProtocolError and InStreamError through: anything else fails
    kinds = {outcome([body])[0], outcome(split_at(body, cuts))[0]}
    assert len(kinds) == 1
    if kinds - PROTOCOL_OUTCOMES:
        assert b"error" in body  # an InStreamError needs an error object or an error event


@SETTINGS
@given(chat_bodies())
def test_corrupted_streams_only_protocol_errors(body: bytes) -> None:
    outcome([body])

"""Text-generation streams: TGI /generate_stream and OpenAI /v1/completions mapped to the same
items; split independence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conformance import CASSETTES_DIR, capture_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire.sansio._errors import (
    GenerationError,
    IncompleteStreamError,
    InStreamError,
    MalformedResponseError,
    OverloadedError,
    RemoteProtocolError,
)
from inferwire.sansio._sse import ServerSentEvent, encode_event
from inferwire.sansio._streams import CompletionStreamDecoder, TextGenerationStreamDecoder
from inferwire.sansio._textgen_types import TextGenerationStreamOutput

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])



def run(decoder: Any, chunks: list[bytes]) -> list[Any]:
    out = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(body)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


def outcome(factory: Any, chunks: list[bytes]) -> tuple[str, list[Any]]:
    dec = factory()
    out: list[Any] = []
    try:
        for chunk in chunks:
            out.extend(dec.feed(chunk))
        out.extend(dec.close())
    except (RemoteProtocolError, InStreamError) as exc:
        return type(exc).__name__, out
    return "ok", out


def tgi_event(i: int, text: str, last: bool = False, **extra: Any) -> str:
    event: dict[str, Any] = {
        "index": i,
        "token": {"id": 100 + i, "text": text, "logprob": -0.5, "special": False},
        "generated_text": None,
        "details": None,
    }
    if last:
        event["details"] = {
            "finish_reason": "eos_token",
            "generated_tokens": i,
            "input_length": 4,
            "seed": None,
        }
    event.update(extra)
    return json.dumps(event)


def tgi_sse(*datas: str) -> bytes:
    # TGI writes `data:{...}` without a space
    return b"".join(b"data:" + d.encode() + b"\n\n" for d in datas)


TGI_BODY = tgi_sse(
    tgi_event(1, "Hello"),
    tgi_event(
        2,
        " wörld",
        top_tokens=[{"id": 5, "text": " world", "logprob": -0.1, "special": False}],
    ),
    tgi_event(3, "</s>", last=True, generated_text="Hello wörld"),
)


# -- TGI -----------------------------------------------------------------------------------------


def test_tgi_details() -> None:
    items = run(TextGenerationStreamDecoder(details=True), [TGI_BODY])
    assert all(isinstance(i, TextGenerationStreamOutput) for i in items)
    assert [i.token.text for i in items] == ["Hello", " wörld", "</s>"]
    assert items[0].token.id == 101
    assert items[0].token.logprob == -0.5
    assert items[0].token.special is False
    assert items[0].details is None
    assert items[0].top_tokens is None
    assert items[1].top_tokens is not None
    assert items[1].top_tokens[0].text == " world"
    last = items[-1]
    assert last.generated_text == "Hello wörld"
    assert last.details is not None
    assert last.details.finish_reason == "eos_token"
    assert last.details.generated_tokens == 3
    assert last.details.input_length == 4
    assert last.details.seed is None
    assert [i.to_dict() for i in items] == [
        json.loads(line[5:]) for line in TGI_BODY.split(b"\n\n") if line
    ]


def test_tgi_text_only() -> None:
    assert run(TextGenerationStreamDecoder(), [TGI_BODY]) == ["Hello", " wörld", "</s>"]
    assert (
        run(TextGenerationStreamDecoder(details=False), [tgi_sse('{"generated_text": "x"}')]) == []
    )
    with pytest.raises(MalformedResponseError):
        run(TextGenerationStreamDecoder(), [tgi_sse('{"token": {"text": 3}}')])
    with pytest.raises(MalformedResponseError):
        run(TextGenerationStreamDecoder(), [tgi_sse('{"token": "x"}')])


def test_tgi_token_with_line_separators() -> None:
    # TGI (serde_json) sends U+2028 / U+0085 unescaped: they must not split lines.
    body = "data:" + tgi_event(1, "a\u2028b\u0085c") + "\n\n"
    assert run(TextGenerationStreamDecoder(), [body.encode()]) == ["a\u2028b\u0085c"]


@pytest.mark.parametrize(
    ("error_type", "cls"),
    [("generation", GenerationError), ("overloaded", OverloadedError), ("other", InStreamError)],
)
def test_tgi_errors(error_type: str, cls: type[Exception]) -> None:
    body = tgi_sse(tgi_event(1, "a"), json.dumps({"error": "it broke", "error_type": error_type}))
    dec = TextGenerationStreamDecoder(details=True)
    assert len(dec.feed(body)) == 1  # the item before the error is delivered first
    with pytest.raises(cls, match="it broke"):
        dec.close()


def test_tgi_done_and_empty() -> None:
    dec = TextGenerationStreamDecoder()
    assert dec.feed(TGI_BODY + b"data: [DONE]\n\n") == ["Hello", " wörld", "</s>"]
    assert dec.finished
    dec = TextGenerationStreamDecoder()
    dec.feed(b"")
    with pytest.raises(IncompleteStreamError):
        dec.close()


def _cassette(name: str) -> bytes:
    import yaml

    path = CASSETTES_DIR / name
    if not path.exists():
        pytest.fail(f"the hf cassettes are missing beside the checkout: {path}")
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        body = interaction["response"]["body"]["string"]
        if isinstance(body, str) and body.startswith("data:"):
            return body.encode()
    raise AssertionError(name)


def test_tgi_cassettes() -> None:
    body = _cassette("TestTextGenerationClientVCR.test_generate_stream_with_details.yaml")
    (item,) = run(TextGenerationStreamDecoder(details=True), [body])
    assert item.index == 1
    assert item.token.text == " "
    assert item.token.logprob == -2.0078125
    assert item.generated_text == ""
    assert item.details is not None
    assert item.details.finish_reason == "length"
    assert item.details.generated_tokens == 1
    assert item.details.input_length is None
    body = _cassette("test_async_generate_stream_no_details.yaml")
    assert run(TextGenerationStreamDecoder(), [body]) == ["."]


# -- OpenAI completions --------------------------------------------------------------------------


def test_xllamacpp_completions_stream() -> None:
    body = capture_body("xllamacpp_completions_stream.txt")
    dec = CompletionStreamDecoder(details=True)
    items = run(dec, [body])
    assert dec.finished
    assert "".join(i.token.text for i in items) == " Paris.\n\nThe United States has"
    assert [i.index for i in items] == list(range(1, len(items) + 1))
    assert all(i.token.id == -1 for i in items)
    assert all(i.token.special is False for i in items)
    last = items[-1]
    assert last.token.text == " has"  # the finish chunk (empty text) finished this token
    assert all(i.token.text for i in items)  # no item with an empty token
    assert last.generated_text == " Paris.\n\nThe United States has"
    assert last.details is not None
    assert last.details.finish_reason == "length"
    assert last.details.generated_tokens == 8
    assert last.details.input_length == 5
    assert last.completion["timings"]["predicted_n"] == 8
    assert all(i.details is None for i in items[:-1])
    texts = run(CompletionStreamDecoder(), [body])
    assert texts == [" Paris", ".", "\n", "\n", "The", " United", " States", " has"]


def test_transformers_serve_completions_stream() -> None:
    body = capture_body("transformers_serve_completions_stream.txt")
    dec = CompletionStreamDecoder(details=True)
    items = run(dec, [body])
    assert not dec.finished  # no [DONE]
    assert items[-1].generated_text == " Paris.\n\nThe answer is:"
    assert items[-1].details.generated_tokens == 8


def completion_chunk(text: str | None, finish: str | None = None, **extra: Any) -> str:
    choice: dict[str, Any] = {"index": 0, "text": text, "finish_reason": finish}
    choice.update(extra.pop("choice", {}))
    return json.dumps({"id": "c", "object": "text_completion", "choices": [choice], **extra})


def sse(*datas: str) -> bytes:
    return b"".join(encode_event(ServerSentEvent(d)) for d in datas)


def test_usage_chunk_after_finish_fills_details() -> None:
    # vLLM with stream_options.include_usage: the usage comes in a chunk of its own.
    body = sse(
        completion_chunk("a"),
        completion_chunk("b", "stop"),
        json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
        "[DONE]",
    )
    dec = CompletionStreamDecoder(details=True)
    items = dec.feed(body)
    assert [i.token.text for i in items] == ["a", "b"]
    assert items[-1].details.finish_reason == "stop"
    assert items[-1].details.generated_tokens == 2
    assert items[-1].details.input_length == 3
    assert items[-1].generated_text == "ab"


def test_finish_item_released_at_done_or_close() -> None:
    dec = CompletionStreamDecoder(details=True)
    # "a" is held until the next event; the finish chunk makes it the last item, which waits
    # for a usage chunk until [DONE]
    assert dec.feed(sse(completion_chunk("a"), completion_chunk("", "length"))) == []
    (last,) = dec.feed(sse("[DONE]"))
    assert last.token.text == "a"
    assert last.details.generated_tokens == 1  # counted: no usage came
    dec = CompletionStreamDecoder(details=True)
    dec.feed(sse(completion_chunk("a", "length")))
    (last,) = dec.close()
    assert last.details.finish_reason == "length"
    # the next text chunk releases it too
    dec = CompletionStreamDecoder(details=True)
    items = dec.feed(sse(completion_chunk("a", "length"), completion_chunk("b")))
    assert [i.token.text for i in items] == ["a"]
    assert [i.token.text for i in dec.close()] == ["b"]


def test_each_item_waits_one_event_with_details() -> None:
    """With details=True an item is released by the next event (it may be the finish)."""
    dec = CompletionStreamDecoder(details=True)
    assert dec.feed(sse(completion_chunk("a"))) == []
    assert [i.token.text for i in dec.feed(sse(completion_chunk("b")))] == ["a"]
    (last,) = dec.feed(sse(completion_chunk("", "stop", usage={"completion_tokens": 2})))
    assert (last.token.text, last.generated_text, last.details.generated_tokens) == ("b", "ab", 2)
    # without details, texts are not held
    assert CompletionStreamDecoder().feed(sse(completion_chunk("a"))) == ["a"]


def test_nothing_generated_gives_one_empty_item() -> None:
    dec = CompletionStreamDecoder(details=True)
    (item,) = dec.feed(sse(completion_chunk("", "stop", usage={"completion_tokens": 0})))
    assert (item.token.text, item.generated_text, item.details.finish_reason) == ("", "", "stop")


def test_completion_logprobs() -> None:
    openai = completion_chunk(
        "a",
        choice={
            "logprobs": {
                "tokens": ["a"],
                "token_logprobs": [-0.25],
                "top_logprobs": [{"a": -0.25, "b": -2.0}],
            }
        },
    )
    llamacpp = completion_chunk(
        "b",
        choice={
            "logprobs": {
                "content": [
                    {
                        "id": 42,
                        "token": "b",
                        "logprob": -0.5,
                        "top_logprobs": [{"id": 43, "token": "c", "logprob": -1.5}],
                    }
                ]
            }
        },
    )
    items = run(
        CompletionStreamDecoder(details=True),
        [sse(openai, llamacpp, completion_chunk("c", choice={"logprobs": 3}))],
    )
    assert (items[0].token.id, items[0].token.logprob) == (-1, -0.25)
    assert [(t.text, t.logprob) for t in items[0].top_tokens] == [("a", -0.25), ("b", -2.0)]
    assert (items[1].token.id, items[1].token.logprob) == (42, -0.5)
    assert [(t.id, t.text) for t in items[1].top_tokens] == [(43, "c")]
    assert (items[2].token.id, items[2].token.logprob, items[2].top_tokens) == (-1, None, None)


def test_completion_choice_zero_only_and_empty_text() -> None:
    body = sse(
        completion_chunk("a"),
        json.dumps({"choices": [{"index": 1, "text": "other"}]}),
        completion_chunk(""),
        completion_chunk(None),
        completion_chunk("b"),
    )
    assert run(CompletionStreamDecoder(), [body]) == ["a", "b"]
    assert [i.token.text for i in run(CompletionStreamDecoder(details=True), [body])] == ["a", "b"]


@pytest.mark.parametrize(
    "data",
    [
        '{"choices": "x"}',
        '{"choices": [1]}',
        '{"choices": {"a": 1}}',
        completion_chunk(None, choice={"text": 5}),
    ],
)
def test_completion_malformed(data: str) -> None:
    with pytest.raises(MalformedResponseError):
        run(CompletionStreamDecoder(details=True), [sse(data)])


def test_completion_errors() -> None:
    with pytest.raises(InStreamError, match="boom"):
        run(
            CompletionStreamDecoder(),
            [sse(completion_chunk("a"), '{"error": {"message": "boom"}}')],
        )


# -- properties ----------------------------------------------------------------------------------

_tgi_datas = st.one_of(
    st.builds(tgi_event, st.integers(1, 50), st.text(max_size=6)),
    st.builds(lambda t: tgi_event(9, t, last=True, generated_text="x"), st.text(max_size=4)),
    st.just('{"error": "e", "error_type": "overloaded"}'),
    st.just("[DONE]"),
    st.just("{bad"),
)
_completion_datas = st.one_of(
    st.builds(completion_chunk, st.text(max_size=6)),
    st.builds(completion_chunk, st.text(max_size=3), st.sampled_from(["stop", "length"])),
    st.just(json.dumps({"choices": [], "usage": {"completion_tokens": 5}})),
    st.just("[DONE]"),
    st.just('{"error": "e"}'),
    st.just("[1]"),
)


@st.composite
def bodies(draw: st.DrawFn, datas: st.SearchStrategy[str]) -> bytes:
    out = b""
    for data in draw(st.lists(datas, max_size=8)):
        line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        wire = encode_event(ServerSentEvent(data), line_end=line_end)
        if draw(st.booleans()):
            wire = wire.replace(b"data: ", b"data:", 1)
        if draw(st.booleans()):
            wire = b": ping" + line_end.encode() * 2 + wire
        out += wire
    if draw(st.booleans()) and out:
        raw = bytearray(out)
        for pos, value in draw(
            st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3)
        ):
            raw[pos % len(raw)] = value
        out = bytes(raw)
    if draw(st.booleans()):
        out = out[: draw(st.integers(0, len(out)))]
    return out


FACTORIES = {
    "tgi": lambda: TextGenerationStreamDecoder(details=True),
    "tgi-text": TextGenerationStreamDecoder,
    "completions": lambda: CompletionStreamDecoder(details=True),
    "completions-text": CompletionStreamDecoder,
}


@SETTINGS
@given(st.sampled_from(sorted(FACTORIES)), st.data(), st.lists(st.integers(0, 3000), max_size=10))
def test_any_split_same_result(name: str, data: st.DataObject, cuts: list[int]) -> None:
    datas = _tgi_datas if name.startswith("tgi") else _completion_datas
    body = data.draw(bodies(datas))
    factory = FACTORIES[name]
    kind, items = outcome(factory, [body])
    for chunks in (split_at(body, cuts), [body[i : i + 1] for i in range(len(body))]):
        got_kind, got = outcome(factory, chunks)
        assert got_kind == kind
        if kind == "ok":
            assert got == items
        else:
            assert items == got[: len(items)]


@SETTINGS
@given(
    st.sampled_from(sorted(FACTORIES)),
    st.binary(max_size=400),
    st.lists(st.integers(0, 400), max_size=5),
)
def test_arbitrary_bytes_only_protocol_errors(name: str, body: bytes, cuts: list[int]) -> None:
    factory = FACTORIES[name]
    kind = outcome(factory, [body])[0]
    assert kind == outcome(factory, split_at(body, cuts))[0]
    if kind not in ("ok", "MalformedResponseError", "IncompleteStreamError", "EventTooLargeError"):
        assert b"error" in body  # an InStreamError needs an error object or an error event


@pytest.mark.parametrize(
    "name", ["xllamacpp_completions_stream.txt", "transformers_serve_completions_stream.txt"]
)
def test_real_completion_streams_byte_by_byte(name: str) -> None:
    body = capture_body(name)
    for factory in (FACTORIES["completions"], FACTORIES["completions-text"]):
        assert run(factory(), [body[i : i + 1] for i in range(len(body))]) == run(factory(), [body])


def test_tgi_one_event_per_chunk() -> None:
    events = [e + b"\n\n" for e in TGI_BODY.split(b"\n\n") if e]
    for factory in (FACTORIES["tgi"], FACTORIES["tgi-text"]):
        assert run(factory(), events) == run(factory(), [TGI_BODY])


def test_held_item_comes_before_an_error() -> None:
    """With details=True the last token is held for one event; an in-stream error after it
    still delivers it first, then raises."""
    dec = CompletionStreamDecoder(details=True)
    body = sse(completion_chunk("a"), json.dumps({"error": {"message": "boom", "type": "x"}}))
    items = dec.feed(body)
    assert [i.token.text for i in items] == ["a"]
    with pytest.raises(InStreamError, match="boom"):
        dec.close()
    dec = CompletionStreamDecoder(details=True)
    assert dec.feed(sse(completion_chunk("a"))) == []
    (item,) = dec.feed(sse(json.dumps({"error": "boom"})))  # the error alone in its feed
    assert item.token.text == "a"
    with pytest.raises(InStreamError):
        dec.feed(b"")

"""Task flows as scripted conversations: the request each task builds, and what it makes of
the answers. No sockets."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwire.sansio import Streaming, _embeddings
from inferwire.sansio._config import build_config
from inferwire.sansio._errors import (
    BadRequestError,
    EventTooLargeError,
    MalformedResponseError,
    UsageError,
    ValidationError,
)
from inferwire.sansio._tasks import (
    chat_completion,
    feature_extraction,
    get_endpoint_info,
    health_check,
    text_generation,
)

from flowscript import Conversation

LOCAL = build_config(base_url="http://127.0.0.1:8080/v1", token="sk-local")
TGI = build_config(base_url="http://127.0.0.1:3000")
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
CHAT_BODY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "smollm2",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Paris."}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    "timings": {"predicted_ms": 12.5},
}).encode()


def sse(*payloads: object) -> bytes:
    return b"".join(b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode())
                    + b"\n\n" for p in payloads)


def chunk(content: str | None, finish: str | None = None) -> dict[str, object]:
    delta = {} if content is None else {"content": content}
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def drain(result: Streaming, *chunks: bytes) -> list[object]:  # type: ignore[type-arg]
    items = []
    for data in chunks:
        items.extend(result.decoder.feed(data))
    items.extend(result.decoder.close())
    return items


# -- chat completion -------------------------------------------------------------------

def test_chat_request_shape() -> None:
    flow = chat_completion(LOCAL, MESSAGES, model="smollm2", params={"temperature": 0.2,
                           "max_tokens": 16}, extra_body={"cache_prompt": True})
    talk = Conversation(flow)
    request = talk.expect_send()
    assert (request.method, request.url) == ("POST", "http://127.0.0.1:8080/v1/chat/completions")
    assert request.header("authorization") == "Bearer sk-local"
    assert request.header("content-type") == "application/json"
    payload = json.loads(request.body or b"")
    assert next(iter(payload)) == "model"
    assert payload == {"model": "smollm2", "messages": MESSAGES, "temperature": 0.2,
                       "max_tokens": 16, "stream": False, "cache_prompt": True}
    talk.respond(200, CHAT_BODY)
    output = talk.result()
    assert output.choices[0].message.content == "Paris."
    assert output.usage.total_tokens == 11
    assert output["timings"] == {"predicted_ms": 12.5}  # unknown fields stay reachable


def test_chat_payload_model_defaults_to_dummy_for_urls() -> None:
    talk = Conversation(chat_completion(LOCAL, MESSAGES, params={}))
    assert json.loads(talk.expect_send().body or b"")["model"] == "dummy"


def test_chat_stream_opens_and_hands_over_a_decoder() -> None:
    talk = Conversation(chat_completion(LOCAL, MESSAGES, stream=True, params={}))
    request = talk.expect_open()
    assert json.loads(request.body or b"")["stream"] is True
    assert request.header("accept") is None  # the HF Inference Toolkit refuses event-stream
    talk.respond_head(200, {"content-type": "text/event-stream"})
    result = talk.result()
    assert isinstance(result, Streaming)
    items = drain(result, sse(chunk("Par"), chunk("is"), chunk(None, "stop"), b"[DONE]"))
    assert "".join(c.choices[0].delta.content or "" for c in items) == "Paris"
    assert items[-1].choices[0].finish_reason == "stop"


def test_chat_stream_answered_with_json_becomes_one_item() -> None:
    talk = Conversation(chat_completion(LOCAL, MESSAGES, stream=True, params={}))
    talk.respond_head(200, {"content-type": "application/json"})
    talk.body(CHAT_BODY[:10], CHAT_BODY[10:])
    (item,) = drain(talk.result())
    assert item.choices[0].delta.content == "Paris."
    assert item.choices[0].finish_reason == "stop"


def test_chat_stream_error_status_is_raised_with_the_server_message() -> None:
    talk = Conversation(chat_completion(LOCAL, MESSAGES, stream=True, params={}))
    talk.respond_head(400, {"content-type": "application/json"})
    with pytest.raises(BadRequestError) as info:
        talk.body(b'{"error":{"code":400,"message":"the request exceeds the available context '
                  b'size","type":"exceed_context_size_error","n_prompt_tokens":4000}}')
    assert info.value.error_type == "exceed_context_size_error"
    assert "context size" in str(info.value)


def test_response_format_is_translated_only_for_hf_inference() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    local = Conversation(chat_completion(LOCAL, MESSAGES, params={"response_format": fmt}))
    assert json.loads(local.expect_send().body or b"")["response_format"] == fmt
    hf = build_config(model="org/m", provider="hf-inference", token="hf_x")
    routed = Conversation(chat_completion(hf, MESSAGES, params={"response_format": fmt}))
    assert json.loads(routed.expect_send().body or b"")["response_format"] == {
        "type": "json_object", "value": {"type": "object"}}


@pytest.mark.parametrize(("messages", "params", "argument"), [
    ("hello", {}, "messages"),
    ([], {}, "messages"),
    ([{"content": "no role"}], {}, "messages"),
    (MESSAGES, {"temperature": "hot"}, "temperature"),
    (MESSAGES, {"max_tokens": True}, "max_tokens"),
    (MESSAGES, {"tools": {"not": "a list"}}, "tools"),
])
def test_chat_usage_errors_name_the_argument(messages: object, params: dict[str, object],
                                             argument: str) -> None:
    with pytest.raises(UsageError) as info:
        chat_completion(LOCAL, messages, params=params)
    assert info.value.argument == argument


def test_chat_malformed_body_is_a_typed_error() -> None:
    talk = Conversation(chat_completion(LOCAL, MESSAGES, params={}))
    with pytest.raises(MalformedResponseError, match="received"):
        talk.respond(200, b"<html>not json</html>")


# -- text generation -------------------------------------------------------------------

def test_tgi_request_shape_and_plain_text_result() -> None:
    talk = Conversation(text_generation(TGI, "The capital of France is", params={
        "max_new_tokens": 5, "seed": 1}))
    request = talk.expect_send()
    assert request.url == "http://127.0.0.1:3000"
    assert json.loads(request.body or b"") == {
        "inputs": "The capital of France is", "parameters": {"max_new_tokens": 5, "seed": 1}}
    talk.respond(200, b'[{"generated_text":" Paris."}]')
    assert talk.result() == " Paris."


def test_tgi_details_and_stream_flags() -> None:
    talk = Conversation(text_generation(TGI, "Hi", details=True, stream=True, params={
        "top_n_tokens": 2}))
    payload = json.loads(talk.expect_open().body or b"")
    assert payload == {"inputs": "Hi", "parameters": {"top_n_tokens": 2, "details": True},
                       "stream": True}
    talk.respond_head(200, {"content-type": "text/event-stream"})
    events = (
        b'data:{"index":1,"token":{"id":3,"text":" there","logprob":-0.1,"special":false},'
        b'"generated_text":null,"details":null}\n\n'
        b'data:{"index":2,"token":{"id":2,"text":"</s>","logprob":-0.2,"special":true},'
        b'"generated_text":" there","details":{"finish_reason":"eos_token",'
        b'"generated_tokens":2,"seed":null}}\n\n'
    )
    items = drain(talk.result(), events)
    assert [i.token.text for i in items] == [" there", "</s>"]
    assert items[-1].details.finish_reason == "eos_token"


def test_tgi_stream_without_details_yields_strings() -> None:
    talk = Conversation(text_generation(TGI, "Hi", stream=True, params={}))
    talk.respond_head(200, {"content-type": "text/event-stream"})
    items = drain(talk.result(), b'data:{"index":1,"token":{"id":3,"text":" yo","logprob":0,'
                                 b'"special":false},"generated_text":" yo","details":null}\n\n')
    assert items == [" yo"]


def test_tgi_in_stream_error_is_typed() -> None:
    talk = Conversation(text_generation(TGI, "Hi", stream=True, params={}))
    talk.respond_head(200, {"content-type": "text/event-stream"})
    result = talk.result()
    with pytest.raises(ValidationError, match="too many"):
        drain(result, b'data:{"error":"too many tokens","error_type":"validation"}\n\n')


def test_stream_request_answered_with_json_is_not_silent() -> None:
    """The HF Inference Toolkit ignores "stream": the answer becomes one stream item."""
    talk = Conversation(text_generation(TGI, "Hi", stream=True, params={}))
    talk.respond_head(200, {"content-type": "application/json"})
    talk.body(b'[{"generated_text":"The capital of France is Paris."}]')
    assert drain(talk.result()) == ["The capital of France is Paris."]


def test_openai_completions_shape_for_v1_urls() -> None:
    talk = Conversation(text_generation(LOCAL, "Once", model="smollm2", params={
        "max_new_tokens": 8, "temperature": 0.0, "stop": ["\n"]}))
    request = talk.expect_send()
    assert request.url == "http://127.0.0.1:8080/v1/completions"
    assert json.loads(request.body or b"") == {"prompt": "Once", "model": "smollm2",
                                               "max_tokens": 8, "temperature": 0.0,
                                               "stop": ["\n"], "stream": False}
    talk.respond(200, json.dumps({"choices": [{"index": 0, "text": " upon a time",
                                               "finish_reason": "length"}],
                                  "usage": {"completion_tokens": 8}}).encode())
    assert talk.result() == " upon a time"


@pytest.mark.parametrize("param", ["watermark", "adapter_id", "truncate", "do_sample"])
def test_parameters_the_completions_api_cannot_express_are_refused(param: str) -> None:
    value = {"watermark": True, "adapter_id": "x", "truncate": 5, "do_sample": True}[param]
    with pytest.raises(UsageError) as info:
        text_generation(LOCAL, "Once", params={param: value})
    assert info.value.argument == param


def test_decoder_input_details_needs_details() -> None:
    with pytest.raises(UsageError) as info:
        text_generation(TGI, "x", params={"decoder_input_details": True})
    assert info.value.argument == "decoder_input_details"


# -- feature extraction ----------------------------------------------------------------

def test_hf_feature_extraction_shape() -> None:
    talk = Conversation(feature_extraction(TGI, ["a", "b"], normalize=True, truncate=True))
    request = talk.expect_send()
    assert json.loads(request.body or b"") == {"inputs": ["a", "b"], "normalize": True,
                                               "truncate": True}
    talk.respond(200, b"[[0.5, 1.0, -2.0], [3, 4, 5]]")
    result = talk.result()
    assert result.shape == (2, 3)
    assert result.tolist() == [[0.5, 1.0, -2.0], [3.0, 4.0, 5.0]]


def test_openai_embeddings_shape_and_base64() -> None:
    talk = Conversation(feature_extraction(LOCAL, "hello", model="emb",
                                           encoding_format="base64"))
    request = talk.expect_send()
    assert request.url == "http://127.0.0.1:8080/v1/embeddings"
    assert json.loads(request.body or b"") == {"input": "hello", "model": "emb",
                                               "encoding_format": "base64"}
    packed = base64.b64encode(struct.pack("<3f", 0.25, -1.0, 2.0)).decode()
    talk.respond(200, json.dumps({"object": "list", "data": [
        {"object": "embedding", "index": 0, "embedding": packed}]}).encode())
    result = talk.result()
    assert result.shape == (1, 3)
    assert result.tolist() == [[0.25, -1.0, 2.0]]


def test_embeddings_are_ordered_by_index() -> None:
    talk = Conversation(feature_extraction(LOCAL, ["x", "y"]))
    talk.respond(200, b'{"data":[{"index":1,"embedding":[2.0]},{"index":0,"embedding":[1.0]}]}')
    assert talk.result().tolist() == [[1.0], [2.0]]


def test_hf_only_options_are_refused_for_openai_servers() -> None:
    with pytest.raises(UsageError) as info:
        feature_extraction(LOCAL, "x", normalize=True)
    assert info.value.argument == "normalize"


@pytest.mark.parametrize("body", [b"[[1, 2], [3]]", b'[["a"]]', b'{"oops": 1}', b"nan"])
def test_malformed_embeddings(body: bytes) -> None:
    talk = Conversation(feature_extraction(TGI, "x"))
    with pytest.raises(MalformedResponseError):
        talk.respond(200, body)


_EMBEDDING_VALUES = st.one_of(
    st.floats(width=64), st.floats(width=32), st.integers(-(2**70), 2**70),
    st.sampled_from([True, False, None, "1.0", 1e39, -1e39, 10**400, 0, -0.0, 3.4028235e38]),
)


def _embedding_outcome(body: bytes, *, fast: bool) -> Any:
    with mock.patch.object(_embeddings, "_without_bools",
                           _embeddings._without_bools if fast else lambda body: False):
        for parse in (_embeddings.parse_hf_features, _embeddings.parse_openai_embeddings):
            try:
                result = parse(body)
            except Exception as exc:  # the checked path's exact error, whatever it is
                yield (type(exc), str(exc))
            else:
                yield (result.shape, result.data.tobytes())


@settings(max_examples=300, deadline=None)
@given(
    rows=st.one_of(
        st.lists(st.lists(_EMBEDDING_VALUES, min_size=1, max_size=6), min_size=1, max_size=3),
        st.lists(_EMBEDDING_VALUES, min_size=1, max_size=6),
        st.lists(st.lists(st.lists(st.floats(), max_size=2), max_size=2), max_size=2),
    ),
    same_width=st.booleans(),
    spaced=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-32", "utf-8-sig"]),
)
def test_fast_float_decoding_matches_the_checked_path(
    rows: list[Any], same_width: bool, spaced: bool, encoding: str
) -> None:
    """Packing with `struct` (no bool possible in the body) gives exactly the values, shapes
    and errors of the type-checked path, for any embedding body."""
    if same_width and rows and all(isinstance(row, list) and row for row in rows):
        width = len(rows[0])
        rows = [(row * width)[:width] for row in rows]
    text = json.dumps(rows, separators=(", ", ": ") if spaced else (",", ":"))
    openai = json.dumps({"data": [{"embedding": row} for row in rows]})
    for body in (text.encode(encoding), openai.encode(encoding)):
        assert list(_embedding_outcome(body, fast=True)) == list(
            _embedding_outcome(body, fast=False))


def test_bools_are_never_numbers_in_embeddings() -> None:
    for body in (b"[[1.0, true]]", b"[false, 2]", '[[1, true]]'.encode("utf-16")):
        with pytest.raises(MalformedResponseError, match="non-number"):
            _embeddings.parse_hf_features(body)


@pytest.mark.parametrize("text", [3, [], ["ok", 4], None])
def test_feature_extraction_text_must_be_text(text: object) -> None:
    with pytest.raises(UsageError) as info:
        feature_extraction(TGI, text)
    assert info.value.argument == "text"


# -- endpoint utilities ----------------------------------------------------------------

@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False), (404, False)])
def test_health_check(status: int, healthy: bool) -> None:
    talk = Conversation(health_check(TGI))
    assert talk.expect_send().url == "http://127.0.0.1:3000/health"
    talk.respond(status, b"")
    assert talk.result() is healthy


def test_endpoint_info() -> None:
    talk = Conversation(get_endpoint_info(TGI))
    assert talk.expect_send().method == "GET"
    talk.respond(200, b'{"model_id":"x","max_input_tokens":4096}')
    assert talk.result() == {"model_id": "x", "max_input_tokens": 4096}
    broken = Conversation(get_endpoint_info(TGI))
    with pytest.raises(MalformedResponseError):
        broken.respond(200, b"[1, 2]")


def test_configured_stream_bounds_apply_to_every_stream() -> None:
    small = build_config(base_url="http://127.0.0.1:3000", max_event_size=64)
    talk = Conversation(text_generation(small, "Hi", stream=True, params={}))
    talk.respond_head(200, {"content-type": "text/event-stream"})
    with pytest.raises(EventTooLargeError):
        drain(talk.result(), b"data:" + b"x" * 200 + b"\n\n")

"""The hf-inference tasks in the core, as scripted conversations: for every task, the request
it builds (route, headers, body) and what it makes of huggingface_hub's answer shapes; then
the errors. No sockets."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire.sansio._config import build_config
from inferwire.sansio._content import Blob
from inferwire.sansio._errors import (
    InferenceError,
    InStreamError,
    MalformedResponseError,
    UsageError,
)
from inferwire.sansio._hf_tasks import TASKS, task_flow

from flowscript import Conversation

HF = build_config(token="hf_test", provider="hf-inference")
ROUTER = "https://router.huggingface.co/hf-inference/models"
ENDPOINT = build_config(base_url="http://127.0.0.1:9000", token="hf_test")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
FLAC = b"fLaC" + b"\x00" * 28
IMAGE = Blob(PNG)
AUDIO = Blob(FLAC)
B64_PNG = base64.b64encode(PNG).decode()


@dataclass
class Case:
    """One task call: its inputs and parameters, the request it must send, an answer, and
    what the result must be."""

    method: str
    inputs: Any
    answer: bytes
    expect: Any  # the result, compared with ==, or a callable checking it
    params: dict[str, Any] = field(default_factory=dict)
    payload: Any = None  # the JSON body sent; None: the raw bytes of `raw`
    raw: bytes | None = None
    route: str = "/models/m"
    answer_type: str = "application/json"
    accept: str | None = None
    extra: dict[str, Any] | None = None


def labels(*pairs: tuple[str, float]) -> bytes:
    return json.dumps([{"label": label, "score": score} for label, score in pairs]).encode()


CASES = [
    Case("audio_classification", AUDIO, labels(("neu", 0.6), ("hap", 0.2)),
         [{"label": "neu", "score": 0.6}, {"label": "hap", "score": 0.2}], raw=FLAC),
    Case("audio_classification", AUDIO, labels(("neu", 0.6)), [{"label": "neu", "score": 0.6}],
         params={"top_k": 1}, payload={"inputs": base64.b64encode(FLAC).decode(),
                                       "parameters": {"top_k": 1}}),
    Case("audio_to_audio", AUDIO,
         json.dumps([{"label": "s0", "blob": base64.b64encode(b"abc").decode(),
                      "content-type": "audio/flac"}]).encode(),
         [{"label": "s0", "blob": b"abc", "content_type": "audio/flac"}], raw=FLAC),
    Case("automatic_speech_recognition", AUDIO, b'{"text": "HELLO"}', {"text": "HELLO"},
         raw=FLAC),
    Case("automatic_speech_recognition", AUDIO, b'{"text": "HELLO", "chunks": []}',
         {"text": "HELLO", "chunks": []}, extra={"return_timestamps": True},
         payload={"inputs": base64.b64encode(FLAC).decode(),
                  "parameters": {"return_timestamps": True}}),
    Case("document_question_answering", {"image": IMAGE, "question": "Total?"},
         b'[{"answer": "$1", "score": 0.9, "start": 1, "end": 2}]',
         [{"answer": "$1", "score": 0.9, "start": 1, "end": 2}],
         payload={"inputs": {"image": B64_PNG, "question": "Total?"}, "parameters": {}}),
    Case("fill_mask", "Paris is the [MASK] of France.",
         b'[{"score": 0.9, "token": 1, "token_str": "capital", "sequence": "s"}]',
         [{"score": 0.9, "token": 1, "token_str": "capital", "sequence": "s"}],
         params={"top_k": 1},
         payload={"inputs": "Paris is the [MASK] of France.", "parameters": {"top_k": 1}}),
    Case("image_classification", IMAGE, labels(("cat", 0.9)), [{"label": "cat", "score": 0.9}],
         raw=PNG),
    Case("image_segmentation", IMAGE,
         json.dumps([{"label": "sky", "score": 0.9, "mask": B64_PNG}]).encode(),
         [{"label": "sky", "score": 0.9, "mask": B64_PNG}], raw=PNG),
    Case("image_to_image", IMAGE, PNG, PNG, params={"prompt": "winter"},
         payload={"inputs": B64_PNG, "parameters": {"prompt": "winter"}},
         answer_type="image/png", accept="image/png"),
    Case("image_to_image", IMAGE, PNG, PNG, raw=PNG, answer_type="image/png",
         accept="image/png"),
    Case("image_to_text", IMAGE, b'[{"generated_text": "a cat"}]', {"generated_text": "a cat"},
         raw=PNG),
    Case("object_detection", IMAGE,
         b'[{"label": "cat", "score": 0.9, "box": {"xmin": 1, "ymin": 2, "xmax": 3, '
         b'"ymax": 4}}]',
         lambda out: out[0].box.xmax == 3 and type(out[0].box).__name__
         == "ObjectDetectionBoundingBox", raw=PNG),
    Case("question_answering", {"question": "Who?", "context": "Me."},
         b'{"answer": "Me", "score": 0.5, "start": 0, "end": 2}',
         {"answer": "Me", "score": 0.5, "start": 0, "end": 2},
         payload={"inputs": {"question": "Who?", "context": "Me."}, "parameters": {}}),
    Case("question_answering", {"question": "Who?", "context": "Me."},
         b'[{"answer": "Me", "score": 0.5, "start": 0, "end": 2}]',
         [{"answer": "Me", "score": 0.5, "start": 0, "end": 2}], params={"top_k": 2},
         payload={"inputs": {"question": "Who?", "context": "Me."},
                  "parameters": {"top_k": 2}}),
    Case("sentence_similarity", {"source_sentence": "a", "sentences": ["b", "c"]},
         b"[0.5, 1]", [0.5, 1.0],
         payload={"inputs": {"source_sentence": "a", "sentences": ["b", "c"]},
                  "parameters": {}},
         route="/models/m/pipeline/sentence-similarity"),
    Case("summarization", "long text", b'[{"summary_text": "short"}]',
         {"summary_text": "short"}, payload={"inputs": "long text", "parameters": {}}),
    Case("table_question_answering", {"query": "How many?", "table": {"a": ["1", "2"]}},
         b'{"answer": "2", "coordinates": [[0, 1]], "cells": ["2"], "aggregator": "NONE"}',
         {"answer": "2", "coordinates": [[0, 1]], "cells": ["2"], "aggregator": "NONE"},
         payload={"inputs": {"query": "How many?", "table": {"a": ["1", "2"]}},
                  "parameters": {}}),
    Case("tabular_classification", {"data": {"a": ["1", "2"]}}, b'["0", "1"]', ["0", "1"],
         payload={"inputs": {"data": {"a": ["1", "2"]}}, "parameters": {}}),
    Case("tabular_regression", {"data": {"a": ["1", "2"]}}, b"[1.5, 2]", [1.5, 2.0],
         payload={"inputs": {"data": {"a": ["1", "2"]}}, "parameters": {}}),
    Case("text_classification", "I like you", b'[[{"label": "POSITIVE", "score": 0.99}]]',
         [{"label": "POSITIVE", "score": 0.99}],
         payload={"inputs": "I like you", "parameters": {}}),
    Case("text_classification", "I like you", labels(("POSITIVE", 0.99)),
         [{"label": "POSITIVE", "score": 0.99}], params={"top_k": 1},
         payload={"inputs": "I like you", "parameters": {"top_k": 1}}),
    Case("text_to_image", "an astronaut", PNG, PNG, params={"height": 256, "width": 256},
         payload={"inputs": "an astronaut", "parameters": {"height": 256, "width": 256}},
         answer_type="image/png", accept="image/png"),
    Case("text_to_image", "an astronaut", PNG, PNG, extra={"scheduler_kwargs": {"a": 1}},
         payload={"inputs": "an astronaut", "parameters": {"scheduler_kwargs": {"a": 1}}},
         answer_type="image/png", accept="image/png"),
    Case("text_to_speech", "Hello", FLAC, FLAC, payload={"inputs": "Hello", "parameters": {}},
         answer_type="audio/flac"),
    Case("token_classification", "My name is Sarah",
         b'[{"entity_group": "PER", "score": 0.99, "word": "Sarah", "start": 11, "end": 16}]',
         [{"entity_group": "PER", "score": 0.99, "word": "Sarah", "start": 11, "end": 16}],
         params={"aggregation_strategy": "simple"},
         payload={"inputs": "My name is Sarah",
                  "parameters": {"aggregation_strategy": "simple"}}),
    Case("translation", "Hello", b'[{"translation_text": "Bonjour"}]',
         {"translation_text": "Bonjour"}, params={"src_lang": "en", "tgt_lang": "fr"},
         payload={"inputs": "Hello", "parameters": {"src_lang": "en", "tgt_lang": "fr"}}),
    Case("visual_question_answering", {"image": IMAGE, "question": "Who?"},
         b'[{"answer": "woman", "score": 0.9}]', [{"answer": "woman", "score": 0.9}],
         payload={"inputs": {"image": B64_PNG, "question": "Who?"}, "parameters": {}}),
    Case("zero_shot_classification", "A new model", labels(("space", 0.9), ("art", 0.1)),
         [{"label": "space", "score": 0.9}, {"label": "art", "score": 0.1}],
         params={"candidate_labels": ["space", "art"], "multi_label": False},
         payload={"inputs": "A new model",
                  "parameters": {"candidate_labels": ["space", "art"], "multi_label": False}}),
    Case("zero_shot_classification", "A new model",
         b'{"sequence": "A new model", "labels": ["space", "art"], "scores": [0.9, 0.1]}',
         [{"label": "space", "score": 0.9}, {"label": "art", "score": 0.1}],
         params={"candidate_labels": ["space", "art"]},
         payload={"inputs": "A new model", "parameters": {"candidate_labels": ["space", "art"]}}),
    Case("zero_shot_image_classification", IMAGE, labels(("cat", 0.9), ("dog", 0.1)),
         [{"label": "cat", "score": 0.9}, {"label": "dog", "score": 0.1}],
         params={"candidate_labels": ["cat", "dog"]},
         payload={"inputs": B64_PNG, "parameters": {"candidate_labels": ["cat", "dog"]}}),
]


def _check_request(case: Case, conversation: Conversation) -> None:
    request = conversation.expect_send()
    assert request.method == "POST"
    assert request.url == ROUTER + case.route.removeprefix("/models")
    headers = dict(request.headers)
    assert headers["authorization"] == "Bearer hf_test"
    assert headers.get("accept") == case.accept
    if case.payload is not None:
        assert headers["content-type"] == "application/json"
        assert json.loads(request.body or b"") == case.payload
    else:
        assert request.body == case.raw
        assert headers["content-type"] == ("audio/flac" if case.raw == FLAC else "image/png")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.method)
def test_task_request_and_answer(case: Case) -> None:
    flow = task_flow(HF, case.method, case.inputs, model="m", params=case.params,
                     extra=case.extra)
    conversation = Conversation(flow)
    _check_request(case, conversation)
    conversation.respond(200, case.answer, {"content-type": case.answer_type})
    result = conversation.result()
    if callable(case.expect):
        assert case.expect(result)
    else:
        assert result == case.expect


def test_every_task_has_a_case() -> None:
    covered = {case.method for case in CASES}
    assert covered == set(TASKS) - {"image_to_video", "text_to_video"}


@pytest.mark.parametrize(
    ("method", "module", "name"),
    [("text_classification", "text_classification", "TextClassificationOutputElement"),
     ("image_segmentation", "image_segmentation", "ImageSegmentationOutputElement"),
     ("summarization", "summarization", "SummarizationOutput"),
     ("question_answering", "question_answering", "QuestionAnsweringOutputElement")],
)
def test_results_are_the_huggingface_hub_types(method: str, module: str, name: str) -> None:
    case = next(c for c in CASES if c.method == method)
    conversation = Conversation(task_flow(HF, method, case.inputs, model="m",
                                          params=case.params))
    conversation.respond(200, case.answer)
    result = conversation.result()
    first = result[0] if isinstance(result, list) else result
    assert type(first).__name__ == name
    assert type(first).__module__ == f"inferwire.sansio._types.{module}"


# -- routes ----------------------------------------------------------------------------------


def test_an_endpoint_url_gets_the_request_verbatim() -> None:
    conversation = Conversation(task_flow(ENDPOINT, "sentence_similarity",
                                          {"source_sentence": "a", "sentences": ["b"]},
                                          model=None, params={}))
    assert conversation.expect_send().url == "http://127.0.0.1:9000"  # no /pipeline/ suffix


def test_an_openai_style_url_serves_other_tasks_as_an_endpoint() -> None:
    config = build_config(base_url="http://127.0.0.1:9000/v1")
    conversation = Conversation(task_flow(config, "text_classification", "x", model=None,
                                          params={}))
    assert conversation.expect_send().url == "http://127.0.0.1:9000/v1"


@pytest.mark.parametrize("method", ["text_to_video", "image_to_video"])
def test_video_tasks_need_a_url(method: str) -> None:
    inputs = "a cat" if method == "text_to_video" else IMAGE
    with pytest.raises(UsageError, match="hf-inference does not serve"):
        task_flow(HF, method, inputs, model="some/model", params={})
    conversation = Conversation(task_flow(ENDPOINT, method, inputs, model=None,
                                          params={"num_frames": 8}))
    request = conversation.expect_send()
    assert request.url == "http://127.0.0.1:9000"
    payload = json.loads(request.body or b"")
    assert payload["parameters"] == {"num_frames": 8}
    conversation.respond(200, b"\x00\x00\x00\x18ftypmp42", {"content-type": "video/mp4"})
    assert conversation.result() == b"\x00\x00\x00\x18ftypmp42"


# -- URL inputs: fetched by the flow --------------------------------------------------------


def test_url_input_is_fetched_without_the_client_credentials() -> None:
    conversation = Conversation(task_flow(HF, "image_classification",
                                          "https://example.com/cat.png", model="m",
                                          params={}))
    fetch = conversation.expect_send()
    assert (fetch.method, fetch.url, fetch.body) == ("GET", "https://example.com/cat.png", None)
    assert "authorization" not in dict(fetch.headers)
    conversation.respond(200, PNG, {"content-type": "image/png"})
    request = conversation.expect_send()
    assert request.body == PNG
    assert dict(request.headers)["content-type"] == "image/png"
    conversation.respond(200, labels(("cat", 1.0)))
    assert conversation.result() == [{"label": "cat", "score": 1.0}]


def test_url_image_part_is_fetched_and_sent_as_base64() -> None:
    conversation = Conversation(task_flow(HF, "visual_question_answering",
                                          {"image": "http://example.com/x", "question": "?"},
                                          model="m", params={}))
    assert conversation.expect_send().method == "GET"
    conversation.respond(200, PNG)
    payload = json.loads(conversation.expect_send().body or b"")
    assert payload["inputs"] == {"image": B64_PNG, "question": "?"}


def test_a_failed_fetch_is_an_http_error_naming_the_url() -> None:
    conversation = Conversation(task_flow(HF, "image_to_text", "https://example.com/gone.png",
                                          model="m", params={}))
    with pytest.raises(InferenceError, match=r"example\.com/gone\.png"):
        conversation.respond(404, b"not found")


# -- bad input: UsageError naming the argument, before anything is sent ----------------------


@pytest.mark.parametrize(
    ("method", "inputs", "params", "argument"),
    [("text_classification", 3, {}, "text"),
     ("text_to_image", b"x", {}, "prompt"),
     ("image_classification", "not a url", {}, "image"),
     ("audio_classification", 5, {}, "audio"),
     ("question_answering", {"question": "q", "context": None}, {}, "context"),
     ("sentence_similarity", {"source_sentence": "a", "sentences": "b"}, {},
      "other_sentences"),
     ("table_question_answering", {"query": "q", "table": [1]}, {}, "table"),
     ("tabular_regression", {"data": {"a": 1}}, {}, "table"),
     ("text_classification", "x", {"top_k": "3"}, "top_k"),
     ("text_classification", "x", {"top_k": True}, "top_k"),
     ("translation", "x", {"src_lang": "en"}, "tgt_lang"),
     ("zero_shot_classification", "x", {"candidate_labels": []}, "candidate_labels"),
     ("zero_shot_image_classification", IMAGE, {"candidate_labels": ["one"]},
      "candidate_labels")],
)
def test_bad_arguments_are_usage_errors(method: str, inputs: Any, params: dict[str, Any],
                                        argument: str) -> None:
    with pytest.raises(UsageError) as info:
        task_flow(HF, method, inputs, model="m", params=params)
    assert info.value.argument == argument
    assert method in str(info.value)


def test_too_large_content_is_refused() -> None:
    from inferwire.sansio._content import MAX_INPUT_SIZE

    big = Blob(bytes(MAX_INPUT_SIZE + 1))
    with pytest.raises(UsageError, match="input limit"):
        task_flow(HF, "image_classification", big, model="m", params={})


# -- bad answers: our errors, naming what was wrong ----------------------------------------


@pytest.mark.parametrize(
    ("method", "inputs", "answer", "error", "match"),
    [("text_classification", "x", b"{}", MalformedResponseError, "list"),
     ("text_classification", "x", b"[1]", MalformedResponseError, "object"),
     ("summarization", "x", b"[]", MalformedResponseError, "empty"),
     ("sentence_similarity", {"source_sentence": "a", "sentences": ["b"]}, b'["x"]',
      MalformedResponseError, "numbers"),
     ("object_detection", IMAGE, b'[{"box": 3}]', MalformedResponseError, "box"),
     ("audio_to_audio", AUDIO, b'[{"blob": "***"}]', MalformedResponseError, "base64"),
     ("zero_shot_classification", "x", b'{"labels": ["a"], "scores": []}',
      MalformedResponseError, "same length"),
     ("text_classification", "x", b'{"error": "Model is loading"}', InStreamError, "loading"),
     ("text_to_image", "x", b'{"error": "NSFW"}', InStreamError, "NSFW"),
     ("text_classification", "x", b"[" * 100_000, MalformedResponseError, "JSON")],
)
def test_bad_answers_raise_our_errors(method: str, inputs: Any, answer: bytes,
                                      error: type[Exception], match: str) -> None:
    params = {"candidate_labels": ["a"]} if method.startswith("zero_shot") else {}
    conversation = Conversation(task_flow(HF, method, inputs, model="m", params=params))
    with pytest.raises(error, match=match):
        conversation.respond(200, answer, {"content-type": "application/json"})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CASES), json_values | st.binary(max_size=40))
def test_any_answer_gives_a_result_or_our_error(case: Case, answer: Any) -> None:
    """Arbitrary JSON (or bytes) as the answer of any task: a result, or an InferenceError."""
    body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    conversation = Conversation(task_flow(HF, case.method, case.inputs, model="m",
                                          params=case.params, extra=case.extra))
    try:
        conversation.respond(200, body, {"content-type": "application/json"})
        conversation.result()
    except InferenceError:
        pass

"""Conformance against real recorded traffic: the Hugging Face VCR cassettes.

The cassettes (``tests/data/hf_cassettes``, 133 vcrpy files recorded by
``huggingface_hub``'s test-suite against the real services) are used in place. Every
interaction that exercises a task inferwire implements (chat completion, text generation,
feature extraction) is replayed from the fake server, status, headers and body as recorded,
through all three transports; the same kind of call is made with inferwire, with the
parameters the recorded request shows; and the parsed result is checked against the
recorded body, read independently here. Error responses must raise the typed error with the
server's message. The request inferwire sends must carry the recorded JSON payload (the
differences that are expected are listed, with the reason, in `REQUEST_DIFFERENCES`).

What cannot apply yet is listed, with the reason, in `NOT_APPLICABLE`;
`test_every_interaction_is_exercised_or_listed` makes sure nothing is silently left out.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import yaml
from conformance import (
    CASSETTES_DIR,
    TRANSPORTS,
    CassetteLoader,
    Facade,
    Interaction,
    cassette_files,
    cassette_reply,
    load_cassette,
    require_cassettes,
    run,
    sse_json,
)
from task_cassettes import TASK_METHODS, canonical_request, check_task, task_call, task_method

from inferwire import (
    AuthenticationError,
    BadRequestError,
    HTTPStatusError,
    InferenceWarning,
    UnprocessableEntityError,
)
from inferwire.sansio._errors import ValidationError
from inferwire.testing import FakeInferenceServer

# -- what inferwire can call -------------------------------------------------------------------

CHAT_KEYWORDS = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "presence_penalty",
        "response_format",
        "seed",
        "stop",
        "stream_options",
        "temperature",
        "tool_choice",
        "tool_prompt",
        "tools",
        "top_logprobs",
        "top_p",
    }
)
TGI_KEYWORDS = frozenset(
    {
        "adapter_id",
        "best_of",
        "decoder_input_details",
        "details",
        "do_sample",
        "frequency_penalty",
        "grammar",
        "max_new_tokens",
        "repetition_penalty",
        "return_full_text",
        "seed",
        "stop",
        "temperature",
        "top_k",
        "top_n_tokens",
        "top_p",
        "truncate",
        "typical_p",
        "watermark",
    }
)
FEATURE_KEYWORDS = frozenset({"normalize", "prompt_name", "truncate", "truncation_direction"})

ERRORS: dict[int, type[HTTPStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    422: UnprocessableEntityError,
}


@dataclass(frozen=True)
class Call:
    """The inferwire call that matches a recorded request."""

    method: str  # "chat_completion", "chat.completions.create", "text_generation", ...
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return "chat_completion" if self.method.startswith("chat") else self.method

    @property
    def stream(self) -> bool:
        return bool(self.kwargs.get("stream"))


# -- requests that were not recorded ----------------------------------------------------------
# aiohttp-era cassettes (AsyncInferenceClient) kept no request body. The arguments below are
# those of the huggingface_hub tests that recorded them (tests/test_inference_async_client.py,
# tests/test_inference_text_generation.py); the request is then not compared.

DEEP_LEARNING = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is deep learning?"},
]
COUNT_TO_10 = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Count to 10"},
]


def _tgi(prompt: str, **kwargs: Any) -> Call:
    return Call("text_generation", (prompt,), kwargs)


_NO_DETAILS = _tgi("test", details=False, max_new_tokens=1)
_WITH_DETAILS = _tgi("test", details=True, max_new_tokens=1, decoder_input_details=True)
_BEST_OF = _tgi(
    "test", max_new_tokens=1, best_of=2, do_sample=True, decoder_input_details=True, details=True
)
_TOO_LONG = _tgi("test", max_new_tokens=10_000)
_STREAM = _tgi("test", max_new_tokens=1, stream=True)
_STREAM_DETAILS = _tgi("test", max_new_tokens=1, stream=True, details=True)
_GPT2 = (  # a non-TGI server: huggingface_hub retries without the TGI-only parameters
    _tgi("0 1 2", max_new_tokens=10),
    _tgi("0 1 2", max_new_tokens=10),
    _tgi("4 5 6", max_new_tokens=10),
    _tgi("0 1 2", max_new_tokens=10, details=True),  # details asked, none sent back
)

_SIMILARITY = Call("sentence_similarity", (
    "Machine learning is so easy.",
    ["Deep learning is so straightforward.", "This is so difficult, like rocket science.",
     "I can't believe how much I struggled with this."],
))

UNRECORDED_CALLS: dict[tuple[str, int], Call] = {
    ("test_async_sentence_similarity.yaml", 1): _SIMILARITY,
    ("TestTextGenerationAsyncClientVCR.test_generate_no_details.yaml", 0): _NO_DETAILS,
    ("TestTextGenerationAsyncClientVCR.test_generate_no_details.yaml", 1): _NO_DETAILS,
    ("TestTextGenerationAsyncClientVCR.test_generate_with_details.yaml", 0): _WITH_DETAILS,
    ("TestTextGenerationAsyncClientVCR.test_generate_with_details.yaml", 1): _WITH_DETAILS,
    ("TestTextGenerationAsyncClientVCR.test_generate_best_of.yaml", 0): _BEST_OF,
    ("TestTextGenerationAsyncClientVCR.test_generate_best_of.yaml", 1): _BEST_OF,
    ("TestTextGenerationAsyncClientVCR.test_generate_validation_error.yaml", 0): _TOO_LONG,
    ("TestTextGenerationAsyncClientVCR.test_generate_validation_error.yaml", 1): _TOO_LONG,
    ("TestTextGenerationAsyncClientVCR.test_generate_stream_no_details.yaml", 0): _STREAM,
    ("TestTextGenerationAsyncClientVCR.test_generate_stream_with_details.yaml", 0): _STREAM_DETAILS,
    **{
        ("TestTextGenerationAsyncClientVCR.test_generate_non_tgi_endpoint.yaml", i): _GPT2[i % 4]
        for i in range(8)
    },
    ("test_async_generate_no_details.yaml", 1): _NO_DETAILS,
    ("test_async_generate_with_details.yaml", 1): _WITH_DETAILS,
    ("test_async_generate_best_of.yaml", 1): _BEST_OF,
    ("test_async_generate_validation_error.yaml", 1): _TOO_LONG,
    ("test_async_generate_stream_no_details.yaml", 1): _STREAM,
    ("test_async_generate_stream_with_details.yaml", 1): _STREAM_DETAILS,
    **{("test_async_generate_non_tgi_endpoint.yaml", i): _GPT2[i] for i in range(4)},
    **{
        ("test_http_session_correctly_closed.yaml", i): _tgi("Hi", stream=True, max_new_tokens=1)
        for i in range(2, 6)
    },
    ("test_async_chat_completion_no_stream.yaml", 1): Call(
        "chat_completion", (DEEP_LEARNING,), {"max_tokens": 10}
    ),
    ("test_async_chat_completion_not_tgi_no_stream.yaml", 1): Call(
        "chat_completion", (DEEP_LEARNING,), {"max_tokens": 10}
    ),
    ("test_async_chat_completion_with_stream.yaml", 1): Call(
        "chat_completion", (DEEP_LEARNING,), {"max_tokens": 10, "stream": True}
    ),
    ("test_openai_compatibility_base_url_and_api_key.yaml", 0): Call(
        "chat.completions.create",
        (),
        {
            "model": "meta-llama/Meta-Llama-3-8B-Instruct",
            "messages": COUNT_TO_10,
            "stream": False,
            "max_tokens": 1024,
        },
    ),
    ("test_openai_compatibility_with_stream_true.yaml", 2): Call(
        "chat.completions.create",
        (),
        {
            "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "messages": COUNT_TO_10,
            "stream": True,
            "max_tokens": 1024,
        },
    ),
    ("test_openai_compatibility_without_base_url.yaml", 2): Call(
        "chat.completions.create",
        (),
        {
            "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "messages": COUNT_TO_10,
            "stream": False,
            "max_tokens": 1024,
        },
    ),
}

# Recorded requests that inferwire deliberately sends differently: (cassette, index) ->
# {dotted key: why}. Keys listed here are left out of the payload comparison.
REQUEST_DIFFERENCES: dict[tuple[str, int], dict[str, str]] = {
    ("TestTextGenerationClientVCR.test_generate_stream_no_details.yaml", 1): {
        "parameters.details": "huggingface_hub always asks TGI for details when streaming and "
        "drops them; inferwire asks only when details=True",
    },
}
# The same for every recorded feature-extraction request.
FEATURE_REQUEST_DIFFERENCES = {
    "options": "legacy InferenceApi options (wait_for_model, use_gpu): not sent by inferwire",
    "parameters": "huggingface_hub sends an empty 'parameters' object; inferwire sends none",
}

# Pairs of recordings with the same model, prompt and settings (greedy, same length limit):
# the stream must give the non-stream text (TGI with details: the same tokens). The other
# same-prompt pairs differ in the recordings themselves (sampled at temperature 1.0, or a
# max_tokens=20 stream next to an unlimited non-stream), so they are not compared.
STREAM_PAIRS: list[tuple[tuple[str, int], tuple[str, int]]] = [
    (
        ("TestOpenAICompatibility.test_with_stream_true.yaml", 1),
        ("TestOpenAICompatibility.test_without_base_url.yaml", 1),
    ),
    (
        ("TestOpenAICompatibility.test_with_stream_true.yaml", 1),
        ("TestOpenAICompatibility.test_base_url_and_api_key.yaml", 0),
    ),
    (
        ("TestTextGenerationClientVCR.test_generate_stream_with_details.yaml", 1),
        ("TestTextGenerationClientVCR.test_generate_with_details.yaml", 1),
    ),
    (
        ("TestTextGenerationAsyncClientVCR.test_generate_stream_with_details.yaml", 0),
        ("TestTextGenerationAsyncClientVCR.test_generate_with_details.yaml", 0),
    ),
    (
        ("test_async_generate_stream_with_details.yaml", 1),
        ("test_async_generate_with_details.yaml", 1),
    ),
    (("test_async_generate_stream_no_details.yaml", 1), ("test_async_generate_no_details.yaml", 1)),
]


# -- classification ----------------------------------------------------------------------------


def _chat_call(body: dict[str, Any]) -> Call:
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        if key == "messages" or value is None:
            continue
        if key in ("model", "stream") or key in CHAT_KEYWORDS:
            kwargs[key] = value
        else:
            extra[key] = value
    messages = body["messages"]
    if not isinstance(messages, list):
        # The server rejected exactly this (a string): inferwire refuses it up front, so the
        # recorded value goes through extra_body to get the recorded answer for it.
        extra["messages"] = messages
        messages = [{"role": "user", "content": str(messages)}]
    if extra:
        kwargs["extra_body"] = extra
    return Call("chat_completion", (messages,), kwargs)


def _is_tgi_request(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
        return False
    params = body.get("parameters")
    return isinstance(params, dict) and bool(params) and set(params) <= TGI_KEYWORDS


def call_for(it: Interaction) -> Call | None:
    """The inferwire call that replays `it`, or None when it exercises nothing inferwire has."""
    if it.method != "POST":
        return None
    unrecorded = UNRECORDED_CALLS.get((it.cassette, it.index))
    if unrecorded is not None:
        return unrecorded
    method = task_method(it)
    if method is not None:
        args, kwargs = task_call(it, method)
        return Call(method, args, kwargs)
    body = it.request_json
    if not isinstance(body, dict):
        return None
    if it.path.endswith("/chat/completions"):
        call = _chat_call(body)
        if "OpenAICompatibility" in it.cassette:  # recorded through the OpenAI-style alias
            messages = call.args[0]
            return Call("chat.completions.create", (), {"messages": messages, **call.kwargs})
        return call
    if "/pipeline/feature-extraction/" in it.path:
        kwargs = {k: v for k, v in body.items() if k in FEATURE_KEYWORDS and v is not None}
        return Call("feature_extraction", (body["inputs"],), kwargs)
    if _is_tgi_request(body):
        kwargs = {k: v for k, v in body["parameters"].items() if v is not None}
        if "stream" in body:
            kwargs["stream"] = body["stream"]
        if "parameters.details" in REQUEST_DIFFERENCES.get((it.cassette, it.index), {}):
            kwargs.pop("details", None)  # called as huggingface_hub's test did: no details
        return Call("text_generation", (body["inputs"],), kwargs)
    return None


# -- what cannot apply yet ---------------------------------------------------------------------

HUB_LOOKUP = (
    "Hub API model-info lookup (GET huggingface.co/api/models/<id>): inferwire does not "
    "resolve models through the Hub API"
)
PROVIDER_LOOKUP = (
    "Hub API provider-mapping lookup (?expand=inferenceProviderMapping): here the provider's "
    "answer is replayed through base_url; the whole cassette, lookup included, is replayed "
    "with provider= in test_provider_cassettes.py"
)
REMOVED_PROVIDER = (
    "Hub API provider-mapping lookup of a provider huggingface_hub removed in v1.25 "
    "(centml, hyperbolic, nebius, sambanova, black-forest-labs): the provider's answer is "
    "replayed through base_url only"
)
REDIRECT = (
    "307 redirect of a Hub API lookup (renamed repository): inferwire makes no Hub API "
    "lookups, so there is no redirect to follow"
)
LOOKUPS_ONLY = (
    "Hub API lookups only (model info, redirects), no inference request: inferwire "
    "makes no Hub API calls"
)
LEGACY_REPLAYED = (
    "legacy InferenceApi: replayed through inferwire.InferenceApi in test_legacy_cassettes.py "
    "(what cannot be, and why, is said there)"
)
CONVERSATIONAL = (
    "task 'conversational' (removed from huggingface_hub): a dict 'inputs' posted to "
    "a model, which no inferwire call sends"
)


def _task(name: str, provider: str) -> str:
    if provider in ("black-forest-labs", "hyperbolic", "nebius"):
        return (f"provider {provider!r} was removed from huggingface_hub in v1.25 (and from "
                f"the router): its {name!r} route is served by no client today")
    return (f"task {name!r} at provider {provider!r}: replayed, Hub lookup and result "
            "download included, in test_provider_cassettes.py")


def _table(*entries: tuple[str, str | dict[int, str]]) -> dict[str, str | dict[int, str]]:
    table = dict(entries)
    assert len(table) == len(entries), "a cassette is listed twice"
    return table


# (cassette, reason): nothing in it applies; (cassette, {interaction index: reason}): the rest of
# the cassette is exercised.
NOT_APPLICABLE = _table(
    (
        "InferenceClientVCRTest.test_zero_image_classification.yaml",
        "an early zero-shot image endpoint answered the bare text 'tree' (no JSON), a shape "
        "neither the API nor huggingface_hub 2.4.0 has",
    ),
    ("InferenceApiTest.test_inference_missing_input.yaml", LEGACY_REPLAYED),
    ("InferenceApiTest.test_inference_overriding_invalid_task.yaml", LEGACY_REPLAYED),
    ("InferenceApiTest.test_inference_overriding_task.yaml", {0: HUB_LOOKUP}),
    ("InferenceApiTest.test_simple_inference.yaml", LEGACY_REPLAYED),
    ("InferenceApiTest.test_text_to_image.yaml", LEGACY_REPLAYED),
    ("InferenceApiTest.test_text_to_image_raw_response.yaml", LEGACY_REPLAYED),
    ("InferenceClientVCRTest.test_conversational.yaml", CONVERSATIONAL),
    ("InferenceClientVCRTest.test_unprocessable_entity_error.yaml", CONVERSATIONAL),
    (
        "TestInferenceClient.test_audio_classification[hf-inference,audio-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_audio_to_audio[hf-inference,audio-to-audio].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_automatic_speech_recognition[fal-ai,automatic-speech-recognition].yaml",
        _task("automatic-speech-recognition", provider="fal-ai"),
    ),
    (
        "TestInferenceClient.test_automatic_speech_recognition[hf-inference,automatic-speech-recognition].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[cerebras,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[fireworks-ai,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[hf-inference,conversational].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[hyperbolic,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[nebius,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[novita,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[sambanova,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_no_stream[together,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    ("TestInferenceClient.test_chat_completion_unprocessable_entity.yaml", {0: HUB_LOOKUP}),
    ("TestInferenceClient.test_chat_completion_with_non_tgi.yaml", {0: HUB_LOOKUP}),
    (
        "TestInferenceClient.test_chat_completion_with_stream[cerebras,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[fireworks-ai,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[hf-inference,conversational].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[hyperbolic,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[nebius,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[novita,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[sambanova,conversational].yaml",
        {0: REMOVED_PROVIDER},
    ),
    (
        "TestInferenceClient.test_chat_completion_with_stream[together,conversational].yaml",
        {0: PROVIDER_LOOKUP},
    ),
    (
        "TestInferenceClient.test_document_question_answering[hf-inference,document-question-answering].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_feature_extraction_with_sentence_transformers[hf-inference,feature-extraction].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_feature_extraction_with_transformers[hf-inference,feature-extraction].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_hf_inference_get_recommended_model_has_recommendation.yaml",
        LOOKUPS_ONLY,
    ),
    (
        "TestInferenceClient.test_image_classification[hf-inference,image-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_image_segmentation[hf-inference,image-segmentation].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_image_to_text[hf-inference,image-to-text].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_object_detection[hf-inference,object-detection].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_sentence_similarity[hf-inference,sentence-similarity].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_summarization[hf-inference,summarization].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_table_question_answering[hf-inference,table-question-answering].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_text_classification[hf-inference,text-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_text_to_image_default[black-forest-labs,text-to-image].yaml",
        _task("text-to-image", provider="black-forest-labs"),
    ),
    (
        "TestInferenceClient.test_text_to_image_default[fal-ai,text-to-image].yaml",
        _task("text-to-image", provider="fal-ai"),
    ),
    (
        "TestInferenceClient.test_text_to_image_default[hf-inference,text-to-image].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_text_to_image_default[hyperbolic,text-to-image].yaml",
        _task("text-to-image", provider="hyperbolic"),
    ),
    (
        "TestInferenceClient.test_text_to_image_default[nebius,text-to-image].yaml",
        _task("text-to-image", provider="nebius"),
    ),
    (
        "TestInferenceClient.test_text_to_image_default[replicate,text-to-image].yaml",
        _task("text-to-image", provider="replicate"),
    ),
    (
        "TestInferenceClient.test_text_to_image_default[together,text-to-image].yaml",
        _task("text-to-image", provider="together"),
    ),
    (
        "TestInferenceClient.test_text_to_speech[hf-inference,text-to-speech].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_text_to_speech[replicate,text-to-speech].yaml",
        "recorded up to a replicate prediction still 'starting' with no output, where "
        "huggingface_hub gave up with a TimeoutError; inferwire polls the prediction, which "
        "the recording does not hold (polling is tested on the replicate play)",
    ),
    (
        "TestInferenceClient.test_token_classification[hf-inference,token-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    ("TestInferenceClient.test_translation[hf-inference,translation].yaml",
     {0: REDIRECT, 1: HUB_LOOKUP}),
    (
        "TestInferenceClient.test_translation_with_source_and_target_language[hf-inference,translation].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_visual_question_answering[hf-inference,visual-question-answering].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_zero_shot_classification_multi_label[hf-inference,zero-shot-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_zero_shot_classification_single_label[hf-inference,zero-shot-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    (
        "TestInferenceClient.test_zero_shot_image_classification[hf-inference,zero-shot-image-classification].yaml",
        {0: HUB_LOOKUP},
    ),
    ("TestOpenAICompatibility.test_with_stream_true.yaml", {0: HUB_LOOKUP}),
    ("TestOpenAICompatibility.test_without_base_url.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_best_of.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_no_details.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_non_tgi_endpoint.yaml", {0: HUB_LOOKUP}),
    (
        "TestTextGenerationClientVCR.test_generate_non_tgi_endpoint_regression_test.yaml",
        {0: HUB_LOOKUP},
    ),
    ("TestTextGenerationClientVCR.test_generate_stream_no_details.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_stream_with_details.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_validation_error.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_with_details.yaml", {0: HUB_LOOKUP}),
    ("TestTextGenerationClientVCR.test_generate_with_grammar.yaml", {0: HUB_LOOKUP}),
    ("test_async_chat_completion_no_stream.yaml", {0: HUB_LOOKUP}),
    ("test_async_chat_completion_not_tgi_no_stream.yaml", {0: HUB_LOOKUP}),
    ("test_async_chat_completion_with_stream.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_best_of.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_no_details.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_stream_no_details.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_stream_with_details.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_validation_error.yaml", {0: HUB_LOOKUP}),
    ("test_async_generate_with_details.yaml", {0: HUB_LOOKUP}),
    ("test_async_sentence_similarity.yaml", {0: HUB_LOOKUP}),
    ("test_http_session_correctly_closed.yaml", {0: REDIRECT, 1: HUB_LOOKUP}),
    ("test_openai_compatibility_with_stream_true.yaml", {0: REDIRECT, 1: HUB_LOOKUP}),
    ("test_openai_compatibility_without_base_url.yaml", {0: REDIRECT, 1: HUB_LOOKUP}),
    ("test_unprocessable_entity_error.yaml", CONVERSATIONAL),
)


# -- the case list -----------------------------------------------------------------------------


def _exercised() -> list[tuple[Interaction, Call]]:
    out = []
    for name in cassette_files():
        for it in load_cassette(name):
            call = call_for(it)
            if call is not None:
                out.append((it, call))
    return out


EXERCISED = _exercised()


def _case_id(it: Interaction) -> str:
    return f"{it.cassette}#{it.index}"


_MISSING = [pytest.param(None, None, id="cassettes-missing")]
CASES = [pytest.param(it, call, id=_case_id(it)) for it, call in EXERCISED] or _MISSING


def _interaction(name: str, index: int) -> Interaction:
    return load_cassette(name)[index]


# -- the folder, the loader and the inventory --------------------------------------------------


def test_cassette_folder_is_present() -> None:
    folder = require_cassettes()
    assert len(cassette_files()) == 133, f"expected the 133 cassettes in {folder}"


BYTESIO_CASSETTES = [
    "InferenceClientVCRTest.test_audio_classification.yaml",
    "InferenceClientVCRTest.test_audio_to_audio.yaml",
    "InferenceClientVCRTest.test_automatic_speech_recognition.yaml",
    "InferenceClientVCRTest.test_image_classification.yaml",
    "InferenceClientVCRTest.test_image_segmentation.yaml",
    "InferenceClientVCRTest.test_image_to_text.yaml",
    "InferenceClientVCRTest.test_object_detection.yaml",
]


def test_bytesio_request_bodies_load_as_bytes() -> None:
    require_cassettes()
    with_tag = [
        n
        for n in cassette_files()
        if b"!!python/object/new:_io.BytesIO" in (CASSETTES_DIR / n).read_bytes()
    ]
    assert with_tag == BYTESIO_CASSETTES
    for name in BYTESIO_CASSETTES:
        for it in load_cassette(name):  # libyaml's parser, the same safe constructor
            assert isinstance(it.request_body, bytes)
            assert it.request_body[:4] in (b"fLaC", b"\x89PNG")  # FLAC audio, PNG image
        text = (CASSETTES_DIR / name).read_bytes()
        if len(text) > 200_000:
            continue  # the pure-Python parser needs ~1 s per MB: the two small ones suffice
        with pytest.raises(yaml.constructor.ConstructorError):
            yaml.safe_load(text)
        data = yaml.load(text, Loader=CassetteLoader)  # the yaml.SafeLoader subclass
        bodies = [item["request"]["body"] for item in data["interactions"]]
        assert bodies == [it.request_body for it in load_cassette(name)]


def test_the_loader_constructs_nothing_else() -> None:
    for document in (
        "!!python/object/apply:os.system ['true']",
        "!!python/object/new:_io.BytesIO {state: !!python/tuple [1, 2]}",
        "!!python/name:os.system",
    ):
        with pytest.raises(yaml.constructor.ConstructorError):
            yaml.load(document, Loader=CassetteLoader)  # a safe loader


def test_every_interaction_is_exercised_or_listed() -> None:
    require_cassettes()
    exercised = {(it.cassette, it.index) for it, _ in EXERCISED}
    files = cassette_files()
    assert set(NOT_APPLICABLE) <= set(files), "the table names cassettes that do not exist"
    problems = []
    for name in files:
        interactions = load_cassette(name)
        listed = NOT_APPLICABLE.get(name)
        used = [it.index for it in interactions if (name, it.index) in exercised]
        if isinstance(listed, str):
            if used:
                problems.append(f"{name}: listed as not applicable, but {used} are exercised")
            continue
        listed = listed or {}
        for it in interactions:
            if (name, it.index) in exercised and it.index in listed:
                problems.append(f"{name}#{it.index}: both exercised and listed")
            elif (name, it.index) not in exercised and it.index not in listed:
                problems.append(
                    f"{name}#{it.index}: {it.method} {it.uri} is neither exercised "
                    "nor listed in NOT_APPLICABLE with a reason"
                )
        for index in set(listed) - {it.index for it in interactions}:
            problems.append(f"{name}#{index}: listed, but there is no such interaction")
        # The reasons must be true of what they describe.
        for index, reason in listed.items():
            it = interactions[index] if index < len(interactions) else None
            if it is None:
                continue
            lookup = it.method == "GET" and it.uri.startswith("https://huggingface.co/api/models/")
            if reason == REDIRECT and not (lookup and it.status == 307):
                problems.append(f"{name}#{index}: not a redirect")
            if reason == HUB_LOOKUP and not (lookup and it.status == 200 and "?" not in it.uri):
                problems.append(f"{name}#{index}: not a plain Hub API model lookup")
            if reason == PROVIDER_LOOKUP and not (
                lookup and it.uri.endswith("?expand=inferenceProviderMapping")
            ):
                problems.append(f"{name}#{index}: not a provider-mapping lookup")
    assert not problems, "\n".join(problems)
    for key in (*UNRECORDED_CALLS, *REQUEST_DIFFERENCES):
        assert key in exercised, f"{key} is not an exercised interaction"
    for pair in STREAM_PAIRS:
        assert set(pair) <= exercised, f"{pair} is not a pair of exercised interactions"
    for key in UNRECORDED_CALLS:
        assert _interaction(*key).request_body is None, f"{key}: the request was recorded"
    # Every family the brief names is there.
    calls = Counter((call.task, call.stream, it.status >= 400) for it, call in EXERCISED)
    for family in [
        ("chat_completion", False, False),
        ("chat_completion", True, False),
        ("chat_completion", False, True),
        ("text_generation", False, False),
        ("text_generation", True, False),
        ("text_generation", False, True),
        ("feature_extraction", False, False),
    ]:
        assert calls[family] > 0, family


# -- replay ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_server() -> Any:
    with FakeInferenceServer() as fake:
        yield fake


@pytest.fixture
def server(module_server: FakeInferenceServer) -> FakeInferenceServer:
    module_server.reset()
    return module_server


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _without(payload: Any, keys: dict[str, str]) -> Any:
    payload = json.loads(json.dumps(payload))
    for dotted in keys:
        *parents, last = dotted.split(".")
        node = payload
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return payload


def check_request(server: FakeInferenceServer, it: Interaction, call: Call, count: int = 1
                  ) -> None:
    requests = server.requests
    assert len(requests) == count
    sent = requests[0]
    assert (sent.method, sent.path) == ("POST", it.path)
    recorded = it.request_json
    if recorded is None:  # not recorded (aiohttp era)
        return
    if call.method in TASK_METHODS:
        ours = canonical_request(call.method, sent.body, sent.json)
        assert ours == canonical_request(call.method, it.request_body or b"", recorded)
        return
    ignored = dict(REQUEST_DIFFERENCES.get((it.cassette, it.index), {}))
    if call.task == "feature_extraction":
        ignored.update(FEATURE_REQUEST_DIFFERENCES)
    assert _without(sent.json, ignored) == _without(_drop_none(recorded), ignored)


def recorded_message(it: Interaction) -> str:
    """The server's message as recorded: the JSON ``error`` (a string or ``error.message``) or
    the plain-text body."""
    text = it.body.decode("utf-8").strip()
    if "json" in it.content_type:
        error = json.loads(text)["error"]
        return error if isinstance(error, str) else str(error["message"])
    return text


def check_error(error: HTTPStatusError, it: Interaction) -> None:
    # the status class, or the status class joined with TGI's error kind (error_type)
    assert type(error) is ERRORS[it.status] or type(error).__bases__[0] is ERRORS[it.status]
    if error.error_type == "validation":
        assert isinstance(error, ValidationError)
    assert error.status == it.status
    assert error.server_message == recorded_message(it)
    assert error.request_id == it.header("x-request-id")
    if "json" in it.content_type:
        assert error.error_type == json.loads(it.body).get("error_type")
    assert error.body == it.body


def _content(payloads: list[Any]) -> str:
    return "".join(
        (choice.get("delta") or {}).get("content") or ""
        for p in payloads
        for choice in p.get("choices") or []
    )


def check_chat(result: Any, it: Interaction, call: Call) -> None:
    if call.stream:
        payloads, _ = sse_json(it.body)
        assert payloads
        assert [chunk.to_dict() for chunk in result] == payloads
        text = "".join(chunk.choices[0].delta.content or "" for chunk in result if chunk.choices)
        assert text == _content(payloads) != ""
        assert [c.finish_reason for chunk in result for c in chunk.choices if c.finish_reason] == [
            c["finish_reason"]
            for p in payloads
            for c in p.get("choices") or []
            if c.get("finish_reason")
        ]
        usages = [p["usage"] for p in payloads if p.get("usage")]
        if usages:
            last = [chunk.usage for chunk in result if chunk.usage is not None][-1]
            assert last.completion_tokens == usages[-1]["completion_tokens"]
            assert last.prompt_tokens == usages[-1]["prompt_tokens"]
        return
    expected = it.json()
    assert result.to_dict() == expected
    choice = expected["choices"][0]
    message = choice["message"]
    assert result.choices[0].message.content == message.get("content")
    assert result.choices[0].message.role == message.get("role")
    assert result.choices[0].finish_reason == choice.get("finish_reason")
    for got, want in zip(
        result.choices[0].message.tool_calls or [], message.get("tool_calls") or [], strict=True
    ):
        assert got.function.name == want["function"]["name"]
        arguments = want["function"]["arguments"]
        assert got.parse_arguments() == (
            json.loads(arguments) if isinstance(arguments, str) else arguments
        )
    if expected.get("usage"):
        assert result.usage.total_tokens == expected["usage"]["total_tokens"]


def _tokens(items: list[Any]) -> list[tuple[Any, ...]]:
    return [(t.id, t.text, t.logprob, t.special) for t in items]


def _raw_tokens(items: list[Any]) -> list[tuple[Any, ...]]:
    return [(t["id"], t["text"], t["logprob"], t["special"]) for t in items]


def check_text_generation(result: Any, it: Interaction, call: Call) -> None:
    details = bool(call.kwargs.get("details"))
    if call.stream:
        events, _ = sse_json(it.body)
        assert events
        if not details:
            assert result == [event["token"]["text"] for event in events]
            return
        assert [item.to_dict() for item in result] == events
        assert _tokens([item.token for item in result]) == _raw_tokens(
            [event["token"] for event in events]
        )
        last, final = result[-1], events[-1]
        assert last.generated_text == final["generated_text"]
        assert last.details.finish_reason == final["details"]["finish_reason"]
        assert last.details.generated_tokens == final["details"]["generated_tokens"]
        assert last.details.seed == final["details"]["seed"]
        return
    expected = it.json()
    item = expected[0] if isinstance(expected, list) else expected
    if not details:
        assert result == item["generated_text"]
        return
    assert result.to_dict() == item
    assert result.generated_text == item["generated_text"]
    want = item.get("details")
    if want is None:
        assert result.details is None
        return
    got = result.details
    assert (got.finish_reason, got.generated_tokens, got.seed) == (
        want["finish_reason"],
        want["generated_tokens"],
        want["seed"],
    )
    assert _tokens(got.tokens) == _raw_tokens(want["tokens"])
    assert [(t.id, t.text, t.logprob) for t in got.prefill] == [
        (t["id"], t["text"], t["logprob"]) for t in want.get("prefill", [])
    ]
    for seq, raw in zip(
        got.best_of_sequences or [], want.get("best_of_sequences") or [], strict=True
    ):
        assert (seq.generated_text, seq.seed) == (raw["generated_text"], raw["seed"])
        assert _tokens(seq.tokens) == _raw_tokens(raw["tokens"])


def check_features(result: Any, it: Interaction, call: Call) -> None:
    expected = np.asarray(it.json(), dtype=np.float32)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float32
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def check_hf_task(result: Any, it: Interaction, call: Call) -> None:
    check_task(call.method, result, it)


CHECKS = {
    "chat_completion": check_chat,
    "text_generation": check_text_generation,
    "feature_extraction": check_features,
    **dict.fromkeys(TASK_METHODS, check_hf_task),
}


async def perform(t: Facade, call: Call) -> Any:
    result = await t.call(call.method, *call.args, **call.kwargs)
    return await t.collect(result) if call.stream else result


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("it", "call"), CASES)
def test_replay(
    it: Interaction | None, call: Call | None, transport: str, server: FakeInferenceServer
) -> None:
    require_cassettes()
    assert it is not None and call is not None

    refused = _refused_parameters(it)

    async def scenario(t: Facade) -> None:
        server.enqueue(cassette_reply(it))
        if refused:
            # huggingface_hub sends the call again without the refused TGI parameters; so do
            # we: the cassette's next interaction is that second request and its answer.
            retried = _interaction(it.cassette, it.index + 1)
            server.enqueue(cassette_reply(retried))
            with pytest.warns(InferenceWarning, match="does not take"):
                CHECKS[call.task](await perform(t, call), retried, call)
        elif it.status >= 400:
            with pytest.raises(HTTPStatusError) as info:
                await perform(t, call)
            check_error(info.value, it)
        else:
            CHECKS[call.task](await perform(t, call), it, call)

    run(transport, server, scenario, path=it.path)
    if refused:
        second = server.requests[1]
        assert not refused & set(json.loads(second.body)["parameters"])
    check_request(server, it, call, count=2 if refused else 1)


def _refused_parameters(it: Interaction) -> set[str]:
    """The parameters a recorded "model_kwargs are not used" 400 names (none otherwise)."""
    if it.status != 400 or b"model_kwargs" not in it.body:
        return set()
    return set(re.findall(r"'([^']+)'", json.loads(it.body)["error"].split(":", 1)[1]))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("streamed", "plain"),
    [pytest.param(s, p, id=f"{s[0]}#{s[1]}~{p[0]}#{p[1]}") for s, p in STREAM_PAIRS],
)
def test_stream_matches_non_stream(
    streamed: tuple[str, int], plain: tuple[str, int], transport: str, server: FakeInferenceServer
) -> None:
    require_cassettes()
    stream_it, plain_it = _interaction(*streamed), _interaction(*plain)
    stream_call, plain_call = call_for(stream_it), call_for(plain_it)
    assert stream_call is not None and stream_call.stream
    assert plain_call is not None and not plain_call.stream

    async def scenario(t: Facade) -> tuple[Any, Any]:
        server.enqueue(cassette_reply(stream_it), cassette_reply(plain_it))
        return await perform(t, stream_call), await perform(t, plain_call)

    items, output = run(transport, server, scenario, path=stream_it.path)
    if stream_call.task == "chat_completion":
        text = "".join(chunk.choices[0].delta.content or "" for chunk in items if chunk.choices)
        assert text == output.choices[0].message.content != ""
    elif not stream_call.kwargs.get("details"):
        assert "".join(items) == output
    else:
        assert _tokens([item.token for item in items]) == _tokens(output.details.tokens)
        assert items[-1].generated_text == output.generated_text
        assert items[-1].details.finish_reason == output.details.finish_reason
        assert items[-1].details.generated_tokens == output.details.generated_tokens

"""The older huggingface_hub type names: aliases of the modern types where they are the same
thing (isinstance works both ways), small types otherwise, and `TextGenerationParameters`
validating as the old pydantic model did, with `text_generation` applying the same checks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import inferwire
from inferwire import (
    BestOfSequence,
    ClassificationOutput,
    ConversationalOutput,
    ConversationalOutputConversation,
    Details,
    FinishReason,
    ImageSegmentationOutput,
    InferenceClient,
    InputToken,
    ModelStatus,
    StreamDetails,
    TextGenerationOutput,
    TextGenerationParameters,
    TextGenerationResponse,
    TextGenerationStreamOutput,
    TextGenerationStreamResponse,
    Token,
    TokenClassificationOutput,
    UsageError,
    UsageTypeError,
)
from inferwire.sansio import text_generation
from inferwire.sansio._config import build_config
from inferwire.testing import FakeInferenceServer

OLD_NAMES = [
    "ClassificationOutput", "TokenClassificationOutput", "ImageSegmentationOutput",
    "ConversationalOutput", "ConversationalOutputConversation", "ModelStatus",
    "TextGenerationParameters", "TextGenerationResponse", "TextGenerationStreamResponse",
    "InputToken", "Token", "FinishReason", "BestOfSequence", "Details", "StreamDetails",
]


@pytest.mark.parametrize("name", OLD_NAMES)
def test_every_old_name_imports_from_inferwire_and_its_core(name: str) -> None:
    assert name in inferwire.__all__ and name in inferwire.sansio.__all__
    assert getattr(inferwire, name) is getattr(inferwire.sansio, name)


@pytest.mark.parametrize(("old", "modern"), [
    ("TextGenerationResponse", "TextGenerationOutput"),
    ("TextGenerationStreamResponse", "TextGenerationStreamOutput"),
    ("InputToken", "TextGenerationOutputPrefillToken"),
    ("Token", "TextGenerationOutputToken"),
    ("BestOfSequence", "TextGenerationOutputBestOfSequence"),
    ("Details", "TextGenerationOutputDetails"),
    ("StreamDetails", "TextGenerationStreamOutputStreamDetails"),
    ("ClassificationOutput", "TextClassificationOutputElement"),
    ("TokenClassificationOutput", "TokenClassificationOutputElement"),
    ("ImageSegmentationOutput", "ImageSegmentationOutputElement"),
])
def test_an_old_name_for_the_same_thing_is_the_modern_type(old: str, modern: str) -> None:
    assert getattr(inferwire, old) is getattr(inferwire, modern)


def test_results_of_todays_parsers_are_instances_of_the_old_names() -> None:
    out = TextGenerationOutput.parse({"generated_text": "hi", "details": {
        "finish_reason": "length", "generated_tokens": 1, "prefill": [{"id": 1, "text": "a"}],
        "tokens": [{"id": 2, "text": "hi", "logprob": -0.1, "special": False}]}})
    assert isinstance(out, TextGenerationResponse)
    assert isinstance(out.details, Details)
    assert isinstance(out.details.tokens[0], Token)
    assert isinstance(out.details.prefill[0], InputToken)
    assert out.details.finish_reason == FinishReason.Length
    event = TextGenerationStreamOutput.parse({"index": 1, "token": {
        "id": 2, "text": "x", "logprob": -1.0, "special": False}, "generated_text": "x",
        "details": {"finish_reason": "eos_token", "generated_tokens": 1, "input_length": 2}})
    assert isinstance(event, TextGenerationStreamResponse)
    assert isinstance(event.details, StreamDetails)
    seq = BestOfSequence(finish_reason="length", generated_text="a", generated_tokens=1,
                         prefill=[], tokens=[])
    assert seq.generated_text == "a"
    assert ClassificationOutput(label="POSITIVE", score=0.9)["label"] == "POSITIVE"
    assert TokenClassificationOutput(entity_group="PER", score=0.9, word="Ada", start=0,
                                     end=3).word == "Ada"
    assert ImageSegmentationOutput(label="cat", mask="", score=1.0).label == "cat"


def test_finish_reason_is_the_old_str_enum() -> None:
    assert [m.value for m in FinishReason] == ["length", "eos_token", "stop_sequence"]
    assert FinishReason("stop_sequence") is FinishReason.StopSequence
    assert FinishReason.EndOfSequenceToken == "eos_token"


def test_conversational_output_reads_as_the_old_typed_dict() -> None:
    out = ConversationalOutput.parse({
        "generated_text": "Fine.", "warnings": [],
        "conversation": {"generated_responses": ["Fine."], "past_user_inputs": ["How?"]},
    })
    assert isinstance(out.conversation, ConversationalOutputConversation)
    assert out["conversation"]["past_user_inputs"] == ["How?"]
    assert out.generated_text == "Fine." and out.warnings == []


def test_model_status_has_the_old_fields_in_order() -> None:
    status = ModelStatus(True, "Loaded", "gpu", "text-generation-inference")
    assert (status.loaded, status.state, status.compute_type, status.framework) == (
        True, "Loaded", "gpu", "text-generation-inference")
    with pytest.raises(AttributeError):
        status.loaded = False  # type: ignore[misc]


def test_text_generation_parameters_have_the_old_defaults() -> None:
    params = TextGenerationParameters()
    assert params.to_dict() == {
        "do_sample": False, "max_new_tokens": 20, "repetition_penalty": None,
        "return_full_text": False, "stop": [], "seed": None, "temperature": None,
        "top_k": None, "top_p": None, "truncate": None, "typical_p": None, "best_of": None,
        "watermark": False, "details": False, "decoder_input_details": False,
        "top_n_tokens": None,
    }


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"best_of": 0}, "best_of"),
    ({"best_of": 2}, "best_of"),  # best_of > 1 without sampling
    ({"best_of": 2, "do_sample": True, "seed": 1}, "seed"),
    ({"repetition_penalty": 0}, "repetition_penalty"),
    ({"seed": -1}, "seed"),
    ({"temperature": 0.0}, "temperature"),
    ({"top_k": 0}, "top_k"),
    ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.0}, "top_p"),
    ({"truncate": 0}, "truncate"),
    ({"typical_p": 1}, "typical_p"),
    ({"typical_p": -0.5}, "typical_p"),
    ({"top_n_tokens": 0}, "top_n_tokens"),
]


@pytest.mark.parametrize(("kwargs", "field"), INVALID)
def test_text_generation_parameters_refuse_invalid_values_naming_the_field(
        kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(UsageError, match=field) as caught:
        TextGenerationParameters(**kwargs)
    assert caught.value.argument == field


def test_best_of_above_one_is_allowed_with_any_sampling_parameter() -> None:
    for sampling in ({"do_sample": True}, {"temperature": 0.7}, {"top_k": 5},
                     {"top_p": 0.9}, {"typical_p": 0.5}):
        assert TextGenerationParameters(best_of=2, **sampling).best_of == 2


def test_a_number_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(UsageTypeError, match="temperature"):
        TextGenerationParameters(temperature="hot")  # type: ignore[arg-type]


@given(top_p=st.floats(min_value=0, max_value=1), typical_p=st.floats(min_value=0, max_value=1),
       temperature=st.floats(min_value=-1, max_value=2), seed=st.integers(-3, 3))
def test_validation_accepts_exactly_the_documented_ranges(top_p: float, typical_p: float,
                                                          temperature: float, seed: int) -> None:
    valid = 0 < top_p < 1 and 0 < typical_p < 1 and temperature > 0 and seed >= 0
    try:
        TextGenerationParameters(top_p=top_p, typical_p=typical_p, temperature=temperature,
                                 seed=seed)
    except UsageError:
        assert not valid
    else:
        assert valid


TGI = build_config(base_url="http://127.0.0.1:3000")


@pytest.mark.parametrize(("kwargs", "field"), [
    case for case in INVALID if case[0] != {"temperature": 0.0}])
def test_the_text_generation_flow_applies_the_same_checks_before_any_effect(
        kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(UsageError, match=field):
        next(text_generation(TGI, "Hi", params=kwargs))


def test_temperature_zero_is_refused_for_tgi_and_sent_to_openai_style_servers() -> None:
    with pytest.raises(UsageError, match="temperature") as caught:
        next(text_generation(TGI, "Hi", params={"temperature": 0.0}))
    assert caught.value.argument == "temperature"
    openai = build_config(base_url="http://127.0.0.1:9/v1")
    request = next(text_generation(openai, "Hi", params={"temperature": 0.0})).request
    assert b'"temperature":0.0' in (request.body or b"").replace(b" ", b"")


def test_best_of_above_one_cannot_be_streamed() -> None:
    with pytest.raises(UsageError, match="streamed") as caught:
        next(text_generation(TGI, "Hi", stream=True,
                             params={"best_of": 2, "do_sample": True}))
    assert caught.value.argument == "best_of"


def test_the_client_refuses_invalid_kwargs_without_sending_anything() -> None:
    with FakeInferenceServer() as server, InferenceClient(base_url=server.base_url) as client:
        with pytest.raises(UsageError, match="top_p"):
            client.text_generation("Hi", top_p=1.5)
        assert server.requests == []
        params = TextGenerationParameters(max_new_tokens=5, temperature=0.5)
        out = client.text_generation("Hi", **{
            k: v for k, v in params.to_dict().items() if v is not None})
        assert isinstance(out, str)
        assert server.requests[-1].json["parameters"]["temperature"] == 0.5

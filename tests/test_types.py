"""Typed results: lenient parsing, unknown fields, dict-like access, to_dict round trip, and the
body parsers of chat completion and text generation."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from conformance import CASSETTES_DIR, capture_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwire.sansio._chat_types import (
    ChatCompletionOutput,
    ChatCompletionOutputComplete,
    ChatCompletionOutputFunctionDefinition,
    ChatCompletionOutputLogprob,
    ChatCompletionOutputLogprobs,
    ChatCompletionOutputMessage,
    ChatCompletionOutputToolCall,
    ChatCompletionOutputTopLogprob,
    ChatCompletionOutputUsage,
    ChatCompletionStreamOutput,
    ChatCompletionStreamOutputChoice,
    ChatCompletionStreamOutputDelta,
    ChatCompletionStreamOutputDeltaToolCall,
    ChatCompletionStreamOutputFunction,
    ChatCompletionStreamOutputLogprob,
    ChatCompletionStreamOutputLogprobs,
    ChatCompletionStreamOutputTopLogprob,
    ChatCompletionStreamOutputUsage,
    parse_arguments_json,
    parse_chat_completion,
)
from inferwire.sansio._errors import (
    InStreamError,
    MalformedResponseError,
    UnknownError,
    UsageTypeError,
    ValidationError,
)
from inferwire.sansio._models import Model
from inferwire.sansio._textgen_types import (
    TextGenerationOutput,
    TextGenerationOutputBestOfSequence,
    TextGenerationOutputDetails,
    TextGenerationOutputPrefillToken,
    TextGenerationOutputToken,
    TextGenerationStreamOutput,
    TextGenerationStreamOutputStreamDetails,
    TextGenerationStreamOutputToken,
    parse_completion_as_text_generation,
    parse_text_generation,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])



def cassette_body(name: str, uri_part: str) -> bytes:
    import yaml

    path = CASSETTES_DIR / name
    if not path.exists():
        pytest.fail(f"the hf cassettes are missing beside the checkout: {path}")
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        if uri_part in interaction["request"]["uri"]:
            return interaction["response"]["body"]["string"].encode()
    raise AssertionError(f"no {uri_part} in {name}")


# -- the typed objects ---------------------------------------------------------------------------


CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "system_fingerprint": None,
    "choices": [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "Hi", "reasoning_content": "think"},
            "finish_reason": None,
            "logprobs": None,
        }
    ],
    "usage": None,
    "timings": {"predicted_n": 3},
}


def test_fields_and_nesting() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    assert chunk.id == "c1"
    assert chunk.created == 1
    assert chunk.system_fingerprint is None
    assert chunk.usage is None
    (choice,) = chunk.choices
    assert isinstance(choice, ChatCompletionStreamOutputChoice)
    assert choice.index == 0
    assert choice.finish_reason is None
    assert isinstance(choice.delta, ChatCompletionStreamOutputDelta)
    assert choice.delta.content == "Hi"
    assert choice.delta.role == "assistant"
    assert choice.delta.tool_calls is None


def test_unknown_fields_reachable_three_ways() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    delta = chunk.choices[0].delta
    assert delta.extras == {"reasoning_content": "think"}
    assert delta["reasoning_content"] == "think"
    assert delta.get("reasoning_content") == "think"
    assert delta.reasoning_content == "think"
    assert chunk.timings == {"predicted_n": 3}
    assert chunk.extras == {"object": "chat.completion.chunk", "timings": {"predicted_n": 3}}
    assert "timings" in chunk
    assert "nope" not in chunk
    assert chunk.get("nope", 5) == 5
    with pytest.raises(KeyError):
        chunk["nope"]
    with pytest.raises(AttributeError):
        _ = chunk.nope
    assert not hasattr(chunk, "_secret")
    assert set(chunk.keys()) == set(CHUNK)
    assert list(chunk) == list(CHUNK)
    assert dict(chunk)["timings"] == {"predicted_n": 3}


def test_item_access_of_nested_fields_is_typed() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    assert chunk["choices"][0]["delta"]["content"] == "Hi"
    assert isinstance(chunk["choices"][0], ChatCompletionStreamOutputChoice)
    assert chunk["created"] == 1
    assert chunk["usage"] is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"reasoning": "a"}, "a"),
        ({"reasoning_content": "b"}, "b"),
        ({"reasoning": "a", "reasoning_content": "b"}, "a"),
        ({"reasoning": None, "reasoning_content": "b"}, "b"),
        ({}, None),
    ],
)
def test_reasoning_falls_back_to_reasoning_content(raw: dict, expected: str | None) -> None:
    for cls in (ChatCompletionStreamOutputDelta, ChatCompletionOutputMessage):
        obj = cls.parse(dict(raw))
        assert obj.reasoning == expected
        assert obj.to_dict() == raw
        assert "reasoning" not in obj.extras


def test_missing_fields_are_none_or_empty() -> None:
    chunk = ChatCompletionStreamOutput.parse({})
    assert chunk.choices == []
    assert chunk.id is None
    assert chunk.usage is None
    choice = ChatCompletionStreamOutputChoice.parse({"index": 0})
    assert choice.delta.content is None  # an empty delta, not None
    assert choice.to_dict() == {"index": 0}
    call = ChatCompletionStreamOutputDeltaToolCall.parse({"index": 0})
    assert call.function.arguments is None
    assert ChatCompletionOutputComplete.parse({}).message.content is None
    assert TextGenerationStreamOutput.parse({}).token.text is None
    details = TextGenerationOutputDetails.parse({"finish_reason": "length"})
    assert details.tokens == []
    assert details.prefill == []
    assert details.best_of_sequences is None
    assert details.top_tokens is None


def test_null_fields_kept_in_to_dict() -> None:
    raw = {"choices": None, "usage": None, "id": None}
    assert ChatCompletionStreamOutput.parse(dict(raw)).to_dict() == raw


def test_to_dict_is_a_copy() -> None:
    raw = copy.deepcopy(CHUNK)
    chunk = ChatCompletionStreamOutput.parse(raw)
    out = chunk.to_dict()
    assert out == CHUNK
    out["choices"][0]["delta"]["content"] = "changed"
    assert chunk.choices[0].delta.content == "Hi"


def test_equality_is_dict_equality() -> None:
    """Results are dicts (as huggingface_hub's are): equal when their JSON is equal."""
    a = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    b = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    assert a == b
    assert a != ChatCompletionStreamOutput.parse({})
    assert a == CHUNK
    assert isinstance(a, dict)
    with pytest.raises(TypeError):
        hash(a)


def test_dict_reads_of_omitted_known_fields_are_none() -> None:
    """The common loop ``chunk["choices"][0]["delta"]["content"]`` survives the last chunk
    (OpenAI sends ``"delta": {}`` with the finish reason)."""
    last = ChatCompletionStreamOutput.parse(
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )
    assert last["choices"][0]["delta"]["content"] is None
    assert last["choices"][0]["logprobs"] is None
    assert last["usage"] is None
    assert last["model"] is None
    terse = ChatCompletionStreamOutput.parse({"choices": [{}]})
    assert terse["choices"][0]["delta"]["content"] is None  # a required object reads as empty
    assert terse["choices"][0].delta.tool_calls is None
    assert ChatCompletionStreamOutput.parse({})["choices"] == []
    assert TextGenerationStreamOutput.parse({})["token"]["text"] is None
    with pytest.raises(KeyError):
        last["not_a_field"]  # neither known nor sent: a dict's KeyError, as in huggingface_hub
    assert "content" not in last["choices"][0]["delta"]  # what was sent stays visible
    assert last.get("model") is None


def test_every_type_builds_from_keywords() -> None:
    token = TextGenerationOutputPrefillToken(id=1, text="a", logprob=None)
    assert (token.id, token.text, token.logprob) == (1, "a", None)
    assert token == {"id": 1, "text": "a", "logprob": None}
    delta = ChatCompletionStreamOutputDelta(content="Hi", role="assistant")
    chunk = ChatCompletionStreamOutput(
        id="c", choices=[ChatCompletionStreamOutputChoice(index=0, delta=delta)]
    )
    assert chunk.choices[0].delta.content == "Hi"
    assert chunk["choices"][0]["delta"]["content"] == "Hi"
    assert ChatCompletionOutputUsage().total_tokens is None
    for cls in SCHEMA:
        assert cls().to_dict() == {}


def test_json_dumps_writes_what_the_server_sent() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    assert json.loads(json.dumps(chunk)) == CHUNK
    out = parse_text_generation(
        b'{"generated_text": "x", "details": {"finish_reason": "length", "tokens": '
        b'[{"id": 1, "text": "x", "logprob": -0.5, "special": false}]}}'
    )
    assert json.loads(json.dumps(out))["details"]["tokens"][0]["logprob"] == -0.5


def test_repr_readable_and_bounded() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    text = repr(chunk)
    assert text.startswith("ChatCompletionStreamOutput(choices=")
    assert "id='c1'" in text
    assert "extras=['object', 'timings']" in text
    big = TextGenerationOutput.parse(
        {
            "generated_text": "x" * 100_000,
            "details": {"tokens": [{"id": i, "text": "x"} for i in range(10_000)]},
        }
    )
    assert len(repr(big)) < 1000


def test_immutable() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    with pytest.raises(AttributeError):
        chunk.id = "x"  # type: ignore[misc]
    mutations = [
        lambda: chunk.__setitem__("id", "x"),
        lambda: chunk.__delitem__("id"),
        lambda: chunk.update(id="x"),
        lambda: chunk.pop("id"),
        chunk.popitem,
        chunk.clear,
        lambda: chunk.setdefault("new", 1),
        lambda: chunk.__ior__({"id": "x"}),
    ]
    for mutate in mutations:
        with pytest.raises(UsageTypeError, match="read-only"):
            mutate()
    assert chunk == CHUNK


def test_pickle_and_copy() -> None:
    chunk = ChatCompletionStreamOutput.parse(copy.deepcopy(CHUNK))
    again = pickle.loads(pickle.dumps(chunk))
    assert again == chunk
    assert again.choices[0].delta.content == "Hi"
    assert copy.deepcopy(chunk) == chunk


@pytest.mark.parametrize(
    ("cls", "raw", "where"),
    [
        (ChatCompletionStreamOutput, {"choices": "x"}, "choices"),
        (ChatCompletionStreamOutput, {"choices": [1]}, "choices"),
        (ChatCompletionStreamOutput, {"choices": [{"delta": "x"}]}, "delta"),
        (ChatCompletionStreamOutput, {"choices": [{"delta": {"tool_calls": {}}}]}, "tool_calls"),
        (ChatCompletionStreamOutput, {"usage": 3}, "usage"),
        (ChatCompletionOutput, {"choices": [{"message": []}]}, "message"),
        (
            ChatCompletionOutput,
            {"choices": [{"logprobs": {"content": [5]}}]},
            "ChatCompletionOutputLogprobs.content",
        ),
        (TextGenerationStreamOutput, {"token": "t"}, "token"),
        (TextGenerationStreamOutput, {"top_tokens": {}}, "top_tokens"),
        (TextGenerationOutput, {"details": {"tokens": [[]]}}, "tokens"),
        (TextGenerationOutput, {"details": {"top_tokens": [1]}}, "top_tokens"),
    ],
)
def test_wrong_shapes_are_malformed(cls: type[Model], raw: dict, where: str) -> None:
    with pytest.raises(MalformedResponseError, match=where):
        cls.parse(raw)


@pytest.mark.parametrize("value", [None, [], "x", 3])
def test_parse_needs_an_object(value: Any) -> None:
    with pytest.raises(MalformedResponseError):
        ChatCompletionOutput.parse(value)


def test_parse_accepts_mappings() -> None:
    from collections import OrderedDict

    assert ChatCompletionOutputUsage.parse(OrderedDict(total_tokens=3)).total_tokens == 3


def test_tool_call_arguments() -> None:
    call = ChatCompletionOutputToolCall.parse(
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    )
    assert call.function.name == "f"
    assert call.parse_arguments() == {"a": 1}
    assert parse_arguments_json("") == {}
    assert parse_arguments_json(None) == {}
    assert parse_arguments_json({"a": 1}) == {"a": 1}  # TGI sends the object itself
    with pytest.raises(MalformedResponseError) as info:
        parse_arguments_json('{"a": ')
    assert info.value.received == '{"a": '


# -- to_dict round trip (property) ---------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=6)

# For each type: its typed children (a class, [class] for a list, [[class]] for a list of lists).
SCHEMA: dict[type[Model], dict[str, Any]] = {
    ChatCompletionOutput: {
        "choices": [ChatCompletionOutputComplete],
        "usage": ChatCompletionOutputUsage,
    },
    ChatCompletionOutputComplete: {
        "message": ChatCompletionOutputMessage,
        "logprobs": ChatCompletionOutputLogprobs,
    },
    ChatCompletionOutputMessage: {"tool_calls": [ChatCompletionOutputToolCall]},
    ChatCompletionOutputToolCall: {"function": ChatCompletionOutputFunctionDefinition},
    ChatCompletionOutputFunctionDefinition: {},
    ChatCompletionOutputLogprobs: {"content": [ChatCompletionOutputLogprob]},
    ChatCompletionOutputLogprob: {"top_logprobs": [ChatCompletionOutputTopLogprob]},
    ChatCompletionOutputTopLogprob: {},
    ChatCompletionOutputUsage: {},
    ChatCompletionStreamOutput: {
        "choices": [ChatCompletionStreamOutputChoice],
        "usage": ChatCompletionStreamOutputUsage,
    },
    ChatCompletionStreamOutputChoice: {
        "delta": ChatCompletionStreamOutputDelta,
        "logprobs": ChatCompletionStreamOutputLogprobs,
    },
    ChatCompletionStreamOutputDelta: {"tool_calls": [ChatCompletionStreamOutputDeltaToolCall]},
    ChatCompletionStreamOutputDeltaToolCall: {"function": ChatCompletionStreamOutputFunction},
    ChatCompletionStreamOutputFunction: {},
    ChatCompletionStreamOutputLogprobs: {"content": [ChatCompletionStreamOutputLogprob]},
    ChatCompletionStreamOutputLogprob: {"top_logprobs": [ChatCompletionStreamOutputTopLogprob]},
    ChatCompletionStreamOutputTopLogprob: {},
    ChatCompletionStreamOutputUsage: {},
    TextGenerationOutput: {"details": TextGenerationOutputDetails},
    TextGenerationOutputDetails: {
        "prefill": [TextGenerationOutputPrefillToken],
        "tokens": [TextGenerationOutputToken],
        "best_of_sequences": [TextGenerationOutputBestOfSequence],
        "top_tokens": [[TextGenerationOutputToken]],
    },
    TextGenerationOutputBestOfSequence: {
        "prefill": [TextGenerationOutputPrefillToken],
        "tokens": [TextGenerationOutputToken],
        "top_tokens": [[TextGenerationOutputToken]],
    },
    TextGenerationOutputPrefillToken: {},
    TextGenerationOutputToken: {},
    TextGenerationStreamOutput: {
        "token": TextGenerationStreamOutputToken,
        "details": TextGenerationStreamOutputStreamDetails,
        "top_tokens": [TextGenerationStreamOutputToken],
    },
    TextGenerationStreamOutputStreamDetails: {},
    TextGenerationStreamOutputToken: {},
}


def shaped(spec: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON of the shape `spec` (a type, [spec]), with random scalars and unknown keys."""
    if isinstance(spec, list):
        # The field may be null; the items of a list of lists may not (``top_tokens`` is one
        # list of alternatives per position, never a null position).
        inner = spec[0]
        items = (
            st.lists(shaped(inner[0], depth + 2), max_size=2)
            if isinstance(inner, list)
            else shaped(inner, depth + 1)
        )
        return st.none() | st.lists(items, max_size=2)
    children = SCHEMA[spec]
    scalars = {k: json_values for k in spec._fields if k not in children}
    nested = {k: st.none() | shaped(v, depth + 1) for k, v in children.items()} if depth < 4 else {}
    known = st.fixed_dictionaries({}, optional={**scalars, **nested})
    extra = st.dictionaries(
        st.text().filter(lambda k: k not in spec._known), json_values, max_size=2
    )
    return st.builds(lambda a, b: {**b, **a}, known, extra)


def test_schema_covers_every_type() -> None:
    assert {c.__name__ for c in SCHEMA} >= {
        "ChatCompletionOutput",
        "ChatCompletionStreamOutput",
        "TextGenerationOutput",
        "TextGenerationStreamOutput",
    }
    for cls, children in SCHEMA.items():
        assert set(children) == set(cls._children), cls


@SETTINGS
@given(st.sampled_from(sorted(SCHEMA, key=lambda c: c.__name__)), st.data())
def test_to_dict_round_trip_shaped(cls: type[Model], data: st.DataObject) -> None:
    raw = data.draw(shaped(cls))
    expected = copy.deepcopy(raw)
    obj = cls.parse(raw)
    assert obj.to_dict() == expected
    assert obj == cls.parse(copy.deepcopy(expected))
    assert set(obj.extras) == set(expected) - cls._known
    for key in expected:
        assert key in obj
        if key not in cls._children:
            assert obj[key] == expected[key]
    repr(obj)


@SETTINGS
@given(st.sampled_from(sorted(SCHEMA, key=lambda c: c.__name__)), json_objects)
def test_to_dict_round_trip_any_object(cls: type[Model], raw: dict) -> None:
    expected = copy.deepcopy(raw)
    try:
        obj = cls.parse(raw)
    except MalformedResponseError:
        return  # a known nested field of the wrong shape
    assert obj.to_dict() == expected


# -- body parsers --------------------------------------------------------------------------------


def test_parse_chat_completion_real_bodies() -> None:
    out = parse_chat_completion(capture_body("xllamacpp_chat_nonstream.txt"))
    assert out.choices[0].message.content == "L'Étoile, la Marseillaise, la femme, la femme au"
    assert out.choices[0].finish_reason == "length"
    assert out.usage is not None
    assert out.usage.total_tokens == 57
    assert out.usage.prompt_tokens_details == {"cached_tokens": 36}
    assert "timings" in out.extras
    out = parse_chat_completion(capture_body("transformers_serve_chat_nonstream.txt"))
    assert out.choices[0].message.content == "The capital of France is Paris."
    assert out.choices[0].message.role == "assistant"


def test_parse_chat_completion_tool_calls_and_logprobs() -> None:
    body = json.dumps(
        {
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": "hmm",
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get", "arguments": '{"city":"Paris"}'},
                            }
                        ],
                    },
                    "logprobs": {
                        "content": [
                            {
                                "token": "a",
                                "logprob": -0.5,
                                "top_logprobs": [{"token": "b", "logprob": -1.0}],
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    out = parse_chat_completion(body)
    message = out.choices[0].message
    assert message.reasoning == "hmm"
    assert message.tool_calls is not None
    assert message.tool_calls[0].parse_arguments() == {"city": "Paris"}
    logprobs = out.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.content[0].top_logprobs[0].token == "b"
    assert out.to_dict() == json.loads(body)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"x"', b"null", b'{"choices": 5}', b"[" * 100_000]
)
def test_parse_chat_completion_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse_chat_completion(body)
    assert info.value.received == body


def test_parse_chat_completion_error_object() -> None:
    body = b'{"error": {"message": "context too long", "type": "exceed_context_size_error"}}'
    with pytest.raises(UnknownError, match="context too long"):
        parse_chat_completion(body)


def test_parse_text_generation_shapes() -> None:
    out = parse_text_generation(capture_body("hf_toolkit_text_generation.txt"))
    assert out.generated_text == "The capital of France is Paris.\n\nThe capital of the"
    assert out.details is None
    out = parse_text_generation(b'{"generated_text": "x", "details": null}')
    assert out.generated_text == "x"


def test_parse_text_generation_details_and_best_of() -> None:
    body = cassette_body(
        "TestTextGenerationClientVCR.test_generate_best_of.yaml", "router.huggingface.co"
    )
    out = parse_text_generation(body)
    assert out.generated_text == "5"
    details = out.details
    assert details is not None
    assert details.finish_reason == "length"
    assert details.seed == 2835381823020158940
    assert details.prefill[0].text == "<pad>"
    assert details.prefill[0].logprob is None
    assert details.tokens[0].id == 305
    assert details.best_of_sequences is not None
    assert details.best_of_sequences[0].generated_text == "10-"
    assert out.to_dict() == json.loads(body)[0]


def test_parse_text_generation_errors() -> None:
    with pytest.raises(MalformedResponseError):
        parse_text_generation(b"[]")
    with pytest.raises(MalformedResponseError):
        parse_text_generation(b"[1]")
    with pytest.raises(MalformedResponseError):
        parse_text_generation(b'{"details": []}')
    with pytest.raises(ValidationError, match="must be <= 1512"):
        parse_text_generation(
            b'{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be '
            b'<= 1512","error_type":"validation"}'
        )


def test_parse_completion_as_text_generation() -> None:
    body = (
        b'{"id":"c","object":"text_completion","choices":[{"text":" Paris.","index":0,'
        b'"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":5,'
        b'"completion_tokens":2,"total_tokens":7}}'
    )
    out = parse_completion_as_text_generation(body)
    assert out.generated_text == " Paris."
    assert out.details is not None
    assert out.details.finish_reason == "stop"  # kept as the server sent it
    assert out.details.generated_tokens == 2
    assert out.completion["usage"]["total_tokens"] == 7
    assert out["completion"] == json.loads(body)
    bare = parse_completion_as_text_generation(b'{"choices":[{"text":"x"}]}')
    assert bare.details is None
    for bad in (b'{"choices": []}', b'{"choices": [1]}', b'{"choices":[{"text":1}]}', b"[]"):
        with pytest.raises(MalformedResponseError):
            parse_completion_as_text_generation(bad)
    with pytest.raises(InStreamError):
        parse_completion_as_text_generation(b'{"error": "boom"}')


def test_every_result_type_is_importable_from_inferwire() -> None:
    """As from huggingface_hub: ``from inferwire import ChatCompletionStreamOutput``."""
    import inferwire
    import inferwire.sansio as core

    types = [
        name
        for name in core.__all__
        if isinstance(getattr(core, name), type) and issubclass(getattr(core, name), Model)
    ]
    assert len(types) >= 26
    for name in types:
        assert name in inferwire.__all__, name
        assert getattr(inferwire, name) is getattr(core, name)


def test_huggingface_hub_output_type_names_exist_here() -> None:
    """Every output type huggingface_hub exports for the tasks inferwire has."""
    import huggingface_hub

    import inferwire

    names = [
        name
        for name in dir(huggingface_hub)
        if name.startswith(("ChatCompletion", "TextGeneration")) and "Output" in name
    ]
    assert len(names) >= 27
    assert [name for name in names if not hasattr(inferwire, name)] == []


def test_completion_details_keep_tokens_logprobs_and_prompt_length() -> None:
    """/v1/completions with logprobs (llama.cpp's shape): the tokens the server sent."""
    out = parse_completion_as_text_generation(
        capture_body("xllamacpp_completions_logprobs_nonstream.txt")
    )
    assert out.generated_text == " Paris."
    details = out.details
    assert details is not None
    assert [(t.id, t.text, t.special) for t in details.tokens] == [
        (7042, " Paris", False),
        (30, ".", False),
    ]
    assert details.tokens[0].logprob == pytest.approx(-0.2589, abs=1e-4)
    assert details.top_tokens is not None
    assert [[t.text for t in alts] for alts in details.top_tokens] == [
        [" Paris", " the"],
        [".", ","],
    ]
    assert (details.finish_reason, details.generated_tokens) == ("length", 2)
    assert details["input_length"] == 5
    assert details.prefill == []


def test_completion_details_openai_legacy_logprobs() -> None:
    body = json.dumps({
        "choices": [{
            "text": "ab",
            "finish_reason": "stop",
            "logprobs": {
                "tokens": ["a", "b"],
                "token_logprobs": [-0.5, -1.0],
                "top_logprobs": [{"a": -0.5, "x": -2.0}, {"b": -1.0}],
                "text_offset": [0, 1],
            },
        }],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }).encode()
    details = parse_completion_as_text_generation(body).details
    assert details is not None
    assert [(t.id, t.text, t.logprob) for t in details.tokens] == [(-1, "a", -0.5), (-1, "b", -1.0)]
    assert details.top_tokens is not None
    assert [[t.text for t in alts] for alts in details.top_tokens] == [["a", "x"], ["b"]]
    assert details["input_length"] == 4
    # no logprobs sent: no tokens, and nothing invented
    plain = parse_completion_as_text_generation(b'{"choices": [{"text": "ab"}]}')
    assert plain.details is None


def test_error_null_alone_is_not_an_answer() -> None:
    for parse in (parse_chat_completion, parse_text_generation):
        with pytest.raises(MalformedResponseError, match="'error': null"):
            parse(b'{"error": null}')
    out = parse_chat_completion(b'{"error": null, "choices": [{"message": {"content": "x"}}]}')
    assert out.choices[0].message.content == "x"

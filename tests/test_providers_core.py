"""Inference providers in the core, as scripted conversations: the Hub's provider mapping
(one lookup per model and client), router or direct URL by the key, each provider's route,
headers and payload changes, and the errors that name what is wrong. No sockets."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from inferwire.sansio._config import SUPPORTED_PROVIDERS, build_config
from inferwire.sansio._errors import UsageError
from inferwire.sansio._exchange import Runtime
from inferwire.sansio._providers import PROVIDER_NAMES, provider
from inferwire.sansio._routing import parse_mapping
from inferwire.sansio._tasks import chat_completion, feature_extraction, text_generation

from flowscript import Conversation

PROVIDERS = {name: provider(name) for name in PROVIDER_NAMES}
MESSAGES = [{"role": "user", "content": "Hi"}]
MODEL = "meta-llama/Llama-3.3-70B-Instruct"
CHAT_ANSWER = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant",
                                                                "content": "Hello"}}]}).encode()


def mapping(**providers: str | tuple[str, str]) -> bytes:
    """A Hub model-info answer: provider -> providerId (or (providerId, task))."""
    entries = {}
    for name, value in providers.items():
        provider_id, task = value if isinstance(value, tuple) else (value, "conversational")
        entries[name.replace("_", "-")] = {"status": "live", "providerId": provider_id,
                                           "task": task}
    return json.dumps({"id": MODEL, "inferenceProviderMapping": entries}).encode()


def config(provider: str, token: str = "hf_token", **kwargs: Any) -> Any:
    return build_config(provider=provider, token=token, **kwargs)


def _chat(cfg: Any, **params: Any) -> Conversation:
    return Conversation(chat_completion(cfg, MESSAGES, model=MODEL, params=params))


# every provider that serves chat, with its direct route
CHAT_ROUTES = {
    name: spec.base_url + spec.routes["conversational"].path
    for name, spec in PROVIDERS.items() if "conversational" in spec.routes
}


def test_the_registry_has_every_provider_of_huggingface_hub() -> None:
    hf = {"baseten", "cerebras", "cohere", "deepinfra", "fal-ai", "featherless-ai",
          "fireworks-ai", "groq", "hf-inference", "novita", "nscale", "openai", "ovhcloud",
          "publicai", "replicate", "scaleway", "together", "wavespeed", "zai-org"}
    assert set(PROVIDERS) | {"hf-inference"} == hf
    assert set(SUPPORTED_PROVIDERS) == {"auto", "hf-inference", *PROVIDERS}


@pytest.mark.parametrize("provider", sorted(set(CHAT_ROUTES) - {"openai"}))
def test_chat_through_the_router_with_an_hf_token(provider: str) -> None:
    conversation = _chat(config(provider))
    lookup = conversation.expect_send()
    assert lookup.method == "GET"
    assert lookup.url == (f"https://huggingface.co/api/models/{MODEL}"
                          "?expand%5B%5D=inferenceProviderMapping")
    assert dict(lookup.headers)["authorization"] == "Bearer hf_token"
    conversation.respond(200, mapping(**{provider: "their-model-id"}))
    request = conversation.expect_send()
    route = PROVIDERS[provider].routes["conversational"].path
    assert request.url == f"https://router.huggingface.co/{provider}{route}"
    assert dict(request.headers)["authorization"] == "Bearer hf_token"
    body = json.loads(request.body or b"")
    assert body["model"] == "their-model-id"  # the provider's id, from the Hub
    assert body["messages"] == MESSAGES
    conversation.respond(200, CHAT_ANSWER)
    assert conversation.result().choices[0].message.content == "Hello"


@pytest.mark.parametrize("provider", sorted(set(CHAT_ROUTES) - {"openai"}))
def test_chat_straight_to_the_provider_with_its_own_key(provider: str) -> None:
    conversation = _chat(config(provider, token="sk-provider-key"))
    lookup = conversation.expect_send()
    assert "authorization" not in dict(lookup.headers)  # a provider key never goes to the Hub
    conversation.respond(200, mapping(**{provider: "their-model-id"}))
    request = conversation.expect_send()
    assert request.url == CHAT_ROUTES[provider]
    assert dict(request.headers)["authorization"] == "Bearer sk-provider-key"


def test_the_mapping_is_looked_up_once_per_model_and_client() -> None:
    cfg = config("together")
    first = _chat(cfg)
    first.respond(200, mapping(together="t-id"))
    first.respond(200, CHAT_ANSWER)
    again = _chat(cfg)
    request = again.expect_send()
    assert request.method == "POST"  # no second lookup
    assert json.loads(request.body or b"")["model"] == "t-id"
    other = _chat(config("together"))  # another client: its own memory
    assert other.expect_send().method == "GET"


def test_the_list_shape_of_the_mapping_is_read_too() -> None:
    body = json.dumps({"inferenceProviderMapping": [
        {"provider": "groq", "providerId": "llama-3.3", "task": "conversational",
         "status": "live"},
        {"provider": "some-new-provider", "providerId": "x", "task": "conversational"},
        {"provider": "cohere"},  # no providerId: skipped
    ]}).encode()
    found = parse_mapping(body, MODEL)
    assert set(found) == {"groq", "some-new-provider"}
    assert found["groq"].provider_id == "llama-3.3"


def test_a_model_the_provider_does_not_serve_names_the_ones_that_do() -> None:
    conversation = _chat(config("groq"))
    with pytest.raises(UsageError, match=r"not served by provider 'groq' \(the Hub lists: "
                                         r"cerebras, together\)"):
        conversation.respond(200, mapping(together="a", cerebras="b"))


def test_a_mapping_for_another_task_is_refused() -> None:
    conversation = Conversation(feature_extraction(config("together"), "x", model=MODEL))
    with pytest.raises(UsageError, match="for the task 'conversational', not "
                                         "'feature-extraction'"):
        conversation.respond(200, mapping(together="t"))


def test_staging_and_failing_models_warn() -> None:
    seen: list[str] = []
    cfg = build_config(provider="cerebras", token="hf_x", runtime=Runtime(warn=seen.append))
    conversation = _chat(cfg)
    body = json.dumps({"inferenceProviderMapping": {"cerebras": {
        "providerId": "c", "task": "conversational", "status": "staging"}}}).encode()
    conversation.respond(200, body)
    assert conversation.expect_send().method == "POST"
    assert seen and "staging" in seen[0]


@pytest.mark.parametrize(
    ("provider", "schema_shape"),
    [("cohere", {"type": "json_object", "schema": {"type": "object"}}),
     ("fireworks-ai", {"type": "json_object", "schema": {"type": "object"}}),
     ("together", {"type": "json_schema", "schema": {"type": "object"}}),
     ("groq", {"type": "json_schema", "json_schema": {"name": "x",
                                                      "schema": {"type": "object"}}})],
)
def test_each_provider_spells_json_schema_its_way(provider: str,
                                                  schema_shape: dict[str, Any]) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "x",
                                                              "schema": {"type": "object"}}}
    conversation = _chat(config(provider), response_format=response_format)
    conversation.respond(200, mapping(**{provider: "id"}))
    body = json.loads(conversation.expect_send().body or b"")
    assert body["response_format"] == schema_shape


def test_zai_org_sends_its_headers() -> None:
    conversation = _chat(config("zai-org"))
    conversation.respond(200, mapping(zai_org="glm-4.5"))
    headers = dict(conversation.expect_send().headers)
    assert headers["x-source-channel"] == "hugging_face"
    assert headers["accept-language"] == "en-US,en"


def test_openai_needs_its_own_key_and_takes_the_model_as_given() -> None:
    with pytest.raises(UsageError, match="needs its own API key") as info:
        chat_completion(config("openai"), MESSAGES, model="gpt-4o", params={})
    assert info.value.argument == "api_key"
    conversation = Conversation(chat_completion(config("openai", token="sk-openai"), MESSAGES,
                                                model="gpt-4o", params={}))
    request = conversation.expect_send()  # no Hub lookup
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert json.loads(request.body or b"")["model"] == "gpt-4o"


@pytest.mark.parametrize(
    ("provider", "route"),
    [("deepinfra", "/v1/openai/completions"), ("featherless-ai", "/v1/completions"),
     ("novita", "/v3/openai/completions"), ("together", "/v1/completions")],
)
def test_text_generation_goes_to_the_provider_completions_route(provider: str,
                                                               route: str) -> None:
    flow = text_generation(config(provider), "Once upon", model=MODEL,
                           params={"max_new_tokens": 5})
    conversation = Conversation(flow)
    conversation.respond(200, mapping(**{provider: ("their-id", "text-generation")}))
    request = conversation.expect_send()
    assert request.url == f"https://router.huggingface.co/{provider}{route}"
    assert json.loads(request.body or b"") == {"prompt": "Once upon", "model": "their-id",
                                               "max_tokens": 5, "stream": False}
    conversation.respond(200, b'{"choices": [{"text": " a time", "finish_reason": "length"}]}')
    assert conversation.result() == " a time"


@pytest.mark.parametrize(
    ("provider", "route"),
    [("deepinfra", "/v1/openai/embeddings"), ("scaleway", "/v1/embeddings"),
     ("together", "/v1/embeddings")],
)
def test_embeddings_go_to_the_provider_embeddings_route(provider: str, route: str) -> None:
    conversation = Conversation(feature_extraction(config(provider), "a", model=MODEL))
    conversation.respond(200, mapping(**{provider: ("their-id", "feature-extraction")}))
    request = conversation.expect_send()
    assert request.url == f"https://router.huggingface.co/{provider}{route}"
    assert json.loads(request.body or b"") == {"input": "a", "model": "their-id"}
    conversation.respond(200, b'{"data": [{"index": 0, "embedding": [0.5, 1.0]}]}')
    assert conversation.result().tolist() == [[0.5, 1.0]]


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: text_generation(config("groq"), "x", model=MODEL, params={}),
      "does not serve 'text-generation'"),
     (lambda: feature_extraction(config("cerebras"), "x", model=MODEL),
      "does not serve 'feature-extraction'"),
     (lambda: feature_extraction(config("together"), "x", model=MODEL, normalize=True),
      "normalize is not part of the OpenAI embeddings API"),
     (lambda: chat_completion(build_config(provider="groq"), MESSAGES, model=MODEL, params={}),
      "needs a Hugging Face token")],
)
def test_what_cannot_work_is_refused_before_anything_is_sent(call: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        call()


def test_auto_chat_stays_on_the_router_without_a_lookup() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conversation = Conversation(chat_completion(config("auto"), MESSAGES,
                                                    model=MODEL + ":fastest", params={}))
    request = conversation.expect_send()
    assert request.url == "https://router.huggingface.co/v1/chat/completions"
    assert json.loads(request.body or b"")["model"] == MODEL + ":fastest"  # passed through

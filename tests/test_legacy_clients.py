"""The older huggingface_hub methods on the sync, asyncio and trio clients, against the fake
server playing the Hub API and the router: `conversational` over `chat_completion`,
`get_model_status` and `list_deployed_models` from the Hub as it is today, each with one
`DeprecationWarning` naming the modern call."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import trio
from conformance import TRANSPORTS, Facade

from inferwire import (
    AsyncInferenceClient,
    ConversationalOutput,
    InferenceClient,
    ModelStatus,
    UsageError,
)
from inferwire.sansio._legacy import chat_parameters, conversation_messages, model_status
from inferwire.testing import FakeInferenceServer

HUB_MODELS: dict[str, dict[str, Any]] = {
    "org/chat": {"pipeline_tag": "text-generation", "library_name": "transformers",
                 "inference": "warm",
                 "providers": {"hf-inference": {"providerId": "org/chat",
                                                "task": "conversational"}}},
    "org/sd": {"pipeline_tag": "text-to-image", "library_name": "diffusers",
               "providers": {"together": {"providerId": "sd", "task": "text-to-image",
                                          "status": "staging"}}},
    "org/cold": {"pipeline_tag": "fill-mask", "library_name": "transformers"},
}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(hub_models=HUB_MODELS) as fake:
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        yield fake


def run_client(transport: str, scenario: Callable[[Facade], Awaitable[Any]]) -> Any:
    if transport == "sync":
        with InferenceClient(token="hf_x", timeout=10) as client:
            return asyncio.run(scenario(Facade(client, False)))

    async def main() -> Any:
        async with AsyncInferenceClient(token="hf_x", timeout=10) as client:
            return await scenario(Facade(client, True))

    return asyncio.run(main()) if transport == "asyncio" else trio.run(main)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_conversational_sends_the_history_as_chat_messages(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade) -> Any:
        with pytest.warns(DeprecationWarning, match=r"use chat_completion"):
            return await t.call("conversational", "And you?", ["Fine, thanks."], ["How are you?"],
                                parameters={"max_length": 12, "temperature": 0.5},
                                model="org/chat")

    out = run_client(transport, scenario)
    assert isinstance(out, ConversationalOutput)
    assert out.generated_text == "Hello, world!"
    assert out.conversation.past_user_inputs == ["How are you?", "And you?"]
    assert out.conversation.generated_responses == ["Fine, thanks.", "Hello, world!"]
    assert out.warnings == []
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.json["messages"] == [
        {"role": "user", "content": "How are you?"},
        {"role": "assistant", "content": "Fine, thanks."},
        {"role": "user", "content": "And you?"},
    ]
    assert (sent.json["max_tokens"], sent.json["temperature"]) == (12, 0.5)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_model_status_comes_from_the_hub_model_info(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade) -> list[Any]:
        with pytest.warns(DeprecationWarning, match=r"expand\[\]=inference"):
            return [await t.call("get_model_status", name)
                    for name in ("org/chat", "org/sd", "org/cold")]

    warm, staging, cold = run_client(transport, scenario)
    assert warm == ModelStatus(True, "Loaded", {"hf-inference": "live"}, "transformers")
    assert staging == ModelStatus(False, "Loadable", {"together": "staging"}, "diffusers")
    assert cold == ModelStatus(False, "NotLoaded", {}, "transformers")
    info = [r for r in server.requests if r.path == "/api/models/org/chat"]
    assert "expand%5B%5D=inference&" in info[0].query


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_list_deployed_models_groups_the_hub_search_by_task(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade) -> list[Any]:
        with pytest.warns(DeprecationWarning, match="inference_provider=all"):
            return [await t.call("list_deployed_models"),
                    await t.call("list_deployed_models", "diffusers"),
                    await t.call("list_deployed_models", ["transformers"])]

    everything, diffusers, transformers = run_client(transport, scenario)
    # org/cold has no provider: the Hub's search leaves it out
    assert everything == {"text-generation": ["org/chat"], "text-to-image": ["org/sd"]}
    assert diffusers == {"text-to-image": ["org/sd"]}
    assert transformers == {"text-generation": ["org/chat"]}
    assert "inference_provider=all" in server.requests[-1].query


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_url_model_has_no_status(transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with pytest.raises(UsageError, match="not URLs") as caught:
                await t.call("get_model_status", f"{server.base_url}/models/x")
        assert caught.value.argument == "model"

    run_client(transport, scenario)
    assert server.requests == []


def test_one_warning_per_call_site_pointing_at_the_caller(server: FakeInferenceServer) -> None:
    with InferenceClient(token="hf_x") as client, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")  # Python's default: once per location
        for _ in range(3):
            client.get_model_status("org/chat")
        client.get_model_status("org/chat")
    assert len(seen) == 2
    assert {w.filename for w in seen} == {__file__}
    assert all(w.category is DeprecationWarning for w in seen)


def test_the_history_must_pair_inputs_with_responses() -> None:
    with pytest.raises(UsageError, match="same length") as caught:
        conversation_messages("Hi", ["a", "b"], ["x"])
    assert caught.value.argument == "generated_responses"
    assert conversation_messages("Hi", None, None) == [{"role": "user", "content": "Hi"}]


def test_old_parameters_map_to_chat_ones_and_the_rest_are_refused() -> None:
    assert chat_parameters({"max_new_tokens": 5, "top_p": 0.9, "seed": 1, "stop": ["\n"]}) == {
        "max_tokens": 5, "top_p": 0.9, "seed": 1, "stop": ["\n"]}
    for unknown in ("min_length", "top_k", "repetition_penalty", "max_time"):
        with pytest.raises(UsageError, match=unknown):
            chat_parameters({unknown: 1})


def test_model_status_reads_the_older_list_form_of_the_mapping() -> None:
    status = model_status({"id": "m", "inferenceProviderMapping": [
        {"provider": "groq", "providerId": "m", "task": "conversational", "status": "live"}]})
    assert status == ModelStatus(True, "Loaded", {"groq": "live"}, "unknown")

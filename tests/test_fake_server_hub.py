"""The fake Hub API of `FakeInferenceServer`: model info, the search, and the mapping client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from inferwire import InferenceClient
from inferwire.sansio import UsageError
from inferwire.sansio._config import Lookup
from inferwire.sansio._routing import provider_target
from inferwire.testing import FakeInferenceServer

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
GROQ = {"providerId": "llama-3.1-8b-instant", "task": "conversational"}


def get(server: FakeInferenceServer, target: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(server.url(target), timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer() as running:
        running.hub_model(LLAMA, pipeline_tag="text-generation", library_name="transformers",
                          providers={"groq": GROQ}, tags=["llama", "conversational"])
        running.hub_model("gpt2", pipeline_tag="text-generation")
        running.hub_model("google/vit-base-patch16-224", pipeline_tag="image-classification",
                          providers={"hf-inference": {"providerId": "google/vit-base-patch16-224",
                                                      "task": "image-classification",
                                                      "status": "staging"}})
        yield running


def test_model_info_has_the_hub_fields(server: FakeInferenceServer) -> None:
    status, info = get(server, f"/api/models/{LLAMA}")
    assert status == 200
    assert info["id"] == info["modelId"] == LLAMA
    assert info["pipeline_tag"] == "text-generation"
    assert info["library_name"] == "transformers"
    assert info["tags"] == ["llama", "conversational"]
    assert "inferenceProviderMapping" not in info and "inference" not in info


@pytest.mark.parametrize("query", ["expand[]=inferenceProviderMapping",
                                   "expand%5B%5D=inferenceProviderMapping",
                                   "expand=inferenceProviderMapping"])
def test_the_provider_mapping_is_expanded_on_request(server: FakeInferenceServer,
                                                     query: str) -> None:
    _, info = get(server, f"/api/models/{LLAMA}?{query}")
    assert info["inferenceProviderMapping"] == {"groq": {**GROQ, "status": "live"}}


def test_inference_is_warm_when_a_provider_is_live(server: FakeInferenceServer) -> None:
    _, live = get(server, f"/api/models/{LLAMA}?expand[]=inference&expand[]=pipeline_tag")
    _, staging = get(server, "/api/models/google/vit-base-patch16-224?expand[]=inference")
    _, none = get(server, "/api/models/gpt2?expand[]=inference")
    assert live["inference"] == "warm"
    assert "inference" not in staging and "inference" not in none


def test_an_explicit_inference_field_is_answered_as_given(server: FakeInferenceServer) -> None:
    server.hub_model("org/cold", inference="cold")
    assert get(server, "/api/models/org/cold?expand=inference")[1]["inference"] == "cold"


def test_an_unknown_model_is_repository_not_found(server: FakeInferenceServer) -> None:
    assert get(server, "/api/models/nobody/nothing") == (404, {"error": "Repository not found"})


def test_the_search_filters_by_provider_and_pipeline_tag(server: FakeInferenceServer) -> None:
    def ids(query: str) -> list[str]:
        return [model["id"] for model in get(server, f"/api/models?{query}")[1]]

    assert ids("") == [LLAMA, "gpt2", "google/vit-base-patch16-224"]
    assert ids("inference_provider=all") == [LLAMA, "google/vit-base-patch16-224"]
    assert ids("inference_provider=groq") == [LLAMA]
    assert ids("inference_provider=all&pipeline_tag=image-classification") == [
        "google/vit-base-patch16-224"]
    assert ids("pipeline_tag=text-to-image") == []
    _, listed = get(server, "/api/models?inference_provider=groq&expand[]=inferenceProviderMapping")
    assert listed[0]["inferenceProviderMapping"]["groq"]["providerId"] == GROQ["providerId"]


def test_hub_models_argument_registers_models() -> None:
    with FakeInferenceServer(hub_models={"org/m": {"pipeline_tag": "fill-mask"}}) as server:
        assert get(server, "/api/models/org/m")[1]["pipeline_tag"] == "fill-mask"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"providers": {"groq": {"task": "conversational"}}}, "providerId"),
    ({"providers": {"groq": {**GROQ, "colour": "red"}}}, "unknown keys"),
    ({"tags": "llama"}, "not a string"),
])
def test_bad_registrations_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        FakeInferenceServer().hub_model("org/m", **kwargs)


def test_an_unknown_hub_models_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        FakeInferenceServer(hub_models={"org/m": {"pipeline": "fill-mask"}})


def test_the_clients_mapping_lookup_reads_the_fake_hub(
        server: FakeInferenceServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", server.base_url)
    with InferenceClient(provider="groq", token="hf_fake") as client:
        target = client._run(provider_target(client._config,
                                             Lookup(LLAMA, "groq", "conversational")))
        again = client._run(provider_target(client._config,
                                            Lookup(LLAMA, "groq", "conversational")))
        assert target.payload_model == again.payload_model == GROQ["providerId"]
        assert target.url == "https://router.huggingface.co/groq/openai/v1/chat/completions"
        with pytest.raises(UsageError, match="not served by provider 'groq'"):
            client._run(provider_target(client._config, Lookup("gpt2", "groq", "conversational")))
    lookups = [r for r in server.requests if r.path.startswith("/api/models/")]
    assert [r.path for r in lookups] == [f"/api/models/{LLAMA}", "/api/models/gpt2"]
    assert lookups[0].header("authorization") == "Bearer hf_fake"

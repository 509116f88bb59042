"""URL, model and token rules (huggingface_hub's, with its bugs left out)."""

from __future__ import annotations

import pytest

from inferwire.sansio._config import ClientConfig, Target, build_config, chat_completion_url
from inferwire.sansio._errors import UsageError


@pytest.mark.parametrize(("base", "expected"), [
    ("http://localhost:8080", "http://localhost:8080/v1/chat/completions"),
    ("http://localhost:8080/", "http://localhost:8080/v1/chat/completions"),
    ("http://localhost:8080/v1", "http://localhost:8080/v1/chat/completions"),
    ("http://localhost:8080/v1/", "http://localhost:8080/v1/chat/completions"),
    ("http://localhost:8080/v1/chat/completions", "http://localhost:8080/v1/chat/completions"),
    ("https://x.endpoints.huggingface.cloud/api", "https://x.endpoints.huggingface.cloud/api/v1/chat/completions"),
    ("http://h/v1?api-version=2", "http://h/v1/chat/completions?api-version=2"),
    ("http://h/openai/v1/chat/completions?x=1", "http://h/openai/v1/chat/completions?x=1"),
])
def test_chat_completion_url_suffix_rules(base: str, expected: str) -> None:
    assert chat_completion_url(base) == expected


def test_client_url_wins_for_the_url_and_method_model_for_the_payload() -> None:
    config = build_config(base_url="http://h:1/v1")
    target = config.chat_target("my-model")
    assert target.url == "http://h:1/v1/chat/completions"
    assert target.payload_model == "my-model"
    assert config.chat_target(None).payload_model == "dummy"


def test_method_level_url_model() -> None:
    target = build_config().chat_target("http://h:2")
    assert (target.url, target.payload_model) == ("http://h:2/v1/chat/completions", "dummy")


def test_model_id_goes_to_the_router_with_a_token() -> None:
    config = build_config(model="meta-llama/Llama-3.1-8B-Instruct", token="hf_x")
    target = config.chat_target(None)
    assert target.url == "https://router.huggingface.co/v1/chat/completions"
    assert target.payload_model == "meta-llama/Llama-3.1-8B-Instruct"
    hf = build_config(model="m/x", token="hf_x", provider="hf-inference").chat_target(None)
    assert hf.url == "https://router.huggingface.co/hf-inference/models/m/x/v1/chat/completions"


def test_model_id_without_token_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="HF_TOKEN") as info:
        build_config(model="m/x").chat_target(None)
    assert info.value.argument == "token"


def test_no_model_at_all() -> None:
    with pytest.raises(UsageError, match="model") as info:
        build_config().chat_target(None)
    assert info.value.argument == "model"


@pytest.mark.parametrize(("url", "task", "expected", "openai"), [
    ("http://h/v1", "feature-extraction", "http://h/v1/embeddings", True),
    ("http://h/v1/", "text-generation", "http://h/v1/completions", True),
    ("http://h", "feature-extraction", "http://h", False),
    ("http://h:8080/", "text-generation", "http://h:8080/", False),
    ("http://h/v1/embeddings", "feature-extraction", "http://h/v1/embeddings", True),
])
def test_task_target_rule(url: str, task: str, expected: str, openai: bool) -> None:
    target = build_config(base_url=url).task_target(None, task)
    assert (target.url, target.openai_style) == (expected, openai)


def test_hub_model_feature_extraction_route() -> None:
    config = build_config(token="hf_x", provider="hf-inference")
    target = config.task_target("BAAI/bge-small", "feature-extraction")
    assert isinstance(target, Target)
    assert target.url == ("https://router.huggingface.co/hf-inference/models/BAAI/bge-small"
                          "/pipeline/feature-extraction")


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"model": "a", "base_url": "http://b"}, "base_url"),
    ({"token": "a", "api_key": "b"}, "api_key"),
    ({"base_url": "localhost:8080"}, "base_url"),
    ({"provider": "not-a-provider"}, "provider"),
    ({"model": 3}, "model"),
])
def test_bad_construction(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(UsageError) as info:
        build_config(**kwargs)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_token_precedence_and_headers() -> None:
    assert build_config(env_token="hf_env").token == "hf_env"
    assert build_config(token="hf_arg", env_token="hf_env").token == "hf_arg"
    assert build_config(api_key="sk", env_token="hf_env").token == "sk"
    config = build_config(token="hf_secret", headers={"X-Custom": "1"}, bill_to="my-org")
    headers = dict(config.request_headers("http://h:1/v1", json_body=True))
    assert headers["authorization"] == "Bearer hf_secret"
    assert headers["x-custom"] == "1"
    assert headers["x-hf-bill-to"] == "my-org"
    assert headers["content-type"] == "application/json"
    # no Accept: text/event-stream (the HF Inference Toolkit refuses it with a 400)
    assert "accept" not in headers
    assert headers["user-agent"].startswith("inferwire/")


def test_user_headers_override_defaults() -> None:
    config = build_config(token="t", headers={"Authorization": "Key other"})
    assert dict(config.request_headers("http://h", json_body=False))["authorization"] == (
        "Key other")


def test_repr_hides_the_token() -> None:
    config = build_config(token="hf_very_secret")
    assert "hf_very_secret" not in repr(config)
    assert "***" in repr(config)
    assert "hf_very_secret" not in repr(ClientConfig(token="hf_very_secret"))


def test_endpoint_urls() -> None:
    config = build_config(base_url="http://h:1")
    assert config.endpoint_url(None, "health") == "http://h:1/health"
    assert config.endpoint_url(None, "info") == "http://h:1/info"
    with pytest.raises(UsageError, match="URL"):
        build_config().endpoint_url("org/model", "health")
    assert build_config().endpoint_url("org/model", "info") == (
        "https://api-inference.huggingface.co/models/org/model/info")

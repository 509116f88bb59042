"""A corpus of short scripts in the style of the older huggingface_hub guides, run unchanged
but for the import (``huggingface_hub`` -> ``inferwire``) against `inferwire.testing` playing
the Hub API and the router: InferenceApi on a text and an image model, a conversational loop,
model status, deployed models and the old text generation types, on the sync client and
(where the method exists) on asyncio and trio."""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from inferwire import UsageError
from inferwire.testing import FakeInferenceServer

HUB_MODELS: dict[str, dict[str, Any]] = {
    model: {"pipeline_tag": tag, "library_name": library, "inference": "warm",
            "providers": {"hf-inference": {"providerId": model, "task": task}}}
    for model, tag, library, task in [
        ("distilbert-base-uncased-finetuned-sst-2-english", "text-classification",
         "transformers", "text-classification"),
        ("bert-base-uncased", "fill-mask", "transformers", "fill-mask"),
        ("deepset/roberta-base-squad2", "question-answering", "transformers",
         "question-answering"),
        ("stabilityai/stable-diffusion-2-1", "text-to-image", "diffusers", "text-to-image"),
        ("gpt2", "text-generation", "transformers", "text-generation"),
        ("facebook/blenderbot-400M-distill", "conversational", "transformers",
         "conversational"),
    ]
}
TASKS = {model: info["pipeline_tag"] for model, info in HUB_MODELS.items()
         if info["pipeline_tag"] != "conversational"}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(hub_models=HUB_MODELS, tasks=TASKS) as fake:
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("HF_TOKEN", "hf_guide")
        yield fake


def swapped(script: str) -> str:
    """The script with its huggingface_hub imports pointing at inferwire."""
    return re.sub(r"from huggingface_hub(\.inference_api|\.inference\._types)? import",
                  "from inferwire import", textwrap.dedent(script))


def run_script(script: str) -> list[warnings.WarningMessage]:
    """Run `script` (import swapped) in a fresh namespace; its deprecation warnings."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", DeprecationWarning)
        exec(compile(swapped(script), "<guide>", "exec"), {"__name__": "__guide__"})
    return [w for w in seen if w.category is DeprecationWarning]


INFERENCE_API_TEXT = """
    from huggingface_hub.inference_api import InferenceApi

    inference = InferenceApi(repo_id="distilbert-base-uncased-finetuned-sst-2-english")
    result = inference(inputs="I like you. I love you")
    assert result[0]["label"] == "POSITIVE", result
    assert isinstance(result, list) and type(result[0]) is dict

    inference = InferenceApi("bert-base-uncased")
    filled = inference(inputs="The goal of life is [MASK].")
    assert "sequence" in filled[0] and "token_str" in filled[0]

    inference = InferenceApi("deepset/roberta-base-squad2")
    inputs = {"question": "What's my name?", "context": "My name is Clara."}
    answer = inference(inputs)
    assert set(answer) >= {"score", "start", "end", "answer"}

    inference = InferenceApi("gpt2")
    out = inference("The answer to the universe is", params={"max_new_tokens": 5})
    assert out == [{"generated_text": "Hello, world!"}]
"""

INFERENCE_API_IMAGE = """
    from huggingface_hub.inference_api import InferenceApi

    inference = InferenceApi("stabilityai/stable-diffusion-2-1")
    image = inference("An astronaut riding a horse on the moon.")
    image.save("/dev/null", format="PNG")
    assert image.size == (8, 8)
"""

INFERENCE_API_OVERRIDE_TASK = """
    from huggingface_hub.inference_api import InferenceApi

    inference = InferenceApi("bert-base-uncased", task="feature-extraction")
    assert inference.task == "feature-extraction"
"""

CONVERSATIONAL_LOOP = """
    from huggingface_hub import InferenceClient

    client = InferenceClient()
    past_user_inputs, generated_responses = [], []
    for text in ["Hi!", "What's your name?", "Bye."]:
        output = client.conversational(text, generated_responses, past_user_inputs,
                                       model="facebook/blenderbot-400M-distill")
        past_user_inputs = output["conversation"]["past_user_inputs"]
        generated_responses = output["conversation"]["generated_responses"]
        assert output["generated_text"] == generated_responses[-1]
    assert past_user_inputs == ["Hi!", "What's your name?", "Bye."]
    assert len(generated_responses) == 3
"""

MODEL_STATUS = """
    from huggingface_hub import InferenceClient

    client = InferenceClient()
    status = client.get_model_status("bert-base-uncased")
    assert status.loaded is True and status.state == "Loaded"
    assert status.framework == "transformers"
"""

DEPLOYED_MODELS = """
    from huggingface_hub import InferenceClient

    client = InferenceClient()
    deployed = client.list_deployed_models()
    assert "bert-base-uncased" in deployed["fill-mask"]
    assert client.list_deployed_models("diffusers") == {
        "text-to-image": ["stabilityai/stable-diffusion-2-1"]}
"""

OLD_TEXT_GENERATION_TYPES = """
    from huggingface_hub import InferenceClient
    from huggingface_hub.inference._types import (
        FinishReason, TextGenerationParameters, TextGenerationResponse, Token)

    client = InferenceClient()
    response = client.text_generation("The huggingface_hub library is ", model="gpt2",
                                      max_new_tokens=12, details=True)
    assert isinstance(response, TextGenerationResponse)
    assert all(isinstance(token, Token) for token in response.details.tokens)
    assert response.details.finish_reason in list(FinishReason)
    try:
        TextGenerationParameters(top_p=1.5)
    except ValueError as error:
        assert "top_p" in str(error)
    else:
        raise AssertionError("top_p=1.5 was accepted")
"""

SYNC_SCRIPTS = {
    "inference_api_text": (INFERENCE_API_TEXT, "InferenceApi is deprecated"),
    "inference_api_image": (INFERENCE_API_IMAGE, "InferenceApi is deprecated"),
    "inference_api_override_task": (INFERENCE_API_OVERRIDE_TASK, "InferenceApi is deprecated"),
    "conversational_loop": (CONVERSATIONAL_LOOP, "use chat_completion"),
    "model_status": (MODEL_STATUS, "get_model_status"),
    "deployed_models": (DEPLOYED_MODELS, "list_deployed_models"),
    "old_text_generation_types": (OLD_TEXT_GENERATION_TYPES, None),
}


@pytest.mark.parametrize("name", sorted(SYNC_SCRIPTS))
def test_old_guide_script_runs_with_the_import_swapped(
        name: str, server: FakeInferenceServer) -> None:
    script, warning = SYNC_SCRIPTS[name]
    seen = run_script(script)
    if warning is None:
        assert seen == []
    else:
        assert seen and all(warning in str(w.message) for w in seen)
        assert {w.filename for w in seen} == {"<guide>"}  # the script's own lines


def as_async(script: str, runner: str) -> str:
    """The sync script on `AsyncInferenceClient`: each client call awaited, run by `runner`."""
    body = textwrap.dedent(script).replace("InferenceClient", "AsyncInferenceClient")
    body = re.sub(r"client\.(conversational|get_model_status|list_deployed_models)\(",
                  r"await client.\1(", body)
    imports, _, rest = body.partition("\n\n")
    run = "asyncio.run(main())" if runner == "asyncio" else "trio.run(main)"
    return (f"import {runner}\n{imports}\n\nasync def main():\n"
            f"{textwrap.indent(rest, '    ')}\n{run}\n")


@pytest.mark.parametrize("runner", ["asyncio", "trio"])
@pytest.mark.parametrize("name", ["conversational_loop", "model_status", "deployed_models"])
def test_old_guide_script_runs_on_the_async_client(
        name: str, runner: str, server: FakeInferenceServer) -> None:
    script, warning = SYNC_SCRIPTS[name]
    seen = run_script(as_async(script, runner))
    assert seen and all(warning in str(w.message) for w in seen)


def test_inference_api_refuses_an_unknown_task(server: FakeInferenceServer) -> None:
    with pytest.raises(UsageError, match="unknown task 'speech-to-text'") as caught:
        run_script("""
            from huggingface_hub.inference_api import InferenceApi
            InferenceApi("bert-base-uncased", task="speech-to-text")
        """)
    assert caught.value.argument == "task"


def test_inference_api_looks_the_pipeline_tag_up_once(server: FakeInferenceServer) -> None:
    run_script(INFERENCE_API_IMAGE)
    lookups = [r for r in server.requests
               if r.path == "/api/models/stabilityai/stable-diffusion-2-1"
               and "pipeline_tag" in r.query]
    assert len(lookups) == 1

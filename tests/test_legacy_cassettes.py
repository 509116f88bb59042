"""huggingface_hub's ``InferenceApiTest.*`` cassettes replayed through `InferenceApi`.

Replayed: each recorded Hub model-info answer (the 307 of a renamed repository included) is
the pipeline-tag lookup; a recorded ``/pipeline/<task>/<model>`` answer is served where
today's routing sends the call (``/hf-inference/models/<model>``, after the provider-mapping
lookup, which the recordings predate and the fake Hub answers). Not replayable:
``test_inference_missing_input``'s 400 (inferwire refuses the question-answering inputs
without ``context`` before sending: its lookup is replayed).
``test_text_to_image`` and ``test_text_to_image_raw_response`` recorded no image (only the
lookup), so the fake's default PNG stands in; ``raw_response=True`` returns a `RawResponse`,
read like the ``requests.Response`` of old (``status_code``, ``content``, ``json()``...).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from conformance import Interaction, cassette_reply, load_cassette, require_cassettes

from inferwire import BadRequestError, InferenceApi, UsageError
from inferwire.sansio import Response
from inferwire.testing import FakeInferenceServer, error


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def replay(monkeypatch: pytest.MonkeyPatch, server: FakeInferenceServer, cassette: str,
           model: str, task: str, suffix: str = "") -> tuple[Interaction, ...]:
    """Serve `cassette`'s interactions where today's calls for `model` go (`suffix`: after
    the model, for a task other than the model's own)."""
    require_cassettes()
    interactions = load_cassette(cassette)
    for key, value in server.provider_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    server.hub_model(model, pipeline_tag=task,
                     providers={"hf-inference": {"providerId": model, "task": task}})
    for it in interactions:
        if it.method == "GET":
            server.route("GET", it.path, cassette_reply(it), times=1)
        else:
            path = f"/hf-inference/models/{model}{suffix}"
            server.route("POST", path, cassette_reply(it), times=1)
    return interactions


def test_simple_inference_follows_the_hub_redirect_and_replays_fill_mask(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        recorded = replay(monkeypatch, server, "InferenceApiTest.test_simple_inference.yaml",
                          "bert-base-uncased", "fill-mask")
        with InferenceApi("bert-base-uncased") as api:
            assert api.task == "fill-mask"
            out = api(inputs="Hi, I think [MASK]\u00a0is cool")
        assert out == recorded[2].json()
        paths = [r.path for r in server.requests]
        assert paths[:2] == ["/api/models/bert-base-uncased",
                             "/api/models/google-bert/bert-base-uncased"]
        assert server.requests[-1].json["inputs"] == "Hi, I think [MASK]\u00a0is cool"


def test_overriding_the_task_replays_feature_extraction(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = "sentence-transformers/paraphrase-albert-small-v2"
    with FakeInferenceServer() as server:
        recorded = replay(monkeypatch, server,
                          "InferenceApiTest.test_inference_overriding_task.yaml", model,
                          "feature-extraction", "/pipeline/feature-extraction")
        with InferenceApi(model, task="feature-extraction") as api:
            assert api.task == "feature-extraction"
            out: Any = api(inputs="This is an example again")
        expected = recorded[1].json()
        assert isinstance(out, list)  # plain JSON, as the old class returned
        assert out == pytest.approx(expected, rel=1e-6)


def test_overriding_with_an_invalid_task_fails_after_the_lookup(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        replay(monkeypatch, server,
               "InferenceApiTest.test_inference_overriding_invalid_task.yaml",
               "bert-base-uncased", "fill-mask")
        with pytest.raises(UsageError, match="unknown task 'invalid-task'"):
            InferenceApi("bert-base-uncased", task="invalid-task")
        assert [r.method for r in server.requests] == ["GET", "GET"]


def test_missing_input_is_refused_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        replay(monkeypatch, server, "InferenceApiTest.test_inference_missing_input.yaml",
               "deepset/roberta-base-squad2", "question-answering")
        with InferenceApi("deepset/roberta-base-squad2") as api, pytest.raises(
                UsageError, match="context"):
            api(inputs={"question": "What's my name?"})
        assert [r.method for r in server.requests] == ["GET"]


def test_text_to_image_replays_the_lookup_and_returns_an_image(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = "stabilityai/stable-diffusion-2-1"
    with FakeInferenceServer(tasks={model: "text-to-image"}) as server:
        replay(monkeypatch, server, "InferenceApiTest.test_text_to_image.yaml", model,
               "text-to-image")
        with InferenceApi(model) as api:
            image = api("cat")
        assert image.format == "PNG"


def test_text_to_image_raw_response_is_the_unparsed_response(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = "stabilityai/stable-diffusion-2-1"
    with FakeInferenceServer(tasks={model: "text-to-image"}) as server:
        replay(monkeypatch, server, "InferenceApiTest.test_text_to_image_raw_response.yaml",
               model, "text-to-image")
        with InferenceApi(model) as api:
            response = api("cat", raw_response=True)  # read like the requests.Response of old
            assert isinstance(response.response, Response)
            assert response.status_code == 200 and response.ok
            assert response.content.startswith(b"\x89PNG")
            assert response.headers["content-type"].startswith("image/")
            server.route("POST", f"/hf-inference/models/{model}",
                         error(400, "bad prompt"), times=1)
            refused = api("cat", raw_response=True)  # an error status is returned, as before
            assert refused.status_code == 400 and not refused.ok
            assert refused.json() == "bad prompt"  # (the body this reply sends)
            with pytest.raises(BadRequestError, match="bad prompt"):
                refused.raise_for_status()
            assert api("cat").format == "PNG"  # and the next call parses again

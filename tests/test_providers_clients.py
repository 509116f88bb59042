"""Providers end to end, on the sync, asyncio and trio clients alike, against the fake server
playing the Hub's mapping and each provider (`FakeInferenceServer.play_provider`): one
scenario table, three transports, router (``hf_`` key) and direct (the provider's key)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
from conformance import TRANSPORTS, Facade

from inferwire import (
    AsyncInferenceClient,
    InferenceClient,
    JobFailedError,
    JobTimeoutError,
    PaymentRequiredError,
)
from inferwire.testing import FakeInferenceServer, chat_completion, chat_stream, error, json_reply

PNG_MAGIC = b"\x89PNG"
MP4_MAGIC = b"ftyp"


def run_client(transport: str, scenario: Callable[[Facade], Awaitable[Any]],
               **kwargs: Any) -> Any:
    """`scenario` with a client of `transport` made from `kwargs` (fast job polling)."""
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("job_poll_interval", 0.01)
    if transport == "sync":
        with InferenceClient(**kwargs) as client:
            return asyncio.run(scenario(Facade(client, False)))

    async def main() -> Any:
        async with AsyncInferenceClient(**kwargs) as client:
            return await scenario(Facade(client, True))

    return asyncio.run(main()) if transport == "asyncio" else trio.run(main)


def assert_result(out: Any, magic: bytes) -> None:
    """Images come back as PIL images (as in huggingface_hub), audio and video as bytes."""
    if magic == PNG_MAGIC:
        assert out.format == "PNG" and out.size == (8, 8)
    else:
        assert isinstance(out, bytes) and magic in out[:12]


def hub(server: FakeInferenceServer, model: str, provider: str, provider_id: str,
        task: str) -> None:
    """The Hub's mapping of `model`: served by `provider` as `provider_id` for `task`."""
    entry = {"providerId": provider_id, "task": task, "status": "live"}
    server.route("GET", f"/api/models/{model}",
                 json_reply({"id": model, "inferenceProviderMapping": {provider: entry}}))


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeInferenceServer() as fake:
        for name in ("together", "nscale", "zai-org", "novita", "deepinfra", "groq"):
            fake.play_provider(name)
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        yield fake


CASES = [
    # provider, method, inputs, task, result check
    ("together", "text_to_image", "a cat", "text-to-image", PNG_MAGIC),
    ("together", "text_to_video", "a cat", "text-to-video", MP4_MAGIC),
    ("together", "text_to_speech", "hello", "text-to-speech", b"RIFF"),
    ("nscale", "text_to_image", "a cat", "text-to-image", PNG_MAGIC),
    ("zai-org", "text_to_image", "a cat", "text-to-image", PNG_MAGIC),
    ("novita", "text_to_video", "a cat", "text-to-video", MP4_MAGIC),
    ("deepinfra", "text_to_speech", "hello", "text-to-speech", b"RIFF"),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("key", ["hf_router_token", "provider-key"])
@pytest.mark.parametrize(("provider", "method", "inputs", "task", "magic"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_provider_task(server: FakeInferenceServer, transport: str, key: str, provider: str,
                       method: str, inputs: str, task: str, magic: bytes) -> None:
    hub(server, "org/model", provider, "provider/model-id", task)

    async def scenario(t: Facade) -> None:
        out = await t.call(method, inputs, model="org/model")
        assert_result(out, magic)

    run_client(transport, scenario, provider=provider, token=key)
    calls = [r for r in server.requests if r.path.startswith(f"/{provider}/")]
    assert calls and all(r.headers["authorization"] == f"Bearer {key}" for r in calls)
    downloads = [r for r in server.requests if r.path.startswith("/files/")]
    assert all("authorization" not in r.headers for r in downloads)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_speech_recognition_at_deepinfra(server: FakeInferenceServer, transport: str) -> None:
    hub(server, "openai/whisper", "deepinfra", "openai/whisper-large-v3",
        "automatic-speech-recognition")

    async def scenario(t: Facade) -> None:
        out = await t.call("automatic_speech_recognition", b"RIFF....WAVEfmt ",
                           model="openai/whisper")
        assert out.text == "hello world"
        assert [c.timestamp for c in out.chunks] == [[0.0, 0.5], [0.5, 1.0]]

    run_client(transport, scenario, provider="deepinfra", token="hf_x")
    assert server.last_request.headers["content-type"].startswith("multipart/form-data")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_results_on_another_host_are_fetched_without_the_key(
        monkeypatch: pytest.MonkeyPatch, transport: str) -> None:
    with FakeInferenceServer() as fake, FakeInferenceServer() as cdn:
        fake.play_provider("together", result_server=cdn, polls=2)
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        hub(fake, "org/video", "together", "Wan-AI/T2V", "text-to-video")

        async def scenario(t: Facade) -> None:
            out = await t.call("text_to_video", "a cat", model="org/video")
            assert MP4_MAGIC in out[:12]

        run_client(transport, scenario, provider="together", token="hf_secret")
        polls = [r for r in fake.requests if r.method == "GET" and "/v2/videos/" in r.path]
        assert len(polls) == 3  # in progress twice, then completed
        assert [r.path for r in cdn.requests] == ["/files/together/together-job-1.mp4"]
        assert "authorization" not in cdn.requests[0].headers


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_failed_job_is_a_typed_error_with_its_id(monkeypatch: pytest.MonkeyPatch,
                                                   transport: str) -> None:
    with FakeInferenceServer() as fake:
        fake.play_provider("zai-org", outcome="failed")
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        hub(fake, "org/img", "zai-org", "glm-image", "text-to-image")

        async def scenario(t: Facade) -> None:
            with pytest.raises(JobFailedError) as info:
                await t.call("text_to_image", "a cat", model="org/img")
            assert (info.value.provider, info.value.job_id) == ("zai-org", "zai-org-job-1")

        run_client(transport, scenario, provider="zai-org", token="hf_x")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_job_pending_past_job_timeout_stops_polling(monkeypatch: pytest.MonkeyPatch,
                                                      transport: str) -> None:
    with FakeInferenceServer() as fake:
        play = fake.play_provider("together", outcome="pending")
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        hub(fake, "org/video", "together", "m", "text-to-video")

        async def scenario(t: Facade) -> None:
            with pytest.raises(JobTimeoutError, match="still 'in_progress'"):
                await t.call("text_to_video", "a cat", model="org/video")

        run_client(transport, scenario, provider="together", token="hf_x",
                   job_timeout=0.2, job_poll_interval=0.05)
        polls = play.jobs["together-job-1"]
        assert 1 <= polls <= 6


def test_progress_is_reported_to_the_callback(server: FakeInferenceServer) -> None:
    hub(server, "org/video", "together", "m", "text-to-video")
    seen: list[Any] = []
    with InferenceClient(provider="together", token="hf_x", job_poll_interval=0.01,
                         on_job_progress=seen.append) as client:
        client.text_to_video("a cat", model="org/video")
    assert [p.status for p in seen] == ["queued", "in_progress", "completed"]
    assert {p.job_id for p in seen} == {"together-job-1"}


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_cancelling_an_async_call_mid_poll_stops_the_polling(monkeypatch: pytest.MonkeyPatch,
                                                             library: str) -> None:
    with FakeInferenceServer() as fake:
        play = fake.play_provider("together", outcome="pending")
        for key, value in fake.provider_env().items():
            monkeypatch.setenv(key, value)
        hub(fake, "org/video", "together", "m", "text-to-video")

        async def call(client: AsyncInferenceClient) -> None:
            await client.text_to_video("a cat", model="org/video")

        async def wait_for_polls(count: int) -> None:
            sleep = asyncio.sleep if library == "asyncio" else trio.sleep
            for _ in range(500):
                if play.jobs.get("together-job-1", 0) >= count:
                    return
                await sleep(0.01)
            raise AssertionError("the job was never polled")

        async def main_asyncio() -> None:
            async with AsyncInferenceClient(provider="together", token="hf_x",
                                            job_poll_interval=0.05) as client:
                task = asyncio.ensure_future(call(client))
                await wait_for_polls(1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                seen = play.jobs["together-job-1"]
                await asyncio.sleep(0.3)
                assert play.jobs["together-job-1"] == seen

        async def main_trio() -> None:
            async with AsyncInferenceClient(provider="together", token="hf_x",
                                            job_poll_interval=0.05) as client:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(call, client)
                    await wait_for_polls(1)
                    nursery.cancel_scope.cancel()
                seen = play.jobs["together-job-1"]
                await trio.sleep(0.3)
                assert play.jobs["together-job-1"] == seen

        if library == "asyncio":
            asyncio.run(main_asyncio())
        else:
            trio.run(main_trio)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_out_of_credits_names_the_provider(server: FakeInferenceServer, transport: str) -> None:
    hub(server, "org/model", "nscale", "m", "text-to-image")
    server.route("POST", "/nscale/v1/images/generations",
                 error(402, message="You have exceeded your monthly included credits"))

    async def scenario(t: Facade) -> None:
        with pytest.raises(PaymentRequiredError) as info:
            await t.call("text_to_image", "a cat", model="org/model")
        assert info.value.provider == "nscale" and info.value.code == "payment_required"

    run_client(transport, scenario, provider="nscale", token="hf_x", max_retries=0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_auto_picks_the_provider_from_the_mapping(server: FakeInferenceServer,
                                                  transport: str) -> None:
    server.route("GET", "/api/models/org/model", json_reply({"inferenceProviderMapping": {
        "brand-new": {"providerId": "x", "task": "text-to-image", "status": "live"},
        "nscale": {"providerId": "sdxl", "task": "text-to-image", "status": "live"}}}))

    async def scenario(t: Facade) -> None:
        out = await t.call("text_to_image", "a cat", model="org/model")
        assert_result(out, PNG_MAGIC)

    run_client(transport, scenario, token="hf_x")
    sent = [r for r in server.requests if r.method == "POST"]
    assert [r.path for r in sent] == ["/nscale/v1/images/generations"]
    assert json.loads(sent[0].body)["model"] == "sdxl"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_router_says_which_provider_served_a_chat(server: FakeInferenceServer,
                                                      transport: str) -> None:
    served = {"headers": {"x-inference-provider": "groq"}}
    server.route("POST", "/v1/chat/completions", chat_completion("Hi", **served), times=1)
    server.route("POST", "/v1/chat/completions", chat_stream(["Hi"], **served), times=1)
    messages = [{"role": "user", "content": "Hello"}]

    async def scenario(t: Facade) -> None:
        out = await t.call("chat_completion", messages, model="meta-llama/Llama-3.1-8B:fastest")
        assert out.provider == "groq"
        stream = await t.call("chat_completion", messages, model="meta-llama/Llama-3.1-8B",
                              stream=True)
        assert stream.provider == "groq"
        await t.collect(stream)

    run_client(transport, scenario, token="hf_x")
    posts = [r for r in server.requests if r.method == "POST"]
    assert [r.path for r in posts] == ["/v1/chat/completions"] * 2
    assert posts[0].json["model"] == "meta-llama/Llama-3.1-8B:fastest"  # the policy suffix kept

"""The job providers (fal-ai, replicate, wavespeed) end to end on the sync, asyncio and trio
clients, against `FakeInferenceServer.play_provider`: every task through the router and
straight to the provider, jobs that fail, are canceled or stay queued past ``job_timeout``,
results on another host fetched without the key, and an async call cancelled mid-poll that
stops polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
from conformance import TRANSPORTS, Facade

from inferwire import AsyncInferenceClient, InferenceClient
from inferwire.sansio import JobCanceledError, JobFailedError, JobTimeoutError
from inferwire.testing import FakeInferenceServer, json_reply
from inferwire.testing.plays import JobPlay

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9"
       b"\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00"
       b"\x02\x00\x10\x00data\x00\x00\x00\x00")
KEYS = {"fal-ai": "Key fal-key", "replicate": "Bearer fal-key", "wavespeed": "Bearer fal-key"}


def _image(out: Any) -> None:
    from PIL import Image

    assert isinstance(out, Image.Image)
    assert out.format == "PNG"


def _video(out: Any) -> None:
    assert isinstance(out, bytes) and out[4:8] == b"ftyp"


def _audio(out: Any) -> None:
    assert isinstance(out, bytes) and out[:4] == b"RIFF"


def _transcript(out: Any) -> None:
    assert out.text == "hello world"


def _mask(out: Any) -> None:
    [element] = out
    assert element.label == "mask"
    _image(element.mask)


# (provider, method, the provider's model id, arguments, keyword arguments, check)
TASKS: list[tuple[str, str, str, tuple[Any, ...], dict[str, Any], Callable[[Any], None]]] = [
    ("fal-ai", "automatic_speech_recognition", "fal-ai/whisper", (WAV,), {}, _transcript),
    ("fal-ai", "text_to_image", "fal-ai/flux/dev", ("a cat",), {"width": 8, "height": 8},
     _image),
    ("fal-ai", "text_to_speech", "fal-ai/kokoro", ("hello",), {}, _audio),
    ("fal-ai", "text_to_video", "fal-ai/ltx-video", ("a cat",), {}, _video),
    ("fal-ai", "image_to_video", "fal-ai/wan-i2v", (PNG,), {"prompt": "move"}, _video),
    ("fal-ai", "image_to_image", "fal-ai/flux-kontext/dev", (PNG,), {"prompt": "red"},
     _image),
    ("fal-ai", "image_segmentation", "fal-ai/sam", (PNG,), {}, _mask),
    ("replicate", "text_to_image", "bfl/flux-schnell", ("a cat",), {}, _image),
    ("replicate", "text_to_speech", "hexgrad/kokoro:v1", ("hello",), {}, _audio),
    ("replicate", "text_to_video", "wan/wan-video", ("a cat",), {}, _video),
    ("replicate", "image_to_image", "bfl/kontext", (PNG,), {"prompt": "red"}, _image),
    ("replicate", "automatic_speech_recognition", "openai/whisper:v3", (WAV,), {},
     _transcript),
    ("wavespeed", "text_to_image", "wavespeed-ai/flux-dev", ("a cat",), {}, _image),
    ("wavespeed", "text_to_video", "wavespeed-ai/wan-video", ("a cat",), {}, _video),
    ("wavespeed", "image_to_image", "wavespeed-ai/kontext", (PNG,), {"prompt": "red"},
     _image),
    ("wavespeed", "image_to_video", "wavespeed-ai/wan-i2v-video", (PNG,), {}, _video),
]
TASK_IDS = [f"{provider}-{method}" for provider, method, *_ in TASKS]
HF_TASK = {"automatic_speech_recognition": "automatic-speech-recognition",
           "image_segmentation": "image-segmentation", "image_to_image": "image-to-image",
           "image_to_video": "image-to-video", "text_to_image": "text-to-image",
           "text_to_speech": "text-to-speech", "text_to_video": "text-to-video"}
# the task each provider's failure tests run
JOB_TASK = {"fal-ai": TASKS[3], "replicate": TASKS[7], "wavespeed": TASKS[12]}


def play(server: FakeInferenceServer, monkeypatch: pytest.MonkeyPatch, provider: str,
         method: str, provider_id: str, **options: Any) -> JobPlay:
    """`server` plays `provider`, whose id of ``org/model`` is `provider_id`."""
    job_play = server.play_provider(provider, **options)
    for name, value in server.provider_env().items():
        monkeypatch.setenv(name, value)
    server.route("GET", "/api/models/org/model", json_reply({"inferenceProviderMapping": {
        provider: {"providerId": provider_id, "task": HF_TASK[method], "status": "live"}}}))
    return job_play


def run(transport: str, provider: str, scenario: Callable[[Facade], Awaitable[Any]], *,
        token: str = "hf_token", **client: Any) -> Any:
    """Run `scenario` with a client of `transport` for `provider`."""
    client.setdefault("job_poll_interval", 0.01)
    client.setdefault("timeout", 10)
    if transport == "sync":
        with InferenceClient(provider=provider, token=token, **client) as sync:
            return asyncio.run(scenario(Facade(sync, False)))

    async def main() -> Any:
        async with AsyncInferenceClient(provider=provider, token=token, **client) as aclient:
            return await scenario(Facade(aclient, True))

    return asyncio.run(main()) if transport == "asyncio" else trio.run(main)


def _call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> Callable[[Facade], Awaitable[Any]]:
    async def scenario(t: Facade) -> Any:
        return await t.call(method, *args, model="org/model", **kwargs)

    return scenario


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("provider", "method", "provider_id", "args", "kwargs", "check"),
                         TASKS, ids=TASK_IDS)
def test_every_task_through_the_router(
        transport: str, provider: str, method: str, provider_id: str, args: tuple[Any, ...],
        kwargs: dict[str, Any], check: Callable[[Any], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, provider, method, provider_id, polls=2)
        check(run(transport, provider, _call(method, args, kwargs)))
        assert len(job_play.submissions) == 1
        calls = [r for r in server.requests if r.path.startswith(f"/{provider}/")]
        assert {r.headers.get("authorization") for r in calls} == {"Bearer hf_token"}
        files = [r for r in server.requests if r.path.startswith("/files/")]
        assert all("authorization" not in r.headers for r in files)
        assert server.errors == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("provider", "method", "provider_id", "args", "kwargs", "check"),
                         TASKS, ids=TASK_IDS)
def test_every_task_straight_to_the_provider_with_its_key(
        transport: str, provider: str, method: str, provider_id: str, args: tuple[Any, ...],
        kwargs: dict[str, Any], check: Callable[[Any], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, provider, method, provider_id)
        check(run(transport, provider, _call(method, args, kwargs), token="fal-key"))
        assert len(job_play.submissions) == 1
        calls = [r for r in server.requests if r.path.startswith(f"/{provider}/")]
        assert {r.headers.get("authorization") for r in calls} == {KEYS[provider]}
        assert server.errors == []


def test_a_replicate_prediction_done_within_prefer_wait_is_not_polled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, "replicate", "text_to_image", "bfl/flux",
                        polls=0)
        _image(run("sync", "replicate", _call("text_to_image", ("a cat",), {})))
        assert job_play.jobs == {"replicate-job-1": 0}
        [submission] = job_play.submissions
        assert submission.headers["prefer"] == "wait"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("provider", sorted(JOB_TASK))
def test_a_failed_job_raises_with_its_id(transport: str, provider: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, method, provider_id, args, kwargs, _ = JOB_TASK[provider]
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, provider, method, provider_id, outcome="failed")
        with pytest.raises(JobFailedError) as info:
            run(transport, provider, _call(method, args, kwargs))
        assert info.value.provider == provider
        assert info.value.job_id == next(iter(job_play.jobs)) == f"{provider}-job-1"
        assert info.value.detail


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("outcome", "error"), [("canceled", JobCanceledError),
                                                ("unknown", JobFailedError)])
def test_replicate_canceled_and_unknown_predictions(
        transport: str, outcome: str, error: type[Exception],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeInferenceServer() as server:
        play(server, monkeypatch, "replicate", "text_to_image", "bfl/flux", outcome=outcome)
        with pytest.raises(error, match="replicate-job-1"):
            run(transport, "replicate", _call("text_to_image", ("a cat",), {}))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("provider", sorted(JOB_TASK))
def test_a_job_queued_past_job_timeout_raises_and_stops_polling(
        transport: str, provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, method, provider_id, args, kwargs, _ = JOB_TASK[provider]
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, provider, method, provider_id, outcome="pending")
        with pytest.raises(JobTimeoutError) as info:
            run(transport, provider, _call(method, args, kwargs), job_timeout=0.2)
        assert info.value.job_id == f"{provider}-job-1"
        polls = job_play.jobs[f"{provider}-job-1"]
        assert 1 <= polls <= 21  # 0.2 s of waiting at 0.01 s a poll: bounded
        assert len(job_play.submissions) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("provider", sorted(JOB_TASK))
def test_results_on_another_host_are_fetched_without_the_key(
        transport: str, provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, method, provider_id, args, kwargs, check = JOB_TASK[provider]
    with FakeInferenceServer() as server, FakeInferenceServer() as cdn:
        play(server, monkeypatch, provider, method, provider_id, result_server=cdn)
        check(run(transport, provider, _call(method, args, kwargs), token="fal-key"))
        [fetch] = cdn.requests
        assert fetch.method == "GET" and fetch.path.startswith(f"/files/{provider}/")
        assert "authorization" not in fetch.headers
        assert not [r for r in server.requests if r.path.startswith("/files/")]


async def _cancel_after_first_poll(job_play: JobPlay, start: Callable[[], Awaitable[Any]],
                                   library: str) -> None:
    """Start the call, cancel it once its job was polled, check that polling stopped."""
    sleep = asyncio.sleep if library == "asyncio" else trio.sleep

    def polled() -> int:
        return sum(job_play.jobs.values())

    async def wait_for_a_poll() -> None:
        for _ in range(500):
            if polled():
                return
            await sleep(0.01)
        pytest.fail("the job was never polled")

    if library == "asyncio":
        task = asyncio.ensure_future(start())
        await wait_for_a_poll()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(start)
            await wait_for_a_poll()
            nursery.cancel_scope.cancel()
    seen = polled()
    await sleep(0.3)  # 30 poll intervals
    assert polled() == seen


@pytest.mark.parametrize("library", ["asyncio", "trio"])
@pytest.mark.parametrize("provider", sorted(JOB_TASK))
def test_cancelling_an_async_call_mid_poll_stops_the_polling(
        library: str, provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, method, provider_id, args, kwargs, _ = JOB_TASK[provider]
    with FakeInferenceServer() as server:
        job_play = play(server, monkeypatch, provider, method, provider_id, outcome="pending")

        async def main() -> None:
            async with AsyncInferenceClient(provider=provider, token="hf_token",
                                            job_poll_interval=0.01) as client:
                async def start() -> Any:
                    return await getattr(client, method)(*args, model="org/model", **kwargs)

                await _cancel_after_first_poll(job_play, start, library)

        asyncio.run(main()) if library == "asyncio" else trio.run(main)
        assert len(job_play.submissions) == 1

"""The job providers in the core (fal-ai, replicate, wavespeed), as scripted conversations:
for each task the exact request through the router and straight to the provider (URL, auth
scheme, headers, body), how the answer becomes the result, the polls and their sleeps, the
results downloaded without the key, and every way a job ends without a result raising its
typed error with the job id. No sockets."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from inferwire.sansio._config import build_config
from inferwire.sansio._content import Blob
from inferwire.sansio._errors import (
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    MalformedResponseError,
)
from inferwire.sansio._exchange import Runtime
from inferwire.sansio._hf_tasks import task_flow

from flowscript import Conversation

MODEL = "org/model"
ROUTER = "https://router.huggingface.co"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WAV = b"RIFF$\x00\x00\x00WAVEfmt " + b"\x00" * 24
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12
TASK_OF = {
    "automatic_speech_recognition": "automatic-speech-recognition",
    "image_segmentation": "image-segmentation",
    "image_to_image": "image-to-image",
    "image_to_video": "image-to-video",
    "text_to_image": "text-to-image",
    "text_to_speech": "text-to-speech",
    "text_to_video": "text-to-video",
}


def js(value: Any) -> bytes:
    return json.dumps(value).encode()


def start(provider: str, method: str, inputs: Any, provider_id: str, *,
          token: str = "hf_token", params: dict[str, Any] | None = None,
          adapter: str | None = None, **config: Any) -> Conversation:
    """The flow of `method` at `provider`, past its Hub mapping lookup."""
    cfg = build_config(provider=provider, token=token, **config)
    conversation = Conversation(task_flow(cfg, method, inputs, model=MODEL,
                                          params=params or {}))
    lookup = conversation.expect_send()
    assert lookup.url.startswith(f"https://huggingface.co/api/models/{MODEL}")
    entry: dict[str, Any] = {"status": "live", "providerId": provider_id,
                             "task": TASK_OF[method]}
    if adapter is not None:
        entry.update(adapter="lora", adapterWeightsPath=adapter)
    conversation.respond(200, js({"id": MODEL, "inferenceProviderMapping": {provider: entry}}))
    return conversation


def headers(conversation: Conversation) -> dict[str, str]:
    return dict(conversation.expect_send().headers)


def body(conversation: Conversation) -> Any:
    return json.loads(conversation.expect_send().body or b"")


def download(conversation: Conversation, url: str, content: bytes) -> None:
    """The next request fetches `url` with no key and no user headers; answer `content`."""
    request = conversation.expect_send()
    assert (request.method, request.url) == ("GET", url)
    assert [name for name, _ in request.headers] == ["user-agent"]
    conversation.respond(200, content)


def data_of(url: str) -> bytes:
    head, _, data = url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64")
    return base64.b64decode(data)


class Clock:
    """A runtime clock the test moves."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


# -- fal-ai: synchronous tasks ----------------------------------------------------------


def test_fal_speech_recognition_through_the_router_sends_the_audio_as_a_data_url() -> None:
    c = start("fal-ai", "automatic_speech_recognition", Blob(WAV, "audio/wav"),
              "fal-ai/whisper")
    request = c.expect_send()
    assert (request.method, request.url) == ("POST", f"{ROUTER}/fal-ai/fal-ai/whisper")
    assert dict(request.headers)["authorization"] == "Bearer hf_token"
    sent = json.loads(request.body or b"")
    assert sent.keys() == {"audio_url"}
    assert sent["audio_url"].startswith("data:audio/wav;base64,")
    assert data_of(sent["audio_url"]) == WAV
    c.respond(200, js({"text": "hello there", "chunks": []}))
    assert c.result().text == "hello there"


def test_fal_direct_calls_send_the_key_in_fals_scheme_and_urls_as_they_are() -> None:
    c = start("fal-ai", "automatic_speech_recognition", "https://example.com/a.wav",
              "fal-ai/whisper", token="fal-secret")
    request = c.expect_send()
    assert request.url == "https://fal.run/fal-ai/whisper"
    assert dict(request.headers)["authorization"] == "Key fal-secret"
    assert json.loads(request.body or b"") == {"audio_url": "https://example.com/a.wav"}
    c.respond(200, js({"text": "hi"}))
    assert c.result().text == "hi"


def test_fal_speech_recognition_without_text_is_malformed() -> None:
    c = start("fal-ai", "automatic_speech_recognition", Blob(WAV, "audio/wav"), "fal-ai/w")
    with pytest.raises(MalformedResponseError, match="'text' string"):
        c.respond(200, js({"transcript": "hi"}))


def test_fal_text_to_image_sends_the_size_and_lora_and_downloads_the_image() -> None:
    c = start("fal-ai", "text_to_image", "a cat", "fal-ai/flux-lora",
              params={"width": 512, "height": 256, "seed": 3}, adapter="lora.safetensors")
    assert body(c) == {
        "prompt": "a cat", "seed": 3, "image_size": {"width": 512, "height": 256},
        "loras": [{"path": f"https://huggingface.co/{MODEL}/resolve/main/lora.safetensors",
                   "scale": 1}]}
    c.respond(200, js({"images": [{"url": "https://v3.fal.media/files/cat.png"}]}))
    download(c, "https://v3.fal.media/files/cat.png", PNG)
    assert c.result() == PNG


def test_fal_stable_diffusion_lora_names_its_base_model() -> None:
    c = start("fal-ai", "text_to_image", "a cat", "fal-ai/lora", adapter="w.safetensors")
    assert body(c)["model_name"] == "stabilityai/stable-diffusion-xl-base-1.0"


def test_fal_text_to_image_without_lora_or_both_sizes_sends_them_as_given() -> None:
    c = start("fal-ai", "text_to_image", "a cat", "fal-ai/flux/dev", params={"width": 64})
    assert body(c) == {"prompt": "a cat", "width": 64}
    with pytest.raises(MalformedResponseError, match=r"images\[0\]\.url"):
        c.respond(200, js({"images": []}))


def test_fal_text_to_speech_downloads_the_audio() -> None:
    c = start("fal-ai", "text_to_speech", "hello", "fal-ai/kokoro")
    assert body(c) == {"text": "hello"}
    c.respond(200, js({"audio": {"url": "https://v3.fal.media/files/a.wav"}}))
    download(c, "https://v3.fal.media/files/a.wav", WAV)
    assert c.result() == WAV


# -- fal-ai: the queue ------------------------------------------------------------------

QUEUED = {"request_id": "req-1", "status": "IN_QUEUE",
          "response_url": "https://queue.fal.run/fal-ai/ltx/requests/req-1",
          "status_url": "https://queue.fal.run/fal-ai/ltx/requests/req-1/status"}


def test_fal_video_through_the_router_polls_the_queue_on_the_router() -> None:
    c = start("fal-ai", "text_to_video", "a cat", "fal-ai/ltx/video", params={"seed": 1},
              adapter="v.safetensors")
    submit = c.expect_send()
    assert submit.url == f"{ROUTER}/fal-ai/fal-ai/ltx/video?_subdomain=queue"
    assert json.loads(submit.body or b"") == {
        "prompt": "a cat", "seed": 1,
        "loras": [{"path": f"https://huggingface.co/{MODEL}/resolve/main/v.safetensors",
                   "scale": 1}]}
    c.respond(200, js(QUEUED))
    # the app's URLs (fal-ai/ltx, not the model id) are taken onto the router
    status_url = f"{ROUTER}/fal-ai/fal-ai/ltx/requests/req-1/status?_subdomain=queue"
    for word in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED"):  # the submission was the first
        assert c.slept() == 0.5
        request = c.expect_send()
        assert (request.method, request.url) == ("GET", status_url)
        assert dict(request.headers)["authorization"] == "Bearer hf_token"
        c.respond(200, js({"status": word}))
    result = c.expect_send()
    assert result.url == f"{ROUTER}/fal-ai/fal-ai/ltx/requests/req-1?_subdomain=queue"
    assert dict(result.headers)["authorization"] == "Bearer hf_token"
    c.respond(200, js({"video": {"url": "https://v3.fal.media/files/v.mp4"}}))
    download(c, "https://v3.fal.media/files/v.mp4", MP4)
    assert c.result() == MP4


def test_fal_queue_direct_goes_to_the_queue_host_with_the_key() -> None:
    c = start("fal-ai", "image_to_video", Blob(PNG, "image/png"), "fal-ai/ltx/i2v",
              token="fal-secret", params={"prompt": "move"})
    submit = c.expect_send()
    assert submit.url == "https://queue.fal.run/fal-ai/ltx/i2v"
    assert dict(submit.headers)["authorization"] == "Key fal-secret"
    sent = json.loads(submit.body or b"")
    assert sent["prompt"] == "move" and data_of(sent["image_url"]) == PNG
    c.respond(200, js({**QUEUED, "response_url": "https://evil.example/fal-ai/ltx/requests/req-1"}))
    assert c.slept() == 0.5
    status = c.expect_send()
    # only the path of the answered URL is used: the key stays on the configured host
    assert status.url == "https://queue.fal.run/fal-ai/ltx/requests/req-1/status"
    assert dict(status.headers)["authorization"] == "Key fal-secret"
    c.respond(200, js({"status": "COMPLETED"}))
    assert c.expect_send().url == "https://queue.fal.run/fal-ai/ltx/requests/req-1"
    c.respond(200, js({"video": {"url": "https://v3.fal.media/v.mp4"}}))
    download(c, "https://v3.fal.media/v.mp4", MP4)
    assert c.result() == MP4


def test_fal_image_to_image_sends_the_image_both_ways_and_the_target_size() -> None:
    c = start("fal-ai", "image_to_image", "https://example.com/in.png", "fal-ai/kontext",
              params={"prompt": "red", "target_size": {"width": 8, "height": 4}})
    assert body(c) == {"image_url": "https://example.com/in.png",
                       "image_urls": ["https://example.com/in.png"], "prompt": "red",
                       "image_size": {"width": 8, "height": 4}}
    c.respond(200, js({**QUEUED, "status": "COMPLETED"}))  # done at once: no poll
    assert c.expect_send().url == f"{ROUTER}/fal-ai/fal-ai/ltx/requests/req-1?_subdomain=queue"
    c.respond(200, js({"images": [{"url": "https://v3.fal.media/out.png"}]}))
    download(c, "https://v3.fal.media/out.png", PNG)
    assert c.result() == PNG


def _segmentation(result: dict[str, Any]) -> Conversation:
    c = start("fal-ai", "image_segmentation", Blob(PNG, "image/png"), "fal-ai/sam",
              params={"threshold": 0.5})
    sent = body(c)
    assert sent["sync_mode"] is True and sent["threshold"] == 0.5
    assert data_of(sent["image_url"]) == PNG
    c.respond(200, js({**QUEUED, "status": "COMPLETED"}))
    c.respond(200, js(result))
    return c


def test_fal_segmentation_answers_its_mask_as_one_element() -> None:
    mask = base64.b64encode(PNG).decode()
    c = _segmentation({"image": {"url": f"data:image/png;base64,{mask}"}})
    [element] = c.result()
    assert (element.label, element.mask, element.score) == ("mask", mask, None)


def test_fal_segmentation_downloads_a_mask_url() -> None:
    c = _segmentation({"image": {"url": "https://v3.fal.media/mask.png"}})
    download(c, "https://v3.fal.media/mask.png", PNG)
    assert base64.b64decode(c.result()[0].mask) == PNG


def test_fal_segmentation_without_an_image_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match=r"image\.url"):
        _segmentation({"masks": []})


def _fal_queued(**config: Any) -> Conversation:
    c = start("fal-ai", "text_to_video", "a cat", "fal-ai/ltx", **config)
    c.respond(200, js(QUEUED))
    return c


@pytest.mark.parametrize("word", ["CANCELLED", "FAILED", None])
def test_fal_a_status_it_does_not_know_ends_the_wait(word: str | None) -> None:
    c = _fal_queued()
    c.slept()
    with pytest.raises(JobFailedError, match="does not know") as info:
        c.respond(200, js({"status": word}))
    assert (info.value.provider, info.value.job_id) == ("fal-ai", "req-1")


def test_fal_completed_with_an_error_is_a_failed_job() -> None:
    c = _fal_queued()
    c.slept()
    with pytest.raises(JobFailedError) as info:
        c.respond(200, js({"status": "COMPLETED", "error": "out of memory"}))
    assert (info.value.job_id, info.value.detail) == ("req-1", "out of memory")


def test_fal_a_result_that_answers_an_error_is_a_failed_job() -> None:
    c = _fal_queued()
    c.slept()
    c.respond(200, js({"status": "COMPLETED"}))
    with pytest.raises(JobFailedError, match="req-1 failed") as info:
        c.respond(422, js({"detail": "the prompt was refused"}))
    assert info.value.status == "COMPLETED"
    assert info.value.detail == "the prompt was refused"


def test_fal_a_submission_without_a_request_id_is_malformed() -> None:
    c = start("fal-ai", "text_to_video", "a cat", "fal-ai/ltx")
    with pytest.raises(MalformedResponseError, match="request_id"):
        c.respond(200, js({"status": "IN_QUEUE"}))


def test_fal_waiting_is_bounded_by_job_timeout_on_the_runtime_clock() -> None:
    clock = Clock()
    c = _fal_queued(job_timeout=60.0, runtime=Runtime(now=clock))
    assert c.slept() == 0.5
    clock.t = 59.8  # (the sum of the sleeps is 0.5: the clock is what counts)
    with pytest.raises(JobTimeoutError, match=r"still 'IN_PROGRESS' after 59\.8s") as info:
        c.respond(200, js({"status": "IN_PROGRESS"}))
    assert (info.value.job_id, info.value.status) == ("req-1", "IN_PROGRESS")


def test_the_client_poll_interval_replaces_the_providers() -> None:
    c = _fal_queued(job_poll_interval=0.01)
    assert c.slept() == 0.01


# -- replicate --------------------------------------------------------------------------


def prediction(status: str, output: Any = None, **more: Any) -> bytes:
    return js({"id": "p1", "status": status, "output": output, "error": None,
               "urls": {"get": "https://api.replicate.com/v1/predictions/p1"}, **more})


def test_replicate_text_to_image_through_the_router_waits_and_downloads() -> None:
    c = start("replicate", "text_to_image", "a cat", "bfl/flux", params={"seed": 2},
              adapter="lora.safetensors")
    request = c.expect_send()
    assert (request.method, request.url) == (
        "POST", f"{ROUTER}/replicate/v1/models/bfl/flux/predictions")
    sent_headers = dict(request.headers)
    assert sent_headers["authorization"] == "Bearer hf_token"
    assert sent_headers["prefer"] == "wait"
    assert json.loads(request.body or b"") == {
        "input": {"prompt": "a cat", "seed": 2,
                  "lora_weights": f"https://huggingface.co/{MODEL}"}}
    c.respond(201, prediction("succeeded", ["https://replicate.delivery/a.png", "b.png"]))
    download(c, "https://replicate.delivery/a.png", PNG)  # no poll: it was done
    assert c.result() == PNG


def test_replicate_a_versioned_model_goes_to_predictions_with_its_version() -> None:
    c = start("replicate", "text_to_speech", "hello", "org/tts:abc123", token="r8_key")
    request = c.expect_send()
    assert request.url == "https://api.replicate.com/v1/predictions"
    assert dict(request.headers)["authorization"] == "Bearer r8_key"
    assert json.loads(request.body or b"") == {"input": {"text": "hello"},
                                               "version": "abc123"}
    c.respond(201, prediction("succeeded", "https://replicate.delivery/a.wav"))
    download(c, "https://replicate.delivery/a.wav", WAV)
    assert c.result() == WAV


def test_replicate_an_unfinished_prediction_is_polled_until_it_succeeds() -> None:
    c = start("replicate", "text_to_video", "a cat", "wan/video")
    c.respond(201, prediction("starting"))
    for word in ("processing", "succeeded"):
        assert c.slept() == 1.0
        request = c.expect_send()
        assert (request.method, request.url) == (
            "GET", f"{ROUTER}/replicate/v1/predictions/p1")
        assert "prefer" not in dict(request.headers)
        assert dict(request.headers)["authorization"] == "Bearer hf_token"
        c.respond(200, prediction(word, "https://replicate.delivery/v.mp4"
                                  if word == "succeeded" else None))
    download(c, "https://replicate.delivery/v.mp4", MP4)
    assert c.result() == MP4


def test_replicate_image_to_image_names_the_image_every_way() -> None:
    c = start("replicate", "image_to_image", Blob(PNG, "image/png"), "flux/kontext",
              params={"prompt": "red"})
    sent = body(c)["input"]
    url = sent["image"]
    assert data_of(url) == PNG
    assert sent == {"image": url, "images": [url], "input_image": url,
                    "input_images": [url], "prompt": "red"}


@pytest.mark.parametrize(
    ("output", "text"),
    [("hello", "hello"), (["hello", "x"], "hello"),
     ({"transcription": "hello", "translation": None}, "hello"),
     ({"transcription": "hola", "translation": "hello"}, "hello"),
     ([{"transcription": "hello"}], "hello")])
def test_replicate_speech_recognition_reads_every_output_shape(output: Any, text: str) -> None:
    c = start("replicate", "automatic_speech_recognition", "https://example.com/a.wav",
              "openai/whisper:v3")
    assert body(c) == {"input": {"audio": "https://example.com/a.wav"}, "version": "v3"}
    c.respond(201, prediction("succeeded", output))
    assert c.result().text == text


def test_replicate_speech_recognition_downloads_a_text_file() -> None:
    c = start("replicate", "automatic_speech_recognition", Blob(WAV, "audio/wav"), "o/w")
    assert data_of(body(c)["input"]["audio"]) == WAV
    c.respond(201, prediction("succeeded", {"txt_file": "https://replicate.delivery/t.txt"}))
    download(c, "https://replicate.delivery/t.txt", "héllo".encode())
    assert c.result().text == "héllo"


def test_replicate_speech_recognition_without_text_is_malformed() -> None:
    c = start("replicate", "automatic_speech_recognition", Blob(WAV, "audio/wav"), "o/w")
    c.expect_send()
    with pytest.raises(MalformedResponseError, match="transcription"):
        c.respond(201, prediction("succeeded", {"segments": []}))


def test_replicate_succeeded_without_output_is_malformed() -> None:
    c = start("replicate", "text_to_image", "a cat", "bfl/flux")
    c.expect_send()
    with pytest.raises(MalformedResponseError, match="output URL"):
        c.respond(201, prediction("succeeded", None))


@pytest.mark.parametrize(
    ("status", "error", "detail"),
    [("failed", JobFailedError, "CUDA out of memory"),
     ("canceled", JobCanceledError, None), ("aborted", JobCanceledError, None),
     ("mysterious", JobFailedError, None)])
def test_replicate_a_prediction_that_ends_without_output_raises_with_its_id(
        status: str, error: type[Exception], detail: str | None) -> None:
    c = start("replicate", "text_to_image", "a cat", "bfl/flux")
    c.respond(201, prediction("processing"))
    c.slept()
    with pytest.raises(error) as info:
        c.respond(200, prediction(status, error=detail))
    assert isinstance(info.value, (JobFailedError, JobCanceledError))
    assert (info.value.provider, info.value.job_id, info.value.status) == (
        "replicate", "p1", status)
    assert info.value.detail == detail


def test_replicate_a_failed_answer_to_the_submission_is_not_polled() -> None:
    c = start("replicate", "text_to_image", "a cat", "bfl/flux")
    with pytest.raises(JobFailedError, match="p1 failed") as info:
        c.respond(201, prediction("failed", error="bad input"))
    assert info.value.detail == "bad input"


def test_replicate_waiting_is_bounded_by_job_timeout() -> None:
    c = start("replicate", "text_to_image", "a cat", "bfl/flux", job_timeout=2.5)
    c.respond(201, prediction("starting"))
    c.slept()
    c.respond(200, prediction("processing"))
    c.slept()
    with pytest.raises(JobTimeoutError, match=r"after 2\.0s") as info:
        c.respond(200, prediction("processing"))
    assert info.value.job_id == "p1"


# -- wavespeed --------------------------------------------------------------------------


def job(status: str, outputs: list[str] | None = None, error: str = "") -> bytes:
    return js({"code": 200, "message": "success", "data": {
        "id": "w1", "status": status, "outputs": outputs or [], "error": error,
        "urls": {"get": "https://api.wavespeed.ai/api/v3/predictions/w1/result"}}})


def test_wavespeed_text_to_image_through_the_router_polls_the_result_on_the_router() -> None:
    c = start("wavespeed", "text_to_image", "a cat", "wavespeed-ai/flux-dev",
              params={"seed": 4})
    request = c.expect_send()
    assert (request.method, request.url) == (
        "POST", f"{ROUTER}/wavespeed/api/v3/wavespeed-ai/flux-dev")
    assert dict(request.headers)["authorization"] == "Bearer hf_token"
    assert json.loads(request.body or b"") == {"prompt": "a cat", "seed": 4}
    c.respond(200, job("created"))
    for word in ("processing", "completed"):
        assert c.slept() == 0.5
        poll = c.expect_send()
        assert (poll.method, poll.url) == (
            "GET", f"{ROUTER}/wavespeed/api/v3/predictions/w1/result")
        assert dict(poll.headers)["authorization"] == "Bearer hf_token"
        c.respond(200, job(word, ["https://d.wavespeed.ai/out.png"]
                           if word == "completed" else None))
    download(c, "https://d.wavespeed.ai/out.png", PNG)
    assert c.result() == PNG


@pytest.mark.parametrize("method", ["image_to_image", "image_to_video"])
def test_wavespeed_image_tasks_send_the_image_direct(method: str) -> None:
    c = start("wavespeed", method, Blob(PNG, "image/png"), "wavespeed-ai/wan",
              token="ws-key", params={"prompt": "move"})
    request = c.expect_send()
    assert request.url == "https://api.wavespeed.ai/api/v3/wavespeed-ai/wan"
    assert dict(request.headers)["authorization"] == "Bearer ws-key"
    sent = json.loads(request.body or b"")
    assert sent["prompt"] == "move" and data_of(sent["image"]) == PNG
    c.respond(200, job("created"))
    c.slept()
    assert c.expect_send().url == "https://api.wavespeed.ai/api/v3/predictions/w1/result"
    c.respond(200, job("completed", ["https://d.wavespeed.ai/v.mp4"]))
    download(c, "https://d.wavespeed.ai/v.mp4", MP4)
    assert c.result() == MP4


def test_wavespeed_text_to_video_sends_the_prompt() -> None:
    c = start("wavespeed", "text_to_video", "a cat", "wavespeed-ai/wan-t2v")
    assert body(c) == {"prompt": "a cat"}


@pytest.mark.parametrize(("status", "detail"), [("failed", "NSFW"), ("paused", None)])
def test_wavespeed_a_job_that_ends_without_output_raises_with_its_id(
        status: str, detail: str | None) -> None:
    c = start("wavespeed", "text_to_image", "a cat", "wavespeed-ai/flux-dev")
    c.respond(200, job("created"))
    c.slept()
    with pytest.raises(JobFailedError) as info:
        c.respond(200, job(status, error=detail or ""))
    assert (info.value.provider, info.value.job_id, info.value.status) == (
        "wavespeed", "w1", status)
    assert info.value.detail == detail


def test_wavespeed_completed_without_outputs_is_malformed() -> None:
    c = start("wavespeed", "text_to_image", "a cat", "wavespeed-ai/flux-dev")
    with pytest.raises(MalformedResponseError, match=r"data\.outputs\[0\]"):
        c.respond(200, job("completed"))


def test_wavespeed_a_submission_without_a_result_url_is_malformed() -> None:
    c = start("wavespeed", "text_to_image", "a cat", "wavespeed-ai/flux-dev")
    with pytest.raises(MalformedResponseError, match=r"data\.urls\.get"):
        c.respond(200, js({"code": 200, "data": {"id": "w1", "status": "created"}}))


def test_wavespeed_waiting_is_bounded_by_job_timeout_on_the_runtime_clock() -> None:
    clock = Clock()
    c = start("wavespeed", "text_to_image", "a cat", "wavespeed-ai/flux-dev",
              job_timeout=10.0, runtime=Runtime(now=clock))
    c.respond(200, job("created"))
    c.slept()
    clock.t = 12.0
    with pytest.raises(JobTimeoutError) as info:
        c.respond(200, job("processing"))
    assert (info.value.job_id, info.value.status) == ("w1", "processing")

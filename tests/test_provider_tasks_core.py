"""Provider tasks other than chat in the core, as scripted conversations: for each provider
and task, the Hub lookup, the exact request (router and direct), the answer's transform, the
job polling (its pace, its bound, its failures) and the result download without the key.
Facts from huggingface_hub's provider helpers (reference §3.1). No sockets."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from inferwire.sansio._config import build_config
from inferwire.sansio._content import Blob
from inferwire.sansio._errors import (
    JobError,
    JobFailedError,
    JobTimeoutError,
    MalformedResponseError,
    PaymentRequiredError,
    UsageError,
)
from inferwire.sansio._exchange import Runtime
from inferwire.sansio._hf_tasks import task_flow

from flowscript import Conversation

PNG = b"\x89PNG\r\n\x1a\nfake"
WAV = b"RIFF....WAVEfmt fake"
MP4 = b"\x00\x00\x00\x18ftypmp42fake"


def mapping(provider: str, provider_id: str, task: str, **extra: Any) -> bytes:
    entry = {"status": "live", "providerId": provider_id, "task": task, **extra}
    return json.dumps({"inferenceProviderMapping": {provider: entry}}).encode()


def start(provider: str, method: str, inputs: Any, *, token: str = "hf_token",
          params: dict[str, Any] | None = None, model: str = "org/model",
          runtime: Runtime | None = None, extra: dict[str, Any] | None = None,
          **config: Any) -> Conversation:
    cfg = build_config(provider=provider, token=token, runtime=runtime, **config)
    return Conversation(task_flow(cfg, method, inputs, model=model, params=params or {},
                                  extra=extra))


def answer_mapping(talk: Conversation, provider: str, provider_id: str, task: str) -> None:
    request = talk.expect_send()
    assert request.method == "GET"
    assert request.url == ("https://huggingface.co/api/models/org/model"
                           "?expand%5B%5D=inferenceProviderMapping")
    talk.respond(200, mapping(provider, provider_id, task))


def sent_json(talk: Conversation) -> dict[str, Any]:
    request = talk.expect_send()
    assert request.header("content-type") == "application/json"
    body: dict[str, Any] = json.loads(request.body or b"")
    return body


def download(talk: Conversation, url: str, body: bytes) -> None:
    request = talk.expect_send()
    assert (request.method, request.url) == ("GET", url)
    assert request.header("authorization") is None  # a result host never gets the key
    talk.respond(200, body, {"content-type": "application/octet-stream"})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- images ----------------------------------------------------------------------------


@pytest.mark.parametrize(("token", "url"), [
    ("hf_token", "https://router.huggingface.co/together/v1/images/generations"),
    ("together-key", "https://api.together.xyz/v1/images/generations"),
])
def test_together_text_to_image(token: str, url: str) -> None:
    talk = start("together", "text_to_image", "a cat", token=token,
                 params={"num_inference_steps": 4, "width": 512, "height": 256})
    answer_mapping(talk, "together", "black-forest-labs/FLUX.1-schnell", "text-to-image")
    request = talk.expect_send()
    assert request.url == url
    assert request.header("authorization") == f"Bearer {token}"
    assert json.loads(request.body or b"") == {
        "prompt": "a cat", "steps": 4, "width": 512, "height": 256,
        "response_format": "base64", "model": "black-forest-labs/FLUX.1-schnell"}
    talk.respond(200, json.dumps({"data": [{"b64_json": b64(PNG)}]}).encode())
    assert talk.result() == PNG


@pytest.mark.parametrize(("provider_id", "key"), [
    ("black-forest-labs/FLUX.1-Kontext-dev", "image_url"),
    ("other/model", "reference_images"),
])
def test_together_image_to_image_sends_the_image_as_its_model_wants(provider_id: str,
                                                                    key: str) -> None:
    talk = start("together", "image_to_image", Blob(PNG, "image/png"),
                 params={"prompt": "make it blue"})
    answer_mapping(talk, "together", provider_id, "image-to-image")
    body = sent_json(talk)
    image = f"data:image/png;base64,{b64(PNG)}"
    assert body[key] == (image if key == "image_url" else [image])
    assert body["prompt"] == "make it blue"
    talk.respond(200, json.dumps({"data": [{"b64_json": b64(PNG)}]}).encode())
    assert talk.result() == PNG


def test_nscale_text_to_image_size_and_dropped_parameters() -> None:
    talk = start("nscale", "text_to_image", "a cat",
                 params={"width": 512, "height": 256, "num_inference_steps": 4, "seed": 1})
    answer_mapping(talk, "nscale", "stabilityai/sdxl", "text-to-image")
    request = talk.expect_send()
    assert request.url == "https://router.huggingface.co/nscale/v1/images/generations"
    assert json.loads(request.body or b"") == {
        "response_format": "b64_json", "prompt": "a cat", "model": "stabilityai/sdxl",
        "size": "512x256", "seed": 1}
    talk.respond(200, json.dumps({"data": [{"b64_json": b64(PNG)}]}).encode())
    assert talk.result() == PNG


def test_a_bad_base64_image_is_our_malformed_response_error() -> None:
    talk = start("nscale", "text_to_image", "a cat")
    answer_mapping(talk, "nscale", "m", "text-to-image")
    with pytest.raises(MalformedResponseError, match=r"data\[0\]\.b64_json"):
        talk.respond(200, json.dumps({"data": [{"b64_json": "***"}]}).encode())


# -- zai-org: an asynchronous image API --------------------------------------------------


def test_zai_org_text_to_image_polls_every_five_seconds_then_downloads() -> None:
    talk = start("zai-org", "text_to_image", "a cat", token="zai-key",
                 params={"width": 1024, "height": 768})
    answer_mapping(talk, "zai-org", "glm-image", "text-to-image")
    request = talk.expect_send()
    assert request.url == "https://api.z.ai/api/paas/v4/async/images/generations"
    assert request.header("x-source-channel") == "hugging_face"
    assert json.loads(request.body or b"") == {"model": "glm-image", "prompt": "a cat",
                                               "size": "1024x768"}
    talk.respond(200, json.dumps({"id": "t1", "task_status": "PROCESSING"}).encode())
    assert talk.slept() == 5.0
    poll = talk.expect_send()
    assert (poll.method, poll.url) == ("GET", "https://api.z.ai/api/paas/v4/async-result/t1")
    assert poll.header("authorization") == "Bearer zai-key"
    talk.respond(200, json.dumps({"id": "t1", "task_status": "SUCCESS", "image_result": [
        {"url": "https://cdn.example/img.png"}]}).encode())
    download(talk, "https://cdn.example/img.png", PNG)
    assert talk.result() == PNG


def test_zai_org_failed_task_names_its_job_id() -> None:
    talk = start("zai-org", "text_to_image", "a cat")
    answer_mapping(talk, "zai-org", "glm-image", "text-to-image")
    with pytest.raises(JobFailedError) as info:
        talk.respond(200, json.dumps({"id": "t9", "task_status": "FAIL"}).encode())
    assert (info.value.provider, info.value.job_id, info.value.status) == ("zai-org", "t9",
                                                                           "FAIL")


# -- together videos: a job ---------------------------------------------------------------


def _video_job(talk: Conversation, status: str, **extra: Any) -> None:
    talk.respond(200, json.dumps({"id": "v1", "status": status, **extra}).encode())


def test_together_text_to_video_polls_until_completed_then_downloads() -> None:
    talk = start("together", "text_to_video", "a cat runs", params={"num_frames": 24})
    answer_mapping(talk, "together", "Wan-AI/Wan2.2", "text-to-video")
    body = sent_json(talk)
    assert body == {"prompt": "a cat runs", "num_frames": 24, "model": "Wan-AI/Wan2.2"}
    _video_job(talk, "queued")
    for status in ("queued", "in_progress"):
        assert talk.slept() == 2.0
        assert talk.expect_send().url == "https://router.huggingface.co/together/v2/videos/v1"
        _video_job(talk, status)
    assert talk.slept() == 2.0
    _video_job(talk, "completed", outputs={"video_url": "https://cdn.example/v.mp4"})
    download(talk, "https://cdn.example/v.mp4", MP4)
    assert talk.result() == MP4


def test_together_image_to_video_sends_the_first_frame() -> None:
    talk = start("together", "image_to_video", "https://img.example/a.png",
                 params={"target_size": {"width": 640, "height": 480}})
    answer_mapping(talk, "together", "Wan-AI/I2V", "image-to-video")
    body = sent_json(talk)
    assert body == {"width": 640, "height": 480, "model": "Wan-AI/I2V", "frame_images": [
        {"input_image": "https://img.example/a.png", "frame": "first"}]}


@pytest.mark.parametrize(("status", "error"), [
    ("failed", "JobFailedError"), ("cancelled", "JobCanceledError"),
    ("exploded", "JobFailedError")])
def test_together_video_job_endings_are_typed_errors_with_the_job_id(status: str,
                                                                     error: str) -> None:
    talk = start("together", "text_to_video", "a cat")
    answer_mapping(talk, "together", "m", "text-to-video")
    _video_job(talk, "queued")
    talk.slept()
    with pytest.raises(JobError) as info:
        _video_job(talk, status, error={"message": "no GPU"})
    assert type(info.value).__name__ == error
    assert info.value.job_id == "v1"
    assert status in str(info.value)


def test_a_job_still_pending_at_the_bound_raises_job_timeout_error() -> None:
    clock = [100.0]
    runtime = Runtime(now=lambda: clock[0])
    talk = start("together", "text_to_video", "a cat", runtime=runtime, job_timeout=5.0)
    answer_mapping(talk, "together", "m", "text-to-video")
    _video_job(talk, "queued")
    for _ in range(2):  # polls after 2s and 4s of waiting; a third would pass 5s
        talk.slept()
        clock[0] += 2.0
        if _ == 0:
            _video_job(talk, "in_progress")
    with pytest.raises(JobTimeoutError) as info:
        _video_job(talk, "in_progress")
    assert info.value.job_id == "v1"
    assert isinstance(info.value, TimeoutError)


def test_every_poll_is_reported_to_the_progress_hook() -> None:
    seen: list[Any] = []
    talk = start("together", "text_to_video", "a cat",
                 runtime=Runtime(progress=seen.append))
    answer_mapping(talk, "together", "m", "text-to-video")
    _video_job(talk, "queued")
    talk.slept()
    _video_job(talk, "completed", outputs={"video_url": "https://cdn.example/v.mp4"})
    download(talk, "https://cdn.example/v.mp4", MP4)
    talk.result()
    assert [(p.provider, p.job_id, p.status, p.polls) for p in seen] == [
        ("together", "v1", "queued", 0), ("together", "v1", "completed", 1)]


# -- novita, deepinfra ----------------------------------------------------------------


def test_novita_text_to_video_route_holds_the_provider_id() -> None:
    talk = start("novita", "text_to_video", "a cat", token="novita-key")
    answer_mapping(talk, "novita", "wan-t2v", "text-to-video")
    request = talk.expect_send()
    assert request.url == "https://api.novita.ai/v3/hf/wan-t2v"
    assert json.loads(request.body or b"") == {"prompt": "a cat"}
    talk.respond(200, json.dumps({"video": {"video_url": "https://cdn.example/n.mp4"}}).encode())
    download(talk, "https://cdn.example/n.mp4", MP4)
    assert talk.result() == MP4


def test_deepinfra_speech_recognition_is_a_multipart_upload() -> None:
    talk = start("deepinfra", "automatic_speech_recognition", Blob(WAV, "audio/wav"),
                 extra={"language": "en", "temperature": 0})
    answer_mapping(talk, "deepinfra", "openai/whisper-large-v3", "automatic-speech-recognition")
    request = talk.expect_send()
    assert request.url == ("https://router.huggingface.co/deepinfra/v1/openai/audio/"
                           "transcriptions")
    kind = request.header("content-type") or ""
    assert kind.startswith("multipart/form-data; boundary=")
    boundary = kind.split("boundary=", 1)[1].encode()
    body = request.body or b""
    parts = body.split(b"--" + boundary)
    assert parts[-1] == b"--\r\n"
    assert b'name="file"; filename="file.wav"\r\nContent-Type: audio/wav\r\n\r\n' + WAV in body
    assert b'name="language"\r\n\r\nen\r\n' in body
    assert b'name="temperature"\r\n\r\n0\r\n' in body
    assert body.index(b'name="temperature"') < body.index(b'name="model"')
    talk.respond(200, json.dumps({"text": "hello world", "segments": [
        {"start": 0.0, "end": 0.5, "text": "hello"}]}).encode())
    result = talk.result()
    assert result.text == "hello world"
    assert [(c.text, c.timestamp) for c in result.chunks] == [("hello", [0.0, 0.5])]


def test_deepinfra_text_to_speech_answers_audio_bytes() -> None:
    talk = start("deepinfra", "text_to_speech", "hello")
    answer_mapping(talk, "deepinfra", "hexgrad/Kokoro-82M", "text-to-speech")
    assert sent_json(talk) == {"input": "hello", "model": "hexgrad/Kokoro-82M"}
    talk.respond(200, WAV, {"content-type": "audio/wav"})
    assert talk.result() == WAV


def test_audio_answered_as_json_is_an_error() -> None:
    talk = start("deepinfra", "text_to_speech", "hello")
    answer_mapping(talk, "deepinfra", "m", "text-to-speech")
    with pytest.raises(MalformedResponseError, match="not JSON"):
        talk.respond(200, b'{"ok": true}', {"content-type": "application/json"})


# -- choosing, refusing, billing -------------------------------------------------------


def test_a_provider_that_does_not_serve_the_task_is_refused_before_any_request() -> None:
    with pytest.raises(UsageError, match="does not serve 'text-classification'"):
        start("together", "text_classification", "great")


def test_auto_takes_the_first_known_provider_of_the_mapping_that_serves_the_task() -> None:
    talk = start("auto", "text_to_image", "a cat")
    talk.expect_send()
    talk.respond(200, json.dumps({"inferenceProviderMapping": {
        "some-new-provider": {"providerId": "x", "task": "text-to-image", "status": "live"},
        "groq": {"providerId": "y", "task": "conversational", "status": "live"},
        "nscale": {"providerId": "sdxl", "task": "text-to-image", "status": "live"},
        "together": {"providerId": "flux", "task": "text-to-image", "status": "live"},
    }}).encode())
    request = talk.expect_send()  # the mapping is not asked again
    assert request.url == "https://router.huggingface.co/nscale/v1/images/generations"
    assert json.loads(request.body or b"")["model"] == "sdxl"


def test_auto_goes_to_hf_inference_when_the_mapping_lists_it_first() -> None:
    talk = start("auto", "text_classification", "great")
    talk.expect_send()
    talk.respond(200, mapping("hf-inference", "org/model", "text-classification"))
    request = talk.expect_send()
    assert request.url == "https://router.huggingface.co/hf-inference/models/org/model"


def test_auto_with_no_provider_for_the_task_names_model_task_and_providers() -> None:
    talk = start("auto", "text_to_image", "a cat")
    talk.expect_send()
    with pytest.raises(UsageError, match=r"'text-to-image' for model 'org/model'.*groq"):
        talk.respond(200, mapping("groq", "x", "conversational"))


def test_out_of_credits_is_a_payment_required_error_naming_the_provider() -> None:
    talk = start("nscale", "text_to_image", "a cat")
    answer_mapping(talk, "nscale", "m", "text-to-image")
    with pytest.raises(PaymentRequiredError) as info:
        talk.respond(402, b'{"error": "You have exceeded your monthly included credits"}',
                     {"x-request-id": "r-1", "content-type": "application/json"})
    assert (info.value.provider, info.value.code, info.value.request_id) == (
        "nscale", "payment_required", "r-1")


def test_bill_to_goes_with_router_calls() -> None:
    talk = start("nscale", "text_to_image", "a cat", bill_to="my-org")
    answer_mapping(talk, "nscale", "m", "text-to-image")
    assert talk.expect_send().header("x-hf-bill-to") == "my-org"


def test_a_context_length_400_is_a_context_length_error() -> None:
    from inferwire.sansio._errors import BadRequestError, ContextLengthError

    talk = start("nscale", "text_to_image", "a cat")
    answer_mapping(talk, "nscale", "m", "text-to-image")
    with pytest.raises(ContextLengthError) as info:
        talk.respond(400, b'{"error": {"message": "This model\'s maximum context length is '
                     b'8192 tokens"}}', {"content-type": "application/json"})
    assert isinstance(info.value, BadRequestError)
    assert info.value.code == "context_length_exceeded"


def test_a_context_length_422_keeps_its_class_and_gets_the_code() -> None:
    from inferwire.sansio._errors import UnprocessableEntityError

    talk = start("nscale", "text_to_image", "a cat")
    answer_mapping(talk, "nscale", "m", "text-to-image")
    with pytest.raises(UnprocessableEntityError) as info:
        talk.respond(422, b'{"error": "Input validation error: `inputs` tokens + '
                     b'`max_new_tokens` must be <= 4096"}', {"content-type": "application/json"})
    assert info.value.code == "context_length_exceeded"


def test_auto_text_generation_and_embeddings_choose_from_the_mapping() -> None:
    from inferwire.sansio._tasks import feature_extraction, text_generation

    cfg = build_config(token="hf_token")
    talk = Conversation(text_generation(cfg, "Hello", model="org/model", params={}))
    talk.respond(200, mapping("featherless-ai", "org/model-fl", "text-generation"))
    request = talk.expect_send()
    assert request.url == "https://router.huggingface.co/featherless-ai/v1/completions"
    assert json.loads(request.body or b"")["model"] == "org/model-fl"
    cfg = build_config(token="hf_token")  # (a client keeps the mapping it was told)
    talk = Conversation(feature_extraction(cfg, "Hello", model="org/model"))
    talk.respond(200, mapping("hf-inference", "org/model", "feature-extraction"))
    request = talk.expect_send()
    assert request.url == ("https://router.huggingface.co/hf-inference/models/org/model/"
                           "pipeline/feature-extraction")

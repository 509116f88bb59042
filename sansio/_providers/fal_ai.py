"""fal-ai: https://fal.run and its queue https://queue.fal.run (the router:
https://router.huggingface.co/fal-ai, the queue with ``?_subdomain=queue``).

Direct calls send the key as ``Authorization: Key <key>``. Speech recognition, text to image
and text to speech are synchronous (``POST /{id}`` answers the result; images and audio come
as URLs, downloaded without the key). Videos, image to image and image segmentation go
through the queue: the submission answers a ``request_id`` and a ``response_url``; its
``/status`` moves from ``IN_QUEUE`` through ``IN_PROGRESS`` to ``COMPLETED``, then the
``response_url`` answers the result. The status and result URLs are taken by their path onto
the queue's root this call uses (through the router, the router's), so the key only ever
goes where the call was configured to go.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from inferwire.sansio._errors import HTTPStatusError, JobFailedError
from inferwire.sansio._hf_outputs import result_type
from inferwire.sansio._models import load_json_body

from ._base import Provider, Route
from ._jobs import JobState, State, job_state, poll

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow
    from inferwire.sansio._http import Response

    from ._call import ProviderCall

POLL_INTERVAL = 0.5
"""Seconds between two status polls of a queued request."""

_WORDS: dict[str, State] = {"IN_QUEUE": "pending", "IN_PROGRESS": "pending",
                            "COMPLETED": "done"}


def _with_lora(call: ProviderCall, payload: dict[str, Any]) -> dict[str, Any]:
    lora = call.lora_url()
    if lora is not None:
        payload["loras"] = [{"path": lora, "scale": 1}]
    return payload


def _url_at(answer: Any, *keys: str | int) -> str | None:
    """The non-empty string at `keys` in `answer` (``"images", 0, "url"``), or None."""
    value = answer
    for key in keys:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and len(value) > key else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def _result(call: ProviderCall, response: Response, *keys: str | int) -> Flow[bytes]:
    """The file at the URL found at `keys` in `response`, downloaded."""
    url = _url_at(call.json(response), *keys)
    if url is None:
        where = ".".join(str(k) for k in keys).replace(".0", "[0]")
        raise call.malformed(f"a URL at {where}", response)
    return (yield from call.download(url))


def automatic_speech_recognition(call: ProviderCall) -> Flow[Any]:
    """``POST /{id}`` with ``audio_url`` (a URL, or the audio as a data URL): ``{"text"}``."""
    payload = {"audio_url": call.url_of(call.inputs, "audio/mpeg"), **call.parameters}
    response = yield from call.post_json(payload)
    data = call.json(response)
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise call.malformed("an object with a 'text' string", response)
    cls = result_type("automatic_speech_recognition", "AutomaticSpeechRecognitionOutput")
    return cls._from_json({"text": text})


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """``POST /{id}`` with the prompt (``width`` and ``height`` as ``image_size``): the
    first of ``images``, downloaded."""
    payload: dict[str, Any] = {"prompt": call.inputs, **call.parameters}
    if "width" in payload and "height" in payload:
        payload["image_size"] = {"width": payload.pop("width"),
                                 "height": payload.pop("height")}
    _with_lora(call, payload)
    if "loras" in payload and call.provider_id == "fal-ai/lora":
        # fal's Stable Diffusion LoRA endpoint needs its base model named; FLUX's does not.
        payload["model_name"] = "stabilityai/stable-diffusion-xl-base-1.0"
    response = yield from call.post_json(payload)
    return (yield from _result(call, response, "images", 0, "url"))


def text_to_speech(call: ProviderCall) -> Flow[bytes]:
    """``POST /{id}`` with ``text``: the ``audio`` URL, downloaded."""
    response = yield from call.post_json({"text": call.inputs, **call.parameters})
    return (yield from _result(call, response, "audio", "url"))


def _read_status(call: ProviderCall) -> Callable[[Response], JobState]:
    def read(response: Response) -> JobState:
        # (not `call.json`: a request that failed is COMPLETED with its "error", which is
        # the job's outcome here, not an error object)
        data = load_json_body(response.body, f"{call.name} {call.task}")
        if not isinstance(data, dict):
            raise call.malformed("a queue status object", response)
        state = job_state(data.get("status"), _WORDS, data.get("error"))
        if state.state == "done" and state.detail:
            return JobState("failed", state.status, state.detail)
        return state

    return read


def _queued(call: ProviderCall, payload: dict[str, Any]) -> Flow[Response]:
    """Submit `payload` to the queue, wait for it, and return the result's response."""
    response = yield from call.post_json(payload, call.at(f"/{call.provider_id}", "queue"))
    job = call.json(response)
    request_id = job.get("request_id") if isinstance(job, dict) else None
    if not isinstance(request_id, str) or not request_id:
        raise call.malformed("a queue request with a 'request_id'", response)
    answer_url = job.get("response_url")
    # fal names the app (``fal-ai/flux``) in its URLs, which may differ from the model id.
    path = (urlsplit(answer_url).path if isinstance(answer_url, str) and answer_url
            else f"/{call.provider_id}/requests/{request_id}")
    status_url = call.at(path + "/status", "queue")
    result_url = call.at(path, "queue")
    first = [response] if "status" in job else []

    def status() -> Flow[Response]:
        if first:  # the submission's answer is the first status
            return first.pop()
        return (yield from call.get(status_url))

    yield from poll(call, job_id=request_id, status=status, read=_read_status(call),
                    interval=POLL_INTERVAL)
    try:
        return (yield from call.get(result_url))
    except HTTPStatusError as exc:
        # A request that failed is COMPLETED too: its result answers the error.
        if exc.status_code in (401, 402, 403, 404, 429):  # (about the call, not the job)
            raise
        detail = exc.server_message or f"HTTP {exc.status_code}"
        raise JobFailedError(
            f"fal-ai job {request_id} failed (its result answered HTTP {exc.status_code}): "
            f"{detail}", provider=call.name, job_id=request_id, status="COMPLETED",
            detail=detail) from exc


def text_to_video(call: ProviderCall) -> Flow[bytes]:
    """Queued ``POST /{id}`` with the prompt: the ``video`` URL, downloaded."""
    payload = _with_lora(call, {"prompt": call.inputs, **call.parameters})
    response = yield from _queued(call, payload)
    return (yield from _result(call, response, "video", "url"))


def image_to_video(call: ProviderCall) -> Flow[bytes]:
    """Queued ``POST /{id}`` with ``image_url`` (a URL, or the image as a data URL): the
    ``video`` URL, downloaded."""
    payload = _with_lora(call, {"image_url": call.url_of(call.inputs, "image/jpeg"),
                                **call.parameters})
    response = yield from _queued(call, payload)
    return (yield from _result(call, response, "video", "url"))


def image_to_image(call: ProviderCall) -> Flow[bytes]:
    """Queued ``POST /{id}`` with ``image_url`` and ``image_urls`` (``target_size`` as
    ``image_size``): the first of ``images``, downloaded."""
    image = call.url_of(call.inputs, "image/jpeg")
    params = dict(call.parameters)
    if "target_size" in params:
        params["image_size"] = params.pop("target_size")
    payload = _with_lora(call, {"image_url": image, "image_urls": [image], **params})
    response = yield from _queued(call, payload)
    return (yield from _result(call, response, "images", 0, "url"))


def image_segmentation(call: ProviderCall) -> Flow[list[Any]]:
    """Queued ``POST /{id}`` with ``image_url`` and ``sync_mode``: the mask ``image`` (a data
    URL, or a URL downloaded) as one element labelled ``mask``."""
    payload = {"image_url": call.url_of(call.inputs, "image/png"), **call.parameters,
               "sync_mode": True}
    response = yield from _queued(call, payload)
    url = _url_at(call.json(response), "image", "url")
    if url is None:
        raise call.malformed("a mask URL at image.url", response)
    mask = yield from call.download(url)
    cls = result_type("image_segmentation", "ImageSegmentationOutputElement")
    return [cls._from_json({"label": "mask", "mask": base64.b64encode(mask).decode("ascii"),
                            "score": None})]


PROVIDER = Provider(
    "fal-ai",
    "https://fal.run",
    {
        "automatic-speech-recognition": Route("/{id}", flow=automatic_speech_recognition),
        "text-to-image": Route("/{id}", flow=text_to_image),
        "text-to-speech": Route("/{id}", flow=text_to_speech),
        "text-to-video": Route("/{id}", flow=text_to_video),
        "image-to-video": Route("/{id}", flow=image_to_video),
        "image-to-image": Route("/{id}", flow=image_to_image),
        "image-segmentation": Route("/{id}", flow=image_segmentation),
    },
    auth_scheme="Key",
    hosts={"queue": "https://queue.fal.run"},
)

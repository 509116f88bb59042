"""together: https://api.together.xyz (the router: https://router.huggingface.co/together).

Chat, completions and embeddings are OpenAI-shaped. Images (``/v1/images/generations``)
come back as base64; speech (``/v1/audio/speech``) as audio bytes; videos (``/v2/videos``)
are jobs: the submission answers an id, ``GET /v2/videos/{id}`` its status (``queued``,
``in_progress``, then ``completed`` with ``outputs.video_url``, or ``failed``/``cancelled``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inferwire.sansio._content import Blob

from ._base import Provider, Route, json_schema_schema
from ._jobs import JobState, State, job_state, poll

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow
    from inferwire.sansio._http import Response

    from ._call import ProviderCall

VIDEO_POLL_INTERVAL = 2.0
"""Seconds between two status polls of a video job."""


def _image_payload(call: ProviderCall) -> dict[str, Any]:
    params = dict(call.parameters)
    if "num_inference_steps" in params:
        params["steps"] = params.pop("num_inference_steps")
    size = params.pop("target_size", None)
    if isinstance(size, dict):
        params.setdefault("width", size.get("width"))
        params.setdefault("height", size.get("height"))
    return {k: v for k, v in params.items() if v is not None}


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """``/v1/images/generations`` with ``response_format: base64``."""
    payload = {"prompt": call.inputs, **_image_payload(call), "response_format": "base64",
               "model": call.provider_id}
    response = yield from call.post_json(payload)
    return call.first_b64(response, "data", "b64_json")


def image_to_image(call: ProviderCall) -> Flow[bytes]:
    """``/v1/images/generations`` with the input image: ``image_url`` for the FLUX.1
    Kontext models, ``reference_images`` for the others."""
    image = call.url_of(call.inputs, "image/png")
    payload: dict[str, Any] = {**_image_payload(call), "response_format": "base64",
                               "model": call.provider_id}
    if "kontext" in call.provider_id.lower():
        payload["image_url"] = image
    else:
        payload["reference_images"] = [image]
    response = yield from call.post_json(payload)
    return call.first_b64(response, "data", "b64_json")


def text_to_speech(call: ProviderCall) -> Flow[bytes]:
    """``/v1/audio/speech``: the audio bytes."""
    payload = {"input": call.inputs, **call.parameters, "model": call.provider_id}
    response = yield from call.post_json(payload)
    return call.binary(response)


_VIDEO_WORDS: dict[str, State] = {
    "queued": "pending", "in_progress": "pending", "completed": "done", "failed": "failed",
    "cancelled": "canceled", "canceled": "canceled"}


def _video_state(call: ProviderCall) -> Callable[[Response], JobState]:
    def read(response: Response) -> JobState:
        data = call.json(response, job=True)
        if not isinstance(data, dict):
            raise call.malformed("a video job object", response)
        error = data.get("error")
        return job_state(data.get("status"), _VIDEO_WORDS,
                         error.get("message") if isinstance(error, dict) else error)

    return read


def _video(call: ProviderCall, payload: dict[str, Any]) -> Flow[bytes]:
    response = yield from call.post_json(payload)
    job = call.json(response)
    job_id = job.get("id") if isinstance(job, dict) else None
    if not isinstance(job_id, str) or not job_id:
        raise call.malformed("a video job with an 'id'", response)
    status_url = f"{call.url}/{job_id}"
    done = yield from poll(call, job_id=job_id, status=lambda: call.get(status_url),
                           read=_video_state(call), interval=VIDEO_POLL_INTERVAL,
                           first=response)
    outputs = call.json(done).get("outputs")
    url = outputs.get("video_url") if isinstance(outputs, dict) else None
    if not isinstance(url, str):
        raise call.malformed("outputs.video_url in the completed job", done)
    return (yield from call.download(url))


def text_to_video(call: ProviderCall) -> Flow[bytes]:
    """``/v2/videos``, polled until the video is ready, then downloaded."""
    payload = {"prompt": call.inputs, **_image_payload(call), "model": call.provider_id}
    return (yield from _video(call, payload))


def image_to_video(call: ProviderCall) -> Flow[bytes]:
    """``/v2/videos`` from a first frame (``frame_images``)."""
    image = call.inputs
    frame = call.url_of(image, "image/png") if isinstance(image, (Blob, str)) else image
    payload = {**_image_payload(call), "model": call.provider_id,
               "frame_images": [{"input_image": frame, "frame": "first"}]}
    return (yield from _video(call, payload))


PROVIDER = Provider(
    "together",
    "https://api.together.xyz",
    {
        "conversational": Route("/v1/chat/completions", json_schema_schema),
        "text-generation": Route("/v1/completions"),
        "feature-extraction": Route("/v1/embeddings"),
        "text-to-image": Route("/v1/images/generations", flow=text_to_image),
        "image-to-image": Route("/v1/images/generations", flow=image_to_image),
        "text-to-speech": Route("/v1/audio/speech", flow=text_to_speech),
        "text-to-video": Route("/v2/videos", flow=text_to_video),
        "image-to-video": Route("/v2/videos", flow=image_to_video),
    },
)

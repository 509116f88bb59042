"""wavespeed: https://api.wavespeed.ai (the router: https://router.huggingface.co/wavespeed).

Every task is a job: ``POST /api/v3/{id}`` answers ``data.id`` and the URL of its result
(``data.urls.get``), polled until its ``data.status`` goes from ``created`` or
``processing`` to ``completed`` (the file's URL is ``data.outputs[0]``, downloaded without
the key) or ``failed`` (``data.error`` says why). The result URL is taken by its path onto
the root this call uses (through the router, the router's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._base import Provider, Route
from ._jobs import JobState, State, job_state, poll

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow
    from inferwire.sansio._http import Response

    from ._call import ProviderCall

POLL_INTERVAL = 0.5
"""Seconds between two polls of a job's result."""

_WORDS: dict[str, State] = {"created": "pending", "processing": "pending",
                            "completed": "done", "failed": "failed"}


def _data(call: ProviderCall, response: Response) -> dict[str, Any]:
    answer = call.json(response)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise call.malformed("an object with a 'data' job object", response)
    return data


def _read(call: ProviderCall) -> Callable[[Response], JobState]:
    def read(response: Response) -> JobState:
        data = _data(call, response)
        return job_state(data.get("status"), _WORDS, data.get("error"))

    return read


def _job(call: ProviderCall, payload: dict[str, Any]) -> Flow[bytes]:
    response = yield from call.post_json(payload)
    data = _data(call, response)
    urls = data.get("urls")
    result = urls.get("get") if isinstance(urls, dict) else None
    if not isinstance(result, str) or not result:
        raise call.malformed("a job with its result URL at data.urls.get", response)
    job_id = data.get("id") if isinstance(data.get("id"), str) else None
    parts = urlsplit(result)
    result_url = call.at(parts.path + (f"?{parts.query}" if parts.query else ""))
    first = [response] if "status" in data else []

    def status() -> Flow[Response]:
        if first:  # the submission's answer is the first status
            return first.pop()
        return (yield from call.get(result_url))

    done = yield from poll(call, job_id=job_id, status=status, read=_read(call),
                           interval=POLL_INTERVAL)
    outputs = _data(call, done).get("outputs")
    url = outputs[0] if isinstance(outputs, list) and outputs else None
    if not isinstance(url, str) or not url:
        raise call.malformed("the result's URL at data.outputs[0]", done)
    return (yield from call.download(url))


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """A job of the prompt."""
    return (yield from _job(call, {"prompt": call.inputs, **call.parameters}))


def text_to_video(call: ProviderCall) -> Flow[bytes]:
    """A job of the prompt."""
    return (yield from _job(call, {"prompt": call.inputs, **call.parameters}))


def image_to_image(call: ProviderCall) -> Flow[bytes]:
    """A job of ``image`` (a URL, or a data URL) and the prompt, if any."""
    return (yield from _job(call, {"image": call.url_of(call.inputs, "image/jpeg"),
                                   **call.parameters}))


def image_to_video(call: ProviderCall) -> Flow[bytes]:
    """A job of ``image`` (a URL, or a data URL) and the prompt, if any."""
    return (yield from image_to_image(call))


PROVIDER = Provider(
    "wavespeed",
    "https://api.wavespeed.ai",
    {
        "text-to-image": Route("/api/v3/{id}", flow=text_to_image),
        "text-to-video": Route("/api/v3/{id}", flow=text_to_video),
        "image-to-image": Route("/api/v3/{id}", flow=image_to_image),
        "image-to-video": Route("/api/v3/{id}", flow=image_to_video),
    },
)

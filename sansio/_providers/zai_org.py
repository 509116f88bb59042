"""zai-org: https://api.z.ai (the router: https://router.huggingface.co/zai-org).

Chat is OpenAI-shaped, with two headers of its own. Text-to-image is asynchronous: the
submission (``/api/paas/v4/async/images/generations``) answers a task id and
``task_status`` (``PROCESSING``); ``GET /api/paas/v4/async-result/{id}`` is polled until
``SUCCESS`` (``image_result[0].url``, downloaded) or ``FAIL``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._base import Provider, Route
from ._jobs import JobState, State, job_state, poll

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow
    from inferwire.sansio._http import Response

    from ._call import ProviderCall

POLL_INTERVAL = 5.0
"""Seconds between two polls of an image task."""

_WORDS: dict[str, State] = {"PROCESSING": "pending", "SUCCESS": "done", "FAIL": "failed"}


def _read(call: ProviderCall) -> Callable[[Response], JobState]:
    def read(response: Response) -> JobState:
        data = call.json(response, job=True)
        if not isinstance(data, dict):
            raise call.malformed("a task object with 'task_status'", response)
        return job_state(data.get("task_status"), _WORDS, data.get("error"))

    return read


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """The async image API: submitted, polled, the image downloaded."""
    params: dict[str, Any] = dict(call.parameters)
    width, height = params.pop("width", None), params.pop("height", None)
    payload: dict[str, Any] = {"model": call.provider_id, "prompt": call.inputs}
    if width is not None and height is not None:
        payload["size"] = f"{width}x{height}"
    payload.update(params)
    response = yield from call.post_json(payload)
    task = call.json(response)
    task_id = task.get("id") if isinstance(task, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise call.malformed("a task with an 'id'", response)
    url = call.at(f"/api/paas/v4/async-result/{task_id}")
    response = yield from poll(call, job_id=task_id, status=lambda: call.get(url),
                               read=_read(call), interval=POLL_INTERVAL, first=response)
    result = call.json(response)
    images = result.get("image_result")
    first = images[0] if isinstance(images, list) and images else None
    image_url = first.get("url") if isinstance(first, dict) else None
    if not isinstance(image_url, str):
        raise call.malformed("image_result[0].url", response)
    return (yield from call.download(image_url))


PROVIDER = Provider(
    "zai-org",
    "https://api.z.ai",
    {
        "conversational": Route("/api/paas/v4/chat/completions"),
        "text-to-image": Route("/api/paas/v4/async/images/generations", flow=text_to_image),
    },
    headers=(("accept-language", "en-US,en"), ("x-source-channel", "hugging_face")),
)

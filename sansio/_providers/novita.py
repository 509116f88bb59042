"""novita: https://api.novita.ai (the router: https://router.huggingface.co/novita).

Chat and completions are OpenAI-shaped; text-to-video is ``/v3/hf/{id}``, which answers when
the video is ready (``video.video_url``, downloaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import Provider, Route

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow

    from ._call import ProviderCall


def text_to_video(call: ProviderCall) -> Flow[bytes]:
    """``/v3/hf/{id}`` with ``{"prompt", **parameters}``; the video downloaded."""
    response = yield from call.post_json({"prompt": call.inputs, **call.parameters})
    data = call.json(response)
    video = data.get("video") if isinstance(data, dict) else None
    url = video.get("video_url") if isinstance(video, dict) else None
    if not isinstance(url, str):
        raise call.malformed("{'video': {'video_url': ...}}", response)
    return (yield from call.download(url))


PROVIDER = Provider(
    "novita",
    "https://api.novita.ai",
    {
        "conversational": Route("/v3/openai/chat/completions"),
        "text-generation": Route("/v3/openai/completions"),
        "text-to-video": Route("/v3/hf/{id}", flow=text_to_video),
    },
)

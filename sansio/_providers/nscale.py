"""nscale: https://inference.api.nscale.com (the router: https://router.huggingface.co/nscale).

Chat is OpenAI-shaped; text-to-image is ``/v1/images/generations`` answering base64
(``b64_json``), with the size as ``"WxH"`` (it takes no step count or CFG scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Provider, Route

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow

    from ._call import ProviderCall


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """``/v1/images/generations`` (``response_format: b64_json``)."""
    params: dict[str, Any] = dict(call.parameters)
    if "width" in params and "height" in params:
        params["size"] = f"{params.pop('width')}x{params.pop('height')}"
    params.pop("num_inference_steps", None)
    params.pop("cfg_scale", None)
    payload = {"response_format": "b64_json", "prompt": call.inputs,
               "model": call.provider_id, **params}
    response = yield from call.post_json(payload)
    return call.first_b64(response, "data", "b64_json")


PROVIDER = Provider(
    "nscale",
    "https://inference.api.nscale.com",
    {
        "conversational": Route("/v1/chat/completions"),
        "text-to-image": Route("/v1/images/generations", flow=text_to_image),
    },
)

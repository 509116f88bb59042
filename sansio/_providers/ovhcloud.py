"""ovhcloud: https://oai.endpoints.kepler.ai.cloud.ovh.net (the router: https://router.huggingface.co/ovhcloud)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "ovhcloud",
    "https://oai.endpoints.kepler.ai.cloud.ovh.net",
    {
        "conversational": Route("/v1/chat/completions"),
    },
)

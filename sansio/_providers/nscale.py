"""nscale: https://inference.api.nscale.com (the router: https://router.huggingface.co/nscale)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "nscale",
    "https://inference.api.nscale.com",
    {
        "conversational": Route("/v1/chat/completions"),
    },
)

"""baseten: https://inference.baseten.co (the router: https://router.huggingface.co/baseten)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "baseten",
    "https://inference.baseten.co",
    {
        "conversational": Route("/v1/chat/completions"),
    },
)

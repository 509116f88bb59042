"""publicai: https://api.publicai.co (the router: https://router.huggingface.co/publicai)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "publicai",
    "https://api.publicai.co",
    {
        "conversational": Route("/v1/chat/completions"),
    },
)

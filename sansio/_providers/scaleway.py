"""scaleway: https://api.scaleway.ai (the router: https://router.huggingface.co/scaleway)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "scaleway",
    "https://api.scaleway.ai",
    {
        "conversational": Route("/v1/chat/completions"),
        "feature-extraction": Route("/v1/embeddings"),
    },
)

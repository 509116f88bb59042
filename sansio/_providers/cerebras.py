"""cerebras: https://api.cerebras.ai (the router: https://router.huggingface.co/cerebras)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "cerebras",
    "https://api.cerebras.ai",
    {
        "conversational": Route("/v1/chat/completions"),
    },
)

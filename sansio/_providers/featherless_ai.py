"""featherless-ai: https://api.featherless.ai (the router: https://router.huggingface.co/featherless-ai)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "featherless-ai",
    "https://api.featherless.ai",
    {
        "conversational": Route("/v1/chat/completions"),
        "text-generation": Route("/v1/completions"),
    },
)

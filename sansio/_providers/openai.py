"""openai: https://api.openai.com (the router: https://router.huggingface.co/openai)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "openai",
    "https://api.openai.com",
    {
        "conversational": Route("/v1/chat/completions"),
    },
    own_key_only=True, mapped=False,
)

"""novita: https://api.novita.ai (the router: https://router.huggingface.co/novita)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "novita",
    "https://api.novita.ai",
    {
        "conversational": Route("/v3/openai/chat/completions"),
        "text-generation": Route("/v3/openai/completions"),
    },
)

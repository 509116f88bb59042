"""groq: https://api.groq.com (the router: https://router.huggingface.co/groq)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "groq",
    "https://api.groq.com",
    {
        "conversational": Route("/openai/v1/chat/completions"),
    },
)

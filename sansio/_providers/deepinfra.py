"""deepinfra: https://api.deepinfra.com (the router: https://router.huggingface.co/deepinfra)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "deepinfra",
    "https://api.deepinfra.com",
    {
        "conversational": Route("/v1/openai/chat/completions"),
        "text-generation": Route("/v1/openai/completions"),
        "feature-extraction": Route("/v1/openai/embeddings"),
    },
)

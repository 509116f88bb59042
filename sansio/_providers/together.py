"""together: https://api.together.xyz (the router: https://router.huggingface.co/together)."""

from __future__ import annotations

from ._base import Provider, Route, json_schema_schema

PROVIDER = Provider(
    "together",
    "https://api.together.xyz",
    {
        "conversational": Route("/v1/chat/completions", json_schema_schema),
        "text-generation": Route("/v1/completions"),
        "feature-extraction": Route("/v1/embeddings"),
    },
)

"""cohere: https://api.cohere.com (the router: https://router.huggingface.co/cohere)."""

from __future__ import annotations

from ._base import Provider, Route, json_object_schema

PROVIDER = Provider(
    "cohere",
    "https://api.cohere.com",
    {
        "conversational": Route("/compatibility/v1/chat/completions", json_object_schema),
    },
)

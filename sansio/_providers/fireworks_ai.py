"""fireworks-ai: https://api.fireworks.ai (the router: https://router.huggingface.co/fireworks-ai)."""

from __future__ import annotations

from ._base import Provider, Route, json_object_schema

PROVIDER = Provider(
    "fireworks-ai",
    "https://api.fireworks.ai",
    {
        "conversational": Route("/inference/v1/chat/completions", json_object_schema),
    },
)

"""zai-org: https://api.z.ai (the router: https://router.huggingface.co/zai-org)."""

from __future__ import annotations

from ._base import Provider, Route

PROVIDER = Provider(
    "zai-org",
    "https://api.z.ai",
    {
        "conversational": Route("/api/paas/v4/chat/completions"),
    },
    headers=(("accept-language", "en-US,en"), ("x-source-channel", "hugging_face")),
)

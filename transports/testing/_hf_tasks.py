"""hf-inference replies: feature extraction and the task pipelines."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ._fake_server import (
    Reply,
    ReplyOptions,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


from ._common import _json_body

# --------------------------------------------------------------------------------------------
# Embeddings and features
# --------------------------------------------------------------------------------------------


def fake_embedding(text: str, dim: int = 16) -> list[float]:
    """The deterministic vector the fake server returns for ``text``.

    Values are multiples of 1/128 in [-1, 1), so they are exact in float32 and survive the
    base64 encoding unchanged.
    """
    out: list[float] = []
    counter = 0
    while len(out) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        out.extend((byte - 128) / 128 for byte in digest)
        counter += 1
    return out[:dim]



def hf_features(nested: Any, **options: Unpack[ReplyOptions]) -> Reply:
    """An HF feature-extraction reply: ``nested`` (lists of floats, any depth) as JSON."""
    return _json_body(nested, options)



"""The inference providers inferwire routes to, one module each (see `._base`).

`PROVIDER_NAMES` lists them; `provider(name)` loads a provider's module on first use (so that
``import inferwire.sansio`` does not pay for fifteen modules). Adding a provider is one module
and one name here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base import Provider

__all__ = ["PROVIDER_NAMES", "provider"]

PROVIDER_NAMES = (
    "baseten", "cerebras", "cohere", "deepinfra", "fal-ai", "featherless-ai", "fireworks-ai",
    "groq", "novita", "nscale", "openai", "ovhcloud", "publicai", "replicate", "scaleway",
    "together", "wavespeed", "zai-org",
)
"""The providers of huggingface_hub this version routes to (besides hf-inference)."""


def provider(name: str) -> Provider:
    """The `Provider` named `name` (one of `PROVIDER_NAMES`), its module loaded on first use."""
    import importlib

    if name not in PROVIDER_NAMES:
        raise KeyError(name)
    module = importlib.import_module(f".{name.replace('-', '_')}", __name__)
    spec: Provider = module.PROVIDER
    return spec

"""The inference providers inferwire routes to, one module each (see `._base`).

`PROVIDER_NAMES` lists them; `provider(name)` loads a provider's module on first use (so that
``import inferwire.sansio`` does not pay for fifteen modules). Adding a provider is one module
and one name here. Providers whose tasks need a job protocol (queues, predictions, polling)
are known by name in `JOB_PROVIDERS` and refused with a clear error until their flows exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base import Provider

__all__ = ["JOB_PROVIDERS", "PROVIDER_NAMES", "provider"]

PROVIDER_NAMES = (
    "baseten", "cerebras", "cohere", "deepinfra", "featherless-ai", "fireworks-ai", "groq",
    "novita", "nscale", "openai", "ovhcloud", "publicai", "scaleway", "together", "zai-org",
)
"""The providers of huggingface_hub this version routes to (besides hf-inference)."""

JOB_PROVIDERS = ("fal-ai", "replicate", "wavespeed")
"""Providers of huggingface_hub whose tasks run as jobs (queues, predictions, polling): not
served by this version."""


def provider(name: str) -> Provider:
    """The `Provider` named `name` (one of `PROVIDER_NAMES`), its module loaded on first use."""
    import importlib

    if name not in PROVIDER_NAMES:
        raise KeyError(name)
    module = importlib.import_module(f".{name.replace('-', '_')}", __name__)
    spec: Provider = module.PROVIDER
    return spec

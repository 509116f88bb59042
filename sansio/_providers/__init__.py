"""The inference providers inferwire routes to, one module each (see `._base`).

`PROVIDERS` is the registry: adding a provider is one module and one line here. Providers
whose tasks need a job protocol (queues, predictions, polling) are known by name in
`JOB_PROVIDERS` and refused with a clear error until their flows exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import (
    baseten,
    cerebras,
    cohere,
    deepinfra,
    featherless_ai,
    fireworks_ai,
    groq,
    novita,
    nscale,
    openai,
    ovhcloud,
    publicai,
    scaleway,
    together,
    zai_org,
)
from ._base import Provider, Route

__all__ = ["JOB_PROVIDERS", "PROVIDERS", "Provider", "Route"]

PROVIDERS: Mapping[str, Provider] = {
    module.PROVIDER.name: module.PROVIDER
    for module in (baseten, cerebras, cohere, deepinfra, featherless_ai, fireworks_ai, groq,
                   novita, nscale, openai, ovhcloud, publicai, scaleway, together, zai_org)
}

JOB_PROVIDERS = ("fal-ai", "replicate", "wavespeed")
"""Providers of huggingface_hub whose tasks run as jobs (queues, predictions, polling): not
served by this version."""

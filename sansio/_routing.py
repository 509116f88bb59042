"""Routing a model id to a provider: the Hub's provider mapping, router or direct URL.

For a model id and a named provider, the flow asks the Hub which id the provider knows the
model by (``GET {hub}/api/models/{id}?expand[]=inferenceProviderMapping``, a `Send` with the
client's token and transport settings), remembers the answer in the client's `ClientState`,
and builds the provider's URL: through the router (``{router}/{provider}{route}``) when the key
is a Hugging Face token, else the provider's own base URL. ``provider="auto"`` for chat stays
on the router's ``/v1/chat/completions``, which picks the provider itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._effects import Flow
from ._errors import MalformedResponseError, UsageError
from ._exchange import send_request
from ._http import Request
from ._providers import provider as provider_named

if TYPE_CHECKING:
    from dataclasses import dataclass

    from ._config import ClientConfig, Lookup, Target
    from ._providers._base import Provider, Route
else:
    from ._record import dataclass

__all__ = ["MappingEntry", "Resolved", "auto_provider", "parse_mapping", "provider_target",
           "resolve"]


@dataclass(frozen=True, slots=True)
class MappingEntry:
    """What the Hub says of a model at one provider."""

    provider: str
    provider_id: str
    task: str | None
    status: str | None
    adapter: str | None = None
    adapter_weights_path: str | None = None
    #: The Hub model id this entry is for.
    model_id: str = ""


def parse_mapping(body: bytes, model_id: str) -> dict[str, MappingEntry]:
    """The ``inferenceProviderMapping`` of a Hub model-info answer, by provider name.

    Both shapes the Hub has used are read: an object keyed by provider, and a list of objects
    with a ``provider`` field. Entries without a ``providerId`` are skipped.
    """
    try:
        info = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedResponseError(f"the Hub's model info for {model_id!r} is not JSON",
                                     received=body) from None
    raw = info.get("inferenceProviderMapping") if isinstance(info, dict) else None
    if raw is None:
        return {}
    items: list[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [(item.get("provider"), item) for item in raw if isinstance(item, dict)]
    else:
        raise MalformedResponseError(
            f"the Hub's provider mapping for {model_id!r} is neither an object nor a list",
            received=body)
    out = {}
    for name, item in items:
        if not isinstance(name, str) or not isinstance(item, dict):
            continue
        provider_id = item.get("providerId")
        if not isinstance(provider_id, str):
            continue
        out[name] = MappingEntry(name, provider_id, item.get("task"), item.get("status"),
                                 item.get("adapter"), item.get("adapterWeightsPath"), model_id)
    return out


def _mapping_request(config: ClientConfig, model_id: str) -> Request:
    url = (f"{config.hub_url}/api/models/{quote(model_id)}"
           "?expand%5B%5D=inferenceProviderMapping")
    headers = [("user-agent", config.user_agent)]
    # Only a Hugging Face token goes to the Hub: a provider's own key never leaves for it.
    if config.token and config.token.startswith("hf_") and config.sends_token_to(url):
        headers.append(("authorization", f"Bearer {config.token}"))
    return Request("GET", url, tuple(headers), None)


def _mapping(config: ClientConfig, model_id: str) -> Flow[dict[str, MappingEntry]]:
    known: dict[str, MappingEntry] | None = config.state.provider_mappings.get(model_id)
    if known is not None:
        return known
    response = yield from send_request(_mapping_request(config, model_id), config.runtime)
    mapping = parse_mapping(response.body, model_id)
    config.state.provider_mappings[model_id] = mapping
    return mapping


def _checked_entry(config: ClientConfig, mapping: dict[str, MappingEntry], model_id: str,
                   name: str, task: str) -> MappingEntry:
    entry = mapping.get(name)
    if entry is None:
        served = ", ".join(sorted(mapping)) or "none"
        raise UsageError(
            f"model {model_id!r} is not served by provider {name!r} "
            f"(the Hub lists: {served})", argument="provider")
    if entry.task is not None and entry.task != task:
        raise UsageError(
            f"model {model_id!r} is served by {name!r} for the task "
            f"{entry.task!r}, not {task!r}", argument="model")
    if entry.status == "staging":
        config.runtime.warn(f"model {model_id!r} is in staging mode on provider "
                            f"{name!r}: meant for tests, not production")
    elif entry.status == "error":
        config.runtime.warn(f"model {model_id!r} on provider {name!r}: the "
                            "latest automated health check did not complete")
    return entry


def auto_provider(config: ClientConfig, model_id: str, task: str, *,
                  hf_inference: bool = True) -> Flow[str]:
    """``provider="auto"`` for a task other than chat: the first provider of the Hub's
    mapping of `model_id` (the user's order of preference) that serves `task` and that
    this version knows (``hf-inference`` too, where it serves the task: `hf_inference`);
    providers it does not know are skipped."""
    from ._providers import PROVIDER_NAMES

    mapping = yield from _mapping(config, model_id)
    for name, entry in mapping.items():
        if entry.task is not None and entry.task != task:
            continue
        if name == "hf-inference":
            if hf_inference:
                return name
            continue
        if name in PROVIDER_NAMES and task in provider_named(name).routes:
            return name
    found = ", ".join(f"{name} ({entry.task})" for name, entry in mapping.items()) or "none"
    raise UsageError(
        f"no provider known to inferwire serves the task {task!r} for model {model_id!r} "
        f"(the Hub lists: {found}); pass provider= or the URL of a server", argument="model")


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a provider call goes, once the Hub's mapping is known."""

    provider: Provider
    route: Route
    provider_id: str
    entry: MappingEntry | None
    root: str
    via_router: bool

    @property
    def url(self) -> str:
        """The route's URL."""
        return self.root + self.route.path_for(self.provider_id)


def resolve(config: ClientConfig, lookup: Lookup) -> Flow[Resolved]:
    """Resolve `lookup`: the provider's id of the model (the Hub's mapping, unless the
    provider takes names as given), and the API root (the router for a Hugging Face token,
    else the provider's own)."""
    provider = provider_named(lookup.provider)
    route = provider.routes[lookup.task]
    entry = None
    if not provider.mapped or provider.own_key_only:
        provider_id = lookup.model_id
    else:
        mapping = yield from _mapping(config, lookup.model_id)
        entry = _checked_entry(config, mapping, lookup.model_id, provider.name, lookup.task)
        provider_id = entry.provider_id
    key = config.token or ""
    via_router = key.startswith("hf_") and not provider.own_key_only
    if via_router:
        root = f"{config.router_url}/{provider.name}"
    else:
        root = config.provider_urls.get(provider.name) or provider.base_url
    return Resolved(provider, route, provider_id, entry, root, via_router)


def provider_target(config: ClientConfig, lookup: Lookup) -> Flow[Target]:
    """The `Target` of `lookup` (an OpenAI-shaped task): its provider's URL, and the model
    id that provider knows."""
    from ._config import Target

    where = yield from resolve(config, lookup)
    return Target(where.url, where.provider_id, True, where.provider.headers,
                  where.route.payload)

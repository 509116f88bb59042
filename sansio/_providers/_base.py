"""What a provider is: data plus small pure functions, one module per provider.

A `Provider` names its direct base URL, the route of each task it serves and how its requests
differ from the OpenAI-compatible shape inferwire builds (`Route.payload`: a pure function of
the payload). Calls go through the router (``https://router.huggingface.co/{provider}`` +
route) when the key is a Hugging Face token (``hf_...``), else straight to the provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataclasses import dataclass, field

    from inferwire.sansio._effects import Flow

    from ._call import ProviderCall
else:
    from inferwire.sansio._record import dataclass, field

__all__ = ["Provider", "Route", "TaskFlow", "json_object_schema", "json_schema_schema"]

PayloadTransform = Callable[[dict[str, Any]], dict[str, Any]]
TaskFlow = Callable[["ProviderCall"], "Flow[Any]"]
"""A provider's flow for one non-OpenAI task: builds its request(s) from the call, performs
them through the call's helpers (polling a job if need be) and returns the task's result."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where a task goes at a provider, and how its payload differs (None: as built).

    `path` may hold ``{id}``, the model's id at the provider (``/v3/hf/{id}``); a callable
    `path` gets that id and returns the path. Tasks with the OpenAI request shape (chat,
    completions, embeddings) set `payload`; every other task sets `flow`.
    """

    path: str | Callable[[str], str]
    payload: PayloadTransform | None = None
    flow: TaskFlow | None = None

    def path_for(self, provider_id: str) -> str:
        """The route's path for the model known to the provider as `provider_id`."""
        if callable(self.path):
            return self.path(provider_id)
        return self.path.replace("{id}", provider_id)


@dataclass(frozen=True, slots=True)
class Provider:
    """One inference provider (see the module documentation).

    `routes` maps a task id (``conversational``, ``text-generation``, ``feature-extraction``)
    to its `Route`. `headers` are sent on every call. With `own_key_only` the provider takes
    its own key only (never a Hugging Face token, never the router); with `mapped` False the
    model name is sent as given (no Hub mapping). `auth_scheme` is how the key goes in the
    ``Authorization`` header of direct calls (fal-ai's ``Key``; the router always takes
    ``Bearer``). `hosts` are the provider's other API roots by name (fal-ai's queue).
    """

    name: str
    base_url: str
    routes: Mapping[str, Route]
    headers: tuple[tuple[str, str], ...] = ()
    own_key_only: bool = False
    mapped: bool = True
    auth_scheme: str = "Bearer"
    hosts: Mapping[str, str] = field(default_factory=dict)


def _schema(response_format: Any) -> Any:
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        return spec.get("schema", spec) if isinstance(spec, dict) else spec
    return None


def json_object_schema(payload: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``json_schema`` response format as ``{"type": "json_object", "schema": S}``
    (cohere, fireworks-ai)."""
    schema = _schema(payload.get("response_format"))
    if schema is None:
        return payload
    return {**payload, "response_format": {"type": "json_object", "schema": schema}}


def json_schema_schema(payload: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``json_schema`` response format as ``{"type": "json_schema", "schema": S}``
    (together)."""
    schema = _schema(payload.get("response_format"))
    if schema is None:
        return payload
    return {**payload, "response_format": {"type": "json_schema", "schema": schema}}

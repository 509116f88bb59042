"""The fake Hub API: model info and model search, as ``huggingface.co/api/models`` answers.

`HubModels` holds the models registered with `FakeInferenceServer.hub_model` (or the
server's ``hub_models=`` argument) and builds the answers to

- ``GET /api/models/{id}``: the model info (``id``, ``modelId``, ``pipeline_tag``,
  ``library_name``, ``tags``), plus ``inferenceProviderMapping`` (an object keyed by provider
  name) and ``inference`` when the query expands them (``expand[]=...`` or ``expand=...``);
  an unknown model is a 404 ``{"error": "Repository not found"}``, as on the Hub;
- ``GET /api/models?inference_provider=NAME&pipeline_tag=TASK``: the search, a list of
  model objects filtered by provider (``all``: any provider) and pipeline tag.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from ._replies import error, json_reply
from ._reply import RecordedRequest, Reply

__all__ = ["HubModels"]

_PROVIDER_KEYS = frozenset({"providerId", "task", "status", "adapter", "adapterWeightsPath"})
_HUB_KEYS = frozenset({"pipeline_tag", "providers", "library_name", "inference", "tags"})


def _check_providers(model_id: str, providers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    if not isinstance(providers, Mapping):
        raise TypeError(f"providers of {model_id!r} must be a mapping, got {providers!r}")
    out: dict[str, dict[str, Any]] = {}
    for name, entry in providers.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"a provider name of {model_id!r} must be a non-empty string")
        if not isinstance(entry, Mapping):
            raise TypeError(f"provider {name!r} of {model_id!r} must be a mapping, got {entry!r}")
        unknown = set(entry) - _PROVIDER_KEYS
        if unknown:
            raise ValueError(f"provider {name!r} of {model_id!r}: unknown keys "
                             f"{sorted(unknown)}; expected some of {sorted(_PROVIDER_KEYS)}")
        for key in ("providerId", "task"):
            if not isinstance(entry.get(key), str):
                raise TypeError(f"provider {name!r} of {model_id!r} needs a string {key!r}")
        out[name] = {"status": "live", **entry}
    return out


class HubModels:
    """The registered Hub models of one fake server, and the answers built from them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, dict[str, Any]] = {}

    def add(
        self,
        model_id: str,
        *,
        pipeline_tag: str | None = None,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        library_name: str | None = None,
        inference: str | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        """Register (or replace) ``model_id``; see `FakeInferenceServer.hub_model`."""
        if not isinstance(model_id, str) or not model_id.strip("/") or model_id.count("/") > 1:
            raise ValueError(f"model_id must be 'name' or 'org/name', got {model_id!r}")
        if isinstance(tags, str):
            raise TypeError("tags must be an iterable of strings, not a string")
        model = {
            "pipeline_tag": pipeline_tag,
            "providers": _check_providers(model_id, providers or {}),
            "library_name": library_name,
            "inference": inference,
            "tags": [str(tag) for tag in tags],
        }
        with self._lock:
            self._models[model_id.strip("/")] = model

    def add_all(self, models: Mapping[str, Mapping[str, Any]]) -> None:
        """Register every ``model id -> keyword arguments of add`` of ``models``."""
        for model_id, kwargs in models.items():
            unknown = set(kwargs) - _HUB_KEYS
            if unknown:
                raise ValueError(f"hub_models[{model_id!r}]: unknown keys {sorted(unknown)}; "
                                 f"expected some of {sorted(_HUB_KEYS)}")
            self.add(model_id, **kwargs)

    def answers(self, request: RecordedRequest) -> bool:
        """True when ``request`` is a Hub API request this module answers."""
        path = request.path.rstrip("/")
        return request.method in ("GET", "HEAD") and (
            path == "/api/models" or path.startswith("/api/models/"))

    def reply(self, request: RecordedRequest) -> Reply:
        """The answer to a request for which `answers` is true."""
        pairs = parse_qsl(request.query, keep_blank_values=True)
        expand = {value for name, value in pairs if name in ("expand", "expand[]")}
        params = dict(pairs)
        path = unquote(request.path.rstrip("/"))
        with self._lock:
            models = {model_id: dict(model) for model_id, model in self._models.items()}
        if path == "/api/models":
            return json_reply(self._search(models, params, expand))
        model_id = path[len("/api/models/"):]
        model = models.get(model_id)
        if model is None:
            return error(404, json={"error": "Repository not found"},
                         headers={"X-Error-Code": "RepoNotFound"})
        return json_reply(_info(model_id, model, expand))

    def _search(self, models: dict[str, dict[str, Any]], params: dict[str, str],
                expand: set[str]) -> list[dict[str, Any]]:
        provider = params.get("inference_provider")
        task = params.get("pipeline_tag")
        out = []
        for model_id, model in models.items():
            if task is not None and model["pipeline_tag"] != task:
                continue
            if provider is not None:
                names = set(model["providers"])
                if not names or (provider != "all" and provider not in names):
                    continue
            out.append(_info(model_id, model, expand))
        limit = params.get("limit")
        if limit is not None and limit.isdigit():
            out = out[: int(limit)]
        return out


def _info(model_id: str, model: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "_id": hashlib.sha256(model_id.encode()).hexdigest()[:24],
        "id": model_id,
        "modelId": model_id,
        "private": False,
        "tags": list(model["tags"]),
    }
    if model["pipeline_tag"] is not None:
        info["pipeline_tag"] = model["pipeline_tag"]
    if model["library_name"] is not None:
        info["library_name"] = model["library_name"]
    if "inferenceProviderMapping" in expand:
        info["inferenceProviderMapping"] = {
            name: dict(entry) for name, entry in model["providers"].items()}
    if "inference" in expand:
        inference = model["inference"]
        if inference is None and any(
            entry["status"] == "live" for entry in model["providers"].values()
        ):
            inference = "warm"
        if inference is not None:
            info["inference"] = inference
    return info

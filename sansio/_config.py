"""Client configuration and the rules that turn (model, base_url, provider) into URLs.

Everything here is a decision made once for every transport: the clients only read the
environment (``HF_TOKEN``, the saved login, ``HF_HUB_OFFLINE``...) and pass the values in.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from ._errors import UsageError, UsageTypeError
from ._exchange import Runtime
from ._http import SECRET_HEADERS, Headers, make_headers
from ._ids import check_model_id, check_token, host_of, is_hf_host
from ._providers import PROVIDER_NAMES, provider
from ._state import ClientState
from ._version import __version__

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = [
    "DEFAULT_ROUTER_URL",
    "Lookup",
    "SUPPORTED_PROVIDERS",
    "ClientConfig",
    "Target",
    "build_config",
    "chat_completion_url",
    "is_url",
]

DEFAULT_ROUTER_URL = "https://router.huggingface.co"
DEFAULT_INFERENCE_ENDPOINT = "https://api-inference.huggingface.co"
DEFAULT_HUB_URL = "https://huggingface.co"
SUPPORTED_PROVIDERS = ("auto", "hf-inference", *PROVIDER_NAMES)


def is_url(value: str) -> bool:
    """Whether `value` is an http(s) URL rather than a model id."""
    return value.startswith(("http://", "https://"))


def chat_completion_url(base: str) -> str:
    """Append the chat-completions route to a base URL, as huggingface_hub does.

    A path ending in ``/chat/completions`` is kept; one ending in ``/v1`` gets
    ``/chat/completions``; any other path gets ``/v1/chat/completions``. The query is kept.
    """
    parts = urlsplit(base)
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        new_path = path
    elif path.endswith("/v1"):
        new_path = path + "/chat/completions"
    else:
        new_path = path + "/v1/chat/completions"
    return urlunsplit(parts._replace(path=new_path))


def openai_style_base(url: str) -> str | None:
    """The OpenAI-compatible API root of `url` (ending in ``/v1``), or None if it is not one.

    The rule (documented in docs/guide.md): a URL whose path ends in ``/v1`` is an
    OpenAI-compatible server (llama.cpp, vLLM, TEI's OpenAI routes, LiteLLM, ...): embeddings go
    to ``<url>/embeddings`` and text generation to ``<url>/completions``. Any other URL is a
    Hugging Face-style endpoint (TGI, TEI, Inference Endpoints) that takes ``{"inputs": ...}``
    at the URL itself.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        return urlunsplit(parts._replace(path=path))
    return None


def _append_path(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def _unsupported_provider(provider: str) -> UsageError:
    return UsageError(
        f"provider {provider!r} is not supported by this version of inferwire (unknown "
        "provider name); "
        f"supported: {', '.join(SUPPORTED_PROVIDERS)}, or base_url= for any "
        "OpenAI-compatible server",
        argument="provider",
    )


@dataclass(frozen=True, slots=True)
class Target:
    """Where a task call goes: the URL, the payload's ``model`` and the API shape."""

    url: str
    payload_model: str | None
    openai_style: bool = False
    #: A provider's own headers (zai-org's channel...), sent with the client's.
    headers: Headers = ()
    #: A provider's change to the payload (its spelling of ``response_format``...).
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """A call whose URL needs the Hub's provider mapping of `model_id` first (resolved by the
    flow: `inferwire.sansio._routing.provider_target`)."""

    model_id: str
    provider: str
    task: str


_OPENAI_ROUTES = {"text-generation": "/completions", "feature-extraction": "/embeddings"}
"""The tasks an OpenAI-style base URL (``.../v1``) serves, and their routes."""


@dataclass(frozen=True, slots=True, repr=False)
class ClientConfig:
    """Everything a flow needs to build requests; immutable, shared by all transports."""

    model: str | None = None
    provider: str | None = None
    token: str | None = None
    headers: Headers = ()
    bill_to: str | None = None
    runtime: Runtime = field(default_factory=Runtime)
    max_line_size: int = 1 << 20
    max_event_size: int = 8 << 20
    router_url: str = DEFAULT_ROUTER_URL
    inference_endpoint: str = DEFAULT_INFERENCE_ENDPOINT
    hub_url: str = DEFAULT_HUB_URL
    token_implicit: bool = False
    state: ClientState = field(default_factory=ClientState)
    #: providers' API roots replaced by name (a fake provider in tests)
    provider_urls: Mapping[str, str] = field(default_factory=dict)
    #: the longest a call waits on a provider's job, in seconds (None: no bound)
    job_timeout: float | None = 600.0
    #: seconds between two polls of a job (None: each provider's own pace)
    job_poll_interval: float | None = None

    def __repr__(self) -> str:
        token = "None" if self.token is None else "'***'"
        return (f"ClientConfig(model={self.model!r}, provider={self.provider!r}, token={token}, "
                f"headers={[k for k, _ in self.headers]!r})")

    def with_provider(self, provider: str) -> ClientConfig:
        """This configuration with `provider` chosen (``auto`` resolved by the Hub's
        mapping); the client's state stays shared."""
        values = {name: getattr(self, name) for name in type(self).__slots__}
        values["provider"] = provider
        return ClientConfig(**values)

    # -- targets ---------------------------------------------------------------------------

    def _model_for(self, model: str | None) -> str:
        chosen = model or self.model
        if not chosen:
            raise UsageError(
                "no model: pass model= (a Hub model id or a URL) or base_url= to the client",
                argument="model",
            )
        return chosen

    def _provider_for_model_id(self) -> str:
        provider = self.provider or "auto"
        if provider not in SUPPORTED_PROVIDERS:  # (build_config refuses unknown names)
            raise _unsupported_provider(provider)
        return provider

    def _provider_lookup(self, model_id: str, name: str, task: str) -> Lookup:
        """The provider route of `task` for `model_id`, checked now (before any I/O)."""
        spec = provider(name)
        if task not in spec.routes:
            served = ", ".join(sorted(spec.routes))
            raise UsageError(f"provider {name!r} does not serve {task!r} in this version "
                             f"(it serves: {served})", argument="provider")
        if spec.own_key_only and (not self.token or self.token.startswith("hf_")):
            raise UsageError(f"provider {name!r} needs its own API key (api_key=...), not "
                             "a Hugging Face token", argument="api_key")
        if not self.token:
            self._require_token(f"provider {name!r}")
        return Lookup(model_id, name, task)

    def _require_token(self, what: str) -> None:
        if not self.token:
            raise UsageError(
                f"{what} needs a Hugging Face token: pass token= (or api_key=) or set HF_TOKEN",
                argument="token",
            )

    def chat_target(self, model: str | None) -> Target | Lookup:
        """URL and payload model for chat completion (huggingface_hub's precedence rules).

        A client-level URL wins for the URL; the method's `model` wins for the payload.
        """
        if self.model and is_url(self.model):
            return Target(chat_completion_url(self.model), model or "dummy", True)
        chosen = self._model_for(model)
        if is_url(chosen):
            return Target(chat_completion_url(chosen), "dummy", True)
        check_model_id(chosen, route_suffix=True)
        provider = self._provider_for_model_id()
        if provider in PROVIDER_NAMES:
            check_model_id(chosen)
            return self._provider_lookup(chosen, provider, "conversational")
        self._require_token("the Hugging Face router")
        if provider == "hf-inference":
            check_model_id(chosen)
            url = f"{self.router_url}/hf-inference/models/{quote(chosen)}/v1/chat/completions"
            return Target(url, chosen, True)
        return Target(f"{self.router_url}/v1/chat/completions", chosen, True)

    def task_target(self, model: str | None, task: str, *, hf_inference: bool = True
                    ) -> Target | Lookup:
        """URL and API shape for a non-chat task; a `Lookup` when the Hub's provider mapping
        decides (a named provider, or ``auto`` for a model id)."""
        # A client-level URL stays the destination when the method names a model (not a URL):
        # the name then travels in the payload, as for chat (huggingface_hub would instead send
        # the call to the Hub router, away from the server the client was made for).
        if self.model and is_url(self.model) and not (model and is_url(model)):
            chosen = self.model
        else:
            chosen = self._model_for(model)
        if is_url(chosen):
            base = openai_style_base(chosen)
            route = _OPENAI_ROUTES.get(task)
            if base is not None and route is not None:
                payload_model = model if model and not is_url(model) else None
                return Target(base + route, payload_model, True)
            parts = urlsplit(chosen)
            if route is not None and parts.path.rstrip("/").endswith(
                ("/embeddings", "/completions")
            ):
                return Target(chosen, model if model and not is_url(model) else None, True)
            return Target(chosen, None, False)
        check_model_id(chosen)
        provider = self._provider_for_model_id()
        if provider in PROVIDER_NAMES:
            return self._provider_lookup(chosen, provider, task)
        self._require_token("the Hugging Face router")
        if not hf_inference and provider == "hf-inference":
            raise UsageError(
                f"hf-inference does not serve {task!r}: pass a provider that does, or the "
                f"URL of a server that serves it (model= or base_url=); got {chosen!r}",
                argument="provider")
        if provider == "auto":
            # The Hub's mapping of the model says which provider serves the task: resolved
            # in the flow (`inferwire.sansio._routing.auto_provider`), then called again.
            return Lookup(chosen, "auto", task)
        url = f"{self.router_url}/hf-inference/models/{quote(chosen)}"
        if task in ("feature-extraction", "sentence-similarity"):
            url += f"/pipeline/{task}"
        return Target(url, None, False)

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` every request carries."""
        return f"inferwire/{__version__}; python/{sys.version_info[0]}.{sys.version_info[1]}"

    def endpoint_url(self, model: str | None, route: str) -> str:
        """``<url>/<route>`` for endpoint utilities (``health``, ``info``).

        An OpenAI-style URL (path ending in ``/v1``) is probed at the server's root: vLLM,
        LiteLLM, TEI and ``transformers serve`` serve ``/health`` there (llama.cpp serves both).
        """
        chosen = self._model_for(model)
        if is_url(chosen):
            base = openai_style_base(chosen)
            if base is not None:
                chosen = base.removesuffix("/v1") or base
            return _append_path(chosen, "/" + route)
        if route == "health":
            raise UsageError(
                "health_check needs a URL (an Inference Endpoint or a local server), "
                f"not a model id: got {chosen!r}",
                argument="model",
            )
        check_model_id(chosen)
        return f"{self.inference_endpoint}/models/{quote(chosen)}/{route}"

    # -- headers ---------------------------------------------------------------------------

    def sends_token_to(self, url: str) -> bool:
        """Whether the token goes to `url`: an explicit token goes wherever the user points
        the client; a token found in the environment or the saved login only to Hugging Face."""
        if not self.token:
            return False
        if not self.token_implicit:
            return True
        return bool(is_hf_host(host_of(url), self.runtime.hf_hosts))

    def request_headers(self, url: str, *, json_body: bool) -> Headers:
        """The headers of a request to `url`: the defaults, then the user's headers, then the
        ones the client's own options decide (``bill_to=`` wins over a user header)."""
        base: dict[str, str] = {"user-agent": self.user_agent}
        if json_body:
            base["content-type"] = "application/json"
        if self.sends_token_to(url):
            base["authorization"] = f"Bearer {self.token}"
        merged = dict(base)
        merged.update(self.headers)
        if self.bill_to:
            merged["x-hf-bill-to"] = self.bill_to
        return tuple(merged.items())


def _check_headers(headers: Headers) -> Headers:
    """The headers with values stripped of surrounding blanks; `UsageError` for names and
    values that cannot go on the wire (never quoting a secret value)."""
    for key, value in headers:
        if not isinstance(key, str) or not key or any(
                ord(c) <= 0x20 or ord(c) >= 0x7F or c in '()<>@,;:\\"/[]?={}' for c in key):
            raise UsageError(f"header name {key!r} is not a valid HTTP token", argument="headers")
        if not isinstance(value, str):
            raise UsageTypeError(f"header {key!r} must have a str value", argument="headers")
        bad = next((c for c in value.strip() if (ord(c) < 0x20 and c != "\t")
                    or ord(c) == 0x7F or ord(c) > 0xFF), None)
        if bad is not None:
            what = "a line break" if bad in "\r\n" else "a control or non-Latin-1 character"
            shown = "" if key in SECRET_HEADERS else f" ({value[:60]!r})"
            raise UsageError(f"header {key!r} has {what} in its value{shown}",
                             argument="headers")
    return tuple((key, value.strip()) for key, value in headers)


def build_config(
    *,
    model: str | None = None,
    base_url: str | None = None,
    provider: str | None = None,
    token: str | None = None,
    api_key: str | None = None,
    env_token: str | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
    bill_to: str | None = None,
    runtime: Runtime | None = None,
    max_line_size: int = 1 << 20,
    max_event_size: int = 8 << 20,
    inference_endpoint: str | None = None,
    hub_url: str | None = None,
    router_url: str | None = None,
    provider_urls: Mapping[str, str] | None = None,
    job_timeout: float | None = 600.0,
    job_poll_interval: float | None = None,
) -> ClientConfig:
    """Validate the client constructor's arguments (huggingface_hub's rules) into a config.

    `env_token` is a token found in the environment or the saved login: it is used only when
    neither `token` nor `api_key` is given, and sent only to Hugging Face hosts.
    """
    if model is not None and base_url is not None:
        raise UsageError(
            "pass either model= or base_url=, not both (base_url is an alias of a URL model)",
            argument="base_url",
        )
    if token is not None and api_key is not None:
        raise UsageError("pass either token= or api_key=, not both", argument="api_key")
    for name, value in (("model", model), ("base_url", base_url), ("provider", provider),
                        ("token", token), ("api_key", api_key), ("bill_to", bill_to)):
        if value is not None and not isinstance(value, str):
            raise UsageTypeError(f"{name} must be a str, got {type(value).__name__}",
                                 argument=name)
    if base_url is not None and not is_url(base_url):
        raise UsageError(f"base_url must be an http(s) URL, got {base_url!r}",
                         argument="base_url")
    if provider is not None and provider not in SUPPORTED_PROVIDERS:
        raise _unsupported_provider(provider)
    for bound, size in (("max_line_size", max_line_size), ("max_event_size", max_event_size)):
        if not isinstance(size, int) or isinstance(size, bool) or size < 64:
            raise UsageError(f"{bound} must be an int >= 64", argument=bound)
    user_headers = make_headers(headers or {})
    if cookies:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        user_headers = make_headers([*user_headers, ("cookie", cookie)])
    user_headers = _check_headers(user_headers)
    if bill_to is not None:
        bill_to = _check_headers((("x-hf-bill-to", bill_to),))[0][1]
    chosen, implicit, argument = token, False, "token"
    if api_key is not None:
        chosen, argument = api_key, "api_key"
    elif token is None and env_token is not None:
        chosen, implicit = env_token, True
    if chosen is not None:
        chosen = check_token(chosen, argument)
    return ClientConfig(
        model=base_url or model,
        provider=provider,
        token=chosen,
        headers=user_headers,
        bill_to=bill_to,
        runtime=runtime or Runtime(),
        max_line_size=max_line_size,
        max_event_size=max_event_size,
        inference_endpoint=(inference_endpoint or DEFAULT_INFERENCE_ENDPOINT).rstrip("/"),
        hub_url=(hub_url or DEFAULT_HUB_URL).rstrip("/"),
        router_url=(router_url or DEFAULT_ROUTER_URL).rstrip("/"),
        token_implicit=implicit,
        provider_urls=dict(provider_urls or {}),
        job_timeout=job_timeout,
        job_poll_interval=job_poll_interval,
    )

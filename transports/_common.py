"""What the sync and async clients share: construction, argument collection, conversions."""

from __future__ import annotations

import os
import random
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._timeouts import Timeouts
from .sansio._args import reject_unexpected
from .sansio._config import ClientConfig, build_config
from .sansio._effects import DEFAULT_BODY_LIMIT
from .sansio._embeddings import FloatArray
from .sansio._errors import InferenceWarning, UsageError, UsageTypeError
from .sansio._exchange import Runtime
from .sansio._ids import host_of
from .sansio._retry import RetryPolicy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .sansio._effects import Flow

__all__ = ["ClientOptions", "ClientProperties", "client_config", "collect_params", "hf_debug",
           "hf_flow", "hf_home", "saved_token", "to_numpy", "validate_timeout"]

_CHAT_HINT = "; pass other OpenAI parameters in extra_body={...}"


_TRUE = frozenset({"1", "on", "yes", "true"})


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def hf_debug() -> bool:
    """``HF_DEBUG``: print an equivalent ``curl`` command of each request to standard error
    (read once, when a client is built, as huggingface_hub reads its constants)."""
    return _env_true("HF_DEBUG")


def hf_home() -> Path:
    """``HF_HOME``, else ``$XDG_CACHE_HOME/huggingface``, else ``~/.cache/huggingface``."""
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(cache).expanduser() / "huggingface"


def saved_token() -> str | None:
    """The token huggingface_hub would use implicitly: ``HF_TOKEN`` (or the older
    ``HUGGING_FACE_HUB_TOKEN``), else the file ``hf auth login`` saved (``HF_TOKEN_PATH``, else
    ``$HF_HOME/token``). None when there is none or ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` is set."""
    if _env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN"):
        return None
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(name)
        if value and value.strip():
            return value
    path = os.environ.get("HF_TOKEN_PATH")
    token_file = Path(path).expanduser() if path else hf_home() / "token"
    try:
        text = token_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.strip() else None


def _warn(message: str) -> None:
    # stacklevel 4 points at the client method's caller for the common call depths
    warnings.warn(message, InferenceWarning, stacklevel=4)


def client_config(
    *,
    model: str | None,
    base_url: str | None,
    provider: str | None,
    token: str | None,
    api_key: str | None,
    headers: Mapping[str, str] | None,
    cookies: Mapping[str, str] | None,
    bill_to: str | None,
    max_retries: int | RetryPolicy,
    max_response_size: int = DEFAULT_BODY_LIMIT,
    job_timeout: float | None = 600.0,
    job_poll_interval: float | None = None,
    on_job_progress: Callable[[Any], None] | None = None,
) -> ClientConfig:
    """The client's configuration from its arguments and the environment (the implicit token,
    ``HF_HUB_OFFLINE``, ``HF_INFERENCE_ENDPOINT``, ``HF_ENDPOINT``), with the clock, jitter and
    warnings."""
    if isinstance(token, bool) or isinstance(api_key, bool):
        raise UsageTypeError("token must be a str (booleans are not accepted)", argument="token")
    if isinstance(max_retries, RetryPolicy):
        policy = max_retries
    else:
        policy = RetryPolicy(max_retries=max_retries)
    endpoint = os.environ.get("HF_INFERENCE_ENDPOINT") or None
    # Configured Hugging Face endpoints count as Hugging Face (an implicit token goes there).
    hf_hosts = tuple(host_of(url) for url in (endpoint, os.environ.get("HF_ENDPOINT"),
                                               os.environ.get("INFERWIRE_ROUTER_URL")) if url)
    if isinstance(max_response_size, bool) or not isinstance(max_response_size, int) or (
            max_response_size <= 0):
        raise UsageTypeError(f"max_response_size must be a positive number of bytes, got "
                             f"{max_response_size!r}", argument="max_response_size")
    if on_job_progress is not None and not callable(on_job_progress):
        raise UsageTypeError("on_job_progress must be a callable taking a JobProgress",
                             argument="on_job_progress")
    runtime = Runtime(retry=policy, now=time.time, jitter=random.random, warn=_warn,
                      offline=_env_true("HF_HUB_OFFLINE"), hf_hosts=hf_hosts,
                      body_limit=max_response_size,
                      progress=job_progress_reporter(on_job_progress))
    config = build_config(
        model=model,
        base_url=base_url,
        provider=provider,
        token=token,
        api_key=api_key,
        env_token=saved_token() if token is None and api_key is None else None,
        headers=headers,
        cookies=cookies,
        bill_to=bill_to,
        runtime=runtime,
        inference_endpoint=endpoint,
        hub_url=os.environ.get("HF_ENDPOINT") or None,
        router_url=os.environ.get("INFERWIRE_ROUTER_URL") or None,
        provider_urls=_provider_urls(os.environ.get("INFERWIRE_PROVIDER_URLS")),
        job_timeout=validate_timeout(job_timeout, "job_timeout"),
        job_poll_interval=validate_timeout(job_poll_interval, "job_poll_interval"),
    )
    user_bill_to = dict(config.headers).get("x-hf-bill-to")
    if bill_to is not None and user_bill_to is not None and user_bill_to != config.bill_to:
        _warn(f"bill_to={config.bill_to!r} replaces the X-HF-Bill-To header {user_bill_to!r}")
    if config.bill_to is not None and config.token and not config.token.startswith("hf_"):
        _warn("bill_to only works with a Hugging Face token (hf_...): the router ignores it "
              "for other keys")
    return config


def job_progress_reporter(callback: Callable[[Any], None] | None) -> Callable[[Any], None]:
    """The runtime's job-progress hook: one INFO log line per poll (logger ``inferwire``),
    then the user's `callback`."""
    from ._observe import logger

    def report(progress: Any) -> None:
        logger.info("%s job %s: %s (poll %d, %.1fs)", progress.provider, progress.job_id,
                    progress.status, progress.polls, progress.waited)
        if callback is not None:
            callback(progress)

    return report


def _provider_urls(value: str | None) -> dict[str, str]:
    """``INFERWIRE_PROVIDER_URLS`` (``name=url,name=url``): providers' API roots replaced,
    e.g. by a fake provider in tests."""
    urls: dict[str, str] = {}
    for item in (value or "").split(","):
        if not item.strip():
            continue
        name, sep, url = item.partition("=")
        if not sep or not url.strip().startswith(("http://", "https://")):
            raise UsageError(f"INFERWIRE_PROVIDER_URLS: expected name=http(s)://..., got "
                             f"{item.strip()!r}", argument="INFERWIRE_PROVIDER_URLS")
        urls[name.strip()] = url.strip().rstrip("/")
    return urls


def validate_timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """`timeout` as a float of seconds, or None for no timeout."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            0 < timeout < float("inf")):
        raise UsageError(f"{name} must be a positive number of seconds or None, got "
                         f"{timeout!r}", argument=name)
    return float(timeout)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The transport options both clients take, validated once."""

    timeout: float | None
    deadline: float | None
    verify: Any
    proxy: str | None
    trust_env: bool

    @classmethod
    def build(cls, *, timeout: float | None, deadline: float | None, verify: Any,
              proxy: str | None, trust_env: bool) -> ClientOptions:
        """Check the options (the pool checks `verify` and `proxy` in depth)."""
        if proxy is not None and not isinstance(proxy, str):
            raise UsageTypeError("proxy must be a URL string or None", argument="proxy")
        if not isinstance(trust_env, bool):
            raise UsageTypeError("trust_env must be a bool", argument="trust_env")
        return cls(validate_timeout(timeout), validate_timeout(deadline, "deadline"), verify,
                   proxy, trust_env)

    def timeouts(self, deadline: float | None = None) -> Timeouts:
        """Connect, read and write timeouts of `timeout`, and the call's `deadline` (an instant
        on the backend's clock)."""
        t = self.timeout
        return Timeouts(connect=t, read=t, write=t, deadline=deadline)


class ClientProperties:
    """The read-only attributes both clients expose, as huggingface_hub's do."""

    __slots__ = ()
    _config: ClientConfig
    _options: ClientOptions

    @property
    def model(self) -> str | None:
        """The client-level model id or URL."""
        return self._config.model

    @property
    def provider(self) -> str | None:
        """The provider name given at construction (None: decided per call)."""
        return self._config.provider

    @property
    def token(self) -> str | None:
        """The token given to the constructor (`token=` or `api_key=`), as huggingface_hub's
        attribute; None when the client uses an implicit one (``HF_TOKEN``, the saved login)."""
        return None if self._config.token_implicit else self._config.token

    @property
    def headers(self) -> dict[str, str]:
        """The user's headers (names lower-cased), as huggingface_hub's attribute."""
        return dict(self._config.headers)

    @property
    def timeout(self) -> float | None:
        """Seconds to wait for a connection and for each read (None: no limit)."""
        return self._options.timeout


def collect_params(
    task: str, local_vars: Mapping[str, Any], names: Mapping[str, Any]
) -> dict[str, Any]:
    """The task parameters among a method's locals (None ones dropped); rejects unknown kwargs."""
    unexpected = local_vars.get("unexpected") or {}
    reject_unexpected(task, unexpected, _CHAT_HINT if task == "chat_completion" else "")
    return {name: local_vars[name] for name in names if local_vars[name] is not None}


def to_numpy(array: FloatArray) -> npt.NDArray[np.float32]:
    """View a parsed embedding as a float32 numpy array of its shape."""
    try:
        import numpy as np
    except ImportError:
        raise UsageError(
            "feature_extraction returns a numpy array: install it with "
            "`pip install 'inferwire[numpy]'`"
        ) from None
    return np.frombuffer(array.data, dtype=np.float32).reshape(array.shape)


def hf_flow(client: Any, method: str, inputs: Any, model: str | None,
            local_vars: Mapping[str, Any], *, extra: Any = None) -> Flow[Any]:
    """The flow of hf-inference task `method` for a client method: its parameters are the
    method's locals named in the task table (None ones dropped)."""
    from .sansio._hf_tasks import TASKS, task_flow

    reject_unexpected(method, local_vars.get("unexpected") or {})
    params = {name: local_vars[name] for name in TASKS[method].params
              if local_vars[name] is not None}
    return task_flow(client._config, method, inputs, model=model, params=params, extra=extra)


class ChatCompletions:
    """``client.chat.completions``: its ``create`` is the client's ``chat_completion``."""

    __slots__ = ("_client",)

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def create(self) -> Any:
        """OpenAI-style alias: ``client.chat.completions.create`` is ``client.chat_completion``."""
        return self._client.chat_completion


class Chat:
    """``client.chat``, the OpenAI-style namespace of every client."""

    __slots__ = ("completions",)

    def __init__(self, client: Any) -> None:
        self.completions = ChatCompletions(client)

"""What the sync and async clients share: construction, argument collection, conversions."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .sansio._args import reject_unexpected
from .sansio._config import ClientConfig, build_config
from .sansio._embeddings import FloatArray
from .sansio._errors import UsageError
from .sansio._exchange import Runtime
from .sansio._retry import RetryPolicy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["client_config", "collect_params", "to_numpy", "validate_timeout"]

_CHAT_HINT = "; pass other OpenAI parameters in extra_body={...}"


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
) -> ClientConfig:
    """The client's configuration: reads ``HF_TOKEN`` and supplies the clock and jitter."""
    if isinstance(token, bool) or isinstance(api_key, bool):
        raise UsageError("token must be a str (booleans are not accepted)", argument="token")
    if isinstance(max_retries, RetryPolicy):
        policy = max_retries
    else:
        policy = RetryPolicy(max_retries=max_retries)
    runtime = Runtime(retry=policy, now=time.time, jitter=random.random)
    return build_config(
        model=model,
        base_url=base_url,
        provider=provider,
        token=token,
        api_key=api_key,
        env_token=os.environ.get("HF_TOKEN") or None,
        headers=headers,
        cookies=cookies,
        bill_to=bill_to,
        runtime=runtime,
    )


def validate_timeout(timeout: float | None) -> float | None:
    """`timeout` as a float of seconds, or None for no timeout."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise UsageError(f"timeout must be a positive number of seconds or None, got {timeout!r}",
                         argument="timeout")
    return float(timeout)


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

"""`RayInference`: the Ray Data adapter of `run_batch` (a callable class for ``map_batches``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ._batch_io import encode_error, result_line
from .sansio._errors import UsageError, UsageTypeError

__all__ = ["RayInference"]


def _plain(value: Any) -> Any:
    """A value of a Ray batch column as plain Python (numpy scalars and arrays to lists)."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


class RayInference:
    """Run one client method over Ray Data batches, with one async client per actor.

    Use it as the callable class of ``Dataset.map_batches``::

        ds.map_batches(RayInference, concurrency=4, batch_size=64,
                       fn_constructor_kwargs={"method": "chat_completion", "actors": 4,
                                              "client": {"model": "meta-llama/..."},
                                              "rpm": 600})

    Each row holds the method's arguments by column name (and an optional ``id``). Each
    output row has ``id``, ``output`` (the output as a JSON string, or None), ``error`` (the
    error as a JSON string, or None), ``total_tokens``, ``request_id`` and ``attempts``.

    Args:
        method: The `AsyncInferenceClient` method to call.
        client: Keyword arguments for the actor's `AsyncInferenceClient` (``model``,
            ``base_url``, ``provider``, ``token``...; ``max_retries`` is 0: the scheduler
            retries).
        actors: How many actors share the budgets (give ``map_batches`` the same
            ``concurrency``): each actor gets ``rpm / actors`` and ``tpm / actors``, so that
            the whole job stays within them. `concurrency` is per actor.
        concurrency, rpm, tpm, max_attempts, arguments: As for `run_batch`.
    """

    def __init__(self, method: str, *, client: Mapping[str, Any] | None = None,
                 actors: int = 1, concurrency: int = 16, rpm: float | None = None,
                 tpm: float | None = None, max_attempts: int = 4,
                 arguments: Mapping[str, Any] | None = None) -> None:
        import asyncio

        from ._async import AsyncInferenceClient

        if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
            raise UsageError("actors must be an int >= 1", argument="actors")
        if client is not None and not isinstance(client, Mapping):
            raise UsageTypeError("client must be a mapping of AsyncInferenceClient arguments",
                                 argument="client")
        self._method = method
        self._options: dict[str, Any] = {
            "concurrency": concurrency, "max_attempts": max_attempts,
            "rpm": None if rpm is None else rpm / actors,
            "tpm": None if tpm is None else tpm / actors,
            "arguments": arguments,
        }
        self._loop = asyncio.new_event_loop()
        self._client = AsyncInferenceClient(**{**dict(client or {}), "max_retries": 0,
                                               "async_library": "asyncio"})

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Run the batch (a mapping of columns, Ray's ``"numpy"`` or ``"default"`` format)."""
        from ._batch_run import run_batch

        columns = {name: list(values) for name, values in batch.items()}
        size = len(next(iter(columns.values()), []))
        rows = [{name: _plain(values[i]) for name, values in columns.items()}
                for i in range(size)]
        summary = self._loop.run_until_complete(run_batch(
            self._client, self._method, rows, keep_results=True, progress=False,
            **self._options))
        out: dict[str, list[Any]] = {"id": [], "output": [], "error": [], "total_tokens": [],
                                     "request_id": [], "attempts": []}
        for result in summary.results or ():
            out["id"].append(str(result.id))
            if result.error is None:
                record = json.loads(result_line(result))
                out["output"].append(json.dumps(record["output"], ensure_ascii=False))
                out["error"].append(None)
            else:
                out["output"].append(None)
                out["error"].append(json.dumps(encode_error(result.error)))
            out["total_tokens"].append((result.usage or {}).get("total_tokens", 0))
            out["request_id"].append(result.request_id)
            out["attempts"].append(result.attempts)
        return out

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(Exception):  # a finalizer cannot report anything
            loop.run_until_complete(self._client.close())
        loop.close()

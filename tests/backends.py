"""Running one coroutine on each of the h11 pool's three backends (sync, asyncio, trio).

`on(backend, main)` calls `main(net)` with the backend `net` under that backend's own way of
running coroutines (`asyncio.run`, `trio.run`, or the sync backend's driver), so a pool-level
test is written once and parametrized over `BACKENDS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

from inferwire._h11 import AsyncBackend, get_backend
from inferwire._h11._sync_backend import run_sync
from inferwire.sansio._http import Request

__all__ = ["BACKENDS", "GET", "on"]

BACKENDS = ["sync", "asyncio", "trio"]

T = TypeVar("T")


def on(backend: str, main: Callable[[AsyncBackend], Awaitable[T]]) -> T:
    """Run `main(net)` on `backend` ("sync", "asyncio" or "trio") and return its result."""
    net = get_backend(backend)  # type: ignore[arg-type]

    async def run() -> T:
        return await main(net)

    if backend == "asyncio":
        return asyncio.run(run())
    if backend == "trio":
        return trio.run(run)
    return run_sync(run())


def GET(url: str) -> Request:
    """A GET of `url` that accepts any media type."""
    return Request("GET", url, (("accept", "*/*"),))

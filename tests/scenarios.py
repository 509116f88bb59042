"""The scenario facade: one awaitable surface over the sync, asyncio and trio clients, so a
scenario is written once and run on all three transports against loopback servers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from inferwire import AsyncInferenceClient, InferenceClient
from inferwire.testing import FakeInferenceServer

TRANSPORTS = ["sync", "asyncio", "trio"]


class Facade:
    """The same awaitable surface over a sync or an async client."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        return await result if self.is_async else result

    async def collect(self, stream: Any, limit: int | None = None) -> list[Any]:
        items: list[Any] = []
        if self.is_async:
            async for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        else:
            for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        return items

    async def close_stream(self, stream: Any) -> None:
        if self.is_async:
            await stream.aclose()
        else:
            stream.close()


Scenario = Callable[[Facade, FakeInferenceServer], Awaitable[None]]


def run(transport: str, server: FakeInferenceServer, scenario: Scenario, *,
        path: str = "/v1", **client_kwargs: Any) -> None:
    base_url = server.url(path)
    client_kwargs.setdefault("timeout", 10)
    if transport == "sync":
        with InferenceClient(base_url=base_url, **client_kwargs) as client:
            asyncio.run(scenario(Facade(client, False), server))
        return

    async def main() -> None:
        async with AsyncInferenceClient(base_url=base_url, **client_kwargs) as client:
            await scenario(Facade(client, True), server)

    if transport == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)

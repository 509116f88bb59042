"""The async client honours the caller's cancellation (asyncio.timeout, trio cancel scopes),
and a cancelled stream never returns a dirty connection to the pool."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
import trio

from inferwire import AsyncInferenceClient, TrioInferenceClient, UsageError
from inferwire._async import current_async_library
from inferwire.testing import FakeInferenceServer, chat_completion, chat_stream

MESSAGES = [{"role": "user", "content": "hi"}]
TOKENS = [f"t{i}" for i in range(20)]


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer(tokens=TOKENS) as fake:
        yield fake


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is Python 3.11+")
def test_asyncio_timeout_cancels_a_stream_and_the_connection_is_dropped(
        server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(TOKENS, delay_between_events=0.2))

    async def main() -> tuple[int, str]:
        async with AsyncInferenceClient(base_url=server.url("/v1")) as client:
            received = 0
            with pytest.raises(TimeoutError):  # noqa: PT012 - the timeout spans the stream
                async with asyncio.timeout(0.5):
                    stream = await client.chat_completion(MESSAGES, stream=True)
                    async for _ in stream:
                        received += 1
            assert 0 < received < len(TOKENS)
            output = await client.chat_completion(MESSAGES)
            return client.connections_opened, output.choices[0].message.content

    opened, text = asyncio.run(main())
    assert text == "".join(TOKENS)
    assert opened == 2
    assert server.connections_accepted == 2


def test_asyncio_task_cancellation_while_waiting_for_the_head(
        server: FakeInferenceServer) -> None:
    server.enqueue(chat_completion("slow", delay_before_headers=5.0))

    async def main() -> str:
        async with AsyncInferenceClient(base_url=server.url("/v1")) as client:
            task = asyncio.create_task(client.chat_completion(MESSAGES))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            output = await client.chat_completion(MESSAGES)
            return str(output.choices[0].message.content)

    assert asyncio.run(main()) == "".join(TOKENS)


def test_trio_cancel_scope_mid_stream(server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(TOKENS, delay_between_events=0.2))

    async def main() -> tuple[int, bool, str]:
        async with AsyncInferenceClient(base_url=server.url("/v1")) as client:
            received = 0
            with trio.move_on_after(0.5) as scope:
                stream = await client.chat_completion(MESSAGES, stream=True)
                async for _ in stream:
                    received += 1
            assert 0 < received < len(TOKENS)
            output = await client.chat_completion(MESSAGES)
            return client.connections_opened, scope.cancelled_caught, \
                str(output.choices[0].message.content)

    opened, cancelled, text = trio.run(main)
    assert cancelled
    assert text == "".join(TOKENS)
    assert opened == 2


def test_library_detection_and_pinning(server: FakeInferenceServer) -> None:
    async def which() -> str:
        return current_async_library()

    assert asyncio.run(which()) == "asyncio"
    assert trio.run(which) == "trio"
    with pytest.raises(UsageError, match="running asyncio or trio"):
        current_async_library()

    async def pinned() -> Any:
        async with TrioInferenceClient(base_url=server.url("/v1")) as client:
            return await client.chat_completion(MESSAGES)

    assert trio.run(pinned).choices[0].message.content == "".join(TOKENS)


def test_one_client_is_bound_to_one_event_loop_library(server: FakeInferenceServer) -> None:
    client = AsyncInferenceClient(base_url=server.url("/v1"))

    async def call() -> Any:
        try:
            return await client.health_check()
        finally:
            await client.close()

    assert asyncio.run(call()) is True
    with pytest.raises(UsageError, match="first used under asyncio"):
        trio.run(call)

"""The little an event loop does for a batch run, for asyncio and for trio: start item tasks,
hand their outcomes to the coordinator, and wait for the next outcome or a deadline."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

__all__ = ["BatchLoop", "open_loop"]


class BatchLoop(Protocol):
    """Task spawning and an outcome queue, on the running event loop."""

    def spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None: ...

    def put(self, message: Any) -> None: ...

    def get_nowait(self) -> Any: ...

    async def get(self, timeout: float | None) -> Any: ...


class _AsyncioLoop:
    __slots__ = ("_asyncio", "_queue", "_tasks")

    def __init__(self) -> None:
        import asyncio

        self._asyncio = asyncio
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        task = self._asyncio.ensure_future(fn(*args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def put(self, message: Any) -> None:
        self._queue.put_nowait(message)

    def get_nowait(self) -> Any:
        try:
            return self._queue.get_nowait()
        except self._asyncio.QueueEmpty:
            return None

    async def get(self, timeout: float | None) -> Any:
        if timeout is None:
            return await self._queue.get()
        try:
            return await self._asyncio.wait_for(self._queue.get(), timeout)
        except self._asyncio.TimeoutError:
            return None

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await self._asyncio.gather(*tasks, return_exceptions=True)


class _TrioLoop:
    __slots__ = ("_nursery", "_receive", "_send", "_trio")

    def __init__(self, nursery: Any) -> None:
        import trio

        self._trio = trio
        self._nursery = nursery
        self._send, self._receive = trio.open_memory_channel[Any](math.inf)

    def spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        self._nursery.start_soon(fn, *args)

    def put(self, message: Any) -> None:
        self._send.send_nowait(message)

    def get_nowait(self) -> Any:
        try:
            return self._receive.receive_nowait()
        except self._trio.WouldBlock:
            return None

    async def get(self, timeout: float | None) -> Any:
        with self._trio.move_on_after(math.inf if timeout is None else timeout):
            return await self._receive.receive()
        return None


@asynccontextmanager
async def open_loop(library: str) -> AsyncIterator[BatchLoop]:
    """A `BatchLoop` for `library` ("asyncio" or "trio"); leaving it cancels the item tasks
    still running."""
    if library == "trio":
        import trio

        # The item tasks never raise (their outcomes are messages), so whatever the nursery
        # would report comes from the block itself: the coordinator's own errors, the
        # caller's code, a cancellation. It is raised as itself after the nursery has closed,
        # not wrapped in the ExceptionGroup trio would make of it.
        raised: BaseException | None = None
        async with trio.open_nursery() as nursery:
            try:
                yield _TrioLoop(nursery)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, unwrapped
                raised = exc
            finally:
                nursery.cancel_scope.cancel()
        if raised is not None:
            try:
                raise raised
            finally:
                raised = None  # no reference cycle through the traceback
    else:
        loop = _AsyncioLoop()
        try:
            yield loop
        finally:
            await loop.aclose()

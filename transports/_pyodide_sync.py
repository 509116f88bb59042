"""The sync client under Pyodide, where the runtime can block on a promise (JSPI).

In a browser with JavaScript Promise Integration (current Chromium), ``pyodide.ffi.run_sync``
suspends the WebAssembly stack until an awaitable is done, so a blocking call can wait on
``fetch``. `InferenceClient` there is this class: every method runs the
`AsyncInferenceClient`'s (on the fetch transport) to its end with ``run_sync``, and a stream
is read one chunk at a time the same way. Where the runtime cannot (Node, a browser without
JSPI, code not entered through ``runPythonAsync``), making the client is a `UsageError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterator
from types import TracebackType
from typing import Any, TypeVar

from ._async import AsyncInferenceClient, AsyncStream
from ._common import Chat
from .sansio._errors import UsageError

__all__ = ["InferenceClient", "Stream"]

T = TypeVar("T")


def _run_sync(awaitable: Awaitable[T]) -> T:
    from pyodide.ffi import run_sync  # type: ignore[import-not-found]

    result: T = run_sync(awaitable)
    return result


def _blocking(awaitable: Awaitable[Any]) -> Any:
    result = _run_sync(awaitable)
    return Stream(result) if isinstance(result, AsyncStream) else result


class Stream(Iterator[T]):
    """A streamed result of the sync client under Pyodide: iterate it; `close()` (or
    ``with``) stops early, aborting the request."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncStream[T]) -> None:
        self._stream = stream

    @property
    def head(self) -> Any:
        """The response status and headers."""
        return self._stream.head

    @property
    def provider(self) -> str | None:
        """The inference provider serving this stream, if the server said so."""
        return self._stream.provider

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        try:
            item: T = _run_sync(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None
        return item

    def close(self) -> None:
        """Stop reading: the request is aborted."""
        _run_sync(self._stream.aclose())

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class InferenceClient:
    """`InferenceClient` under Pyodide with JSPI: the same methods and parameters, each
    running the `AsyncInferenceClient`'s on ``fetch`` to its end (see the module docs)."""

    def __init__(self, model: str | None = None, **options: Any) -> None:
        try:
            from pyodide.ffi import can_run_sync
        except ImportError:  # (an older Pyodide without run_sync)
            can_run_sync = None
        if can_run_sync is None or not can_run_sync():
            raise UsageError(
                "inferwire.InferenceClient (the sync client) cannot block here: this Pyodide "
                "runtime cannot wait on fetch synchronously (it needs JavaScript Promise "
                "Integration, as in current Chromium, and code run with runPythonAsync). "
                "Use AsyncInferenceClient (``await`` works at the top level of Pyodide code)")
        if options.pop("http_client", None) is not None:
            raise UsageError("http_client= has no meaning under Pyodide (fetch owns the "
                             "connections)", argument="http_client")
        self._async = AsyncInferenceClient(model, async_library="pyodide", **options)
        self.chat = Chat(self)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._async, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return _blocking(attr(*args, **kwargs))

        call.__name__ = name
        call.__doc__ = attr.__doc__
        return call

    def close(self) -> None:
        """Close the client (its pending requests are aborted)."""
        _run_sync(self._async.close())

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<InferenceClient(model={self._async.model!r}) on Pyodide fetch>"

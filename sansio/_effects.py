"""The effect protocol: what a flow asks of its transport.

A *flow* is a generator. It yields effects and receives their answers:

=====================  ==========================================================
effect                 the transport answers with
=====================  ==========================================================
``Send(request)``      a complete `Response` (the body read to the end, bounded)
``Open(request)``      a `ResponseHead`; the body stays pending on the connection
``Receive()``          the next chunk of the open body as bytes (``b""`` at its end)
``Sleep(seconds)``     ``None`` once the time has passed
=====================  ==========================================================

A transport that fails to perform an effect throws an `InferenceError` into the flow
(`ConnectError`, `InferenceTimeoutError`, `TransportError`); the flow decides what follows.
When the flow returns, its value is the task's result; a `Streaming` result hands the open
body and a `StreamDecoder` to the transport, which feeds the decoder the body's chunks.

A pending body that the flow neither reads to the end nor hands over is discarded by the
transport (its connection is closed, never reused) before the next effect is performed.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ._errors import InferenceError
from ._http import Request, ResponseHead

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "ERROR_BODY_LIMIT",
    "Done",
    "Effect",
    "Flow",
    "FlowRunner",
    "Open",
    "Receive",
    "Send",
    "Sleep",
    "StreamDecoder",
    "Streaming",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


DEFAULT_BODY_LIMIT = 64 << 20
"""The most decoded body bytes a `Send` reads unless it says otherwise."""
ERROR_BODY_LIMIT = 256 << 10
"""Error bodies (status >= 400) are cut to this many bytes: the message needs only the start."""


@dataclass(frozen=True, slots=True)
class Send:
    """Perform `request` and answer with the complete `Response`.

    The transport reads at most `limit` decoded body bytes: a longer success body raises
    `ResponseTooLargeError`; an error body (status >= 400) is cut to `ERROR_BODY_LIMIT`
    instead (and its connection is not reused).

    `attempt` counts the sends of this request by the retry rules (1, then 2, 3... for each
    retry; a redirected request keeps the count): transports report it, e.g. in logs.
    """

    request: Request
    limit: int = DEFAULT_BODY_LIMIT
    attempt: int = 1

    def body_limit(self, status: int) -> tuple[int, bool]:
        """(how many decoded bytes to read, whether more is an error) for a response status."""
        if status >= 400:
            return min(self.limit, ERROR_BODY_LIMIT), False
        return self.limit, True


@dataclass(frozen=True, slots=True)
class Open:
    """Perform `request` and answer with its `ResponseHead`, leaving the body pending.

    `attempt` is as on `Send`: 1 for the first send, 2, 3... for retries."""

    request: Request
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Receive:
    """Answer with the next chunk of the pending body (``b""`` once it has ended)."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds`, then answer ``None``."""

    seconds: float


Effect = Send | Open | Receive | Sleep
Flow = Generator[Effect, Any, T]
"""A flow yields effects, receives their answers and returns a result of type T."""


class StreamDecoder(Protocol[T_co]):
    """Incremental decoder of a response body into items.

    `feed` takes the next chunk of body bytes in any split and returns the items completed by
    it; `close` is called when the body ends and returns the last items (or raises
    `IncompleteStreamError`). `finished` turns true once the stream's own end marker was seen:
    the transport then reads whatever remains of the body without decoding it, so that the
    connection can be reused.
    """

    @property
    def finished(self) -> bool: ...

    def feed(self, data: bytes) -> Sequence[T_co]: ...

    def close(self) -> Sequence[T_co]: ...


@dataclass(frozen=True, slots=True)
class Streaming(Generic[T]):
    """A flow's result for a streamed call: the open response and how to decode its body."""

    head: ResponseHead
    decoder: StreamDecoder[T]


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """The flow has returned `value`."""

    value: T


class FlowRunner(Generic[T]):
    """Steps a flow for a transport: the only bookkeeping every transport loop needs.

    Typical driver::

        runner = FlowRunner(flow)
        step = runner.start()
        while not isinstance(step, Done):
            try:
                answer = perform(step)          # the transport's I/O
            except InferenceError as exc:
                step = runner.fail(exc)
            else:
                step = runner.answer(answer)
        return step.value
    """

    __slots__ = ("_flow",)

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow

    def start(self) -> Effect | Done[T]:
        """Run the flow to its first effect."""
        return self.answer(None)

    def answer(self, value: Any) -> Effect | Done[T]:
        """Send the answer of the last effect; return the next effect or the result."""
        try:
            return self._flow.send(value)
        except StopIteration as stop:
            return Done(stop.value)

    def fail(self, error: InferenceError) -> Effect | Done[T]:
        """Throw a transport failure into the flow; return the next effect or the result."""
        try:
            return self._flow.throw(error)
        except StopIteration as stop:
            return Done(stop.value)

    def close(self) -> None:
        """Abandon the flow (e.g. the caller was cancelled)."""
        self._flow.close()

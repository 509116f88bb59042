"""Sending a request with the retry policy, and turning error responses into errors.

These sub-flows are shared by every task flow: one place decides retries and error mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._effects import Flow, Open, Receive, Send, Sleep
from ._error_body import error_from_response, server_message_of
from ._errors import ConnectError
from ._http import Request, Response, ResponseHead
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = ["ERROR_BODY_LIMIT", "Runtime", "error_from_response", "open_response", "read_body",
           "send_request", "server_message_of"]

ERROR_BODY_LIMIT = 256 * 1024
"""Error bodies are read up to this many bytes (the rest is discarded with the connection)."""


def _no_jitter() -> float:
    return 1.0


@dataclass(frozen=True, slots=True)
class Runtime:
    """What a flow needs from the outside world besides effects: a clock and randomness.

    Transports pass ``time.time`` and ``random.random``; tests pass fixed functions. `now` is
    used only to resolve HTTP-date `Retry-After` values.
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    now: Callable[[], float] | None = None
    jitter: Callable[[], float] = _no_jitter


def read_body(limit: int = ERROR_BODY_LIMIT) -> Flow[bytes]:
    """Read the pending body of an opened response, up to `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk: bytes = yield Receive()
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:limit]


def _retry_wait(runtime: Runtime, attempt: int, retry_after: str | None) -> Sleep:
    now = runtime.now() if runtime.now is not None else None
    return Sleep(runtime.retry.delay(attempt, retry_after=retry_after, now=now,
                                     jitter=runtime.jitter()))


def _exchange(request: Request, runtime: Runtime, *, opening: bool) -> Flow[Any]:
    """Perform `request` (`Open` or `Send`), retrying per policy; raise the mapped error."""
    attempt = 0
    while True:
        try:
            answer: Response | ResponseHead = yield (Open(request) if opening else Send(request))
        except ConnectError:
            if not runtime.retry.can_retry(attempt):
                raise
            yield _retry_wait(runtime, attempt, None)
            attempt += 1
            continue
        status = answer.status
        if status < 400:
            return answer
        if isinstance(answer, Response):
            head, body = answer.head, answer.body
        else:
            head, body = answer, (yield from read_body())
        if status in runtime.retry.statuses and runtime.retry.can_retry(attempt):
            yield _retry_wait(runtime, attempt, head.header("retry-after"))
            attempt += 1
            continue
        raise error_from_response(head, body)


def send_request(request: Request, runtime: Runtime) -> Flow[Response]:
    """Send `request`, retrying per policy; return a 2xx/3xx response or raise the mapped error."""
    response: Response = yield from _exchange(request, runtime, opening=False)
    return response


def open_response(request: Request, runtime: Runtime) -> Flow[ResponseHead]:
    """Open `request` (body left pending), retrying per policy; raise the mapped error status."""
    head: ResponseHead = yield from _exchange(request, runtime, opening=True)
    return head

"""Sending a request: retries, redirects, offline mode and error mapping, decided once.

These sub-flows are shared by every task flow:

- **retries** follow the `RetryPolicy`: a connection that could not be made (`ConnectError`,
  but not `TLSError` or `ProxyError`, which would fail again the same way), or a 429/503
  status, is retried after the policy's wait; nothing else is re-sent. Each `Send`/`Open`
  carries its `attempt` number (1, then 2, 3... for retries) for the transports to report;
- **redirects** follow the rules of `._redirects` (credentials never cross origins);
- **offline mode** (``HF_HUB_OFFLINE``) refuses every request to a Hugging Face host before
  it is sent; requests to other URLs (a local server) go through;
- **errors**: an error status becomes the fitting `HTTPStatusError`, which keeps the request
  with its secret headers redacted; a body-less success (204, 205, 304) where a body is
  expected is named as such.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._effects import DEFAULT_BODY_LIMIT, ERROR_BODY_LIMIT, Flow, Open, Receive, Send, Sleep
from ._error_body import error_from_response, server_message_of
from ._errors import (
    ConnectError,
    MalformedResponseError,
    OfflineModeError,
    ProxyError,
    RedirectError,
    TLSError,
)
from ._http import Request, Response, ResponseHead
from ._ids import host_of, is_hf_host
from ._redirects import REDIRECT_STATUSES, redirected_request
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = ["ERROR_BODY_LIMIT", "Runtime", "error_from_response", "open_response", "read_body",
           "send_request", "server_message_of"]

_NO_BODY_STATUSES = frozenset({204, 205, 304})


def _no_jitter() -> float:
    return 1.0


def _ignore(message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Runtime:
    """What a flow needs from the outside world besides effects.

    Transports pass ``time.time``, ``random.random`` and a function that emits warnings;
    tests pass fixed functions. `now` is used only to resolve HTTP-date `Retry-After` values.
    `progress` is told how a provider's long-running job is doing.
    `offline` is ``HF_HUB_OFFLINE``; `hf_hosts` are hosts that count as Hugging Face besides
    the usual ones (a configured router or Hub endpoint). `body_limit` bounds a success body
    after decompression (the client's ``max_response_size``).
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    now: Callable[[], float] | None = None
    jitter: Callable[[], float] = _no_jitter
    warn: Callable[[str], None] = _ignore
    offline: bool = False
    hf_hosts: tuple[str, ...] = ()
    body_limit: int = DEFAULT_BODY_LIMIT
    #: told a `JobProgress` after each poll of a provider's job
    progress: Callable[[Any], None] = _ignore

    def check_online(self, request: Request) -> None:
        """Raise `OfflineModeError` if offline mode forbids sending `request`."""
        if self.offline and is_hf_host(host_of(request.url), self.hf_hosts):
            raise OfflineModeError(
                f"HF_HUB_OFFLINE is set: not sending {request.method} {request.url} to Hugging "
                "Face (unset HF_HUB_OFFLINE, or pass base_url= of a local server)",
                argument="model",
            )


def read_body(limit: int = ERROR_BODY_LIMIT) -> Flow[bytes]:
    """Read the pending body of an opened response, up to `limit` bytes (the rest is left,
    and the transport then discards the connection)."""
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


def _error(head: ResponseHead, body: bytes) -> Exception:
    if head.status < 400:  # a 3xx that is not a redirect we follow
        what = "a redirect without a Location header" if head.status in REDIRECT_STATUSES else (
            "a status that is not a redirect inferwire can follow")
        reason = f" {head.reason}" if head.reason else ""
        return RedirectError(
            f"the server answered {head.status}{reason} ({what}) to {head.request.method} "
            f"{head.request.url}", received=body or None, status=head.status)
    redacted = head.request.redacted()
    if redacted is not head.request:
        head = ResponseHead(head.status, head.headers, redacted, head.reason)
    return error_from_response(head, body)


def _exchange(request: Request, runtime: Runtime, *, opening: bool, limit: int | None,
              expect_body: bool) -> Flow[Any]:
    """Perform `request` (`Open` or `Send`) with retries and redirects; raise mapped errors."""
    attempt = 0
    hops = 0
    while True:
        runtime.check_online(request)
        try:
            if opening:
                answer: Response | ResponseHead = yield Open(request, attempt + 1)
            else:
                answer = yield Send(request, runtime.body_limit if limit is None else limit,
                                    attempt + 1)
        except (TLSError, ProxyError):
            raise
        except ConnectError:
            if not runtime.retry.can_retry(attempt):
                raise
            yield _retry_wait(runtime, attempt, None)
            attempt += 1
            continue
        status = answer.status
        if status in _NO_BODY_STATUSES and expect_body:
            raise MalformedResponseError(
                f"the server answered {status} (no content) to {request.method} "
                f"{request.url}, where a body was expected", status=status)
        if status < 300:
            return answer
        head = answer.head if isinstance(answer, Response) else answer
        if status in REDIRECT_STATUSES and head.header("location") is not None:
            if opening:
                yield from read_body(ERROR_BODY_LIMIT)  # let the connection be reused
            request = redirected_request(head, hops)
            hops += 1
            continue
        if status == 304:
            return answer
        if isinstance(answer, Response):
            body = answer.body
        else:
            body = yield from read_body()
        if status in runtime.retry.statuses and runtime.retry.can_retry(attempt):
            yield _retry_wait(runtime, attempt, head.header("retry-after"))
            attempt += 1
            continue
        raise _error(head, body)


def send_request(request: Request, runtime: Runtime, *, limit: int | None = None,
                 expect_body: bool = True) -> Flow[Response]:
    """Send `request` with retries and redirects; return its 2xx response or raise the mapped
    error. `limit` bounds the decoded body (default: `Send`'s); with `expect_body`, a 204,
    205 or 304 answer is a `MalformedResponseError` naming the status."""
    response: Response = yield from _exchange(request, runtime, opening=False, limit=limit,
                                              expect_body=expect_body)
    return response


def open_response(request: Request, runtime: Runtime) -> Flow[ResponseHead]:
    """Open `request` (body left pending) with retries and redirects; return the 2xx head or
    raise the mapped error."""
    head: ResponseHead = yield from _exchange(request, runtime, opening=True, limit=None,
                                              expect_body=True)
    return head

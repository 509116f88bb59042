"""Sending a request with the retry policy, and turning error responses into errors.

These sub-flows are shared by every task flow: one place decides retries and error mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._effects import Flow, Open, Receive, Send, Sleep
from ._errors import ConnectError, HTTPStatusError, http_status_error
from ._http import Headers, Request, Response, ResponseHead, get_header
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = ["ERROR_BODY_LIMIT", "Runtime", "error_from_response", "open_response", "read_body",
           "send_request", "server_message_of"]

ERROR_BODY_LIMIT = 256 * 1024
"""Error bodies are read up to this many bytes (the rest is discarded with the connection)."""

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-trace-id", "x-amz-cf-id")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


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


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, str):
        return data or None
    if isinstance(data, list):
        parts = [m for m in (_message_from_json(item) for item in data) if m]
        return "; ".join(parts) or None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        return _message_from_json(error)
    if isinstance(error, str) and error:
        description = data.get("error_description")
        return f"{error}: {description}" if isinstance(description, str) else error
    if isinstance(error, list):
        return _message_from_json(error)
    for key in ("message", "detail", "msg", "error_description", "errors"):
        found = _message_from_json(data.get(key))
        if found:
            return found
    return None


def server_message_of(headers: Headers, body: bytes) -> tuple[str | None, str | None]:
    """The server's own error message and error type, from headers and body (any shape)."""
    header_message = get_header(headers, "x-error-message")
    message: str | None = None
    error_type: str | None = None
    stripped = body.strip()
    if stripped[:1] in (b"{", b"["):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if data is not None:
            message = _message_from_json(data)
            if isinstance(data, dict):
                kind = data.get("error_type")
                error = data.get("error")
                if kind is None and isinstance(error, dict):
                    kind = error.get("type")
                error_type = kind if isinstance(kind, str) else None
    if message is None and stripped:
        content_type = get_header(headers, "content-type") or ""
        if b"<html" in stripped[:512].lower() or "html" in content_type:
            title = _TITLE.search(stripped)
            text = title.group(1).decode("utf-8", "replace").strip() if title else ""
            message = f"HTML error page: {text}" if text else "HTML error page"
        elif not stripped.startswith((b"{", b"[")):
            message = stripped[:2000].decode("utf-8", "replace")
    if header_message and message and header_message not in message:
        message = f"{header_message}\n{message}"
    return header_message if message is None else message, error_type


def error_from_response(head: ResponseHead, body: bytes) -> HTTPStatusError:
    """Map an error status with its body to the fitting `HTTPStatusError`."""
    message, error_type = server_message_of(head.headers, body)
    request_id = next((v for v in map(head.header, _REQUEST_ID_HEADERS) if v), None)
    return http_status_error(
        head, body, server_message=message, request_id=request_id, error_type=error_type
    )


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

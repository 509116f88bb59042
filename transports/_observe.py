"""What the transports report about each request: a DEBUG log line, and with ``HF_DEBUG`` a
``curl`` command, written once for the sync and async effect loops.

Every `Send`/`Open` that a flow yields is one request on the wire; when it completes or fails
the loop reports it here. With the ``inferwire`` logger enabled for DEBUG that is one line::

    POST https://router.huggingface.co/v1/chat/completions status=200 elapsed_ms=182.4
    request_id=Root=1-6650... attempt=1

(on one line), or ``error=ConnectError`` in place of the status. A retry is its own line with
``attempt=2``, ``3``...: the core decides what an attempt is and says so on the effect. The
fields are also on the record (``record.http_method``, ``http_url``, ``http_status``,
``http_error``, ``elapsed_ms``, ``request_id``, ``attempt``).

Secrets never appear: no header value is logged, and the URL loses its userinfo and the values
of query parameters named like credentials (``api_key``, ``token``, ``X-Amz-Signature``...).
With DEBUG off (and no ``HF_DEBUG``), `begin` costs one cached ``isEnabledFor`` check.
"""

from __future__ import annotations

import logging
import shlex
import sys
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from .sansio._error_body import REQUEST_ID_HEADERS
from .sansio._http import SECRET_HEADERS

if TYPE_CHECKING:
    from .sansio._http import Request, Response, ResponseHead

__all__ = ["CURL_BODY_LIMIT", "Watch", "begin", "curl_command", "last_response", "logger",
           "redact_url"]

logger = logging.getLogger("inferwire")

last_response: ContextVar[Response | ResponseHead | None] = ContextVar(
    "inferwire_last_response", default=None)
"""The last response (head) the async effect loop received in the current task: batch runs
read its request id and rate headers after a call returns."""

_DEBUG = logging.DEBUG
_MASK = "***"
_SECRET_PARAM_WORDS = ("token", "key", "secret", "password", "passwd", "auth", "signature",
                       "credential", "session", "sig")
_SECRET_PARAMS = frozenset({"code", "sig", "jwt", "pwd"})

CURL_BODY_LIMIT = 1000
"""The most characters of a text body shown in a ``curl`` command (the rest is cut)."""


def _secret_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_PARAMS or any(word in lowered for word in _SECRET_PARAM_WORDS)


def _redact_query(query: str) -> str:
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and _secret_param(name):
            pair = f"{name}={_MASK}"
        parts.append(pair)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """`url` without credentials: userinfo becomes ``***@`` and the values of query
    parameters named like secrets become ``***`` (other parameters are kept as they are)."""
    if "@" not in url and "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{_MASK}@{netloc.rpartition('@')[2]}"
    query = _redact_query(parts.query) if parts.query else ""
    return SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment).geturl()


def _header_value(name: str, value: str) -> str:
    if name not in SECRET_HEADERS:
        # a header of the user's named like a credential (X-My-Token...) is hidden too
        return "<REDACTED>" if _secret_param(name) else value
    if name in ("authorization", "proxy-authorization"):
        scheme, sep, _ = value.partition(" ")
        if sep and scheme.isalpha() and len(scheme) < 16:
            return f"{scheme} <TOKEN>"
        return "<TOKEN>"
    return "<REDACTED>"


def _body_argument(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of binary data>"
    shown = text[:CURL_BODY_LIMIT]
    if any(c < " " and c not in "\n\r\t" for c in shown):
        return f"<{len(body)} bytes of binary data>"
    if len(text) > CURL_BODY_LIMIT:
        return f"{shown} ... [truncated: {len(body)} bytes in all]"
    return text


def curl_command(request: Request) -> str:
    """An equivalent ``curl`` command line for `request`, safe to show: secret header values
    are placeholders (``Authorization: Bearer <TOKEN>``), the URL is redacted, and a body that
    is long or not text is shortened or described (``<N bytes of binary data>``)."""
    words = ["curl", "-X", request.method]
    for name, value in request.headers:
        words += ["-H", f"{name}: {_header_value(name, value)}"]
    if request.body:
        words += ["-d", _body_argument(request.body)]
    words.append(redact_url(request.url))
    return " ".join(shlex.quote(word) for word in words)


class Watch:
    """One request being performed: `done` or `failed` logs its line."""

    __slots__ = ("attempt", "request", "started")

    def __init__(self, request: Request, attempt: int) -> None:
        self.request = request
        self.attempt = attempt
        self.started = time.monotonic()

    def done(self, answer: Response | ResponseHead) -> None:
        """The request completed with `answer` (a full response, or an opened head)."""
        request_id = next((v for v in map(answer.header, REQUEST_ID_HEADERS) if v), None)
        self._log(f"status={answer.status}", answer.status, None, request_id)

    def failed(self, error: BaseException) -> None:
        """The request failed with `error` (a transport error, or a cancellation)."""
        name = type(error).__name__
        self._log(f"error={name}", None, name, None)

    def _log(self, outcome: str, status: int | None, error: str | None,
             request_id: str | None) -> None:
        elapsed = (time.monotonic() - self.started) * 1000.0
        request = self.request
        url = redact_url(request.url)
        logger.debug(
            "%s %s %s elapsed_ms=%.1f request_id=%s attempt=%d",
            request.method, url, outcome, elapsed, request_id or "-", self.attempt,
            extra={"http_method": request.method, "http_url": url, "http_status": status,
                   "http_error": error, "elapsed_ms": elapsed, "request_id": request_id,
                   "attempt": self.attempt})


def begin(request: Request, attempt: int, curl: bool) -> Watch | None:
    """A request is about to be sent: with `curl` (``HF_DEBUG``), print its ``curl`` command
    to standard error; return the `Watch` that logs its line, or None when DEBUG is off."""
    if curl:
        print(curl_command(request), file=sys.stderr, flush=True)
    if not logger.isEnabledFor(_DEBUG):
        return None
    return Watch(request, attempt)

"""The one error tree of inferwire.

Every error carries inferwire's own value types (never an httpx, h11, trio or socket object),
so the same `except` clauses work on every transport.

    InferenceError
    ├── UsageError (also ValueError)            bad arguments, unknown provider or task
    │   ├── UsageTypeError (also TypeError)         unknown keyword, wrong argument type
    │   └── OfflineModeError                        HF_HUB_OFFLINE forbids reaching Hugging Face
    ├── RemoteProtocolError                     the server broke the protocol
    │   ├── MalformedResponseError                  body or event is not what the API promises
    │   ├── EventTooLargeError                      a line or event exceeds the configured bound
    │   ├── ResponseTooLargeError                   a body (decoded) exceeds the configured bound
    │   ├── RedirectError                           a bad Location, or too many redirects
    │   └── IncompleteStreamError                   the body ended in the middle of the stream
    ├── HTTPStatusError                         a non-2xx status (server message, request id)
    │   ├── BadRequestError (also ValueError)       400
    │   ├── AuthenticationError                     401
    │   ├── PermissionDeniedError                   403
    │   ├── NotFoundError                           404
    │   ├── UnprocessableEntityError                422
    │   ├── RateLimitError                          429
    │   └── ServerError                             5xx
    │       └── ServiceUnavailableError                 503
    ├── InStreamError                           an error object sent inside a stream
    │   ├── ValidationError, GenerationError, OverloadedError, IncompleteGenerationError
    │   └── UnknownError
    └── TransportError                          the connection failed
        ├── ConnectError                            nothing was sent: safe to retry
        │   ├── TLSError                                the TLS handshake failed (not retried)
        │   └── ProxyError                              the proxy refused the tunnel (not retried)
        ├── InferenceTimeoutError (also TimeoutError)
        └── ConnectTimeoutError (ConnectError and InferenceTimeoutError)
"""

from __future__ import annotations

from typing import Any

from ._http import Request, ResponseHead

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConnectError",
    "ConnectTimeoutError",
    "EventTooLargeError",
    "GenerationError",
    "HTTPStatusError",
    "InStreamError",
    "IncompleteGenerationError",
    "IncompleteStreamError",
    "InferenceError",
    "InferenceTimeoutError",
    "InferenceWarning",
    "MalformedResponseError",
    "NotFoundError",
    "OfflineModeError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProxyError",
    "RateLimitError",
    "RedirectError",
    "RemoteProtocolError",
    "ResponseTooLargeError",
    "ServerError",
    "ServiceUnavailableError",
    "TLSError",
    "TransportError",
    "UnknownError",
    "UnprocessableEntityError",
    "UsageError",
    "UsageTypeError",
    "ValidationError",
    "http_status_error",
    "in_stream_error",
    "snippet",
]

_SNIPPET = 300


def snippet(data: bytes | str, limit: int = _SNIPPET) -> str:
    """A short, printable excerpt of received data for error messages."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _rebuild(cls: type[InferenceError], args: tuple[Any, ...], state: dict[str, Any]
             ) -> InferenceError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InferenceError(Exception):
    """Base class of every error inferwire raises.

    Errors pickle with their attributes (for logs, multiprocessing and Ray); the requests they
    keep have their secret headers redacted.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, self.__dict__)


class InferenceWarning(UserWarning):
    """What inferwire warns about: a server that refused parameters, a billing header that
    was replaced, a provider mapping in staging... (category for `warnings` filters)."""


class UsageError(InferenceError, ValueError):
    """The call itself was wrong: bad argument, bad combination, unknown provider or task."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class UsageTypeError(UsageError, TypeError):
    """A usage error that is also a `TypeError`: an unknown keyword argument or an argument of
    the wrong type (what Python, and huggingface_hub, raise for those)."""


class OfflineModeError(UsageError):
    """``HF_HUB_OFFLINE`` is set and the call would reach Hugging Face (the Hub or the router)."""


class RemoteProtocolError(InferenceError):
    """The server sent something the protocol does not allow."""

    def __init__(
        self, message: str, *, received: bytes | str | None = None, status: int | None = None
    ) -> None:
        if received is not None:
            message = f"{message}; received: {snippet(received)!r}"
        super().__init__(message)
        self.received = received
        self.status = status


class MalformedResponseError(RemoteProtocolError):
    """A body or event could not be parsed as the API's documented shape."""


class EventTooLargeError(RemoteProtocolError):
    """A stream line or event exceeded the configured size bound."""


class ResponseTooLargeError(RemoteProtocolError):
    """A response body (after decompression) exceeded the configured size bound."""


class RedirectError(RemoteProtocolError):
    """The server redirected badly: an unusable ``Location``, a loop, or too many redirects."""


class IncompleteStreamError(RemoteProtocolError):
    """The response body ended in the middle of a stream (a truncated event or no end marker)."""


class HTTPStatusError(InferenceError):
    """The server answered with an error status.

    `server_message` is the message the server put in its body (JSON `error`/`message`/`detail`
    fields, or the text of a non-JSON body); `request_id` comes from the usual request-id headers.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        server_message: str | None,
        request_id: str | None,
        body: bytes,
        request: Request,
        head: ResponseHead | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.status_code = status
        self.server_message = server_message
        self.request_id = request_id
        self.body = body
        self.request = request
        self.head = head
        self.error_type = error_type


class BadRequestError(HTTPStatusError, ValueError):
    """HTTP 400."""


class AuthenticationError(HTTPStatusError):
    """HTTP 401: the token is missing or wrong."""


class PermissionDeniedError(HTTPStatusError):
    """HTTP 403."""


class NotFoundError(HTTPStatusError):
    """HTTP 404: wrong URL or unknown model."""


class UnprocessableEntityError(HTTPStatusError):
    """HTTP 422: the server rejected the parameters (TGI validation errors)."""


class RateLimitError(HTTPStatusError):
    """HTTP 429."""


class ServerError(HTTPStatusError):
    """HTTP 5xx."""


class ServiceUnavailableError(ServerError):
    """HTTP 503, e.g. a model that is still loading."""


_STATUS_CLASSES: dict[int, type[HTTPStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def http_status_error(
    head: ResponseHead,
    body: bytes,
    *,
    server_message: str | None,
    request_id: str | None,
    error_type: str | None = None,
) -> HTTPStatusError:
    """Build the `HTTPStatusError` subclass that fits `head.status`."""
    status = head.status
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else HTTPStatusError)
    if error_type in _STREAM_CLASSES:
        # TGI's typed errors (`error_type: validation`...) are catchable by their kind, as in
        # huggingface_hub, and by their status.
        cls = _TYPED_STATUS_CLASSES[cls, error_type]
    reason = f" {head.reason}" if head.reason else ""
    lines = [f"{status}{reason} from {head.request.method} {head.request.url}"]
    if request_id:
        lines[0] += f" (request id: {request_id})"
    if server_message:
        lines.append(server_message)
    elif body:
        lines.append(f"body: {snippet(body)!r}")
    return cls(
        "\n".join(lines),
        status=status,
        server_message=server_message,
        request_id=request_id,
        body=body,
        request=head.request,
        head=head,
        error_type=error_type,
    )


class InStreamError(InferenceError):
    """The server reported an error inside an otherwise successful stream."""

    def __init__(self, message: str, *, error_type: str | None = None, payload: Any = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.payload = payload


class ValidationError(InStreamError):
    """In-stream error of type `validation` (e.g. too many tokens requested)."""


class GenerationError(InStreamError):
    """In-stream error of type `generation`."""


class OverloadedError(InStreamError):
    """In-stream error of type `overloaded`."""


class IncompleteGenerationError(InStreamError):
    """In-stream error of type `incomplete_generation`."""


class UnknownError(InStreamError):
    """An in-stream error of any other type."""


_STREAM_CLASSES: dict[str, type[InStreamError]] = {
    "validation": ValidationError,
    "generation": GenerationError,
    "overloaded": OverloadedError,
    "incomplete_generation": IncompleteGenerationError,
}


def _typed_status_classes() -> dict[tuple[type[HTTPStatusError], str], type[HTTPStatusError]]:
    """One class per (status class, TGI error kind), made once at import and named in this
    module (so errors of them pickle): e.g. ``UnprocessableEntityError_Validation``, both an
    `UnprocessableEntityError` and a `ValidationError`."""
    classes: dict[tuple[type[HTTPStatusError], str], type[HTTPStatusError]] = {}
    for status_cls in {*_STATUS_CLASSES.values(), ServerError, HTTPStatusError}:
        for kind, kind_cls in _STREAM_CLASSES.items():
            name = f"{status_cls.__name__}_{kind.title().replace('_', '')}"
            doc = f"A `{status_cls.__name__}` whose body says ``error_type: {kind}``."
            made = type(name, (status_cls, kind_cls), {"__doc__": doc, "__module__": __name__})
            globals()[name] = made
            classes[status_cls, kind] = made
    return classes


_TYPED_STATUS_CLASSES = _typed_status_classes()


def in_stream_error(error: Any, error_type: Any = None) -> InStreamError:
    """Map an in-stream error object (TGI `error`+`error_type` or OpenAI `{"error": {...}}`)."""
    if isinstance(error, dict):
        message = error.get("message") or error.get("error") or str(error)
        error_type = error_type or error.get("type") or error.get("code")
    else:
        message = str(error)
    kind = error_type if isinstance(error_type, str) else None
    cls = _STREAM_CLASSES.get(kind or "", UnknownError)
    return cls(str(message), error_type=kind, payload=error)


class TransportError(InferenceError):
    """The connection failed (refused, reset, TLS failure, closed early)."""


class ConnectError(TransportError):
    """No connection could be made, so the request was not sent: retrying is safe."""


class TLSError(ConnectError):
    """The TLS handshake failed (certificate, protocol, or a plain-HTTP server): not retried."""


class ProxyError(ConnectError):
    """The proxy refused to connect us (e.g. 407 to ``CONNECT``): not retried."""


class InferenceTimeoutError(TransportError, TimeoutError):
    """A connect or read timeout expired. Raised the same way on every transport."""


class ConnectTimeoutError(ConnectError, InferenceTimeoutError):
    """The connect timeout expired: a timeout, and like every connect failure safe to retry."""

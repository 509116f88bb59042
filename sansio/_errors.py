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
    │   │   └── ContextLengthError                      the input is longer than the model takes
    │   ├── AuthenticationError                     401
    │   ├── PaymentRequiredError                    402: out of credits
    │   ├── PermissionDeniedError                   403
    │   ├── NotFoundError                           404
    │   ├── UnprocessableEntityError                422
    │   ├── RateLimitError                          429
    │   └── ServerError                             5xx
    │       └── ServiceUnavailableError                 503
    ├── JobError                                a provider's job gave no result (its job id)
    │   ├── JobFailedError                          the provider reports the job failed
    │   ├── JobCanceledError                        the job was canceled at the provider
    │   └── JobTimeoutError (also InferenceTimeoutError)  still pending at the maximum wait
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
    "ContextLengthError",
    "EventTooLargeError",
    "GenerationError",
    "HTTPStatusError",
    "InStreamError",
    "IncompleteGenerationError",
    "IncompleteStreamError",
    "InferenceError",
    "InferenceTimeoutError",
    "InferenceWarning",
    "JobCanceledError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "MalformedResponseError",
    "NotFoundError",
    "OfflineModeError",
    "OverloadedError",
    "PaymentRequiredError",
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
    `provider` names the inference provider that answered, when known (a provider call, or
    the router's ``x-inference-provider`` header); `code` is a stable name for errors worth
    telling apart: ``"payment_required"`` (402), ``"context_length_exceeded"``, else the
    server's error type if it sent one.
    """

    provider: str | None = None

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
        self.code = error_type
        if head is not None:
            self.provider = head.header("x-inference-provider") or None

    @property
    def retry_after(self) -> str | None:
        """The response's ``Retry-After`` header (seconds or an HTTP date), if any."""
        return self.head.header("retry-after") if self.head is not None else None


class BadRequestError(HTTPStatusError, ValueError):
    """HTTP 400."""


class ContextLengthError(BadRequestError):
    """A 400 (or 413) whose message says the input does not fit the model's context: shorten
    the prompt or lower ``max_tokens``. Other statuses with such a message keep their class
    and get ``code == "context_length_exceeded"``."""


class PaymentRequiredError(HTTPStatusError):
    """HTTP 402: the account is out of credits (Inference Providers' billing)."""


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
    402: PaymentRequiredError,
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
    context = status in _CONTEXT_STATUSES and _says_context_length(server_message or "")
    if context and (cls is BadRequestError or status == 413):
        cls = ContextLengthError
    reason = f" {head.reason}" if head.reason else ""
    lines = [f"{status}{reason} from {head.request.method} {head.request.url}"]
    if request_id:
        lines[0] += f" (request id: {request_id})"
    if server_message:
        lines.append(server_message)
    elif body:
        lines.append(f"body: {snippet(body)!r}")
    error = cls(
        "\n".join(lines),
        status=status,
        server_message=server_message,
        request_id=request_id,
        body=body,
        request=head.request,
        head=head,
        error_type=error_type,
    )
    if status == 402:
        error.code = "payment_required"
    elif context:
        error.code = "context_length_exceeded"
    return error


_CONTEXT_STATUSES = frozenset({400, 413, 422})
_CONTEXT_WORDS = ("context length", "context window", "context_length", "maximum context",
                  "prompt is too long", "too many tokens", "tokens + `max_new_tokens`",
                  "input is too long", "exceeds the model")


def _says_context_length(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _CONTEXT_WORDS)


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


class JobError(InferenceError):
    """A provider's long-running job (a queue request, a prediction, a video task) ended
    without a result. `provider`, `job_id` and `status` (the provider's own word) say which
    job and how; `detail` is the provider's message, if any."""

    def __init__(self, message: str, *, provider: str, job_id: str | None,
                 status: str | None, detail: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.job_id = job_id
        self.status = status
        self.detail = detail


class JobFailedError(JobError):
    """The provider reports that the job failed (or answered a status inferwire does not
    know, which it cannot wait on)."""


class JobCanceledError(JobError):
    """The job was canceled at the provider."""


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


class JobTimeoutError(JobError, InferenceTimeoutError):
    """The job was still pending when the client's maximum wait for jobs ran out
    (``job_timeout``); it may still finish at the provider."""

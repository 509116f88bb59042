"""HTTP value types exchanged between flows and transports.

These are plain, immutable descriptions: a transport turns a `Request` into bytes on a wire
(or into an httpx call), and answers with a `Response` or a `ResponseHead`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

__all__ = ["SECRET_HEADERS", "Headers", "Request", "Response", "ResponseHead", "get_header",
           "make_headers"]

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

Headers = tuple[tuple[str, str], ...]
"""Header pairs in order, names lower-cased."""

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
"""Headers whose values are secrets: never shown in a repr or an error."""


def make_headers(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    """Normalise header pairs: names lower-cased, later duplicates replace earlier ones."""
    pairs = items.items() if isinstance(items, Mapping) else items
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name.lower()] = value
    return tuple(merged.items())


def get_header(headers: Headers, name: str) -> str | None:
    """The last value of header `name` (lower-case), or None."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found


def _redacted(headers: Headers) -> list[tuple[str, str]]:
    return [(k, "***" if k in SECRET_HEADERS else v) for k, v in headers]


@dataclass(frozen=True, slots=True, repr=False)
class Request:
    """One HTTP request to make. `body` is the exact bytes to send (None: no body)."""

    method: str
    url: str
    headers: Headers = ()
    body: bytes | None = None

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None."""
        return get_header(self.headers, name.lower())

    @property
    def host(self) -> str:
        """The URL's host[:port], for messages."""
        return urlsplit(self.url).netloc

    def redacted(self) -> Request:
        """This request with the values of secret headers replaced by ``***`` (what errors
        keep, so that an error can be logged or pickled without the token)."""
        if not any(k in SECRET_HEADERS for k, _ in self.headers):
            return self
        return Request(self.method, self.url, tuple(_redacted(self.headers)), self.body)

    def __repr__(self) -> str:
        # Secrets never appear in a repr: tokens travel only inside `headers`.
        size = "no body" if self.body is None else f"{len(self.body)} bytes"
        return f"<Request {self.method} {self.url} headers={_redacted(self.headers)} {size}>"


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status line and headers of a response whose body has not been read yet."""

    status: int
    headers: Headers
    request: Request
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None."""
        return get_header(self.headers, name.lower())


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, headers and the (decompressed) body bytes."""

    status: int
    headers: Headers
    body: bytes
    request: Request
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None."""
        return get_header(self.headers, name.lower())

    @property
    def head(self) -> ResponseHead:
        """This response without its body."""
        return ResponseHead(self.status, self.headers, self.request, self.reason)

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes from {self.request.url}>"

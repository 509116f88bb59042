"""Internals of `inferwire.testing`: what the fake server records and what it plays back,
as values: `RecordedRequest`, `Reply` and its options, and the SSE encoding of events.

Nothing here is public API; `inferwire.testing` re-exports what users need. Standard library
only.
"""

from __future__ import annotations

import dataclasses
import json as _json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "HeaderPairs",
    "HeadersLike",
    "RecordedRequest",
    "Reply",
    "ReplyOptions",
    "SSEStyle",
    "apply_options",
    "dumps",
    "merge_headers",
    "sse_events",
]

HeaderPairs: TypeAlias = tuple[tuple[str, str], ...]
"""Header pairs in the order they are sent, names as given."""

HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Headers given by a user: a mapping or an iterable of (name, value) pairs."""


# --------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake server received, as it arrived on the wire.

    Attributes:
        method: The request method, upper-case (``"POST"``).
        path: The path of the request target, without the query (``"/v1/chat/completions"``).
        query: The raw query string, without the ``?`` (``""`` when there is none).
        headers: Header names lower-cased; repeated headers are joined with ``", "``.
        body: The raw request body (de-chunked when it was sent chunked).
        json: The body parsed as JSON, or None when it is empty or not JSON.
        target: The raw request target (path and query) from the request line.
        http_version: ``"HTTP/1.1"`` or ``"HTTP/1.0"``.
        raw_headers: Every header line as sent: original case, order and repetitions.
        connection_id: 1-based number of the TCP connection the request arrived on. Two
            requests with the same ``connection_id`` prove that the client reused a
            keep-alive connection.
        index: 0-based position of this request among all requests the server received.
        body_chunked: True when the client sent the body with ``Transfer-Encoding: chunked``.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any
    target: str
    http_version: str
    raw_headers: HeaderPairs
    connection_id: int
    index: int
    body_chunked: bool = False

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, decoded (the last value wins for a repeated name)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``default``."""
        return self.headers.get(name.lower(), default)

    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------


class _TransportOptions(TypedDict, total=False):
    delay_before_headers: float
    delay_between_events: float
    disconnect_after_events: int | None
    split_events: bool | int
    gzip: bool
    chunked: bool
    keepalive: bool


class _HeadOptions(_TransportOptions, total=False):
    headers: HeadersLike | None
    reason: str | None


class ReplyOptions(_HeadOptions, total=False):
    """Options that every reply builder of `inferwire.testing` accepts as keyword arguments.

    Keys:
        status: The HTTP status code (default: the builder's, usually 200).
        reason: The reason phrase (default: the standard phrase for ``status``).
        headers: Extra headers (mapping or pairs). A header with the same name as one the
            builder sets (case-insensitive) replaces it; others are appended.
        delay_before_headers: Seconds to wait before sending anything (read-timeout tests).
        delay_between_events: Seconds to wait between two body events.
        disconnect_after_events: Send at most this many body events, then close the socket
            without finishing the body (no chunked terminator, or fewer bytes than
            Content-Length). ``0`` closes right after the headers.
        split_events: Write each event across several HTTP chunks. ``True`` cuts at
            deterministic awkward places: inside the ``data:`` field name, in the middle of
            the first line, inside the first multi-byte UTF-8 character, between every CR and
            LF, and before the last byte. An ``int`` n > 0 cuts every n bytes (``1``: one byte
            per chunk).
        gzip: Compress the body (``Content-Encoding: gzip``). Each event is flushed on its
            own, so a streaming client can decode events as they arrive.
        chunked: ``True`` for ``Transfer-Encoding: chunked``, ``False`` for Content-Length.
        keepalive: ``False`` sends ``Connection: close`` and closes the connection after the
            reply.
    """

    status: int


_OPTION_NAMES = (
    frozenset(ReplyOptions.__annotations__)
    | frozenset(_HeadOptions.__annotations__)
    | frozenset(_TransportOptions.__annotations__)
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted HTTP response: status, headers, body events and how to send them.

    Build replies with the builders of `inferwire.testing` (`chat_stream`, `error`,
    `replay`, ...) rather than by hand; change options of an existing reply with
    `with_options`.

    Attributes:
        status: HTTP status code.
        headers: Header pairs, in order. The server adds ``Content-Length`` or
            ``Transfer-Encoding: chunked``, ``Content-Encoding: gzip`` and
            ``Connection: close`` as needed, unless the reply sets ``Content-Length`` or
            ``Transfer-Encoding`` itself: then the body is written verbatim, with no framing
            and no compression (for malformed-framing tests).
        events: The body as a sequence of pieces ("events"): one SSE event each for streams,
            a single piece for JSON bodies. Delays, disconnects and splitting work per event.
        reason: Reason phrase; None uses the standard phrase for ``status``.
        chunked: Send the body with chunked transfer encoding instead of Content-Length.
        delay_before_headers: See `ReplyOptions`.
        delay_between_events: See `ReplyOptions`.
        disconnect_after_events: See `ReplyOptions`.
        split_events: See `ReplyOptions`.
        gzip: See `ReplyOptions`.
        keepalive: See `ReplyOptions`.
        hang_up: Send nothing at all and close the connection (see `close_connection`).
    """

    status: int = 200
    headers: HeaderPairs = ()
    events: tuple[bytes, ...] = ()
    reason: str | None = None
    chunked: bool = False
    delay_before_headers: float = 0.0
    delay_between_events: float = 0.0
    disconnect_after_events: int | None = None
    split_events: bool | int = False
    gzip: bool = False
    keepalive: bool = True
    hang_up: bool = False

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 999:
            raise ValueError(f"status must be a 3-digit HTTP status code, got {self.status!r}")
        if self.delay_before_headers < 0 or self.delay_between_events < 0:
            raise ValueError("delays must be >= 0 seconds")
        if self.disconnect_after_events is not None and self.disconnect_after_events < 0:
            raise ValueError("disconnect_after_events must be >= 0")
        if not isinstance(self.split_events, bool) and self.split_events < 1:
            raise ValueError("split_events must be a bool or an int >= 1")
        for event in self.events:
            if not isinstance(event, bytes):
                raise TypeError(f"reply events must be bytes, got {type(event).__name__}")

    @property
    def body(self) -> bytes:
        """The whole (uncompressed) body: the events joined."""
        return b"".join(self.events)

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (case-insensitive), or None."""
        found = None
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                found = value
        return found

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return _json.loads(self.body)

    def with_options(self, **options: Unpack[ReplyOptions]) -> Reply:
        """A copy of this reply with some `ReplyOptions` changed.

        ``headers`` are merged into the existing headers (same name replaces).
        """
        return apply_options(self, options)


def merge_headers(base: HeaderPairs, extra: HeadersLike | None) -> HeaderPairs:
    """``base`` with ``extra`` applied: same-named headers (case-insensitive) are replaced."""
    if extra is None:
        return base
    pairs = list(extra.items()) if isinstance(extra, Mapping) else list(extra)
    replaced = {name.lower() for name, _ in pairs}
    kept = [(name, value) for name, value in base if name.lower() not in replaced]
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"header names and values must be str, got {name!r}: {value!r}")
        kept.append((name, value))
    return tuple(kept)


def apply_options(reply: Reply, options: Mapping[str, Any]) -> Reply:
    """Apply `ReplyOptions` given as a mapping to ``reply`` (used by every builder)."""
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise TypeError(f"unknown reply option(s): {', '.join(sorted(unknown))}")
    changes = dict(options)
    if "headers" in changes:
        changes["headers"] = merge_headers(reply.headers, changes["headers"])
    if not changes:
        return reply
    return dataclasses.replace(reply, **changes)


# --------------------------------------------------------------------------------------------
# SSE encoding
# --------------------------------------------------------------------------------------------


def dumps(obj: Any, *, multiline: bool = False) -> str:
    """Compact JSON as servers send it: no spaces, raw UTF-8 (not ``\\uXXXX`` escapes).

    With ``multiline`` the JSON is spread over many lines (a newline after every ``{``,
    ``[`` and ``,``), which is still valid JSON once the SSE ``data`` lines are joined.
    """
    if multiline:
        return _json.dumps(obj, ensure_ascii=False, separators=(",", ":"), indent=0)
    return _json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SSEStyle:
    """How SSE events are spelled on the wire (see the stream builders' parameters)."""

    data_space: bool = True
    crlf: bool = False
    keepalive_comments: bool = False
    event_lines: bool = False
    multiline_data: bool = False


def sse_events(
    items: Iterable[str | bytes | Mapping[str, Any] | None], style: SSEStyle
) -> list[bytes]:
    """Encode SSE events, one bytes object per event (a comment counts as its own event).

    Each item is a JSON object (encoded with `dumps`), a ``str`` (sent as the data; a
    newline in it starts another ``data`` line), ``bytes`` (sent verbatim as one event) or
    None (skipped).
    """
    nl = "\r\n" if style.crlf else "\n"
    prefix = "data: " if style.data_space else "data:"
    out: list[bytes] = []
    seq = 0
    for item in items:
        if item is None:
            continue
        if style.keepalive_comments:
            out.append(f": ping - keep-alive{nl}{nl}".encode())
        if isinstance(item, bytes):
            out.append(item)
            continue
        seq += 1
        data = item if isinstance(item, str) else dumps(item, multiline=style.multiline_data)
        lines = ["event: message", f"id: {seq}"] if style.event_lines else []
        lines.extend(prefix + line for line in data.split("\n"))
        out.append((nl.join(lines) + nl + nl).encode("utf-8"))
    return out

"""The wire fast path beside h11: request heads from cached templates, plain response heads.

Most exchanges are the same every time: a request whose headers do not change from call to call
(only the Content-Length does), answered by an HTTP/1.1 head with a Content-Length or chunked
framing. h11 checks every header of both at every call, through its event and state machinery;
that costs more CPU than the rest of a small call's transport work together. For these
exchanges the connection writes and reads the bytes itself:

* `RequestTemplate`: the first request with a given method, target, Host and headers is built
  and checked by h11 as always, and the bytes h11 writes for it become a template (checked
  against h11's own output). Later requests with the same headers reuse those bytes, with only
  their Content-Length filled in. Requests h11 treats specially (HEAD, CONNECT, ``Connection``,
  ``Upgrade``, ``Expect``, ``Transfer-Encoding`` or a caller's ``Content-Length``) never get a
  template: h11 handles them from the start, as before.
* `parse_head`: reads an ``HTTP/1.1`` response head with h11's grammar (the same regular
  expressions), for final statuses framed by exactly one plain Content-Length, or by one
  ``Transfer-Encoding: chunked`` (the connection's `ChunkedDecoder` reads such bodies in any
  case). Anything else (1xx, 204, 304, close-delimited, HTTP/1.0, other transfer codings,
  both framings, obs-fold, bare LF, duplicate or odd Content-Length, anything malformed)
  answers None: the
  connection then tells h11 about the request after the fact and hands it the head, so h11
  decides, errors included, exactly as it did when it saw every exchange.

h11 never hears of an exchange that took the fast path end to end: its state stays at the start
of a cycle, which is where the next exchange begins.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import h11

from inferwire.sansio._errors import UsageError
from inferwire.sansio._http import Headers, Request

from ._content import ACCEPT_ENCODING

__all__ = ["FastHead", "RequestTemplate", "build_event", "make_template", "parse_head"]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Request headers and methods that change how h11 frames the request or treats the connection.
_SPECIAL_NAMES = frozenset(
    {"connection", "content-length", "expect", "transfer-encoding", "upgrade"}
)
_SPECIAL_METHODS = frozenset({"HEAD", "CONNECT"})

# h11's grammar (h11/_abnf.py), for str decoded as Latin-1 with ASCII-only \s: a field value
# byte is anything but NUL and ASCII whitespace; a reason phrase may also hold spaces and tabs.
_STATUS_LINE = re.compile(r"HTTP/1\.1 ([0-9]{3})(?: ([^\x00\n\r\x0b\x0c]*))?", re.ASCII)
_HEADER_LINE = re.compile(
    r"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*",
    re.ASCII,
)
_CONTENT_LENGTH = re.compile(r"[0-9]{1,20}", re.ASCII)  # h11: 1*DIGIT, at most 20 digits


def build_event(request: Request, target: str, authority: str) -> h11.Request:
    """The h11 request: the caller's headers plus Host, Content-Length and Accept-Encoding."""
    body = request.body
    names = {name for name, _ in request.headers}
    try:
        headers = [] if "host" in names else [(b"host", authority.encode("ascii"))]
        headers += [(n.encode("ascii"), v.encode("latin-1")) for n, v in request.headers]
    except UnicodeEncodeError as exc:
        raise UsageError(f"header names must be ASCII and values Latin-1: {exc}") from exc
    if "content-length" in names:
        if body is not None and request.header("content-length") != str(len(body)):
            raise UsageError(
                f"the content-length header ({request.header('content-length')}) does not match "
                f"the body ({len(body)} bytes)"
            )
    elif "transfer-encoding" not in names and (body is not None or request.method in BODY_METHODS):
        headers.append((b"content-length", b"%d" % (len(body) if body is not None else 0)))
    if "accept-encoding" not in names:
        headers.append((b"accept-encoding", ACCEPT_ENCODING.encode("ascii")))
    try:
        return h11.Request(method=request.method, target=target, headers=headers)
    except h11.LocalProtocolError as exc:
        raise UsageError(f"invalid request {request.method} {request.url}: {exc}") from exc


class RequestTemplate:
    """The bytes h11 writes for one request head, with a hole for the Content-Length value."""

    __slots__ = ("_after", "_before", "_method", "_target", "prefix", "sized", "suffix", "useful")

    def __init__(self, method: bytes, target: bytes, pairs: list[tuple[bytes, bytes]]) -> None:
        """`pairs`: the h11 event's headers, in order; a Content-Length among them is the hole
        (its value is ignored)."""
        self._method = method
        self._target = target
        names = [name for name, _ in pairs]
        # False once a response to such a request needed h11 (a stream, most often: chunked):
        # telling h11 about the request afterwards costs more than letting it write it.
        self.useful = True
        self.sized = sized = b"content-length" in names  # whether the head has a length
        cut = names.index(b"content-length") if sized else len(pairs)
        self._before = pairs[:cut]  # the event's headers around the Content-Length
        self._after = pairs[cut + 1 :]
        # h11 writes Host first, then the others in order (h11/_writers.py).
        host = [pair for pair in pairs if pair[0] == b"host"]
        rest = [pair for pair in pairs if pair[0] != b"host"]
        cut = [name for name, _ in rest].index(b"content-length") if sized else len(rest)
        start = b"%s %s HTTP/1.1\r\n" % (method, target)
        lines = b"".join(b"%s: %s\r\n" % pair for pair in [*host, *rest[:cut]])
        tail = b"".join(b"%s: %s\r\n" % pair for pair in rest[cut + 1 :]) + b"\r\n"
        if sized:
            self.prefix = start + lines + b"content-length: "
            self.suffix = b"\r\n" + tail
        else:
            self.prefix = start + lines + tail
            self.suffix = b""

    def wire(self, length: int) -> bytes:
        """The request head for a body of `length` bytes."""
        if self.sized:
            return b"%s%d%s" % (self.prefix, length, self.suffix)
        return self.prefix

    def event(self, length: int) -> h11.Request:
        """The h11 event of the same head (for h11's bookkeeping when it has to take over)."""
        headers = self._before
        if self.sized:
            headers = [*headers, (b"content-length", b"%d" % length)]
        return h11.Request(
            method=self._method, target=self._target, headers=[*headers, *self._after]
        )


def make_template(
    method: str, target: str, authority: str, headers: Headers, has_body: bool
) -> RequestTemplate | None:
    """The template for requests of this shape, or None when h11 must write them itself."""
    if method in _SPECIAL_METHODS:
        return None
    for name, _ in headers:
        if name in _SPECIAL_NAMES or name != name.lower():
            return None
    sample = Request(method, "", headers, b"" if has_body else None)
    try:
        event = build_event(sample, target, authority)
    except UsageError:
        return None  # every such request raises the same error from `build_event` again
    template = RequestTemplate(event.method, event.target, list(event.headers.raw_items()))
    # The template must write what h11 writes, byte for byte.
    expected = h11.Connection(h11.CLIENT).send(event)
    if template.wire(0) != expected:  # pragma: no cover - a difference with h11's writer
        return None
    return template


class FastHead(NamedTuple):
    """A response head read without h11: final status, framed by a Content-Length (`length`)
    or chunked (`length` -1)."""

    status: int
    reason: str
    headers: Headers
    length: int
    keep_alive: bool


def parse_head(head: bytes) -> FastHead | None:
    """Read a complete response head (through its blank line) that needs nothing from h11.

    Answers exactly what h11 would make of the head (status, reason, headers with lower-case
    names, the body length and whether the connection may be reused), or None when h11 must
    read it: see the module doc. Never raises.
    """
    if not head.endswith(b"\r\n\r\n"):
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    match = _STATUS_LINE.fullmatch(lines[0])
    if match is None:
        return None
    status = int(match[1])
    if status < 200 or status in (204, 304):
        return None
    reason = match[2] or ""
    headers: list[tuple[str, str]] = []
    length: str | None = None
    chunked = False
    keep_alive = True
    fullmatch = _HEADER_LINE.fullmatch
    for index in range(1, len(lines)):
        match = fullmatch(lines[index])
        if match is None:
            return None
        name = match[1].lower()
        value = match[2]
        if name == "content-length":
            if length is not None or _CONTENT_LENGTH.fullmatch(value) is None:
                return None
            length = value
        elif name == "transfer-encoding":
            # h11 accepts one transfer coding, "chunked" (get_comma_header: comma-split,
            # stripped, lower-case); anything else, or a second such header, is for h11
            value = value.lower()  # (h11 keeps it lower-cased)
            if chunked or value != "chunked":
                return None
            chunked = True
        elif name == "connection" and keep_alive:
            # h11's get_comma_header: comma-split, stripped of whitespace, compared lower-case
            for token in value.lower().split(","):
                if token.strip(" \t") == "close":
                    keep_alive = False
        headers.append((name, value))
    if chunked:
        if length is not None:
            return None  # both framings: h11 decides
        return FastHead(status, reason, tuple(headers), -1, keep_alive)
    if length is None:
        return None
    return FastHead(status, reason, tuple(headers), int(length), keep_alive)

"""One HTTP/1.1 connection: h11 plus a network stream, one request/response cycle at a time.

h11 serialises requests, parses response heads and frames Content-Length and close-delimited
bodies; chunked bodies go through `ChunkedDecoder` (the streaming hot path), after which h11 is
told the body ended so that it stays the authority on whether the connection can be reused.

The common exchange skips h11 altogether (`_wire.py`): a request with a `RequestTemplate` is
written from the template's bytes and, when `parse_head` can read the response head (a plain
Content-Length or chunked response), its body is framed here. When it cannot, h11 is told
about the request after the fact (`_sync_h11`) and takes over the cycle from the head on, as if
it had seen it all.

Every failure leaves here as an inferwire error naming the URL and what was going on, except
`StaleConnection`, which the pool turns into one transparent retry on a fresh connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import h11

from inferwire._timeouts import Timeouts
from inferwire.sansio._errors import (
    IncompleteStreamError,
    InferenceError,
    InferenceTimeoutError,
    RemoteProtocolError,
    TransportError,
    UsageError,
)
from inferwire.sansio._http import Request, ResponseHead

from ._backends import LARGE_READ_SIZE, READ_SIZE, AsyncNetworkStream, StreamTimeout
from ._chunked import ChunkedDecoder
from ._wire import FastHead, RequestTemplate, parse_head

__all__ = [
    "MAX_HEAD",
    "DeadlinePassed",
    "HTTP11Connection",
    "Origin",
    "StaleConnection",
    "Timeouts",
    "bounded",
    "deadline_error",
]

MAX_HEAD = 64 * 1024
"""Bound on the size of a response head (status line and headers)."""

_WRITE_JOIN_LIMIT = 256 * 1024
_BLANK_LINE = re.compile(rb"\n\r?\n")
_LAST_CHUNK = b"0\r\n\r\n"
_MAX_INFORMATIONAL = 16

Origin = tuple[str, str, int]
"""(scheme, host, port): what a pooled connection is keyed by."""


class DeadlinePassed(Exception):  # noqa: N818 - internal signal, never escapes the package
    """The call's deadline left no time for the next wait."""


def bounded(timeout: float | None, deadline: float | None, now: float) -> tuple[float | None,
                                                                                bool]:
    """`timeout` cut to what remains before `deadline`, and whether the deadline is what
    bounds it; raises `DeadlinePassed` when nothing remains."""
    if deadline is None:
        return timeout, False
    left = deadline - now
    if left <= 0:
        raise DeadlinePassed
    if timeout is None or left < timeout:
        return left, True
    return timeout, False


def deadline_error(doing: str) -> InferenceTimeoutError:
    """The error for a call whose deadline passed while `doing`."""
    return InferenceTimeoutError(f"the call's deadline passed while {doing}")


class StaleConnection(Exception):  # noqa: N818 - internal signal, never escapes the package
    """A reused keep-alive connection was closed by the server before any response byte:
    before the request could be written (`written` False: it cannot have been processed) or
    after (True: the server may have read and processed it)."""

    def __init__(self, *, written: bool) -> None:
        super().__init__("written" if written else "not written")
        self.written = written


def _seconds(value: float | None) -> str:
    return f"{value:g} s"


class HTTP11Connection:
    """A connection checked out for one request at a time."""

    __slots__ = (
        "_body",
        "_body_done",
        "_chunked",
        "_deadline",
        "_dirty",
        "_ending",
        "_eof",
        "_fast",
        "_h11",
        "_keep_alive",
        "_length",
        "_now",
        "_pending",
        "_remaining",
        "_request",
        "_template",
        "_trailing",
        "after_stream",
        "expires_at",
        "origin",
        "reused",
        "stream",
    )

    def __init__(
        self, stream: AsyncNetworkStream, origin: Origin, now: Callable[[], float]
    ) -> None:
        self.stream = stream
        self.origin = origin
        self._now = now  # the backend's clock, for the call's deadline
        self._deadline: float | None = None
        self.reused = False
        self.expires_at = 0.0  # while idle in the pool: when it stops being reused
        self.after_stream = False  # its last response was an event stream
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self._request: Request | None = None
        self._pending = b""
        self._chunked: ChunkedDecoder | None = None
        self._body_done = False
        self._ending = False  # the chunked body's end was decoded, not yet told to h11
        self._eof = False
        self._dirty = False
        # The fast path (see the module doc): the cycle's template while h11 has not been told
        # about the request; the Content-Length body's size and what remains of it (-1: h11 or
        # the chunked decoder frames the body); whether the response allows reuse; whether
        # the server sent bytes beyond the body.
        self._fast = False  # this cycle's head was read by `parse_head`: h11 never heard of it
        self._template: RequestTemplate | None = None
        self._body: bytes | None = None
        self._length = 0
        self._remaining = -1
        self._keep_alive = True
        self._trailing = False

    def __repr__(self) -> str:
        scheme, host, port = self.origin
        return f"<HTTP11Connection {scheme}://{host}:{port} reused={self.reused}>"

    # -- request and head ----------------------------------------------------------------------

    async def start(
        self,
        event: h11.Request | RequestTemplate,
        body: bytes | None,
        request: Request,
        timeouts: Timeouts,
    ) -> ResponseHead:
        """Send the request and receive the response head; the body stays on the wire.

        `event` is the h11 request, or the template to write it from (h11 is then told about
        the request only if it has to read the response head).
        """
        self._request = request
        self._deadline = timeouts.deadline
        if isinstance(event, RequestTemplate):
            self._template = event
            self._body = body
        try:
            await self._send(event, body, request, timeouts.write)
        except TransportError as failure:
            if isinstance(failure, InferenceTimeoutError):
                raise
            # The server may have answered before it stopped reading (401 or 413 on a large
            # upload, then close): prefer its response to the broken pipe.
            self._dirty = True
            try:
                return await self._receive_head(request, timeouts.read)
            except InferenceError:
                raise failure from None
        return await self._receive_head(request, timeouts.read)

    async def _send(
        self,
        event: h11.Request | RequestTemplate,
        body: bytes | None,
        request: Request,
        timeout: float | None,
    ) -> None:
        if isinstance(event, RequestTemplate):
            wire = event.wire(len(body) if body else 0)
            pieces = [wire, body] if body else [wire]
        else:
            pieces = self._h11_pieces(event, body, request)
        write = self.stream.write
        by_deadline = False
        try:
            if body is None or len(body) <= _WRITE_JOIN_LIMIT:
                wait, by_deadline = self._bounded(timeout)
                await write(b"".join(pieces), wait)
            else:
                for piece in pieces:
                    if piece:
                        wait, by_deadline = self._bounded(timeout)
                        await write(piece, wait)
        except (StreamTimeout, DeadlinePassed):
            raise self._timed_out(
                "write", timeout, by_deadline, f"sending {request.method} {request.url}"
            ) from None
        except OSError as exc:
            if self.reused:
                raise StaleConnection(written=False) from exc
            raise TransportError(
                f"connection lost while sending {request.method} {request.url}: {exc}"
            ) from exc

    def _h11_pieces(
        self, event: h11.Request, body: bytes | None, request: Request
    ) -> list[bytes]:
        """Give h11 the whole request; the bytes it writes for it."""
        h = self._h11
        try:
            pieces = [h.send(event)]
            if body:
                pieces.extend(h.send_with_data_passthrough(h11.Data(data=body)) or ())
            pieces.append(h.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as exc:
            self._dirty = True
            raise UsageError(f"cannot send {request.method} {request.url}: {exc}") from exc
        return pieces

    def _sync_h11(self, request: Request) -> None:
        """Tell h11 about the request written from a template, so it can read the response."""
        template, body = self._template, self._body
        self._template = self._body = None
        if template is not None:
            self._h11_pieces(template.event(len(body) if body else 0), body, request)

    async def _receive_head(self, request: Request, timeout: float | None) -> ResponseHead:
        h = self._h11
        buf = b""
        informational = 0
        while True:
            by_deadline = False
            try:
                wait, by_deadline = self._bounded(timeout)
                data = await self.stream.read(wait)
            except (StreamTimeout, DeadlinePassed):
                raise self._timed_out(
                    "read", timeout, by_deadline,
                    f"waiting for the response to {request.method} {request.url}",
                ) from None
            except OSError as exc:
                if not buf and self.reused:
                    raise StaleConnection(written=True) from exc
                raise TransportError(
                    f"connection lost while waiting for the response to "
                    f"{request.method} {request.url}: {exc}"
                ) from exc
            if not data:
                self._eof = True
                if not buf and self.reused:
                    raise StaleConnection(written=True)
                if not buf:
                    raise TransportError(
                        f"the server closed the connection without answering "
                        f"{request.method} {request.url}"
                    )
                raise TransportError(
                    f"the server closed the connection in the middle of the response head "
                    f"({len(buf)} bytes) for {request.method} {request.url}: {buf[:200]!r}"
                )
            buf = buf + data if buf else data
            while buf:
                if not (buf.startswith(b"HTTP/") or b"HTTP/".startswith(buf)):
                    raise RemoteProtocolError(
                        f"malformed response to {request.method} {request.url}: "
                        "it does not start with an HTTP/1.x status line",
                        received=buf,
                    )
                match = _BLANK_LINE.search(buf)
                if match is None:
                    if len(buf) > MAX_HEAD:
                        raise RemoteProtocolError(
                            f"the response head from {request.url} exceeds {MAX_HEAD} bytes",
                            received=buf,
                        )
                    break
                cut = match.end()
                if cut > MAX_HEAD:
                    raise RemoteProtocolError(
                        f"the response head from {request.url} exceeds {MAX_HEAD} bytes",
                        received=buf[:MAX_HEAD],
                    )
                head, buf = buf[:cut], buf[cut:]
                if self._template is not None:
                    fast = parse_head(head)
                    if fast is not None:
                        return self._start_fast(fast, buf, request)
                    self._template.useful = False
                    self._sync_h11(request)
                h.receive_data(head)
                try:
                    event = h.next_event()
                except h11.RemoteProtocolError as exc:
                    raise RemoteProtocolError(
                        f"malformed response to {request.method} {request.url}: {exc}",
                        received=head,
                    ) from exc
                if type(event) is h11.Response:
                    return self._start_body(event, buf, request)
                if type(event) is not h11.InformationalResponse:  # pragma: no cover - h11 invariant
                    raise RemoteProtocolError(
                        f"unexpected {type(event).__name__} in the response to {request.url}",
                        received=head,
                    )
                informational += 1
                if informational > _MAX_INFORMATIONAL:
                    raise RemoteProtocolError(
                        f"the server sent more than {_MAX_INFORMATIONAL} informational (1xx) "
                        f"responses to {request.method} {request.url}",
                        received=head,
                    )

    def _start_fast(self, head: FastHead, rest: bytes, request: Request) -> ResponseHead:
        """The body of a response read by `parse_head`: `head.length` bytes, framed here."""
        self._template = self._body = None
        self._fast = True
        self._keep_alive = head.keep_alive
        if head.length < 0:  # chunked
            self._chunked = ChunkedDecoder()
            self._pending = rest
            return ResponseHead(head.status, head.headers, request, head.reason)
        self._length = self._remaining = length = head.length
        if len(rest) > length:
            rest = rest[:length]
            self._trailing = True
        self._pending = rest
        return ResponseHead(head.status, head.headers, request, head.reason)

    def _start_body(self, event: h11.Response, rest: bytes, request: Request) -> ResponseHead:
        headers = tuple(
            (name.decode("ascii"), value.decode("latin-1")) for name, value in event.headers
        )
        status = event.status_code
        chunked = (
            request.method != "HEAD"
            and status not in (204, 304)
            and any(name == "transfer-encoding" for name, _ in headers)
        )
        if chunked:
            self._chunked = ChunkedDecoder()
            self._pending = rest
        elif rest:
            self._h11.receive_data(rest)
        return ResponseHead(status, headers, request, event.reason.decode("latin-1"))

    # -- body ----------------------------------------------------------------------------------

    @property
    def body_done(self) -> bool:
        """True once the whole response body has been received."""
        return self._body_done

    async def receive_body(self, timeout: float | None) -> bytes:
        """The next raw (still content-encoded) body bytes; ``b""`` once the body has ended.

        Everything the last socket read brought is returned at once: all the HTTP chunks in it
        joined into one bytes object.
        """
        if self._body_done:
            return b""
        chunked = self._chunked
        if chunked is not None:
            if self._ending:
                self._end_chunked(chunked)
                return b""
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                data = await self._read_body(timeout)
            while True:
                if not data:
                    raise IncompleteStreamError(
                        f"the server closed the connection before the end of the chunked body "
                        f"from {self._url()}"
                    )
                out = chunked.feed(data)
                if chunked.done:
                    if out:
                        # Hand the last data over first; the next call ends the body (h11's
                        # bookkeeping and the connection's return to the pool wait until then,
                        # not in front of a short stream's first token).
                        self._ending = True
                        return out
                    self._end_chunked(chunked)
                    return out
                if out:
                    return out
                data = await self._read_body(timeout)
        if self._remaining >= 0:
            return await self._receive_sized(timeout)
        return await self._receive_h11_body(timeout)

    async def _receive_sized(self, timeout: float | None) -> bytes:
        """`receive_body` for a body framed by `_start_fast` (h11's ContentLengthReader)."""
        remaining = self._remaining
        data = self._pending
        if data:
            self._pending = b""
        elif remaining:
            data = await self._read_body(
                timeout, min(remaining, LARGE_READ_SIZE) if remaining > READ_SIZE else READ_SIZE)
            if not data:
                self._eof = self._dirty = True
                raise IncompleteStreamError(
                    f"the server closed the connection before the end of the body from "
                    f"{self._url()}: peer closed connection without sending complete message "
                    f"body (received {self._length - remaining} bytes, expected {self._length})"
                )
            if len(data) > remaining:
                data = data[:remaining]
                self._trailing = True  # the server sent bytes after the response: do not reuse
        remaining -= len(data)
        self._remaining = remaining
        if not remaining:
            self._body_done = True
        return data

    @property
    def sized_remaining(self) -> int | None:
        """How many body bytes are still to come, for a body framed by its Content-Length on
        the fast path (the only bodies `receive_body_into` reads); None for the others."""
        remaining = self._remaining
        return remaining if remaining >= 0 and not self._body_done else None

    async def receive_body_into(self, view: memoryview, timeout: float | None) -> int:
        """Like `receive_body` for a body of known length (`sized_remaining` is not None),
        into `view`: fills it, or as much of it as the body has left; how many bytes were
        written. `timeout` bounds each stall, the call's deadline the whole. The socket is
        read only up to the body's end: bytes the server sends beyond it stay unread, and the
        pool's idle check then refuses to reuse the connection."""
        remaining = self._remaining
        if self._body_done or remaining < 0:
            raise UsageError("receive_body_into reads only a body of known length")
        room = min(len(view), remaining)
        got = 0
        data = self._pending
        if data:
            got = min(len(data), room)
            view[:got] = data[:got]
            self._pending = data[got:]
        if got < room:
            got += await self._fill(view[got:room], timeout)
            if got < room:
                self._eof = self._dirty = True
                raise IncompleteStreamError(
                    f"the server closed the connection before the end of the body from "
                    f"{self._url()}: peer closed connection without sending complete message "
                    f"body (received {self._length - remaining + got} bytes, expected "
                    f"{self._length})"
                )
        remaining -= got
        self._remaining = remaining
        if not remaining:
            self._body_done = True
        return got

    async def _receive_h11_body(self, timeout: float | None) -> bytes:
        h = self._h11
        parts: list[bytes] = []
        try:
            while True:
                event = h.next_event()
                kind = type(event)
                if kind is h11.Data:
                    parts.append(event.data)  # type: ignore[union-attr]
                elif event is h11.NEED_DATA:
                    if parts:
                        break
                    data = await self._read_body(timeout)
                    if not data:
                        self._eof = True
                    h.receive_data(data)
                elif kind is h11.EndOfMessage:
                    self._body_done = True
                    break
                else:  # pragma: no cover - h11 gives ConnectionClosed only after EndOfMessage
                    raise RemoteProtocolError(
                        f"unexpected {kind.__name__} in the response body from {self._url()}"
                    )
        except h11.RemoteProtocolError as exc:
            self._dirty = True
            if self._eof:
                raise IncompleteStreamError(
                    f"the server closed the connection before the end of the body from "
                    f"{self._url()}: {exc}"
                ) from exc
            raise RemoteProtocolError(f"malformed response body from {self._url()}: {exc}") from exc
        if not parts:
            return b""
        if len(parts) == 1:
            part = parts[0]
            return part if type(part) is bytes else bytes(part)
        return b"".join(parts)

    async def _read_body(self, timeout: float | None, size: int = READ_SIZE) -> bytes:
        by_deadline = False
        try:
            if self._deadline is None:
                return await self.stream.read(timeout, size)
            wait, by_deadline = self._bounded(timeout)
            return await self.stream.read(wait, size)
        except (StreamTimeout, DeadlinePassed, OSError) as exc:
            raise self._body_read_failed(exc, timeout, by_deadline)  # noqa: B904 - cause set there

    async def _fill(self, view: memoryview, timeout: float | None) -> int:
        try:
            return await self.stream.fill(view, timeout, self._deadline)
        except (StreamTimeout, OSError) as exc:
            raise self._body_read_failed(exc, timeout, False)  # noqa: B904 - cause set there

    def _body_read_failed(self, exc: Exception, timeout: float | None,
                          by_deadline: bool) -> InferenceError:
        """The error for a failed read of the body (the connection is then not reusable)."""
        self._dirty = True
        error: InferenceError
        if isinstance(exc, OSError):
            error = TransportError(
                f"connection lost while reading the response body from {self._url()}: {exc}")
        else:
            error = self._timed_out(
                "read", timeout, by_deadline,
                f"waiting for more of the response body from {self._url()}")
        # as `raise error from exc` for a lost connection, `from None` for a timeout
        error.__cause__ = exc if isinstance(exc, OSError) else None
        error.__suppress_context__ = True
        return error

    def _end_chunked(self, chunked: ChunkedDecoder) -> None:
        self._ending = False
        if chunked.trailing:
            self._dirty = True  # the server sent bytes after the response: do not reuse
        if not self._fast:
            # Tell h11 the body ended, so its state machine decides about keep-alive.
            self._h11.receive_data(_LAST_CHUNK)
            event = self._h11.next_event()
            assert type(event) is h11.EndOfMessage
        self._body_done = True

    def drain_buffered(self) -> bool:
        """Without I/O, consume what was already received; True if the body ended in it."""
        if self._body_done:
            return True
        if self._dirty:
            return False
        if self._remaining >= 0:
            if len(self._pending) < self._remaining:
                return False
            self._pending = b""
            self._remaining = 0
            self._body_done = True
            return True
        try:
            chunked = self._chunked
            if chunked is not None:
                if self._pending:
                    data, self._pending = self._pending, b""
                    chunked.feed(data)
                if chunked.done:
                    self._end_chunked(chunked)
                return self._body_done
            h = self._h11
            while True:
                event = h.next_event()
                if type(event) is h11.EndOfMessage:
                    self._body_done = True
                    return True
                if type(event) is not h11.Data:
                    return False
        except (h11.RemoteProtocolError, RemoteProtocolError):
            self._dirty = True
            return False

    def _timed_out(
        self, kind: str, timeout: float | None, by_deadline: bool, doing: str
    ) -> InferenceTimeoutError:
        """The error for a wait that expired: the call's deadline's when it bounded the wait
        (or has passed), else the `kind` ("read", "write") timeout's."""
        deadline = self._deadline
        if by_deadline or (deadline is not None and self._now() >= deadline):
            return deadline_error(doing)
        return InferenceTimeoutError(f"{kind} timeout ({_seconds(timeout)}) {doing}")

    def _bounded(self, timeout: float | None) -> tuple[float | None, bool]:
        deadline = self._deadline
        if deadline is None:
            return timeout, False
        return bounded(timeout, deadline, self._now())

    # -- reuse ---------------------------------------------------------------------------------

    def finish_cycle(self) -> bool:
        """After the body ended: prepare for the next request; False if not reusable."""
        h = self._h11
        if self._fast:
            # h11 never heard of this cycle: it waits for the next one already.
            if self._dirty or self._eof or not self._body_done or not self._keep_alive or (
                self._trailing
            ):
                return False
            self._fast = False
            self._remaining = -1
        elif (
            self._dirty
            or self._eof
            or not self._body_done
            or h.our_state is not h11.DONE
            or h.their_state is not h11.DONE
            or h.trailing_data[0]
        ):
            return False
        else:
            h.start_next_cycle()
        self._request = None
        self._deadline = None
        self._ending = False
        self._chunked = None
        self._pending = b""
        self._body_done = False
        return True

    def close(self) -> None:
        """Close the socket now (no I/O, no await)."""
        self.stream.close()

    def _url(self) -> str:
        return self._request.url if self._request is not None else "?"

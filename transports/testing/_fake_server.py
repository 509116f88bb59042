"""Internals of `inferwire.testing`: the threaded HTTP/1.1 server that plays `Reply` values
(`ServerCore`), and the wire helpers it reads requests and writes replies with.

Nothing here is public API. Standard library only: this module must work next to httpx,
asyncio and trio clients without importing any of them.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json as _json
import selectors
import socket
import threading
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    pass

from ._reply import HeaderPairs, RecordedRequest, Reply

__all__ = ["ServerCore"]

_MAX_HEAD_BYTES = 64 * 1024
_MAX_BODY_BYTES = 64 * 1024 * 1024

# --------------------------------------------------------------------------------------------
# Wire helpers
# --------------------------------------------------------------------------------------------


def _cut_points(piece: bytes) -> list[int]:
    n = len(piece)
    points = {3, max(1, (piece.find(b"\n") if b"\n" in piece else n) // 2), n - 1}
    for i, byte in enumerate(piece):
        if byte >= 0x80:
            points.add(i + 1)  # inside a multi-byte UTF-8 character
            break
    start = 0
    while (i := piece.find(b"\r\n", start)) >= 0:
        points.add(i + 1)  # between CR and LF
        start = i + 1
    return sorted(p for p in points if 0 < p < n)


def _split(piece: bytes, mode: bool | int) -> list[bytes]:
    if len(piece) < 2 or mode is False:
        return [piece]
    if isinstance(mode, bool):
        cuts = _cut_points(piece)
    else:
        cuts = list(range(mode, len(piece), mode))
    bounds = [0, *cuts, len(piece)]
    return [piece[a:b] for a, b in itertools.pairwise(bounds)]


def _encode_pieces(events: tuple[bytes, ...], gzip: bool) -> list[bytes]:
    if not gzip:
        return list(events)
    comp = zlib.compressobj(wbits=31)
    out = [comp.compress(event) + comp.flush(zlib.Z_SYNC_FLUSH) for event in events]
    tail = comp.flush()
    if out:
        out[-1] += tail
    else:
        out.append(tail)
    return out


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _BadRequestError(Exception):
    pass


class _Reader:
    """Reads HTTP/1.1 requests from a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def _fill(self) -> bool:
        try:
            data = self._sock.recv(65536)
        except OSError:
            return False
        if not data:
            return False
        self._buf += data
        return True

    def _read_until(self, marker: bytes, limit: int) -> bytes | None:
        while True:
            index = self._buf.find(marker)
            if index >= 0:
                end = index + len(marker)
                out = bytes(self._buf[:end])
                del self._buf[:end]
                return out
            if len(self._buf) > limit:
                raise _BadRequestError("request head too large")
            if not self._fill():
                return None

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise _BadRequestError("connection closed in the middle of the request body")
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_head(self) -> bytes | None:
        """The request head (through the blank line), or None at a clean EOF."""
        while self._buf[:2] == b"\r\n":  # tolerated CRLFs between requests
            del self._buf[:2]
        return self._read_until(b"\r\n\r\n", _MAX_HEAD_BYTES)

    def read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self._read_until(b"\r\n", 1024)
            if line is None:
                raise _BadRequestError("connection closed in a chunked request body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequestError(f"bad chunk size line {line!r}") from None
            if size == 0:
                while True:  # trailers up to the blank line
                    trailer = self._read_until(b"\r\n", _MAX_HEAD_BYTES)
                    if trailer is None or trailer == b"\r\n":
                        return bytes(body)
            if len(body) + size > _MAX_BODY_BYTES:
                raise _BadRequestError("request body too large")
            body += self._read_exact(size)
            if self._read_exact(2) != b"\r\n":
                raise _BadRequestError("chunk not followed by CRLF")

    def read_exact(self, n: int) -> bytes:
        if n > _MAX_BODY_BYTES:
            raise _BadRequestError("request body too large")
        return self._read_exact(n)


@dataclass(slots=True)
class _ParsedHead:
    method: str
    target: str
    version: str
    raw_headers: HeaderPairs
    headers: dict[str, str]


def _parse_head(head: bytes) -> _ParsedHead:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequestError(f"bad request line {lines[0]!r}")
    method, target, version = parts
    raw: list[tuple[str, str]] = []
    joined: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequestError(f"bad header line {line!r}")
        value = value.strip()
        raw.append((name, value))
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return _ParsedHead(method.upper(), target, version, tuple(raw), joined)


def _wants_keepalive(head: _ParsedHead) -> bool:
    tokens = {t.strip().lower() for t in head.headers.get("connection", "").split(",")}
    if head.version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return _json.loads(body)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Conn:
    id: int
    sock: socket.socket
    thread: threading.Thread | None = None


Handler: TypeAlias = Callable[[RecordedRequest], Reply]


class ServerCore:
    """A threaded HTTP/1.1 server on 127.0.0.1 that answers each request with a `Reply`.

    One accept thread plus one thread per connection. `stop` wakes every thread (sleeping
    delays included), closes every socket and joins every thread.
    """

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._started = False
        self._stopped = False
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._conns: dict[int, _Conn] = {}
        self._threads: list[threading.Thread] = []
        self.connections_accepted = 0
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake server is not started")
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def running(self) -> bool:
        return self._started and not self._stopped

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def wait_closed(self, connection_id: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: connection_id not in self._conns, timeout)

    def start(self) -> None:
        with self._lock:
            if self._started:
                raise RuntimeError("the fake server can be started only once")
            self._started = True
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((self._host, self._requested_port))
            listener.listen(128)
            listener.setblocking(False)
            self._wake_r, self._wake_w = socket.socketpair()
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"inferwire-fake-accept-{self._port}", daemon=True
        )
        self._accept_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            if not self._started or self._stopped:
                return
            self._stopped = True
        self._stopping.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        with self._lock:
            conns = list(self._conns.values())
            threads = list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)
        with self._lock:
            leftovers = list(self._conns.values())
            self._conns.clear()
            self._changed.notify_all()
        for conn in leftovers:  # only if a user callback is stuck past `timeout`
            conn.sock.close()

    def wait_for_requests(self, count: int, timeout: float) -> list[RecordedRequest]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(
                    f"the fake server received {len(self.requests)} request(s), "
                    f"expected {count} within {timeout} s"
                )
            return list(self.requests)

    # -- threads -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener, wake = self._listener, self._wake_r
        assert listener is not None
        assert wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is wake:
                        return
                    try:
                        sock, _addr = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        return
                    self._spawn(sock)

    def _spawn(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                return
            self.connections_accepted += 1
            conn = _Conn(self.connections_accepted, sock)
            thread = threading.Thread(
                target=self._serve,
                args=(conn,),
                name=f"inferwire-fake-conn-{self._port}-{conn.id}",
                daemon=True,
            )
            conn.thread = thread
            self._conns[conn.id] = conn
            self._threads.append(thread)
            self._changed.notify_all()
        thread.start()

    def _serve(self, conn: _Conn) -> None:
        sock = conn.sock
        reader = _Reader(sock)
        try:
            while not self._stopping.is_set():
                try:
                    request, keepalive = self._read_request(reader, conn)
                except _BadRequestError as exc:
                    self._send_plain(sock, 400, f"Bad Request: {exc}\n")
                    break
                if request is None:
                    break
                reply = self._reply(request)
                if not self._write(sock, reply, request, keepalive):
                    break
        except OSError:
            pass  # the client went away
        finally:
            with self._lock:
                self._conns.pop(conn.id, None)
                self._changed.notify_all()
            sock.close()

    def _read_request(self, reader: _Reader, conn: _Conn) -> tuple[RecordedRequest | None, bool]:
        raw_head = reader.read_head()
        if raw_head is None:
            return None, False
        head = _parse_head(raw_head)
        chunked = "chunked" in head.headers.get("transfer-encoding", "").lower()
        if head.headers.get("expect", "").lower() == "100-continue":
            conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            body = reader.read_chunked()
        elif "content-length" in head.headers:
            try:
                length = int(head.headers["content-length"])
            except ValueError:
                raise _BadRequestError("bad Content-Length") from None
            body = reader.read_exact(length)
        else:
            body = b""
        path, _, query = head.target.partition("?")
        with self._lock:
            request = RecordedRequest(
                method=head.method,
                path=path,
                query=query,
                headers=head.headers,
                body=body,
                json=_parse_json(body),
                target=head.target,
                http_version=head.version,
                raw_headers=head.raw_headers,
                connection_id=conn.id,
                index=len(self.requests),
                body_chunked=chunked,
            )
            self.requests.append(request)
            self._changed.notify_all()
        return request, _wants_keepalive(head)

    def _reply(self, request: RecordedRequest) -> Reply:
        try:
            return self._handler(request)
        except Exception as exc:  # noqa: BLE001 - reported to the client and kept in `errors`
            with self._lock:
                self.errors.append(exc)
            text = "".join(traceback.format_exception(exc))
            return Reply(
                status=500,
                headers=(("Content-Type", "text/plain; charset=utf-8"),),
                events=(f"fake server: the reply raised\n{text}".encode(),),
            )

    def _send_plain(self, sock: socket.socket, status: int, text: str) -> None:
        body = text.encode()
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            sock.sendall(head.encode("latin-1") + body)

    def _write(
        self, sock: socket.socket, reply: Reply, request: RecordedRequest, keep: bool
    ) -> bool:
        """Send ``reply``; True when the connection may serve another request."""
        stopping = self._stopping
        if reply.delay_before_headers and stopping.wait(reply.delay_before_headers):
            return False
        if reply.hang_up:
            return False
        names = {name.lower() for name, _ in reply.headers}
        verbatim = "content-length" in names or "transfer-encoding" in names
        no_body = request.method == "HEAD" or reply.status < 200 or reply.status in (204, 304)
        gzip = reply.gzip and not verbatim
        pieces = _encode_pieces(reply.events, gzip)
        chunked = reply.chunked and not verbatim and not no_body
        connection = (reply.header("connection") or "").lower()
        keep = keep and reply.keepalive and "close" not in connection
        headers = list(reply.headers)
        if not verbatim and reply.status not in (204, 304) and reply.status >= 200:
            if gzip and "content-encoding" not in names:
                headers.append(("Content-Encoding", "gzip"))
            if chunked:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(sum(map(len, pieces)))))
        if not keep and "connection" not in names:
            headers.append(("Connection", "close"))
        reason = reply.reason if reply.reason is not None else _reason(reply.status)
        lines = [f"HTTP/1.1 {reply.status} {reason}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if no_body:
            return keep
        limit = reply.disconnect_after_events
        for index, piece in enumerate(pieces):
            if limit is not None and index >= limit:
                return False
            if index and reply.delay_between_events and stopping.wait(reply.delay_between_events):
                return False
            if stopping.is_set():
                return False
            for part in _split(piece, reply.split_events):
                if not part:
                    continue  # an empty chunk would end a chunked body
                sock.sendall(b"%X\r\n%b\r\n" % (len(part), part) if chunked else part)
        if limit is not None:
            return False  # the body is left unfinished: no terminator
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        return keep

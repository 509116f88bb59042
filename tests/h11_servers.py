"""Loopback HTTP/1.1 test servers on raw sockets and threads (independent of any event loop).

A `Server` accepts connections on 127.0.0.1 (or ::1) and runs `handler(conn)` on a thread per
connection; handlers script exactly what goes on the wire, including broken framing, stalls and
early closes. `Server.close()` unblocks and joins every thread and closes every socket.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "Conn",
    "Server",
    "chunked",
    "deflate_raw",
    "deflate_zlib",
    "gzip_bytes",
    "response",
    "serve_forever",
]

Handler = Callable[["Conn"], None]


def response(
    body: bytes = b"",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Iterable[tuple[str, str]] = (),
    length: bool = True,
) -> bytes:
    """A complete response with a Content-Length body (or no length if `length` is False)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, end: bool = True) -> bytes:
    """Chunked-coded `pieces` (each one chunk), with the last chunk if `end`."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    return out + (b"0\r\n\r\n" if end else b"")


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)


def deflate_zlib(data: bytes) -> bytes:
    return zlib.compress(data)


def deflate_raw(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


class Conn:
    """One accepted connection, as seen by a handler."""

    def __init__(self, server: Server, sock: socket.socket, index: int) -> None:
        self.server = server
        self.sock = sock
        self.index = index  # 0 for the first connection the server accepted
        self._buffer = b""

    def read_request(self) -> tuple[bytes, bytes] | None:
        """(head, body) of the next request, or None if the client closed the connection."""
        while b"\r\n\r\n" not in self._buffer:
            data = self.recv()
            if not data:
                return None
            self._buffer += data
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            data = self.recv()
            if not data:
                return None
            rest += data
        body, self._buffer = rest[:length], rest[length:]
        self.server.requests.append(head)
        return head, body

    def recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(data)

    def wait_for_close(self, timeout: float = 5.0) -> None:
        """Block until the client closes the connection (or the server stops)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def stall(self, timeout: float = 5.0) -> None:
        """Send nothing until the server stops (or `timeout`)."""
        self.server.stopping.wait(timeout)


def serve_forever(make_response: Callable[[bytes, bytes], bytes]) -> Handler:
    """A keep-alive handler answering every request with `make_response(head, body)`."""

    def handler(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            conn.send(make_response(*req))

    return handler


class Server:
    """A threaded loopback server; use as a context manager."""

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        self.listener.settimeout(0.02)
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self.requests: list[bytes] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                index = self.accepted
                self.accepted += 1
                self._sockets.append(sock)
                thread = threading.Thread(target=self._run, args=(sock, index), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _run(self, sock: socket.socket, index: int) -> None:
        try:
            if self.ssl_context is not None:
                try:
                    tls = self.ssl_context.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                with self._lock:
                    self._sockets.append(tls)
                sock = tls
            self.handler(Conn(self, sock, index))
        except BaseException as exc:  # pragma: no cover - surfaced by close()
            self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self.stopping.set()
        self._acceptor.join(5)
        self.listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        if self.errors:
            raise self.errors[0]

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

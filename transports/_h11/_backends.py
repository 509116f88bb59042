"""How bytes move: the network backend protocol (the asyncio backend is `_asyncio_backend`).

A backend opens `AsyncNetworkStream`s and sleeps. Streams are deliberately small:

- `read(timeout)` returns the bytes available now (waiting for at least one if none are), and
  ``b""`` at end of file;
- `fill(view, timeout, deadline)` reads into the caller's buffer until it is full (or the
  stream ends): a large body of known length goes from the kernel straight into the buffer it
  is collected in, with no intermediate bytes objects and one wake-up of the reader, not one
  per socket read;
- `write(data, timeout)` sends `data`;
- `close()` closes the socket at once, without I/O and without awaiting, so it works in a
  cancelled task or a cancelled trio scope;
- `is_readable()` tells, without blocking, whether an idle connection has something to read,
  which for an idle HTTP/1.1 connection means the server closed it (or broke the protocol).

Failures are reported as `OSError` (refused, reset, TLS failure, ...) or `StreamTimeout`; the
connection layer turns them into inferwire errors that name the URL and what was going on. The
caller's own cancellation (an asyncio task cancel, `asyncio.timeout`, a trio cancel scope) is
never caught here.
"""

from __future__ import annotations

import ssl
from typing import Literal, Protocol

from inferwire.sansio._errors import UsageError

__all__ = [
    "LARGE_READ_SIZE",
    "READ_SIZE",
    "AsyncBackend",
    "AsyncNetworkStream",
    "BackendName",
    "StreamTimeout",
    "TLSTimeout",
    "get_backend",
]

READ_SIZE = 64 * 1024
"""How many bytes one socket read asks for."""
LARGE_READ_SIZE = 1 << 20
"""The read size for the rest of a large body of known length (images, audio): fewer reads,
each a scheduler round trip on trio, for the same bytes."""

BackendName = Literal["asyncio", "trio", "sync"]


class StreamTimeout(Exception):  # noqa: N818 - internal signal, never escapes the package
    """A connect, read or write took longer than its timeout (internal: mapped by the caller)."""


class TLSTimeout(StreamTimeout):
    """The TLS handshake (after the TCP connection was made) took longer than its timeout."""


class AsyncNetworkStream(Protocol):
    """One connected byte stream (TCP, or TLS over TCP)."""

    async def read(self, timeout: float | None, size: int = READ_SIZE) -> bytes:
        """The bytes available now (at most about `size`: a hint for a large body known to
        follow), waiting up to `timeout` for some; ``b""`` at end of file."""
        ...

    async def fill(self, view: memoryview, timeout: float | None,
                   deadline: float | None) -> int:
        """Read into `view` (writable) until it is full or the stream ends: how many bytes
        were written. `timeout` bounds each wait for more bytes (a stall), `deadline` (an
        instant of the backend's clock) all of them; either expiring raises `StreamTimeout`."""
        ...

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data`, waiting up to `timeout` for the socket to take it."""
        ...

    def is_readable(self) -> bool:
        """True if reading would not block (data or end of file arrived, or the stream failed)."""
        ...

    def close(self) -> None:
        """Close now: no graceful TLS shutdown, no awaiting. Idempotent."""
        ...


class AsyncBackend(Protocol):
    """Opens streams and sleeps, in one async library."""

    @property
    def name(self) -> BackendName:
        """`"asyncio"` or `"trio"`."""
        ...

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        timeout: float | None,
    ) -> AsyncNetworkStream:
        """Open a TCP connection (and do the TLS handshake if `ssl_context` is given; a
        handshake that times out raises `TLSTimeout`)."""
        ...

    async def start_tls(
        self,
        stream: AsyncNetworkStream,
        ssl_context: ssl.SSLContext,
        server_hostname: str,
        timeout: float | None,
    ) -> AsyncNetworkStream:
        """TLS over an open stream (a proxy's CONNECT tunnel); the stream to use from then on."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep, honouring the caller's cancellation."""
        ...

    def now(self) -> float:
        """The backend's clock, in seconds (monotonic): what deadlines are instants of."""
        ...


def get_backend(name: BackendName) -> AsyncBackend:
    """The backend for `name`. Each backend module (and trio itself) is imported only here."""
    if name == "asyncio":
        from ._asyncio_backend import ASYNCIO

        return ASYNCIO
    if name == "trio":
        try:
            from ._trio_backend import TrioBackend
        except ImportError as exc:  # pragma: no cover - trio is a dev dependency
            raise UsageError(
                "the trio backend needs trio: pip install 'inferwire[trio]'", argument="backend"
            ) from exc
        return TrioBackend()
    if name == "sync":
        from ._sync_backend import SyncBackend

        return SyncBackend()
    raise UsageError(f"unknown backend {name!r}: use 'asyncio' or 'trio'", argument="backend")

"""Socket options for bulk transfers under an event loop: the receive low-water mark for a
large response, a larger send buffer for a large upload.

**Receive low-water mark** (`SO_RCVLOWAT`). While a large body of known length is read, an
event loop wakes for every few kilobytes that arrive (each wake-up a selector call, a callback
and, on trio, a scheduler round trip); with the socket's low-water mark raised to what is
still missing (capped at `LOWAT_CAP`), the kernel reports the socket readable only once that
much has arrived, so a 5 MiB body takes a handful of wake-ups instead of dozens. Linux honours
the mark in poll and epoll, and wakes the reader when the mark is lowered below what is
queued. Elsewhere (or on TLS, where the kernel counts encrypted bytes) the mark is left alone.
A mark above what a slow server sends in one timeout would look like a stall, so a timeout
that fires while the mark is raised first asks how many bytes are queued (`queued`): bytes
that arrived below the mark are progress, not a stall.

**Send buffer** (`SO_SNDBUF`). A non-blocking sender pays for every time the socket's buffer
fills and it has to wait for writability (on Linux loopback, about a third more CPU for a
10 MiB upload with the autotuned buffer than a blocking `sendall`); with a buffer the size of
the body (capped at `SEND_BUFFER_CAP`) it waits once or twice. Setting the size stops the
kernel's autotuning for that socket, so it is done only when the system allows a buffer at
least as large as the one asked for (`net.core.wmem_max`, read once per process): with the
common default of 208 KiB, asking would shrink the buffer autotuning reaches, and nothing is
set.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import struct
import sys
from typing import Protocol

__all__ = [
    "LOWAT_CAP",
    "LOWAT_SUPPORTED",
    "SEND_BUFFER_CAP",
    "Settable",
    "grow_send_buffer",
    "queued",
    "set_lowat",
]

LOWAT_CAP = 512 << 10
"""The highest receive low-water mark set: about a tenth of a 5 MiB body per wake-up."""

LOWAT_SUPPORTED = sys.platform == "linux" and hasattr(socket, "SO_RCVLOWAT")

SEND_BUFFER_CAP = 8 << 20
"""The largest send buffer asked for, as the kernel reports it (it doubles the value set)."""

_WMEM_MAX = "/proc/sys/net/core/wmem_max"


class Settable(Protocol):
    """A socket, or asyncio's wrapper of one."""

    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...

    def getsockopt(self, level: int, option: int, /) -> int: ...


if LOWAT_SUPPORTED:
    import fcntl
    import termios

    def queued(fd: int) -> int:
        """Bytes received by the kernel and not yet read (0 when that cannot be told)."""
        try:
            raw = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return 0
        return int(struct.unpack("i", raw)[0])

else:  # pragma: no cover - the mark is not used off Linux

    def queued(fd: int) -> int:
        """Bytes received and not yet read: unknown here, so 0."""
        return 0


def set_lowat(sock: Settable, size: int) -> None:
    """Set `sock`'s receive low-water mark (a closed socket is left alone)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)


@functools.cache
def _send_buffer_limit() -> int:
    """The largest send buffer a process may ask for (Linux), else 0: never ask."""
    if sys.platform != "linux":
        return 0
    try:
        with open(_WMEM_MAX, encoding="ascii") as limits:
            return int(limits.read().strip())
    except (OSError, ValueError):
        return 0


def grow_send_buffer(sock: Settable, size: int) -> None:
    """Before writing `size` bytes: a send buffer that holds them (up to `SEND_BUFFER_CAP`),
    if the system allows one that large and the socket's is smaller. Never shrinks it."""
    want = min(size, SEND_BUFFER_CAP)
    ask = want // 2  # Linux doubles the value set (for its bookkeeping) and reports that
    if _send_buffer_limit() < ask:
        return
    with contextlib.suppress(OSError):
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < want:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, ask)

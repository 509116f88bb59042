"""Socket options for bulk transfers under an event loop: the receive low-water mark for a
large response, a larger send buffer for a large upload.

**Receive low-water mark** (`SO_RCVLOWAT`). While a large body of known length is read, an
event loop wakes for every few kilobytes that arrive (each wake-up a selector call, a callback
and, on trio, a scheduler round trip); with the socket's low-water mark raised to what is still
missing (capped per backend, `LOWAT_CAP` and `LOWAT_CAP_TRIO`, and by what the system's receive
buffers can hold, `lowat_limit`), the kernel reports the socket readable only once that much
has arrived, so a 5 MiB body takes a handful of wake-ups instead of dozens. Linux honours the
mark in poll and epoll, and wakes the reader when the mark is lowered below what is queued.
Elsewhere (or on TLS, where the kernel counts encrypted bytes) the mark is left alone. A mark
above what a slow server sends in one timeout would look like a stall, so a timeout that fires
while the mark is raised first asks how many bytes are queued (`queued`): bytes that arrived
below the mark are progress, not a stall.

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
    "LOWAT_CAP_TRIO",
    "LOWAT_SUPPORTED",
    "SEND_BUFFER_CAP",
    "Settable",
    "grow_send_buffer",
    "lowat_limit",
    "queued",
    "set_lowat",
]

LOWAT_CAP = 512 << 10
"""The highest receive low-water mark the asyncio backend sets: about a tenth of a 5 MiB body
per wake-up (measured: a higher mark saves asyncio nothing, and at 4 MiB costs it more)."""

LOWAT_CAP_TRIO = 4 << 20
"""The highest mark the trio backend sets, whose every wake-up is a scheduler round trip and
a re-registration with epoll: measured on a 5 MiB body, 1.27x the raw socket's CPU at 512
KiB, 1.20x at 1.5 MiB, 1.10x at 4 MiB."""

LOWAT_SUPPORTED = sys.platform == "linux" and hasattr(socket, "SO_RCVLOWAT")

SEND_BUFFER_CAP = 8 << 20
"""The largest send buffer asked for, as the kernel reports it (it doubles the value set)."""

_WMEM_MAX = "/proc/sys/net/core/wmem_max"
_TCP_RMEM = "/proc/sys/net/ipv4/tcp_rmem"


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


@functools.cache
def _receive_buffer_limit() -> int:
    """The largest receive buffer TCP autotuning may grow a socket's to (Linux's
    ``net.ipv4.tcp_rmem``, its third figure), else 0: unknown."""
    try:
        with open(_TCP_RMEM, encoding="ascii") as limits:
            return int(limits.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 0


@functools.cache
def lowat_limit(cap: int) -> int:
    """The highest low-water mark to set, at most `cap`: one the receive window can hold.

    Linux grows a socket's receive buffer for a raised mark, but only up to
    ``tcp_rmem[2]``, and about half of the buffer is the window the peer may fill: a mark above
    the window is never reached, and the reader would sleep until its timeout. So the mark is
    kept to a quarter of that limit (half the window); where the limit cannot be read, to
    `LOWAT_CAP`, which fits the smallest buffers autotuning gives.
    """
    limit = _receive_buffer_limit()
    return min(cap, limit // 4) if limit else min(cap, LOWAT_CAP)


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

"""The receive low-water mark (`SO_RCVLOWAT`) for large bodies read by an event loop.

While a large body of known length is read, an event loop wakes for every few kilobytes that
arrive (each wake-up a selector call, a callback and, on trio, a scheduler round trip); with
the socket's low-water mark raised to what is still missing (capped at `CAP`), the kernel
reports the socket readable only once that much has arrived, so a 5 MiB body takes a handful
of wake-ups instead of dozens. Linux honours the mark in poll and epoll, and lowers it to wake
the reader when it is set below what is queued. Elsewhere (or on TLS, where the kernel counts
encrypted bytes) the mark is left alone.

A mark above the bytes a slow server sends in one timeout would look like a stall, so a
timeout that fires while the mark is raised first asks how many bytes are queued
(`queued`): bytes that arrived below the mark are progress, not a stall.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
from typing import Protocol

__all__ = ["CAP", "SUPPORTED", "queued", "set_lowat"]

CAP = 512 << 10
"""The highest low-water mark set: about a tenth of a 5 MiB body per wake-up."""

SUPPORTED = sys.platform == "linux" and hasattr(socket, "SO_RCVLOWAT")

if SUPPORTED:
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


class Settable(Protocol):
    """A socket, or asyncio's wrapper of one."""

    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...


def set_lowat(sock: Settable, size: int) -> None:
    """Set `sock`'s receive low-water mark (a closed socket is left alone)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, size)

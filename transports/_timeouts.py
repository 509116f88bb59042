"""`Timeouts`: how long a transport waits for each step of an exchange.

Apart from the h11 pool so that transports without it (the fetch transport under Pyodide) and
`_common` can use it without importing h11.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait (None: no limit).

    `connect` covers the TCP connect and the TLS handshake; `read` is the longest wait for the
    next bytes from the server, the response head included; `write` the longest wait for the
    socket to take the request.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    write: float | None = 60.0
    deadline: float | None = None
    """The instant, on the backend's clock (`backend.now()`), by which the whole call must be
    over: every wait is cut to what remains of it, and its passing is an
    `InferenceTimeoutError` that says so."""

"""HTTP/1.1 on h11: the connection layer shared by the asyncio and trio transports.

One pool and connection implementation; backends differ only in how bytes move, how they
sleep and how timeouts and cancellation are expressed. Nothing here imports httpx, and trio is
imported only by `get_backend("trio")`.
"""

from ._asyncio_backend import AsyncioBackend
from ._backends import (
    AsyncBackend,
    AsyncNetworkStream,
    BackendName,
    StreamTimeout,
    get_backend,
)
from ._connection import Timeouts
from ._content import make_decoder
from ._pool import ConnectionPool, PooledResponse, make_ssl_context

__all__ = [
    "AsyncBackend",
    "AsyncNetworkStream",
    "AsyncioBackend",
    "BackendName",
    "ConnectionPool",
    "PooledResponse",
    "StreamTimeout",
    "Timeouts",
    "get_backend",
    "make_decoder",
    "make_ssl_context",
]

"""The h11 connection layer (`inferwire._h11`) against loopback servers, under asyncio and trio.

Every test runs once per backend (the `backend` fixture); `run(backend, fn)` runs the coroutine
function under `asyncio.run` or `trio.run`. An autouse fixture fails any test that leaks a socket
or transport (ResourceWarning after a garbage collection).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import trio
import trustme

from inferwire._h11 import (
    AsyncioBackend,
    ConnectionPool,
    PooledResponse,
    Timeouts,
    get_backend,
    make_decoder,
)
from inferwire._h11._chunked import ChunkedDecoder
from inferwire._h11._content import iter_decoded
from inferwire.sansio._errors import (
    ConnectError,
    ConnectTimeoutError,
    IncompleteStreamError,
    InferenceTimeoutError,
    RemoteProtocolError,
    TLSError,
    TransportError,
    UsageError,
)
from inferwire.sansio._http import Request

from backends import on
from h11_servers import (
    Conn,
    Server,
    chunked,
    deflate_raw,
    deflate_zlib,
    gzip_bytes,
    response,
    serve_forever,
)

pytestmark = pytest.mark.timeout(20)

FAST = Timeouts(connect=5.0, read=5.0, write=5.0)


# -- harness -----------------------------------------------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(backend: str, fn: Callable[[], Awaitable[Any]]) -> Any:
    return on(backend, lambda _net: fn())


def pool_for(backend: str, **kwargs: Any) -> ConnectionPool:
    kwargs.setdefault("timeouts", FAST)
    return ConnectionPool(get_backend(backend), **kwargs)  # type: ignore[arg-type]


async def sleep(backend: str, seconds: float) -> None:
    if backend == "asyncio":
        await asyncio.sleep(seconds)
    else:
        await trio.sleep(seconds)


async def asyncio_deadline(awaitable: Awaitable[Any], seconds: float) -> Any:
    """The caller's own asyncio deadline around `awaitable` (asyncio.timeout on 3.11+)."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover


def GET(url: str, *headers: tuple[str, str]) -> Request:
    return Request("GET", url, tuple(headers))


async def fetch(pool: ConnectionPool, request: Request) -> tuple[PooledResponse, bytes]:
    resp = await pool.open(request)
    try:
        body = await resp.read()
    finally:
        await resp.aclose()
    return resp, body


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail the test if a socket, transport or event loop was left unclosed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]


def hello(head: bytes, body: bytes) -> bytes:
    return response(b"hello world", headers=[("Content-Type", "text/plain")])


# -- bodies --------------------------------------------------------------------------------------


def test_content_length_body(backend: str) -> None:
    with Server(serve_forever(hello)) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp, body = await fetch(pool, GET(server.url("/v1/x?a=1&b=%20")))
                assert body == b"hello world"
                assert resp.complete
                assert resp.head.status == 200
                assert resp.head.reason == "OK"
                assert resp.head.header("content-type") == "text/plain"
                assert ("content-length", "11") in resp.head.headers
                assert resp.head.request.url == server.url("/v1/x?a=1&b=%20")

        run(backend, main)
    head = server.requests[0].decode() + "\r\n"
    assert head.startswith("GET /v1/x?a=1&b=%20 HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{server.port}\r\n" in head
    assert "accept-encoding: gzip, deflate\r\n" in head


def test_request_headers_and_body(backend: str) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def echo(head: bytes, body: bytes) -> bytes:
        seen.append((head, body))
        return response(body)

    with Server(serve_forever(echo)) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                req = Request(
                    "POST",
                    server.url("/echo"),
                    (("authorization", "Bearer x"), ("accept-encoding", "identity")),
                    b'{"a": 1}',
                )
                _, body = await fetch(pool, req)
                assert body == b'{"a": 1}'
                _, body = await fetch(pool, Request("POST", server.url("/empty")))
                assert body == b""
                with pytest.raises(UsageError):
                    await pool.open(GET(server.url(), ("x-bad", "a\r\nb")))
                with pytest.raises(UsageError):
                    await pool.open(GET("ftp://example.com/"))
                with pytest.raises(UsageError):
                    await pool.open(
                        Request("POST", server.url(), (("content-length", "3"),), b"four")
                    )

        run(backend, main)
    head = seen[0][0].decode() + "\r\n"
    assert "content-length: 8\r\n" in head
    assert "authorization: Bearer x\r\n" in head
    assert "accept-encoding: identity\r\n" in head
    assert "gzip" not in head
    assert "content-length: 0\r\n" in seen[1][0].decode() + "\r\n"


def test_chunked_body_is_coalesced(backend: str) -> None:
    tokens = [b'data: {"token": %d}\n\n' % i for i in range(500)]

    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            head = response(headers=[("Transfer-Encoding", "chunked")], length=False)
            conn.send(head + chunked(*tokens))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(3):
                    resp = await pool.open(GET(server.url()))
                    pieces = [piece async for piece in resp]
                    assert b"".join(pieces) == b"".join(tokens)
                    # One sendall of 500 chunks: a handful of socket reads, not 500 pieces.
                    assert len(pieces) <= 5
                    assert resp.complete
                    await resp.aclose()
                assert pool.connections_opened == 1

        run(backend, main)


def test_chunked_body_split_anywhere(backend: str) -> None:
    """Chunk headers, CRLFs and data cut across writes, with trailers."""
    payload = chunked(b"hello", b" ", b"world" * 300, end=False) + b"0\r\nx-trailer: 1\r\n\r\n"
    head = response(headers=[("Transfer-Encoding", "chunked")], length=False)

    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            data = head + payload
            for i in range(0, len(data), 7):
                conn.send(data[i : i + 7])

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(2):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"hello world" + b"world" * 299
                assert pool.connections_opened == 1

        run(backend, main)


def test_close_delimited_body(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Connection", "close")], length=False))
        for i in range(20):
            conn.send(b"line %d\n" % i)

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(2):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"".join(b"line %d\n" % i for i in range(20))
                assert pool.connections_opened == 2
                assert pool.idle_connections == 0

        run(backend, main)


def test_http10_response_is_not_reused(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(2):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"ok"
                assert pool.connections_opened == 2

        run(backend, main)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip_bytes), ("deflate", deflate_zlib), ("deflate", deflate_raw)],
)
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_content_decoding(
    backend: str, coding: str, encode: Callable[[bytes], bytes], framing: str
) -> None:
    plain = b"".join(b"token %d, " % i for i in range(5000))
    encoded = encode(plain)

    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            if framing == "length":
                conn.send(response(encoded, headers=[("Content-Encoding", coding)]))
            else:
                pieces = [encoded[i : i + 100] for i in range(0, len(encoded), 100)]
                headers = [("Content-Encoding", coding), ("Transfer-Encoding", "chunked")]
                conn.send(response(headers=headers, length=False) + chunked(*pieces))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(2):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == plain
                assert pool.connections_opened == 1

        run(backend, main)


def test_corrupt_gzip_and_unknown_encoding(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            if b"/corrupt" in req[0]:
                conn.send(
                    response(b"\x1f\x8bnot gzip at all", headers=[("Content-Encoding", "gzip")])
                )
            else:
                conn.send(response(b"\x00\x01raw", headers=[("Content-Encoding", "br")]))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url("/corrupt")))
                with pytest.raises(RemoteProtocolError, match="gzip"):
                    await resp.read()
                assert resp.closed
                resp = await pool.open(GET(server.url("/br")))
                with pytest.raises(RemoteProtocolError, match=r"HTTP 200 .* 'br', which inferwire "
                                   r"does not decode"):
                    await resp.read()

        run(backend, main)


def test_empty_bodies_keep_the_connection(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            if req[0].startswith(b"HEAD"):
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            else:
                conn.send(b"HTTP/1.1 204 No Content\r\n\r\n")

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(Request("HEAD", server.url()))
                assert resp.head.header("content-length") == "1234"
                await resp.aclose()  # nothing read, but the (empty) body already ended
                resp = await pool.open(GET(server.url()))
                assert resp.head.status == 204
                assert await resp.read() == b""
                resp = await pool.open(Request("HEAD", server.url()))
                assert await resp.read() == b""
                assert pool.connections_opened == 1

        run(backend, main)


def test_informational_responses_are_skipped(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            )
            conn.send(response(b"done"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp, body = await fetch(pool, GET(server.url()))
                assert (resp.head.status, body) == (200, b"done")

        run(backend, main)


# -- keep-alive and pooling ------------------------------------------------------------------------


def test_keep_alive_reuse(backend: str) -> None:
    with Server(serve_forever(hello)) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(5):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"hello world"
                    assert pool.idle_connections == 1
                assert pool.connections_opened == 1

        run(backend, main)
    assert server.accepted == 1
    assert len(server.requests) == 5


def test_connection_returns_to_pool_when_body_ends_without_aclose(backend: str) -> None:
    with Server(serve_forever(hello)) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                assert pool.active_connections == 1
                assert await resp.receive() == b"hello world"
                assert resp.complete
                assert pool.active_connections == 0
                assert pool.idle_connections == 1
                assert await resp.receive() == b""
                await fetch(pool, GET(server.url()))
                assert pool.connections_opened == 1

        run(backend, main)


def test_early_aclose_discards_connection(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            if conn.index == 0:
                conn.send(response(headers=[("Content-Length", "1000000")], length=False))
                conn.send(b"x" * 1000)
                conn.wait_for_close()
                return
            conn.send(response(b"fresh"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                assert await resp.receive()
                await resp.aclose()
                await resp.aclose()  # idempotent
                assert resp.closed
                assert not resp.complete
                assert pool.idle_connections == 0
                assert pool.active_connections == 0
                with pytest.raises(UsageError, match="closed"):
                    await resp.receive()
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"fresh"
                assert pool.connections_opened == 2

        run(backend, main)


def test_cancellation_mid_body_discards_connection(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            if conn.index == 0:
                conn.send(response(headers=[("Transfer-Encoding", "chunked")], length=False))
                conn.send(chunked(b"first", end=False))
                conn.wait_for_close()
                return
            conn.send(response(b"fresh"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                got: list[bytes] = []
                if backend == "asyncio":

                    async def consume() -> None:
                        async for piece in resp:
                            got.append(piece)

                    task = asyncio.ensure_future(consume())
                    while not got:
                        await asyncio.sleep(0.005)
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task
                else:
                    with trio.move_on_after(0.1) as scope:
                        async for piece in resp:
                            got.append(piece)
                    assert scope.cancelled_caught
                assert got == [b"first"]
                assert resp.closed
                assert not resp.complete
                assert pool.idle_connections == 0
                assert pool.active_connections == 0
                await resp.aclose()
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"fresh"
                assert pool.connections_opened == 2

        run(backend, main)


def test_cancellation_while_waiting_for_head(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            if conn.index == 0:
                conn.wait_for_close()
                return
            conn.send(response(b"fresh"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                if backend == "asyncio":
                    with pytest.raises(asyncio.TimeoutError):  # 3.10: not the builtin
                        await asyncio_deadline(pool.open(GET(server.url())), 0.1)
                else:
                    with pytest.raises(trio.TooSlowError):
                        with trio.fail_after(0.1):
                            await pool.open(GET(server.url()))
                assert pool.active_connections == 0
                assert pool.idle_connections == 0
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"fresh"
                assert pool.connections_opened == 2

        run(backend, main)


def test_aclose_inside_cancelled_scope(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "100")], length=False) + b"part")
        conn.wait_for_close()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                assert await resp.receive() == b"part"
                if backend == "trio":
                    with trio.CancelScope() as scope:
                        scope.cancel()
                        await resp.aclose()  # must not raise Cancelled nor leave the socket
                        await pool.aclose()
                else:
                    await resp.aclose()
                assert resp.closed
                assert pool.active_connections == 0

        run(backend, main)


def test_server_closes_idle_connection(backend: str) -> None:
    """The server closes a kept-alive connection while it sits idle in the pool."""
    closed = threading.Event()

    def handler(conn: Conn) -> None:
        if conn.read_request() is not None:
            conn.send(response(b"once"))  # claims keep-alive, then closes
        conn.sock.close()
        closed.set()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                for _ in range(3):
                    closed.clear()
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"once"
                    while not closed.is_set():
                        await sleep(backend, 0.005)
                    await sleep(backend, 0.02)
                assert pool.connections_opened == 3

        run(backend, main)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_stale_connection_is_retried_once_only_when_idempotent(backend: str, method: str) -> None:
    """The server reads the second request, then closes without answering: a GET is sent
    again on a fresh connection; a POST it may have processed is not."""

    def handler(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(response(b"first"))
            conn.read_request()
            return  # close without a response byte
        while conn.read_request() is not None:
            conn.send(response(b"retried"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"first"
                second = Request(method, server.url(), (), b"payload" if method == "POST" else None)
                if method == "POST":
                    with pytest.raises(TransportError, match="may have been processed"):
                        await fetch(pool, second)
                    assert pool.connections_opened == 1
                else:
                    _, body = await fetch(pool, second)
                    assert body == b"retried"
                    assert pool.connections_opened == 2

        run(backend, main)
    assert len(server.requests) == (2 if method == "POST" else 3)


def test_early_response_to_a_large_upload(backend: str) -> None:
    """The server answers 413 and closes without reading the body: the 413 is reported."""

    def handler(conn: Conn) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv()
        conn.send(response(b"too large", status=413, headers=[("Connection", "close")]))
        conn.server.stopping.wait(0.1)  # then close with unread data (a reset)

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                request = Request("POST", server.url("/upload"), (), b"x" * 20_000_000)
                resp, body = await fetch(pool, request)
                assert (resp.head.status, body) == (413, b"too large")
                assert pool.idle_connections == 0

        run(backend, main)


def test_fresh_connection_closed_without_response_is_an_error(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                with pytest.raises(TransportError, match="without answering") as info:
                    await pool.open(GET(server.url()))
                assert type(info.value) is TransportError
                assert pool.connections_opened == 1  # not retried: it was not a reused one

        run(backend, main)


def test_no_retry_after_a_response_byte(backend: str) -> None:
    def handler(conn: Conn) -> None:
        if conn.index == 0:
            conn.read_request()
            conn.send(response(b"first"))
            conn.read_request()
            conn.send(b"HTTP/1.1 200 O")
            return
        while conn.read_request() is not None:
            conn.send(response(b"must not happen"))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                await fetch(pool, GET(server.url()))
                with pytest.raises(TransportError, match="middle of the response head"):
                    await pool.open(GET(server.url()))
                assert pool.connections_opened == 1

        run(backend, main)


def test_keepalive_cap_and_concurrency(backend: str) -> None:
    def handler(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            path = req[0].split(b" ")[1]
            conn.send(response(b"body of " + path))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend, max_keepalive_connections=10) as pool:
                results: dict[int, bytes] = {}
                started = 0

                async def one(i: int) -> None:
                    nonlocal started
                    resp = await pool.open(GET(server.url(f"/{i}")))
                    started += 1
                    # Hold every connection until all 20 are open: 20 distinct connections.
                    while started < 20:
                        await sleep(backend, 0.002)
                    results[i] = await resp.read()
                    await resp.aclose()

                if backend == "asyncio":
                    await asyncio.gather(*(one(i) for i in range(20)))
                else:
                    async with trio.open_nursery() as nursery:
                        for i in range(20):
                            nursery.start_soon(one, i)
                assert results == {i: b"body of /%d" % i for i in range(20)}
                assert pool.connections_opened == 20
                assert pool.idle_connections == 10
                assert pool.active_connections == 0
                # The idle ones are reused.
                for i in range(5):
                    await fetch(pool, GET(server.url(f"/again{i}")))
                assert pool.connections_opened == 20

        run(backend, main)


def test_many_concurrent_requests_reuse_connections(backend: str) -> None:
    with Server(serve_forever(hello)) as server:

        async def main() -> None:
            async with pool_for(backend, max_keepalive_connections=64) as pool:

                async def one() -> None:
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"hello world"

                for _ in range(3):
                    if backend == "asyncio":
                        await asyncio.gather(*(one() for _ in range(20)))
                    else:
                        async with trio.open_nursery() as nursery:
                            for _ in range(20):
                                nursery.start_soon(one)
                assert pool.connections_opened <= 20

        run(backend, main)


def test_pool_aclose_fails_open_responses(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "100")], length=False) + b"part")
        conn.wait_for_close()

    with Server(handler) as server:

        async def main() -> None:
            pool = pool_for(backend)
            resp = await pool.open(GET(server.url()))
            assert await resp.receive() == b"part"
            await pool.aclose()
            with pytest.raises(TransportError):
                await resp.receive()
            with pytest.raises(UsageError):
                await pool.open(GET(server.url()))

        run(backend, main)


# -- errors and timeouts -------------------------------------------------------------------------


def test_read_timeout_after_head(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "100")], length=False) + b"part")
        conn.stall()

    with Server(handler) as server:

        async def main() -> None:
            timeouts = Timeouts(connect=5.0, read=0.2, write=5.0)
            async with pool_for(backend, timeouts=timeouts) as pool:
                resp = await pool.open(GET(server.url("/slow")))
                assert await resp.receive() == b"part"
                with pytest.raises(InferenceTimeoutError) as info:
                    await resp.receive()
                assert isinstance(info.value, TimeoutError)
                assert "read timeout" in str(info.value)
                assert server.url("/slow") in str(info.value)
                assert resp.closed
                assert pool.active_connections == 0

        run(backend, main)


def test_read_timeout_waiting_for_head(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.stall()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                with pytest.raises(InferenceTimeoutError, match="read timeout"):
                    await pool.open(
                        GET(server.url()), timeouts=Timeouts(connect=1.0, read=0.1, write=1.0)
                    )
                assert pool.active_connections == 0

        run(backend, main)


def test_caller_timeout_is_honoured(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "100")], length=False))
        conn.stall()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend, timeouts=Timeouts(read=None)) as pool:
                resp = await pool.open(GET(server.url()))
                if backend == "asyncio":
                    with pytest.raises(asyncio.TimeoutError):  # 3.10: not the builtin
                        await asyncio_deadline(resp.read(), 0.1)
                else:
                    with trio.move_on_after(0.1):
                        await resp.read()
                assert resp.closed
                assert pool.active_connections == 0
                assert pool.idle_connections == 0

        run(backend, main)


def test_write_timeout(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.stall()  # never reads: the socket buffers fill up

    with Server(handler) as server:

        async def main() -> None:
            timeouts = Timeouts(connect=5.0, read=5.0, write=0.2)
            async with pool_for(backend, timeouts=timeouts) as pool:
                request = Request("POST", server.url("/upload"), (), b"x" * 50_000_000)
                with pytest.raises(InferenceTimeoutError, match="write timeout"):
                    await pool.open(request)
                assert pool.active_connections == 0

        run(backend, main)


def test_no_keepalive(backend: str) -> None:
    with Server(serve_forever(hello)) as server:

        async def main() -> None:
            async with pool_for(backend, max_keepalive_connections=0) as pool:
                for _ in range(3):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"hello world"
                    assert pool.idle_connections == 0
                assert pool.connections_opened == 3

        run(backend, main)


def test_connect_refused(backend: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    async def main() -> None:
        async with pool_for(backend) as pool:
            with pytest.raises(ConnectError, match=f"127.0.0.1:{port}"):
                await pool.open(GET(f"http://127.0.0.1:{port}/"))
            assert pool.connections_opened == 0

    run(backend, main)


def test_dns_failure(backend: str) -> None:
    async def main() -> None:
        async with pool_for(backend) as pool:
            with pytest.raises(ConnectError, match="resolve"):
                await pool.open(GET("http://no-such-host.invalid/"))

    run(backend, main)


def test_tls_handshake_timeout_says_tls(backend: str) -> None:
    # A server that accepts TCP but never answers the ClientHello: the TCP connect succeeded,
    # so the failure is the handshake's, reported as a TLS error (never retried).
    def handler(conn: Conn) -> None:
        conn.stall()

    with Server(handler) as server:

        async def main() -> None:
            timeouts = Timeouts(connect=0.2, read=5.0, write=5.0)
            async with pool_for(backend, timeouts=timeouts) as pool:
                url = f"https://127.0.0.1:{server.port}/"
                with pytest.raises(TLSError, match=r"TLS handshake .* did not complete") as info:
                    await pool.open(GET(url))
                assert isinstance(info.value, ConnectError)


def test_https_to_a_plain_http_server_fails_fast_as_tls(backend: str) -> None:
    # What plain-HTTP servers do with a TLS ClientHello: answer 400 to the garbage and close.
    def handler(conn: Conn) -> None:
        conn.recv()
        conn.send(response(b"plain", status=400, headers=[("Connection", "close")]))

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend, timeouts=Timeouts(connect=30, read=30)) as pool:
                url = f"https://127.0.0.1:{server.port}/"
                with pytest.raises(TLSError, match="TLS"):
                    await pool.open(GET(url))

        run(backend, main)


def test_connect_timeout(backend: str) -> None:
    # A non-routable address (TEST-NET-1): the TCP connect itself never completes.
    async def main() -> None:
        timeouts = Timeouts(connect=0.2, read=5.0, write=5.0)
        async with pool_for(backend, timeouts=timeouts) as pool:
            with pytest.raises(ConnectError) as info:  # refused at once where there is no route
                await pool.open(GET("http://192.0.2.1:81/"))
            if isinstance(info.value, ConnectTimeoutError):
                assert isinstance(info.value, InferenceTimeoutError)
                assert isinstance(info.value, TimeoutError)

        run(backend, main)


@pytest.mark.parametrize(
    ("tail", "error"),
    [
        (chunked(b"abc", b"def", end=False), IncompleteStreamError),
        (chunked(b"abc")[:-2], IncompleteStreamError),
        (b"3\r\nabc\r\nzz\r\n", RemoteProtocolError),
        (b"3\r\nabcX\r\n", RemoteProtocolError),
    ],
    ids=["no-last-chunk", "cut-in-trailer", "bad-size", "no-crlf-after-data"],
)
def test_broken_chunked_body(backend: str, tail: bytes, error: type[Exception]) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Transfer-Encoding", "chunked")], length=False) + tail)

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                with pytest.raises(error) as info:
                    await resp.read()
                if error is RemoteProtocolError:
                    assert not isinstance(info.value, IncompleteStreamError)
                assert resp.closed
                assert pool.idle_connections == 0

        run(backend, main)


def test_truncated_content_length_body(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "100")], length=False) + b"only this")

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                resp = await pool.open(GET(server.url()))
                with pytest.raises(IncompleteStreamError, match="expected 100"):
                    await resp.read()

        run(backend, main)


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage here\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.0\r\n",
        b"HTTP/1.1 abc Broken\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"x-big: " + b"a" * 70000,
    ],
    ids=["garbage", "ssh", "bad-status", "bad-header", "two-lengths", "bad-te", "head-too-big"],
)
def test_malformed_response_head(backend: str, reply: bytes) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(reply)
        conn.wait_for_close()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                with pytest.raises(RemoteProtocolError) as info:
                    await pool.open(GET(server.url()))
                assert "received:" in str(info.value)
                assert pool.active_connections == 0

        run(backend, main)


# -- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA) -> Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return Server(serve_forever(hello), ssl_context=context)


def test_tls_default_verification_rejects_unknown_ca(backend: str, ca: trustme.CA) -> None:
    with tls_server(ca) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                with pytest.raises(ConnectError, match="certificate verif"):
                    await pool.open(GET(server.url()))

        run(backend, main)


def test_tls_with_trusted_ca(backend: str, ca: trustme.CA) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with tls_server(ca) as server:

        async def main() -> None:
            async with pool_for(backend, verify=context) as pool:
                for _ in range(3):
                    _, body = await fetch(pool, GET(server.url()))
                    assert body == b"hello world"
                assert pool.connections_opened == 1
                # Same server by name: SNI and host name checks use "localhost".
                _, body = await fetch(pool, GET(f"https://localhost:{server.port}/"))
                assert body == b"hello world"

        run(backend, main)


def test_tls_verify_false(backend: str, ca: trustme.CA) -> None:
    with tls_server(ca) as server:

        async def main() -> None:
            async with pool_for(backend, verify=False) as pool:
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"hello world"

        run(backend, main)


def test_tls_hostname_mismatch(backend: str, ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    with Server(serve_forever(hello), ssl_context=context) as server:

        async def main() -> None:
            async with pool_for(backend, verify=trust) as pool:
                with pytest.raises(ConnectError, match="certificate"):
                    await pool.open(GET(server.url()))

        run(backend, main)


# -- URLs ----------------------------------------------------------------------------------------


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback")
def test_ipv6_literal_host(backend: str) -> None:
    with Server(serve_forever(hello), host="::1") as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                _, body = await fetch(pool, GET(server.url("/six?q=1")))
                assert body == b"hello world"

        run(backend, main)
    head = server.requests[0].decode() + "\r\n"
    assert head.startswith("GET /six?q=1 HTTP/1.1")
    assert f"host: [::1]:{server.port}\r\n" in head


def test_target_quoting_and_default_port() -> None:
    from inferwire._h11._pool import _parse_url

    assert _parse_url("https://Example.com/a b/é?x=1#frag") == (
        ("https", "example.com", 443),
        "/a%20b/%C3%A9?x=1",
        "example.com",
    )
    assert _parse_url("http://example.com") == (("http", "example.com", 80), "/", "example.com")
    assert _parse_url("http://u:p@[::1]:8080/x?") == (("http", "::1", 8080), "/x", "[::1]:8080")
    with pytest.raises(UsageError):
        _parse_url("http://example.com:99999/")


# -- units: chunked decoder, content decoders, backends ------------------------------------------


def test_chunked_decoder_every_split() -> None:
    body = chunked(b"a", b"bc" * 40, b"\r\n", b"d;not-ext", end=False)
    body += b"5;name=value\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"
    expected = b"a" + b"bc" * 40 + b"\r\n" + b"d;not-ext" + b"hello"
    for cut in range(len(body) + 1):
        for cut2 in range(cut, len(body) + 1, 7):
            decoder = ChunkedDecoder()
            out = decoder.feed(body[:cut]) + decoder.feed(body[cut:cut2])
            out += decoder.feed(body[cut2:])
            assert out == expected
            assert decoder.done
            assert decoder.trailing == b""
    decoder = ChunkedDecoder()
    assert b"".join(decoder.feed(bytes([b])) for b in body) == expected
    decoder = ChunkedDecoder()
    decoder.feed(b"1\r\nx\r\n0\r\n\r\nextra")
    assert decoder.done
    assert decoder.trailing == b"extra"


@pytest.mark.parametrize(
    "data",
    [b"g\r\n", b"\r\n", b"-1\r\n", b"0x1\r\n", b"1 1\r\n", b"12345678901234567\r\n", b"1\r\nab"],
)
def test_chunked_decoder_rejects(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ChunkedDecoder().feed(data)


def test_chunked_decoder_bounds_lines() -> None:
    with pytest.raises(RemoteProtocolError, match="too long"):
        ChunkedDecoder().feed(b"1;" + b"x" * 20000)
    decoder = ChunkedDecoder()
    decoder.feed(b"0\r\n")
    with pytest.raises(RemoteProtocolError, match="trailer"):
        decoder.feed(b"x-trailer: 0123456789\r\n" * 2000)


def test_content_decoders_incremental() -> None:
    plain = bytes(range(256)) * 200
    for coding, encoded in [
        ("gzip", gzip_bytes(plain)),
        ("deflate", deflate_zlib(plain)),
        ("deflate", deflate_raw(plain)),
        ("gzip", gzip_bytes(plain[:100]) + gzip_bytes(plain[100:])),  # two members
        ("gzip, gzip", gzip_bytes(gzip_bytes(plain))),
        ("deflate, identity, gzip", gzip_bytes(deflate_zlib(plain))),
    ]:
        decoder = make_decoder(coding)
        assert decoder is not None
        out = b"".join(iter_decoded(decoder, (encoded[i : i + 1] for i in range(len(encoded)))))
        assert out == plain, coding
    assert make_decoder(None) is None
    assert make_decoder("identity") is None
    unknown = make_decoder("gzip, br")
    assert unknown is not None
    with pytest.raises(RemoteProtocolError, match="'br'"):
        unknown.decode(b"x")
    decoder = make_decoder("deflate")
    assert decoder is not None
    with pytest.raises(RemoteProtocolError, match="deflate"):
        decoder.decode(b"\x78\x9c" + b"\xff" * 20)


def test_backend_selection() -> None:
    assert isinstance(get_backend("asyncio"), AsyncioBackend)
    assert get_backend("trio").name == "trio"
    with pytest.raises(UsageError):
        get_backend("curio")  # type: ignore[arg-type]


def test_import_does_not_pull_trio_or_httpx() -> None:
    import subprocess
    import sys

    code = (
        "import sys, inferwire._h11 as m; m.get_backend('asyncio');"
        "bad = [n for n in ('trio', 'httpx') if n in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bytes_after_the_body_prevent_reuse(backend: str) -> None:
    """A server that sends more than its Content-Length: the body is right, no reuse."""

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(headers=[("Content-Length", "5")], length=False) + b"12345extra")
        conn.wait_for_close()

    with Server(handler) as server:

        async def main() -> None:
            async with pool_for(backend) as pool:
                _, body = await fetch(pool, GET(server.url()))
                assert body == b"12345"
                # The extra bytes make the connection unusable: not kept.
                assert pool.idle_connections == 0

        run(backend, main)

"""Large bodies on all three backends: a response of known length read straight into the
buffer it is returned in (`BodyCollector.reserve`, `PooledResponse.read_into`), large uploads
(asyncio's direct socket writes), and what a timeout means for them: the longest stall, not
the whole transfer; the call's deadline bounds the whole."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from inferwire import HTTPStatusError, ResponseTooLargeError
from inferwire._h11 import AsyncBackend, ConnectionPool, Timeouts
from inferwire.sansio._driving import RESERVE_AT, BodyCollector
from inferwire.sansio._effects import Send
from inferwire.sansio._errors import IncompleteStreamError, InferenceTimeoutError, UsageError
from inferwire.sansio._http import Request, ResponseHead
from inferwire.testing import FakeInferenceServer, raw

from backends import BACKENDS, GET, on
from h11_servers import Conn, Server, response
from scenarios import TRANSPORTS, Facade, run

BIG = os.urandom(3 << 20)


def head_of(length: int, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


async def read_whole(pool: ConnectionPool, request: Request,
                     timeouts: Timeouts | None = None) -> bytes:
    opened = await pool.open(request, timeouts)
    size = opened.sized_length
    assert size is not None
    buffer = bytearray(size)
    await opened.read_into(memoryview(buffer))
    assert opened.complete
    return bytes(buffer)


# -- the core's decision ----------------------------------------------------------------------


def collector(status: int = 200, limit: int = 8 << 20) -> BodyCollector:
    request = Request("POST", "http://h/x", (), b"{}")
    send = Send(request, limit)
    return BodyCollector(send, ResponseHead(status, (), request, "OK"))


def test_a_small_or_unsized_body_is_read_piece_by_piece() -> None:
    assert collector().reserve(None) is None
    assert collector().reserve(RESERVE_AT - 1) is None


def test_a_large_body_gets_a_buffer_whose_bytes_are_handed_over_without_a_copy() -> None:
    c = collector()
    view = c.reserve(RESERVE_AT)
    assert view is not None and len(view) == RESERVE_AT and not view.readonly
    view[:3] = b"abc"
    view[-1:] = b"z"
    c.reserved_filled()
    body = c.body
    assert type(body) is bytes and body[:3] == b"abc" and body[-1:] == b"z"
    assert c.body is body  # the BytesIO's own buffer: no copy
    assert c.complete


def test_a_success_body_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ResponseTooLargeError, match="exceeds 300000 bytes"):
        collector(limit=300_000).reserve(400_000)


def test_an_error_body_over_its_cut_is_read_in_pieces_and_cut() -> None:
    c = collector(status=500, limit=300_000)
    assert c.reserve(10 << 20) is None


def test_reserved_filled_without_a_reservation_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        collector().reserved_filled()


# -- through the clients ----------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_large_body_arrives_whole_and_the_connection_is_reused(transport: str) -> None:
    pieces = [BIG[i : i + (700 << 10)] for i in range(0, len(BIG), 700 << 10)]
    with FakeInferenceServer() as server:
        for _ in range(2):
            server.enqueue(raw(200, [("Content-Type", "audio/flac")], pieces))

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            for _ in range(2):
                out = await t.call("text_to_speech", "hello")
                assert type(out) is bytes and out == BIG
            assert server.connections_accepted == 1

        run(transport, server, scenario)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_large_upload_arrives_whole(transport: str) -> None:
    with FakeInferenceServer() as server:
        server.enqueue(raw(200, [("Content-Type", "application/json")], [b'{"text": "ok"}']))

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            out = await t.call("automatic_speech_recognition", BIG)
            assert out.text == "ok"
            assert server.last_request.body == BIG

        run(transport, server, scenario)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_large_body_over_the_size_limit_is_refused_and_an_error_body_cut(
        transport: str) -> None:
    with FakeInferenceServer() as server:
        server.enqueue(raw(200, [("Content-Type", "audio/flac")], [BIG]))
        server.enqueue(raw(500, [("Content-Type", "text/plain")], [BIG]))

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            with pytest.raises(ResponseTooLargeError, match=f"exceeds {1 << 20} bytes"):
                await t.call("text_to_speech", "hello")
            with pytest.raises(HTTPStatusError) as info:
                await t.call("text_to_speech", "hello")
            assert info.value.status == 500

        run(transport, server, scenario, max_response_size=1 << 20, max_retries=0)


# -- on the wire: stalls, deadlines, early ends -----------------------------------------------


def _trickle(pieces: int, pause: float, tail: bytes = b"") -> Callable[[Conn], None]:
    """A handler that sends BIG in `pieces` pieces, `pause` seconds apart."""
    size = -(-len(BIG) // pieces)

    def handler(conn: Conn) -> None:
        while conn.read_request() is not None:
            conn.send(head_of(len(BIG)))
            for start in range(0, len(BIG), size):
                conn.send(BIG[start : start + size])
                time.sleep(pause)
            if tail:
                conn.send(tail)

    return handler


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_read_timeout_bounds_each_stall_not_the_whole_body(backend: str) -> None:
    with Server(_trickle(6, 0.1)) as server:

        async def main(net: AsyncBackend) -> float:
            async with ConnectionPool(net, timeouts=Timeouts(read=0.35)) as pool:
                started = time.monotonic()
                assert await read_whole(pool, GET(server.url())) == BIG
                return time.monotonic() - started

        assert on(backend, main) > 0.35  # longer than the timeout in all, never in one stall


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_slow_trickle_below_the_low_water_mark_is_not_a_stall(backend: str) -> None:
    # 32 KiB every 50 ms: under a 0.2 s read timeout, each timeout sees ~128 KiB arrive, far
    # below the receive low-water mark an event loop sets for a large body (`_lowat`).
    body = BIG[: 640 << 10]

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(head_of(len(body)))
        for start in range(0, len(body), 32 << 10):
            time.sleep(0.05)
            conn.send(body[start : start + (32 << 10)])

    with Server(handler) as server:

        async def main(net: AsyncBackend) -> bytes:
            async with ConnectionPool(net, timeouts=Timeouts(read=0.2)) as pool:
                return await read_whole(pool, GET(server.url()))

        assert on(backend, main) == body


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stall_longer_than_the_read_timeout_in_a_large_body_times_out(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(head_of(len(BIG)) + BIG[: 1 << 20])
        conn.stall()

    with Server(handler) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=0.2)) as pool:
                started = time.monotonic()
                with pytest.raises(InferenceTimeoutError, match="read timeout"):
                    await read_whole(pool, GET(server.url()))
                assert time.monotonic() - started < 3

        on(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_calls_deadline_bounds_a_body_that_keeps_trickling(backend: str) -> None:
    with Server(_trickle(30, 0.05)) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0)) as pool:
                started = time.monotonic()
                deadline = net.now() + 0.4
                with pytest.raises(InferenceTimeoutError, match="deadline passed"):
                    await read_whole(pool, GET(server.url()),
                                     Timeouts(read=5.0, deadline=deadline))
                assert time.monotonic() - started < 1.2

        on(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_large_body_cut_short_is_an_incomplete_stream(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(head_of(len(BIG)) + BIG[: 2 << 20])

    with Server(handler) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0)) as pool:
                with pytest.raises(IncompleteStreamError,
                                   match=f"received {2 << 20} bytes, expected {len(BIG)}"):
                    await read_whole(pool, GET(server.url()))

        on(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bytes_after_a_large_body_keep_the_connection_from_reuse(backend: str) -> None:
    with Server(_trickle(2, 0.0, tail=b"HTTP/1.1 200 OK\r\n")) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0)) as pool:
                assert await read_whole(pool, GET(server.url())) == BIG
                await net.sleep(0.05)  # the stray bytes reach the client
                assert await read_whole(pool, GET(server.url())) == BIG

        on(backend, main)
        assert server.accepted == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_into_needs_a_buffer_of_the_rest_of_the_body(backend: str) -> None:
    with Server(_trickle(1, 0.0)) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0)) as pool:
                opened = await pool.open(GET(server.url()))
                with pytest.raises(UsageError, match="rest of the body's size"):
                    await opened.read_into(memoryview(bytearray(10)))
                await opened.aclose()

        on(backend, main)


# -- large uploads ----------------------------------------------------------------------------

UPLOAD = os.urandom(16 << 20)


def _slow_reader(pause: float, step: int = 1 << 20) -> Callable[[Conn], None]:
    """A handler that reads a request body `step` bytes at a time, `pause` seconds apart, then
    answers with how many bytes it read."""

    def handler(conn: Conn) -> None:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        got = b""
        while b"\r\n\r\n" not in got:
            got += conn.sock.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        received = bytearray(body)
        while len(received) < length:
            time.sleep(pause)
            chunk = bytearray(min(step, length - len(received)))
            view = memoryview(chunk)
            have = 0
            while have < len(chunk):
                n = conn.sock.recv_into(view[have:])
                if not n:
                    return
                have += n
            received += chunk
        ok = bytes(received) == UPLOAD
        conn.send(response(b"%d %s" % (len(received), b"ok" if ok else b"bad")))

    return handler


def POST(url: str, body: bytes) -> Request:
    return Request("POST", url, (("content-type", "application/octet-stream"),), body)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_write_timeout_bounds_each_stall_of_a_large_upload(backend: str) -> None:
    with Server(_slow_reader(0.05)) as server:

        async def main(net: AsyncBackend) -> tuple[bytes, float]:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0, write=0.4)) as pool:
                started = time.monotonic()
                opened = await pool.open(POST(server.url(), UPLOAD))
                return await opened.read(), time.monotonic() - started

        body, took = on(backend, main)
        assert body == b"%d ok" % len(UPLOAD)
        assert took > 0.4  # longer than the write timeout in all: it bounds each stall


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_upload_the_server_stops_reading_times_out(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        conn.stall()

    with Server(handler) as server:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0, write=0.3)) as pool:
                started = time.monotonic()
                with pytest.raises(InferenceTimeoutError, match="write timeout"):
                    await pool.open(POST(server.url(), UPLOAD))
                assert time.monotonic() - started < 3

        on(backend, main)


# -- the socket options for bulk transfers ----------------------------------------------------


def _sndbuf(sock: socket.socket) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


def test_the_send_buffer_grows_to_an_upload_only_as_far_as_the_system_allows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from inferwire._h11 import _bulk

    with socket.socket() as sock:
        before = _sndbuf(sock)
        monkeypatch.setattr(_bulk, "_send_buffer_limit", lambda: 212_992)  # the common default
        _bulk.grow_send_buffer(sock, 10 << 20)
        assert _sndbuf(sock) == before  # asking would shrink what autotuning reaches: untouched
        monkeypatch.setattr(_bulk, "_send_buffer_limit", lambda: 1 << 30)
        _bulk.grow_send_buffer(sock, 1 << 20)
        grown = _sndbuf(sock)
        if sys.platform == "linux":
            assert grown >= 1 << 20  # what the kernel reports for a body of 1 MiB
        _bulk.grow_send_buffer(sock, 300_000)
        assert _sndbuf(sock) == grown  # never shrunk


@pytest.mark.parametrize(("rmem", "trio_mark", "asyncio_mark"), [
    ("4096\t131072\t33554432\n", 4 << 20, 512 << 10),  # this machine: room for the caps
    ("4096\t131072\t6291456\n", 1536 << 10, 512 << 10),  # the common 6 MiB: a quarter
    ("4096\t87380\t1048576\n", 256 << 10, 256 << 10),  # a small limit binds both
    ("", 512 << 10, 512 << 10),  # unreadable: the mark that fits any autotuned buffer
])
def test_the_low_water_mark_stays_within_what_the_receive_window_can_hold(
        rmem: str, trio_mark: int, asyncio_mark: int, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from inferwire._h11 import _bulk

    limits = tmp_path / "tcp_rmem"
    if rmem:
        limits.write_text(rmem)
    monkeypatch.setattr(_bulk, "_TCP_RMEM", str(limits))
    _bulk._receive_buffer_limit.cache_clear()
    _bulk.lowat_limit.cache_clear()
    try:
        assert _bulk.lowat_limit(_bulk.LOWAT_CAP_TRIO) == trio_mark
        assert _bulk.lowat_limit(_bulk.LOWAT_CAP) == asyncio_mark
    finally:
        _bulk._receive_buffer_limit.cache_clear()
        _bulk.lowat_limit.cache_clear()


def test_the_receive_low_water_mark_is_set_back_after_a_large_body() -> None:
    # (a mark left raised would make the pool's idle check miss a server's close; the body
    # comes in pieces so that the reader waits, with the mark raised)
    with Server(_trickle(6, 0.02)) as server:

        async def main(net: AsyncBackend) -> int:
            async with ConnectionPool(net, timeouts=Timeouts(read=5.0)) as pool:
                opened = await pool.open(GET(server.url()))
                stream = opened._conn.stream  # type: ignore[union-attr]
                buffer = bytearray(len(BIG))
                await opened.read_into(memoryview(buffer))
                sock = getattr(stream, "_raw")  # noqa: B009 - the trio backend's plain socket
                return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT))

        assert on("trio", main) == 1

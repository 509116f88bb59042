"""The connection layer against hostile wires, on all three backends (sync, asyncio, trio):
compression bombs stay bounded, proxies (explicit and from the environment, CONNECT tunnels for
https), TLS trust from ``verify=`` and ``SSL_CERT_FILE``."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from inferwire import InferenceClient, ResponseTooLargeError
from inferwire._h11 import AsyncBackend, ConnectionPool, Timeouts, get_backend
from inferwire._h11._content import PIECE
from inferwire.sansio._errors import InferenceError, ProxyError, UsageError
from inferwire.testing import FakeInferenceServer, raw

from backends import BACKENDS, GET, on
from h11_servers import Conn, Server, response, serve_forever
from scenarios import TRANSPORTS, Facade, run

FAST = Timeouts(connect=5.0, read=5.0, write=5.0)
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def bomb() -> tuple[bytes, int]:
    """About 1 MiB of gzip on the wire that inflates to 1 GiB of zeros."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [encoder.compress(zeros) for _ in range(1024)]
    parts.append(encoder.flush())
    return b"".join(parts), 1 << 30


# -- compression bombs ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gzip_bomb_is_decoded_in_bounded_pieces(backend: str, bomb: tuple[bytes, int]) -> None:
    encoded, size = bomb
    assert len(encoded) < 2 << 20

    def handler(conn: Conn) -> None:
        conn.read_request()
        conn.send(response(encoded, headers=[("Content-Encoding", "gzip")]))

    with Server(handler) as server:

        async def main(net: AsyncBackend) -> tuple[int, int, int]:
            async with ConnectionPool(net, timeouts=FAST) as pool:
                resp = await pool.open(GET(server.url()))
                total = largest = 0
                tracemalloc.start()
                try:
                    # only part of it: the whole GiB through tracemalloc would take long
                    while total < 64 << 20:
                        piece = await resp.receive()
                        assert piece
                        total += len(piece)
                        largest = max(largest, len(piece))
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                await resp.aclose()
                return total, largest, peak

        total, largest, peak = on(backend, main)
    assert total >= 64 << 20 and size > total
    assert largest <= PIECE
    assert peak < 16 << 20  # tens of MiB at most, never the inflated size


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("status", [200, 500])
def test_a_gzip_bomb_body_raises_or_is_cut_on_every_transport(
        transport: str, status: int, bomb: tuple[bytes, int]) -> None:
    encoded, _ = bomb
    with FakeInferenceServer() as server:
        server.enqueue(raw(status, [("Content-Type", "application/json"),
                                    ("Content-Encoding", "gzip")], [encoded]))

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            with pytest.raises(InferenceError) as info:
                await t.call("chat_completion", MESSAGES)
            if status == 200:
                assert isinstance(info.value, ResponseTooLargeError)
                assert "after decompression" in str(info.value)
            else:
                assert getattr(info.value, "status", None) == 500

        run(transport, server, scenario, max_retries=0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_response_size_limit_is_configurable(transport: str) -> None:
    with FakeInferenceServer(tokens=["x" * 5000]) as server:

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            with pytest.raises(ResponseTooLargeError, match="exceeds 1000 bytes"):
                await t.call("chat_completion", MESSAGES)

        run(transport, server, scenario, max_response_size=1000)
    with pytest.raises(UsageError, match="max_response_size"):
        InferenceClient(base_url="http://127.0.0.1:9/v1", max_response_size=0)


# -- proxies -----------------------------------------------------------------------------------


class Proxy:
    """A loopback HTTP proxy: absolute-form requests are forwarded (hop-by-hop proxy headers
    removed); CONNECT opens a tunnel. It records each request line and Proxy-Authorization."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[tuple[str, str | None]] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            data = b""
            while b"\r\n\r\n" not in data:
                more = client.recv(65536)
                if not more:
                    return
                data += more
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            auth = next((line.split(":", 1)[1].strip() for line in lines[1:]
                         if line.lower().startswith("proxy-authorization:")), None)
            self.seen.append((lines[0], auth))
            method, target, _ = lines[0].split(" ", 2)
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                rest_of_url = target.split("://", 1)[1]
                hostport, _, path = rest_of_url.partition("/")
                host, port = hostport.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                kept = [line for line in lines[1:]
                        if not line.lower().startswith("proxy-authorization:")]
                upstream.sendall(("\r\n".join([f"{method} /{path} HTTP/1.1", *kept]) +
                                  "\r\n\r\n").encode("latin-1") + rest)
            self._pipe(client, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        def copy(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

        t = threading.Thread(target=copy, args=(b, a), daemon=True)
        t.start()
        copy(a, b)
        t.join(5)
        b.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    p = Proxy()
    yield p
    p.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_explicit_proxy_carries_http_requests_on_every_transport(
        transport: str, proxy: Proxy) -> None:
    with FakeInferenceServer(tokens=["via", " proxy"]) as server:

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            output = await t.call("chat_completion", MESSAGES)
            assert output.choices[0].message.content == "via proxy"

        run(transport, server, scenario, proxy=f"http://user:pw@127.0.0.1:{proxy.port}")
        line, auth = proxy.seen[0]
        assert line.startswith(f"POST {server.url('/v1/chat/completions')} ")
        assert auth == "Basic dXNlcjpwdw=="  # user:pw, sent to the proxy only
        assert server.last_request is not None
        assert "proxy-authorization" not in server.last_request.headers


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_proxy_variables_and_no_proxy_are_honoured(
        transport: str, proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
                 "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    with FakeInferenceServer() as server:

        async def scenario(t: Facade, server: FakeInferenceServer) -> None:
            await t.call("chat_completion", MESSAGES)

        run(transport, server, scenario)
        assert len(proxy.seen) == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        run(transport, server, scenario)
        assert len(proxy.seen) == 1  # bypassed
        monkeypatch.delenv("NO_PROXY")
        run(transport, server, scenario, trust_env=False)
        assert len(proxy.seen) == 1  # the environment ignored


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_server(ca: trustme.CA) -> Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return Server(serve_forever(lambda head, body: response(b"secure")), ssl_context=context)


@pytest.mark.parametrize("backend", BACKENDS)
def test_https_goes_through_a_connect_tunnel(backend: str, proxy: Proxy,
                                             ca: trustme.CA, tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with _tls_server(ca) as server:
        url = f"https://127.0.0.1:{server.port}/x"

        async def main(net: AsyncBackend) -> bytes:
            async with ConnectionPool(net, timeouts=FAST,
                                      verify=str(bundle),
                                      proxy=f"http://127.0.0.1:{proxy.port}") as pool:
                resp = await pool.open(GET(url))
                return await resp.read()

        assert on(backend, main) == b"secure"
    assert proxy.seen[0][0] == f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_refused_tunnel_is_a_proxy_error(backend: str) -> None:
    def handler(conn: Conn) -> None:
        conn.recv()
        conn.send(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    with Server(handler) as refusing:

        async def main(net: AsyncBackend) -> None:
            async with ConnectionPool(net, timeouts=FAST,
                                      proxy=f"http://127.0.0.1:{refusing.port}") as pool:
                with pytest.raises(ProxyError, match="407"):
                    await pool.open(GET("https://127.0.0.1:9/"))

        on(backend, main)


def test_unsupported_proxies_and_bad_trust_paths_are_usage_errors(tmp_path: Any) -> None:
    backend = get_backend("sync")
    with pytest.raises(UsageError, match="socks5:// proxy"):
        ConnectionPool(backend, proxy="socks5://127.0.0.1:1080")
    with pytest.raises(UsageError, match="no CA bundle") as info:
        ConnectionPool(backend, verify=str(tmp_path / "missing.pem"))
    assert info.value.argument == "verify"


@pytest.mark.parametrize("backend", BACKENDS)
def test_ssl_cert_file_is_trusted_by_default(backend: str, ca: trustme.CA, tmp_path: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with _tls_server(ca) as server:

        async def main(net: AsyncBackend) -> bytes:
            async with ConnectionPool(net, timeouts=FAST) as pool:
                resp = await pool.open(GET(server.url()))
                return await resp.read()

        assert on(backend, main) == b"secure"

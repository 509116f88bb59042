"""The fetch transport's parts that run without Pyodide (tests/test_pyodide.py runs the rest
under Pyodide): which headers fetch is given, the options refused under Pyodide, the import
rule, and the fake server's CORS mode that browser pages need."""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path

import pytest

from inferwire import AsyncInferenceClient, UsageError
from inferwire._fetch import BROWSER_HEADERS, fetch_headers, sync_unavailable
from inferwire.sansio._http import Request
from inferwire.testing import FakeInferenceServer, chat_stream

ROOT = Path(__file__).resolve().parent.parent


def test_fetch_is_given_the_request_headers_without_those_the_browser_sets() -> None:
    request = Request("POST", "http://127.0.0.1/v1/chat/completions", (
        ("authorization", "Bearer hf_x"), ("content-type", "application/json"),
        ("content-length", "2"), ("host", "127.0.0.1"), ("accept-encoding", "gzip"),
        ("connection", "keep-alive"), ("user-agent", "inferwire/0"),
    ), b"{}")
    assert fetch_headers(request) == [("authorization", "Bearer hf_x"),
                                      ("content-type", "application/json"),
                                      ("user-agent", "inferwire/0")]
    assert {"content-length", "host", "transfer-encoding"} <= BROWSER_HEADERS


def test_a_cookie_header_is_refused_rather_than_dropped_by_the_browser() -> None:
    request = Request("GET", "http://127.0.0.1/", (("Cookie", "a=b"),))
    with pytest.raises(UsageError, match="Cookie") as raised:
        fetch_headers(request)
    assert raised.value.argument == "cookies"


@pytest.mark.parametrize(("option", "value"), [("verify", False), ("proxy", "http://p:1")])
def test_tls_and_proxy_options_are_refused_under_pyodide(option: str, value: object) -> None:
    with pytest.raises(UsageError, match="browser") as raised:
        AsyncInferenceClient(async_library="pyodide", **{option: value})  # type: ignore[arg-type]
    assert raised.value.argument == option


def test_an_unknown_async_library_names_pyodide_among_the_choices() -> None:
    with pytest.raises(UsageError, match="'pyodide'"):
        AsyncInferenceClient(async_library="curio")  # type: ignore[arg-type]


def test_the_sync_client_error_points_to_the_async_client() -> None:
    assert "AsyncInferenceClient" in str(sync_unavailable("InferenceClient"))


def test_the_async_client_loads_no_h11_until_it_is_used() -> None:
    code = ("import sys; from inferwire import AsyncInferenceClient; AsyncInferenceClient(); "
            "print(sorted(m for m in sys.modules if m == 'h11' or 'inferwire._h11' in m))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT / "tests").stdout
    assert out.strip() == "[]"


def _exchange(server: FakeInferenceServer, method: str, headers: dict[str, str],
              body: bytes | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request(method, "/v1/chat/completions", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_a_cors_server_answers_the_preflight_with_what_it_asks_for() -> None:
    with FakeInferenceServer(cors=True) as server:
        response = _exchange(server, "OPTIONS", {
            "Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert response.status == 204
        assert response.getheader("Access-Control-Allow-Origin") == "*"
        assert response.getheader("Access-Control-Allow-Methods") == "POST"
        assert response.getheader("Access-Control-Allow-Headers") == "authorization,content-type"
        assert server.requests[-1].method == "OPTIONS"


def test_a_cors_server_lets_any_page_read_scripted_and_default_replies() -> None:
    with FakeInferenceServer(cors=True) as server:
        server.enqueue(chat_stream(["a"], headers={"X-Request-Id": "r1"}))
        scripted = _exchange(server, "POST", {"Content-Type": "application/json"}, b"{}")
        default = _exchange(server, "POST", {"Content-Type": "application/json"}, b"{}")
    for response in (scripted, default):
        assert response.getheader("Access-Control-Allow-Origin") == "*"
        assert response.getheader("Access-Control-Expose-Headers") == "*"
    assert scripted.getheader("X-Request-Id") == "r1"


def test_without_cors_the_server_sends_no_cors_headers() -> None:
    with FakeInferenceServer() as server:
        response = _exchange(server, "POST", {"Content-Type": "application/json"}, b"{}")
    assert response.getheader("Access-Control-Allow-Origin") is None


def test_wait_connection_closed_tells_an_open_connection_from_a_closed_one() -> None:
    with FakeInferenceServer() as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/health")
        conn.getresponse().read()
        connection_id = server.requests[-1].connection_id
        assert not server.wait_connection_closed(connection_id, 0.05)  # kept alive
        conn.close()
        assert server.wait_connection_closed(connection_id, 5.0)

"""Tests of `inferwire.testing`, the fake inference server, with the standard library only.

Clients here are `http.client` and raw sockets, so these tests check the wire itself (chunk
boundaries, truncation, compression, keep-alive) independently of inferwire's transports.
"""

from __future__ import annotations

import ast
import base64
import functools
import gc
import http.client
import itertools
import json
import socket
import struct
import threading
import time
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance import REAL_STREAMS_DIR

from inferwire.testing import (
    DEFAULT_TOKENS,
    FakeInferenceServer,
    RecordedRequest,
    Reply,
    chat_completion,
    chat_stream,
    close_connection,
    completion,
    completion_stream,
    embeddings,
    error,
    fake_embedding,
    hf_features,
    json_reply,
    raw,
    replay,
    sse,
    tgi_generate,
    tgi_stream,
)

# Raw captures of real servers, carried in the repository (see tests/data/SOURCE.md).
CAPTURES = REAL_STREAMS_DIR
def needs_captures(test: Any) -> Any:
    """Mark a test that reads the captures: missing captures fail it (CI has them)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        assert CAPTURES.is_dir(), f"the real_streams captures are missing: {CAPTURES}"
        return test(*args, **kwargs)

    return functools.wraps(test)(run)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as srv:
        yield srv


def post(
    srv: FakeInferenceServer, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, data, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def get(srv: FakeInferenceServer, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def sse_data(body: bytes) -> list[str]:
    """A small WHATWG-style SSE parser: the data of every event, comments skipped."""
    text = body.decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    data: list[str] = []
    for line in text.split("\n"):
        if not line:
            if data:
                out.append("\n".join(data))
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
    return out


def sse_json(body: bytes) -> list[Any]:
    return [json.loads(d) if d != "[DONE]" else "[DONE]" for d in sse_data(body)]


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> tuple[bytes, bytes]:
    """Send ``request`` on a fresh socket, read until EOF; return (head, raw body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def post_request(path: str, body: Any, *, close: bool = True) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n{'Connection: close' if close else 'X-Keep: 1'}\r\n\r\n"
    ).encode() + payload


def parse_chunks(body: bytes) -> tuple[list[bytes], bool]:
    """Split a raw chunked body into its chunks; True if the terminator was there."""
    chunks: list[bytes] = []
    pos = 0
    while pos < len(body):
        end = body.find(b"\r\n", pos)
        if end < 0:
            return chunks, False
        size = int(body[pos:end], 16)
        if size == 0:
            return chunks, body[end:] == b"\r\n\r\n"
        chunk = body[end + 2 : end + 2 + size]
        if len(chunk) < size:
            return chunks, False
        chunks.append(chunk)
        assert body[end + 2 + size : end + 4 + size] == b"\r\n"
        pos = end + 4 + size
    return chunks, False


def capture_body(path: Path) -> tuple[bytes, bytes]:
    data = path.read_bytes()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


# --------------------------------------------------------------------------------------------
# hygiene and lifecycle
# --------------------------------------------------------------------------------------------


def test_modules_import_only_the_standard_library() -> None:
    root = Path(__file__).resolve().parents[1] / "transports"
    names = [f"testing/{p.name}" for p in (root / "testing").glob("*.py")]
    assert "testing/__main__.py" in names
    for name in names:
        tree = ast.parse((root / name).read_text())
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"httpx", "h11", "trio", "anyio", "inferwire"}, name


def test_urls_and_lifecycle() -> None:
    srv = FakeInferenceServer()

    def running() -> bool:  # a call, so that mypy does not narrow the property
        return srv.running

    assert not running()
    srv.start()
    try:
        assert running()
        assert srv.base_url == f"http://127.0.0.1:{srv.port}"
        assert srv.url("/v1/models") == srv.base_url + "/v1/models"
        assert srv.url("health") == srv.base_url + "/health"
        with pytest.raises(RuntimeError):
            srv.start()
    finally:
        srv.stop()
    assert not running()
    srv.stop()  # idempotent


def fake_threads(port: int) -> list[threading.Thread]:
    names = (f"inferwire-fake-accept-{port}", f"inferwire-fake-conn-{port}-")
    return [t for t in threading.enumerate() if t.name.startswith(names)]


def test_stop_joins_threads_and_closes_sockets_without_resource_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        srv = FakeInferenceServer().start()
        # an idle keep-alive connection, a reply sleeping before its headers and a stream
        # sleeping between events are all open when stop() is called
        idle = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
        idle.request("GET", "/health")
        idle.getresponse().read()
        srv.route("GET", "/slow-head", json_reply({}, delay_before_headers=30))
        srv.route("POST", "/slow-body", chat_stream(delay_between_events=30))
        slow_head = socket.create_connection((srv.host, srv.port))
        slow_head.sendall(b"GET /slow-head HTTP/1.1\r\nHost: x\r\n\r\n")
        slow_body = socket.create_connection((srv.host, srv.port))
        slow_body.sendall(post_request("/slow-body", {}))
        srv.wait_for_requests(3)
        assert srv.open_connections == 3
        assert len(fake_threads(srv.port)) == 4  # accept + 3 connections
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 2, "delays must end when the server stops"
        assert fake_threads(srv.port) == []
        assert srv.open_connections == 0
        for sock in (slow_head, slow_body):
            sock.settimeout(5)
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk
            sock.close()
        assert b"Hello" not in rest  # the stream was cut after its first event
        idle.close()
        with pytest.raises(OSError):
            socket.create_connection((srv.host, srv.port), timeout=1).close()
        del srv
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# --------------------------------------------------------------------------------------------
# default routes
# --------------------------------------------------------------------------------------------


def test_default_chat_stream_with_usage(server: FakeInferenceServer) -> None:
    body = {
        "model": "my-model",
        "messages": [{"role": "user", "content": "Tell me a joke please"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response, data = post(server, "/v1/chat/completions", body)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert response.getheader("Transfer-Encoding") == "chunked"
    events = sse_json(data)
    assert data.startswith(b"data: {")
    assert events[-1] == "[DONE]"
    role, *contents, finish, usage, _ = events
    assert role["object"] == "chat.completion.chunk"
    assert role["model"] == "my-model"
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": None}
    assert [c["choices"][0]["delta"]["content"] for c in contents] == list(DEFAULT_TOKENS)
    assert finish["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert usage["choices"] == []
    assert usage["usage"] == {"completion_tokens": 4, "prompt_tokens": 5, "total_tokens": 9}


def test_default_chat_stream_without_usage_and_max_tokens() -> None:
    with FakeInferenceServer(tokens=["a", "b", "c"]) as srv:
        body = {"messages": [{"role": "user", "content": "x"}], "stream": True, "max_tokens": 2}
        _, data = post(srv, "/v1/chat/completions", body)
    events = sse_json(data)
    assert [e["choices"][0]["delta"].get("content") for e in events[1:3]] == ["a", "b"]
    assert events[3]["choices"][0]["finish_reason"] == "length"
    assert events[4] == "[DONE]"
    assert len(events) == 5
    assert events[0]["model"] == "fake-model"


def test_default_chat_completion(server: FakeInferenceServer) -> None:
    response, data = post(
        server, "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}
    )
    assert response.status == 200
    assert response.getheader("Content-Length") == str(len(data))
    obj = json.loads(data)
    assert obj["object"] == "chat.completion"
    assert obj["choices"][0]["message"] == {"role": "assistant", "content": "Hello, world!"}
    assert obj["choices"][0]["finish_reason"] == "stop"
    assert obj["usage"]["completion_tokens"] == 4


def test_default_chat_rejects_bad_requests(server: FakeInferenceServer) -> None:
    response, data = post(server, "/v1/chat/completions", b"{bad json")
    assert response.status == 400
    assert json.loads(data)["error"]["type"] == "invalid_request_error"
    response, data = post(server, "/v1/chat/completions", {"messages": "nope"})
    assert response.status == 400
    assert json.loads(data)["error"]["message"] == "Expected 'messages' to be an array"


def test_default_completions(server: FakeInferenceServer) -> None:
    _, data = post(server, "/v1/completions", {"prompt": "The capital", "stream": True})
    events = sse_json(data)
    assert [e["choices"][0]["text"] for e in events[:-2]] == list(DEFAULT_TOKENS)
    assert events[0]["object"] == "text_completion"
    assert events[-2]["choices"][0] == {
        "text": "",
        "index": 0,
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert events[-1] == "[DONE]"
    _, data = post(server, "/v1/completions", {"prompt": "The capital"})
    obj = json.loads(data)
    assert obj["choices"][0]["text"] == "Hello, world!"
    assert obj["usage"]["prompt_tokens"] == 2


@pytest.mark.parametrize("path", ["/v1/embeddings", "/embeddings"])
def test_default_embeddings_float_and_base64(server: FakeInferenceServer, path: str) -> None:
    _, data = post(server, path, {"input": "hello world", "model": "emb"})
    obj = json.loads(data)
    assert obj["object"] == "list"
    assert obj["model"] == "emb"
    assert obj["data"] == [
        {"object": "embedding", "embedding": fake_embedding("hello world"), "index": 0}
    ]
    assert obj["usage"] == {"prompt_tokens": 2, "total_tokens": 2}

    texts = ["a", "b c"]
    _, data = post(server, path, {"input": texts, "encoding_format": "base64", "dimensions": 6})
    obj = json.loads(data)
    assert [d["index"] for d in obj["data"]] == [0, 1]
    for text, item in zip(texts, obj["data"], strict=True):
        raw_bytes = base64.b64decode(item["embedding"])
        assert list(struct.unpack("<6f", raw_bytes)) == fake_embedding(text, 6)


def test_fake_embedding_is_deterministic_and_float32_exact() -> None:
    vector = fake_embedding("x", 100)
    assert vector == fake_embedding("x", 100)
    assert vector != fake_embedding("y", 100)
    assert len(vector) == 100
    assert list(struct.unpack("<100f", struct.pack("<100f", *vector))) == vector


def test_default_tgi_generate_stream(server: FakeInferenceServer) -> None:
    body = {"inputs": "Hi there", "parameters": {"details": True, "top_n_tokens": 2, "seed": 7}}
    _, data = post(server, "/generate_stream", body)
    assert data.startswith(b'data:{"index":1,')  # TGI: no space after the colon
    assert b"[DONE]" not in data
    events = sse_json(data)
    assert [e["token"]["text"] for e in events] == list(DEFAULT_TOKENS)
    assert all(set(e["token"]) == {"id", "text", "logprob", "special"} for e in events)
    assert all(len(e["top_tokens"]) == 2 for e in events)
    assert all(e["top_tokens"][0] == e["token"] for e in events)
    assert [e["generated_text"] for e in events[:-1]] == [None] * 3
    assert events[-1]["generated_text"] == "Hello, world!"
    assert events[-1]["details"] == {
        "finish_reason": "eos_token",
        "generated_tokens": 4,
        "seed": 7,
        "input_length": 2,
    }


def test_default_tgi_generate(server: FakeInferenceServer) -> None:
    _, data = post(server, "/generate", {"inputs": "Hi"})
    assert json.loads(data) == {"generated_text": "Hello, world!"}
    body = {
        "inputs": "Hi you",
        "parameters": {"details": True, "max_new_tokens": 2, "decoder_input_details": True},
    }
    _, data = post(server, "/generate", body)
    obj = json.loads(data)
    assert obj["generated_text"] == "Hello,"
    details = obj["details"]
    assert details["finish_reason"] == "length"
    assert details["generated_tokens"] == 2
    assert [t["text"] for t in details["tokens"]] == ["Hello", ","]
    assert [p["text"] for p in details["prefill"]] == ["Hi", " you"]
    assert details["prefill"][0]["logprob"] is None
    response, data = post(server, "/generate", {"parameters": {}})
    assert response.status == 422
    assert json.loads(data)["error_type"] == "validation"


def test_default_root_is_tgi_compatible(server: FakeInferenceServer) -> None:
    _, data = post(server, "/", {"inputs": "Hi"})
    assert json.loads(data) == [{"generated_text": "Hello, world!"}]
    _, data = post(server, "/models/org/name", {"inputs": "Hi", "stream": True})
    events = sse_json(data)
    assert events[-1]["generated_text"] == "Hello, world!"
    assert events[-1]["details"] is None


def test_default_feature_extraction_shapes() -> None:
    with FakeInferenceServer(embedding_dim=4, root_task="feature-extraction") as srv:
        _, data = post(srv, "/", {"inputs": "Hi"})
        assert json.loads(data) == fake_embedding("Hi", 4)
        _, data = post(srv, "/", {"inputs": ["Hi", "Yo"]})
        assert json.loads(data) == [fake_embedding("Hi", 4), fake_embedding("Yo", 4)]
        response, data = post(srv, "/", {"foo": 1})
        assert response.status == 400
        assert "inputs" in json.loads(data)["error"]
    with FakeInferenceServer(embedding_dim=3, features="tokens") as srv:
        path = "/hf-inference/pipeline/feature-extraction/facebook/bart-base"
        _, data = post(srv, path, {"inputs": "Hi you all"})
        nested = json.loads(data)
        assert (len(nested), len(nested[0]), len(nested[0][0])) == (1, 3, 3)
        _, data = post(srv, path, {"inputs": ["a", "b c"]})
        nested = json.loads(data)
        assert [len(x[0]) for x in nested] == [1, 2]  # [N, 1, T, dim]


def test_default_get_routes(server: FakeInferenceServer) -> None:
    response, data = get(server, "/health")
    assert response.status == 200
    assert json.loads(data) == {"status": "ok"}
    _, data = get(server, "/info")
    info = json.loads(data)
    assert info["model_id"] == "fake-model"
    assert {"max_input_tokens", "max_total_tokens", "version", "router"} <= set(info)
    _, data = get(server, "/v1/models")
    assert json.loads(data)["data"][0]["id"] == "fake-model"
    response, data = get(server, "/nowhere")
    assert response.status == 404
    assert json.loads(data)["error"]["code"] == 404
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("DELETE", "/v1/chat/completions")
    response = conn.getresponse()
    assert response.status == 405
    response.read()
    conn.request("HEAD", "/health")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read() == b""
    conn.close()


# --------------------------------------------------------------------------------------------
# recording, keep-alive, request bodies
# --------------------------------------------------------------------------------------------


def test_requests_are_recorded(server: FakeInferenceServer) -> None:
    post(server, "/v1/embeddings?api-version=2&x=1", {"input": "a"}, {"X-Custom": "Yes"})
    get(server, "/health")
    first, second = server.requests
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST"
    assert first.path == "/v1/embeddings"
    assert first.query == "api-version=2&x=1"
    assert first.params == {"api-version": "2", "x": "1"}
    assert first.target == "/v1/embeddings?api-version=2&x=1"
    assert first.headers["x-custom"] == "Yes"
    assert first.header("X-CUSTOM") == "Yes"
    assert ("X-Custom", "Yes") in first.raw_headers
    assert first.body == b'{"input": "a"}'
    assert first.json == {"input": "a"}
    assert first.http_version == "HTTP/1.1"
    assert (first.index, second.index) == (0, 1)
    assert second.body == b""
    assert second.json is None
    assert server.last_request == second


def test_keepalive_reuse_is_counted(server: FakeInferenceServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    for _ in range(3):
        conn.request("POST", "/v1/chat/completions", json.dumps({"messages": [], "stream": True}))
        response = conn.getresponse()
        assert response.status == 200
        response.read()
    conn.close()
    assert server.connections_accepted == 1
    assert {r.connection_id for r in server.requests} == {1}
    get(server, "/health")
    assert server.connections_accepted == 2
    assert server.last_request.connection_id == 2


def test_keepalive_false_closes_the_connection(server: FakeInferenceServer) -> None:
    server.enqueue(json_reply({"ok": True}, keepalive=False))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/anything")
    response = conn.getresponse()
    assert response.getheader("Connection") == "close"
    assert response.read() == b'{"ok":true}'
    conn.request("GET", "/health")  # http.client reconnects after a Connection: close
    conn.getresponse().read()
    conn.close()
    assert server.connections_accepted == 2


def test_client_connection_close_is_honoured(server: FakeInferenceServer) -> None:
    head, body = raw_exchange(server.port, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert b"Connection: close" in head
    assert body == b'{"status":"ok"}'


def test_chunked_request_body_and_pipelining(server: FakeInferenceServer) -> None:
    payload = b'{"input": "chunked body"}'
    request = (
        b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x;ext=1\r\n%s\r\n" % (5, payload[:5])
        + b"%x\r\n%s\r\n" % (len(payload) - 5, payload[5:])
        + b"0\r\nX-Trailer: 1\r\n\r\n"
        + b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    _, body = raw_exchange(server.port, request)
    assert body.endswith(b'{"status":"ok"}')
    first, second = server.requests
    assert first.body == payload
    assert first.body_chunked
    assert first.json == {"input": "chunked body"}
    assert second.path == "/health"


def test_expect_100_continue(server: FakeInferenceServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/embeddings HTTP/1.1\r\nContent-Length: 14\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b'{"input": "a"}')
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")


def test_bad_request_gets_400(server: FakeInferenceServer) -> None:
    head, _ = raw_exchange(server.port, b"NONSENSE\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")


def test_wait_for_requests(server: FakeInferenceServer) -> None:
    threading.Timer(0.05, get, (server, "/health")).start()
    assert [r.path for r in server.wait_for_requests(1, timeout=5)] == ["/health"]
    with pytest.raises(TimeoutError):
        server.wait_for_requests(5, timeout=0.05)


# --------------------------------------------------------------------------------------------
# scripting
# --------------------------------------------------------------------------------------------


def test_enqueue_is_fifo_then_default(server: FakeInferenceServer) -> None:
    server.enqueue(
        error(503, json={"error": "overloaded"}, headers={"Retry-After": "0"}),
        json_reply({"n": 2}),
    )
    assert server.pending_replies == 2
    response, data = post(server, "/v1/chat/completions", {"messages": []})
    assert response.status == 503
    assert response.getheader("Retry-After") == "0"
    assert json.loads(data) == {"error": "overloaded"}
    _, data = get(server, "/whatever")
    assert json.loads(data) == {"n": 2}
    response, data = post(server, "/v1/chat/completions", {"messages": []})
    assert response.status == 200
    assert json.loads(data)["object"] == "chat.completion"
    assert server.pending_replies == 0


def test_routes_persistent_limited_and_precedence(server: FakeInferenceServer) -> None:
    server.route("POST", "/v1/chat/completions", json_reply({"who": "persistent"}))
    server.route("post", "/v1/chat/completions", json_reply({"who": "once"}), times=1)
    server.enqueue(json_reply({"who": "queue"}))

    def who() -> str:
        _, data = post(server, "/v1/chat/completions?x=1", {"messages": []})
        return str(json.loads(data)["who"])

    assert [who(), who(), who(), who()] == ["queue", "once", "persistent", "persistent"]
    _, data = post(server, "/v1/completions", {"prompt": "x"})
    assert json.loads(data)["object"] == "text_completion"  # other routes keep the defaults
    server.reset()
    assert server.requests == []
    _, data = post(server, "/v1/chat/completions", {"messages": []})
    assert json.loads(data)["object"] == "chat.completion"


def test_reply_functions(server: FakeInferenceServer) -> None:
    def echo(request: RecordedRequest) -> Reply:
        return json_reply({"path": request.path, "got": request.json}, status=201)

    server.route("POST", "/echo", echo)
    server.enqueue(lambda request: None)  # falls through to the route
    response, data = post(server, "/echo", {"a": 1})
    assert response.status == 201
    assert json.loads(data) == {"path": "/echo", "got": {"a": 1}}

    def broken(request: RecordedRequest) -> Reply:
        raise ValueError("boom")

    server.enqueue(broken)
    response, data = post(server, "/echo", {})
    assert response.status == 500
    assert b"ValueError: boom" in data
    assert [type(e) for e in server.errors] == [ValueError]
    with pytest.raises(TypeError):
        server.enqueue("not a reply")  # type: ignore[arg-type]


def test_reply_options_validation() -> None:
    with pytest.raises(TypeError, match="unknown reply option"):
        json_reply({}, delay=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="disconnect_after_events"):
        json_reply({}, disconnect_after_events=-1)
    reply = json_reply({}, headers={"X-A": "1"}).with_options(
        headers=[("x-a", "2"), ("X-B", "3")], status=202
    )
    assert reply.headers == (("Content-Type", "application/json"), ("x-a", "2"), ("X-B", "3"))
    assert reply.status == 202
    assert reply.header("X-A") == "2"


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------


def test_chat_stream_tool_calls_reasoning() -> None:
    reply = chat_stream(
        ["Sure"],
        reasoning=["Let", " me", " think"],
        tool_calls=[
            {"name": "get_weather", "arguments": {"location": "Paris, France", "unit": "c"}},
            {"id": "x1", "type": "function", "function": {"name": "noop", "arguments": "{}"}},
        ],
        usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    )
    events = sse_json(reply.body)
    deltas = [e["choices"][0]["delta"] for e in events[:-2]]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Let me think"
    calls: dict[int, dict[str, str]] = {}
    for delta in deltas:
        for call in delta.get("tool_calls", []):
            slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
            slot["id"] += call.get("id", "")
            slot["name"] += call.get("function", {}).get("name", "")
            slot["arguments"] += call.get("function", {}).get("arguments", "")
    assert calls[0]["id"] == "call_0"
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "Paris, France", "unit": "c"}
    assert calls[1] == {"id": "x1", "name": "noop", "arguments": "{}"}
    assert events[-3]["choices"][0]["finish_reason"] == "tool_calls"
    assert events[-2]["usage"]["total_tokens"] == 3


def test_chat_stream_in_stream_error() -> None:
    events = sse_json(chat_stream(["a", "b", "c"], error="overloaded", error_after=2).body)
    assert [e["choices"][0]["delta"].get("content") for e in events[1:3]] == ["a", "b"]
    assert events[3] == {"error": {"message": "overloaded", "type": "server_error", "code": 500}}
    assert events[4] == "[DONE]"
    events = sse_json(
        chat_stream(["a"], error={"object": "error", "message": "x"}, done=False).body
    )
    assert events[-1] == {"object": "error", "message": "x"}
    events = sse_json(tgi_stream(["a", "b"], error="CUDA OOM", error_after=1).body)
    assert events == [events[0], {"error": "CUDA OOM", "error_type": "generation"}]
    assert events[0]["generated_text"] is None


def test_sse_spellings_decode_to_the_same_events() -> None:
    plain = chat_stream(["é", "\u2028x", "\n"], usage=True)
    expected = sse_json(plain.body)
    variants = {
        "crlf": chat_stream(["é", "\u2028x", "\n"], usage=True, crlf=True),
        "comments": chat_stream(["é", "\u2028x", "\n"], usage=True, keepalive_comments=True),
        "event_lines": chat_stream(["é", "\u2028x", "\n"], usage=True, event_lines=True),
        "multiline": chat_stream(["é", "\u2028x", "\n"], usage=True, multiline_data=True),
        "no_space": chat_stream(["é", "\u2028x", "\n"], usage=True, data_space=False),
    }
    for name, reply in variants.items():
        assert sse_json(reply.body) == expected, name
    assert b"\r\n\r\n" in variants["crlf"].body
    assert b"\n\n" not in variants["crlf"].body
    assert variants["comments"].body.startswith(b": ping")
    assert len(variants["comments"].events) == 2 * len(plain.events)
    assert b"event: message\nid: 1\ndata: {" in variants["event_lines"].body
    first = variants["multiline"].events[0].decode()
    assert first.count("\ndata: ") > 3
    assert "é".encode() in plain.body  # raw UTF-8, as llama.cpp sends it


def test_sse_builder_and_raw_pieces() -> None:
    reply = sse([{"a": 1}, "line1\nline2", b": hand-written comment\n\n"], done=True)
    assert reply.body == (
        b'data: {"a":1}\n\ndata: line1\ndata: line2\n\n: hand-written comment\n\ndata: [DONE]\n\n'
    )
    assert reply.chunked
    assert reply.header("content-type") == "text/event-stream"


def test_non_stream_builders() -> None:
    obj = chat_completion(
        "",
        tool_calls=[{"name": "f", "arguments": {"x": 1}}],
        reasoning="hmm",
        model="m",
    ).json()
    message = obj["choices"][0]["message"]
    assert message["content"] is None
    assert message["reasoning_content"] == "hmm"
    assert message["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
    ]
    assert obj["choices"][0]["finish_reason"] == "tool_calls"
    assert completion("abc", usage=None).json()["choices"][0]["text"] == "abc"
    assert "usage" not in completion("abc", usage=None).json()
    events = sse_json(completion_stream(["x"], usage=True, done=False).body)
    assert events[-1]["usage"]["completion_tokens"] == 1
    gen = tgi_generate(["a", "b"], top_n_tokens=3, as_list=True).json()
    assert gen[0]["generated_text"] == "ab"
    assert [len(t) for t in gen[0]["details"]["top_tokens"]] == [3, 3]
    assert "details" not in tgi_generate("a b", details=False).json()
    assert embeddings([[0.5, -1.0]], encoding="base64").json()["data"][0]["embedding"] == (
        base64.b64encode(struct.pack("<2f", 0.5, -1.0)).decode()
    )
    assert hf_features([[[0.1]]]).json() == [[[0.1]]]


def test_error_shapes(server: FakeInferenceServer) -> None:
    server.enqueue(
        error(429),
        error(422, message="Input validation error", shape="tgi"),
        error(400, message="Server is pinned", shape="fastapi"),
        error(500, text="Internal Server Error"),
        error(502, html="<html><body>Bad gateway</body></html>"),
        error(401, message="Invalid API Key", headers={"WWW-Authenticate": "Bearer"}),
    )
    results = [post(server, "/v1/chat/completions", {}) for _ in range(6)]
    assert [r.status for r, _ in results] == [429, 422, 400, 500, 502, 401]
    assert json.loads(results[0][1]) == {
        "error": {"message": "Too Many Requests", "type": "rate_limit_error", "code": 429}
    }
    assert json.loads(results[1][1]) == {
        "error": "Input validation error",
        "error_type": "validation",
    }
    assert json.loads(results[2][1]) == {"detail": "Server is pinned"}
    assert results[3][0].getheader("Content-Type") == "text/plain; charset=utf-8"
    assert results[3][1] == b"Internal Server Error"
    assert results[4][0].getheader("Content-Type") == "text/html; charset=utf-8"
    assert results[5][0].getheader("WWW-Authenticate") == "Bearer"
    assert json.loads(results[5][1])["error"]["type"] == "authentication_error"
    with pytest.raises(ValueError, match="at most one"):
        error(500, text="a", html="b")


# --------------------------------------------------------------------------------------------
# wire behaviour: split events, disconnects, gzip, delays, framing
# --------------------------------------------------------------------------------------------


def test_split_events_arrive_split(server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(["é", "b"], crlf=True, split_events=True))
    head, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}))
    assert b"Transfer-Encoding: chunked" in head
    chunks, terminated = parse_chunks(body)
    assert terminated
    reference = chat_stream(["é", "b"], crlf=True)
    assert b"".join(chunks) == reference.body
    assert len(chunks) > 3 * len(reference.events)
    assert chunks[0] == b"dat"  # cut inside the field name
    # a cut between CR and LF, and one inside the two-byte "é"
    assert any(a.endswith(b"\r") and b.startswith(b"\n") for a, b in itertools.pairwise(chunks))
    assert any(a.endswith(b"\xc3") and b.startswith(b"\xa9") for a, b in itertools.pairwise(chunks))
    # every chunk lies inside one event: event boundaries are also chunk boundaries
    ends = {sum(len(e) for e in reference.events[: i + 1]) for i in range(len(reference.events))}
    offsets, total = set(), 0
    for chunk in chunks:
        total += len(chunk)
        offsets.add(total)
    assert ends <= offsets


def test_split_events_bytewise(server: FakeInferenceServer) -> None:
    server.enqueue(tgi_stream(["a"], split_events=1))
    _, body = raw_exchange(server.port, post_request("/generate_stream", {}))
    chunks, terminated = parse_chunks(body)
    assert terminated
    assert {len(c) for c in chunks} == {1}
    assert b"".join(chunks) == tgi_stream(["a"]).body


def test_disconnect_mid_stream_truncates(server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(["a", "b", "c"], disconnect_after_events=2))
    _, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}, close=False))
    chunks, terminated = parse_chunks(body)
    assert not terminated
    assert b"".join(chunks) == b"".join(chat_stream(["a", "b", "c"]).events[:2])
    # http.client sees the truncation too
    server.enqueue(chat_stream(["a", "b", "c"], disconnect_after_events=1))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("POST", "/v1/chat/completions", b"{}")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    conn.close()


def test_disconnect_with_content_length(server: FakeInferenceServer) -> None:
    full = tgi_stream(["a", "b"])
    server.enqueue(full.with_options(chunked=False, disconnect_after_events=1))
    head, body = raw_exchange(server.port, post_request("/generate_stream", {}, close=False))
    assert f"Content-Length: {len(full.body)}".encode() in head
    assert body == full.events[0]


def test_disconnect_after_zero_events_and_close_connection(server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(disconnect_after_events=0), close_connection())
    head, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}, close=False))
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b""
    head, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}, close=False))
    assert (head, body) == (b"", b"")


def test_gzip_streams_event_by_event(server: FakeInferenceServer) -> None:
    plain = chat_stream(["a", "b"])
    server.enqueue(plain.with_options(gzip=True))
    head, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}))
    assert b"Content-Encoding: gzip" in head
    chunks, terminated = parse_chunks(body)
    assert terminated
    assert len(chunks) == len(plain.events)
    decoder = zlib.decompressobj(wbits=31)
    assert decoder.decompress(chunks[0]) == plain.events[0]  # decodable as it arrives
    assert zlib.decompress(b"".join(chunks), wbits=31) == plain.body
    # and a gzip JSON body with Content-Length
    server.enqueue(json_reply({"x": 1}, gzip=True))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    compressed = response.read()
    assert response.getheader("Content-Length") == str(len(compressed))
    assert json.loads(zlib.decompress(compressed, wbits=31)) == {"x": 1}
    conn.close()


def test_delay_before_headers_triggers_client_timeout(server: FakeInferenceServer) -> None:
    server.enqueue(json_reply({}, delay_before_headers=1.0))
    conn = http.client.HTTPConnection(server.host, server.port, timeout=0.2)
    conn.request("GET", "/")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        conn.getresponse()
    assert time.monotonic() - started < 0.9
    conn.close()


def test_delay_between_events(server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(["a", "b"], delay_between_events=0.05))
    started = time.monotonic()
    _, body = raw_exchange(server.port, post_request("/v1/chat/completions", {}))
    elapsed = time.monotonic() - started
    chunks, _ = parse_chunks(body)
    assert len(chunks) == 5  # role, a, b, finish, [DONE]
    assert 0.15 <= elapsed < 5


def test_raw_reply_framing(server: FakeInferenceServer) -> None:
    server.enqueue(
        raw(200, {"Content-Type": "text/plain"}, [b"ab", b"cd"], reason="Fine"),
        raw(200, [("Content-Length", "10")], [b"short"]),  # verbatim: a lying Content-Length
    )
    head, body = raw_exchange(server.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 Fine\r\n")
    assert b"Content-Length: 4" in head
    assert body == b"abcd"
    head, body = raw_exchange(server.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert head.count(b"Content-Length") == 1
    assert body == b"short"


# --------------------------------------------------------------------------------------------
# replay
# --------------------------------------------------------------------------------------------


def test_replay_synthetic_capture(tmp_path: Path, server: FakeInferenceServer) -> None:
    capture = tmp_path / "capture.txt"
    body = b'data:{"a":1}\r\n\r\ndata:{"b":2}\r\n\r\n: tail'
    capture.write_bytes(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 299 Odd Reason\r\nX-Thing: Kept\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body
    )
    reply = replay(capture)
    assert (reply.status, reply.reason, reply.chunked) == (299, "Odd Reason", True)
    assert reply.events == (b'data:{"a":1}\r\n\r\n', b'data:{"b":2}\r\n\r\n', b": tail")
    server.enqueue(reply.with_options(disconnect_after_events=1))
    head, raw_body = raw_exchange(server.port, b"GET / HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 299 Odd Reason\r\nX-Thing: Kept\r\n")
    assert parse_chunks(raw_body) == ([b'data:{"a":1}\r\n\r\n'], False)
    not_a_capture = tmp_path / "x.json"
    not_a_capture.write_text("{}")
    with pytest.raises(ValueError, match="not a capture"):
        replay(not_a_capture)


def captured_files() -> list[Path]:
    if not CAPTURES.is_dir():
        return []
    return sorted(p for p in CAPTURES.glob("*.txt") if p.read_bytes().startswith(b"HTTP/"))


@needs_captures
@pytest.mark.parametrize("path", captured_files(), ids=lambda p: p.stem)
def test_replay_real_captures_byte_identical(path: Path) -> None:
    head, body = capture_body(path)
    status = int(head.split(b" ")[1])
    with FakeInferenceServer() as srv:
        srv.enqueue(replay(path))
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
        conn.request("POST", "/", b"{}")
        response = conn.getresponse()
        assert response.status == status
        assert response.read() == body
        conn.close()
        chunked = b"transfer-encoding: chunked" in head.lower()
        assert (response.getheader("Transfer-Encoding") == "chunked") == chunked
        if b"connection: close" in head.lower():
            assert response.getheader("Connection") == "close"


@needs_captures
def test_replay_of_a_real_stream_keeps_the_headers_and_cuts_events() -> None:
    path = CAPTURES / "xllamacpp_chat_stream.txt"
    head, body = capture_body(path)
    reply = replay(path)
    assert reply.body == body
    assert len(reply.events) == body.count(b"\n\n")
    assert reply.header("X-Accel-Buffering") == "no"
    assert reply.header("Server") == "llama.cpp"
    with FakeInferenceServer() as srv:
        srv.enqueue(reply.with_options(split_events=True))
        got_head, raw_body = raw_exchange(srv.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    chunks, terminated = parse_chunks(raw_body)
    assert terminated
    assert b"".join(chunks) == body
    assert got_head.startswith(head.split(b"\r\n", 1)[0])

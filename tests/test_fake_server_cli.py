"""``python -m inferwire.testing``: the fake server for test suites in any language."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from inferwire.testing._script import ScriptError, load_script


@contextmanager
def fake_server(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = subprocess.Popen([sys.executable, "-m", "inferwire.testing", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def post(url: str, path: str, body: object) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_serves_the_default_routes_and_stops_on_sigterm() -> None:
    with fake_server("--tokens", "Bonjour le monde") as (url, proc):
        status, _, body = post(url, "/v1/chat/completions",
                               {"messages": [{"role": "user", "content": "hi"}]})
        assert status == 200
        assert json.loads(body)["choices"][0]["message"]["content"] == "Bonjour le monde"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_plays_the_replies_file_and_logs_requests(tmp_path: Path) -> None:
    (tmp_path / "capture.txt").write_bytes(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        b'{"from":"me"}')
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({
        "server": {"tokens": ["A", "B"]},
        "enqueue": [{"reply": "error", "status": 503, "message": "Loading model",
                     "headers": {"Retry-After": "0"}}],
        "routes": [
            {"method": "POST", "path": "/v1/chat/completions", "times": 1,
             "reply": {"reply": "chat_stream", "tokens": ["Hi", "!"]}},
            {"method": "POST", "path": "/recorded", "reply": {"reply": "replay",
                                                             "path": "capture.txt"}},
        ],
    }))
    log = tmp_path / "requests.jsonl"
    with fake_server("--replies", str(replies), "--requests-log", str(log)) as (url, _):
        chat = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
        status, headers, body = post(url, "/v1/chat/completions", chat)
        assert (status, headers["Retry-After"]) == (503, "0")          # the queue comes first
        assert b"Loading model" in body
        status, headers, body = post(url, "/v1/chat/completions", chat)
        assert headers["Content-Type"] == "text/event-stream"         # the route, once
        assert b'"content":"Hi"' in body and body.rstrip().endswith(b"data: [DONE]")
        status, _, body = post(url, "/v1/chat/completions", {"messages": []})
        assert json.loads(body)["choices"][0]["message"]["content"] == "AB"   # the defaults
        assert post(url, "/recorded", {})[2] == b'{"from":"me"}'
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["method"], r["path"]) for r in lines] == [("POST", "/v1/chat/completions")] * 3 \
        + [("POST", "/recorded")]
    assert lines[0]["json"] == chat


@pytest.mark.parametrize(("script", "message"), [
    ({"enqueue": [{"reply": "chat_stram"}]},
     "enqueue[0]: unknown reply 'chat_stram'; expected one of"),
    ({"enqueue": [{"reply": "error"}]}, "enqueue[0]: error(...):"),
    ({"routes": [{"path": "/x", "reply": {"reply": "json_reply", "obj": 1}}]},
     "routes[0]: a route needs \"method\", \"path\" and \"reply\""),
    ({"server": {"colour": "blue"}}, "server: unknown keys ['colour']"),
    ({"replies": []}, "unknown keys ['replies']"),
])
def test_a_wrong_replies_file_names_the_entry(tmp_path: Path, script: object,
                                              message: str) -> None:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(script))
    with pytest.raises(ScriptError) as info:
        load_script(path)
    assert message in str(info.value)
    result = subprocess.run([sys.executable, "-m", "inferwire.testing", "--replies", str(path)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("inferwire.testing: error: ")
    assert message in result.stderr

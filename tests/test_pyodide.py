"""The fetch transport under Pyodide, in Node: the scenario table against the fake server.

One Node process (``tests/pyodide/run.mjs``) loads Pyodide from its npm package, writes
inferwire's source into Pyodide's filesystem and runs ``tests/pyodide/scenarios.py``, which
prints ``PASS name`` or ``FAIL name: why`` per scenario; the fake server here is scripted per
path prefix and answers ``/ack/<name>`` with whether it saw that scenario's connection dropped.

Pyodide is looked for in ``$INFERWIRE_PYODIDE_DIR`` or ``build/pyodide-npm/node_modules/pyodide``
(``npm install --prefix build/pyodide-npm pyodide``). Without Node or that package the tests
skip, except under ``CI=true``, where they fail: `.ci/run` installs both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from inferwire.testing import (
    FakeInferenceServer,
    RecordedRequest,
    Reply,
    chat_stream,
    error,
    json_reply,
)

ROOT = Path(__file__).resolve().parent.parent
PYODIDE_DIR = Path(os.environ.get("INFERWIRE_PYODIDE_DIR",
                                  ROOT / "build" / "pyodide-npm" / "node_modules" / "pyodide"))
SCENARIOS = [
    "imports_without_http_libraries", "stream_split_events", "stream_gzip", "non_streamed_call",
    "error_404", "error_503_retried", "error_500_stream", "connect_refused",
    "timeout_before_head", "timeout_inside_stream", "closing_a_stream_aborts_it",
    "cancelling_the_task_aborts_it", "cookie_header_refused", "sync_client_refused",
    "still_no_http_libraries",
]
LONG_STREAM = [f"t{i} " for i in range(400)]  # 400 x 50 ms: 20 s unless it is aborted


def pyodide_or_skip() -> tuple[str, Path]:
    """Node and the Pyodide npm package, or a skip (a failure under CI=true)."""
    node = shutil.which("node")
    missing = ("node is not installed" if node is None else
               f"the pyodide npm package is not in {PYODIDE_DIR}"
               if not (PYODIDE_DIR / "pyodide.mjs").is_file() else None)
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: .ci/run must install it (CI=true)")
        pytest.skip(missing)
    assert node is not None
    return node, PYODIDE_DIR


def _refused_url() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _script(server: FakeInferenceServer) -> None:
    chat = "/v1/chat/completions"
    server.route("POST", "/stream" + chat, chat_stream(["Hel", "lo", " wor", "ld"],
                                                       split_events=True))
    server.route("POST", "/gzip" + chat, chat_stream(["zip", "ped"], gzip=True))
    server.route("POST", "/e404" + chat, error(404, "no such model"))
    server.route("POST", "/e503" + chat, error(503, headers={"Retry-After": "0"}), times=2)
    server.route("POST", "/e500" + chat, error(500))
    server.route("POST", "/slowhead" + chat, json_reply({}, delay_before_headers=2.0))
    server.route("POST", "/slowbody" + chat, chat_stream(["a", "b"],
                                                         delay_between_events=3.0))
    for name in ("close", "cancel"):
        server.route("POST", f"/{name}" + chat,
                     chat_stream(LONG_STREAM, delay_between_events=0.05))
    for name in ("close", "cancel"):
        server.route("GET", f"/ack/{name}", _ack(server, f"/{name}" + chat))


def _ack(server: FakeInferenceServer, path: str) -> object:
    def reply(_: RecordedRequest) -> Reply:
        stream = [r for r in server.requests if r.path == path][-1]
        return json_reply({"closed": server.wait_connection_closed(stream.connection_id, 5.0)})
    return reply


class PyodideRun:
    """What one run of the scenarios printed, and what the server received."""

    def __init__(self, returncode: int, stdout: str, stderr: str,
                 requests: list[RecordedRequest]) -> None:
        self.returncode = returncode
        self.lines = stdout.splitlines()
        self.stderr = stderr
        self.requests = requests

    def outcome(self, name: str) -> str:
        for line in self.lines:
            if line == f"PASS {name}" or line.startswith(f"FAIL {name}:"):
                return line
        return f"not run; stdout: {self.lines[-5:]}; stderr: {self.stderr[-2000:]}"

    def on(self, prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(prefix + "/")]


@pytest.fixture(scope="module")
def run() -> Iterator[PyodideRun]:
    node, pyodide = pyodide_or_skip()
    with FakeInferenceServer(cors=True) as server:
        _script(server)
        done = subprocess.run(
            [node, str(ROOT / "tests" / "pyodide" / "run.mjs"), str(pyodide),
             str(ROOT / "tests" / "pyodide" / "scenarios.py"), f"URL={server.base_url}",
             f"REFUSED_URL={_refused_url()}"],
            capture_output=True, text=True, timeout=180, check=False)
        yield PyodideRun(done.returncode, done.stdout, done.stderr, server.requests)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_passes_under_pyodide(run: PyodideRun, name: str) -> None:
    assert run.outcome(name) == f"PASS {name}"


def test_every_scenario_ran_and_the_run_succeeded(run: PyodideRun) -> None:
    ran = sorted(line.split()[1].rstrip(":") for line in run.lines
                 if line.startswith(("PASS ", "FAIL ")))
    assert ran == sorted(SCENARIOS)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_core_retried_the_503s_and_gave_up_on_nothing_else(run: PyodideRun) -> None:
    assert len(run.on("/e503")) == 3  # two 503s, then the default reply
    assert len(run.on("/e500")) == 1  # max_retries=0
    assert len(run.on("/slowhead")) == 1


def test_fetch_sends_the_token_and_leaves_framing_headers_to_the_runtime(
        run: PyodideRun) -> None:
    sent = run.on("/stream")[0]
    assert sent.header("authorization") == "Bearer hf_secret"
    assert sent.header("content-type") == "application/json"
    assert sent.json["stream"] is True
    assert sent.header("content-length") == str(len(sent.body))  # set by fetch, not by us
    assert not run.on("/plain") or all(r.header("cookie") is None for r in run.on("/plain"))

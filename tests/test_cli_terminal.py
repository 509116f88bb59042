"""The command line at a terminal (a pty, no tmux), and its local-server commands.

A terminal session is the CLI with its stdin, stdout and stderr on a pseudo-terminal; keys are
bytes written to the master side (``ESC [ D`` is the left arrow, ``ESC [ A`` the up arrow).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inferwire import InferenceClient
from inferwire.testing import FakeInferenceServer

LEFT, UP, ENTER = b"\x1b[D", b"\x1b[A", b"\r"
ANSWER = "Paris is the capital."


class Terminal:
    """A CLI process on a pty: type keys, read the screen's bytes, bounded in time."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        env["TERM"] = "xterm"
        self.proc = subprocess.Popen([sys.executable, "-m", "inferwire", *args], stdin=slave,
                                     stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.screen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, text: bytes, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.screen.count(text) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} x{count} on the screen: {self.screen!r}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # the process exited and the pty closed
                    data = b""
                assert data, f"the terminal closed before {text!r}: {self.screen!r}"
                self.screen += data

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


@pytest.fixture
def server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(tokens=["Paris", " is", " the", " capital", "."]) as fake:
        yield fake


def test_interactive_chat_edits_lines_and_recalls_history(server: FakeInferenceServer) -> None:
    term = Terminal("chat", "--base-url", server.url("/v1"))
    try:
        term.wait_for(b"> ")
        term.type(b"Hel" + LEFT + b"X" + ENTER)    # the cursor moves: "HeXl", no escape codes
        term.wait_for(ANSWER.encode())
        term.wait_for(b"> ", count=2)
        term.type(UP + ENTER)                      # the previous line, recalled
        term.wait_for(ANSWER.encode(), count=2)
        term.wait_for(b"> ", count=3)
        term.type(ENTER)                           # an empty line ends the chat
    finally:
        status = term.close()
    assert status == 0, term.screen
    user = [r.json["messages"][-1]["content"] for r in server.requests if r.json]
    assert user == ["HeXl", "HeXl"]


def test_piped_interactive_chat_reads_plain_lines(server: FakeInferenceServer) -> None:
    """Without a terminal, no line editor: stdin lines are the messages, escapes and all."""
    result = subprocess.run(
        [sys.executable, "-m", "inferwire", "chat", "--base-url", server.url("/v1")],
        input=b"Hel\x1b[DX\n", capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert server.requests[-1].json["messages"][-1]["content"] == "Hel\x1b[DX"


# -- the local server (llama.cpp + SmolLM2) ------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _read_line(stream: object, deadline: float) -> str:
    assert hasattr(stream, "readline") and hasattr(stream, "fileno")
    ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
    assert ready, "the command printed nothing in time"
    line: str = stream.readline()
    return line


def _start(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    return subprocess.Popen([sys.executable, "-m", "inferwire", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1, env=env)


@pytest.mark.realserver
def test_ctrl_c_during_local_startup_stops_at_once_with_one_line() -> None:
    proc = _start("chat", "--local", "Hi")
    try:
        deadline = time.monotonic() + 120
        lines = [_read_line(proc.stderr, deadline)]
        while "loading the model" not in lines[-1]:
            lines.append(_read_line(proc.stderr, deadline))
        children = _children(proc.pid)
        assert len(children) == 1, children                  # the llama.cpp child, loading
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=30)
        elapsed = time.monotonic() - interrupted
        rest = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert status == 130
    assert rest.strip().splitlines() == ["inferwire: interrupted (the local server was stopped)"]
    # killed, not left to finish loading (which took 0.7 s here before the fix)
    assert elapsed < 0.4, f"took {elapsed:.2f} s to stop"
    assert _gone(children[0])


@pytest.mark.realserver
def test_serve_local_prints_the_url_serves_and_stops_on_ctrl_c() -> None:
    proc = _start("serve", "--local", "--port", "0")
    try:
        url = _read_line(proc.stdout, time.monotonic() + 120).strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1"), url
        with InferenceClient(base_url=url, timeout=60) as client:
            out = client.chat_completion([{"role": "user", "content": "Hi"}], max_tokens=4)
        assert out.choices[0].message.content
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=30)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert status == 130
    assert "loading the model" in err and "ready in" in err     # progress, not silence
    assert f'try: inferwire chat --base-url {url} "Hello!"' in err
    assert err.strip().splitlines()[-1] == "inferwire: interrupted (the local server was stopped)"
    assert "Traceback" not in err


@pytest.mark.realserver
def test_serve_local_on_a_busy_port_says_which_flag_to_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _start("serve", "--local", "--port", str(port))
        try:
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"inferwire: error: cannot bind 127.0.0.1:{port}")
    assert "pass --port N, or --port 0 for any free port" in last

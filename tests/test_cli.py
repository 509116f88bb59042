"""The command line, run as a subprocess against the fake server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from typing import Any

import pytest

from inferwire.testing import FakeInferenceServer, chat_completion, error

TOKENS = ["Paris", " is", " the", " capital", "."]


def cli(*args: str, stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    return subprocess.run([sys.executable, "-m", "inferwire", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)


@pytest.fixture(scope="module")
def server() -> Any:
    with FakeInferenceServer(tokens=TOKENS) as fake:
        yield fake


def test_chat_streams_the_answer(server: FakeInferenceServer) -> None:
    result = cli("chat", "--base-url", server.url("/v1"), "--system", "Be brief.",
                 "--max-tokens", "20", "--temperature", "0.5", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Paris is the capital.\n"
    sent = server.last_request
    assert sent is not None and sent.json is not None
    assert sent.json["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"}]
    assert sent.json["max_tokens"] == 20
    assert sent.json["temperature"] == 0.5
    assert sent.json["stream"] is True


def test_chat_json_prints_one_object_per_chunk(server: FakeInferenceServer) -> None:
    result = cli("chat", "--base-url", server.url("/v1"), "--json", "Hi")
    assert result.returncode == 0, result.stderr
    chunks = [json.loads(line) for line in result.stdout.splitlines()]
    assert chunks[0]["object"] == "chat.completion.chunk"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Paris is the capital."


def test_interactive_chat_keeps_the_conversation(server: FakeInferenceServer) -> None:
    result = cli("chat", "--base-url", server.url("/v1"), stdin="Hello\nAnd Germany?\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Paris is the capital.") == 2
    sent = server.last_request
    assert sent is not None and sent.json is not None
    assert [m["role"] for m in sent.json["messages"]] == ["user", "assistant", "user"]
    assert sent.json["messages"][1]["content"] == "Paris is the capital."


def test_generate_and_embed(server: FakeInferenceServer) -> None:
    result = cli("generate", "--base-url", server.url("/v1"), "--max-new-tokens", "3", "Once")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Paris is the\n"
    result = cli("embed", "--base-url", server.url("/v1"), "one", "two")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("shape: (2, 16)\n")
    result = cli("embed", "--base-url", server.url("/v1"), "--json", "one")
    assert json.loads(result.stdout)["shape"] == [1, 16]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(("setup", "expected"), [
    ("unreachable", "could not connect to"),
    ("401", "401 unauthorized: check --token or HF_TOKEN"),
    ("404", "404 not found"),
    ("timeout", "timed out after 0.5s"),
    ("500", "the server answered 500: model exploded"),
])
def test_failures_are_one_line_without_traceback(server: FakeInferenceServer, setup: str,
                                                 expected: str) -> None:
    url = server.url("/v1")
    if setup == "unreachable":
        url = f"http://127.0.0.1:{_closed_port()}/v1"
    elif setup == "timeout":
        server.enqueue(chat_completion("late", delay_before_headers=3))
    else:
        message = {"401": "Invalid API Key", "404": "no such model", "500": "model exploded"}
        server.enqueue(error(int(setup), message=message[setup]))
    result = cli("chat", "--base-url", url, "--timeout", "0.5", "Hi")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("inferwire: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(server: FakeInferenceServer) -> None:
    server.enqueue(error(401, message="Invalid API Key"))
    result = cli("chat", "--base-url", server.url("/v1"), "--debug", "Hi")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "AuthenticationError" in result.stderr


def test_usage_errors_exit_2() -> None:
    result = cli("chat", "Hi")
    assert result.returncode == 2
    assert "--base-url URL, --model ID or --local" in result.stderr
    result = cli("chat", "--base-url", "http://127.0.0.1:9/v1", "--local", "Hi")
    assert result.returncode == 2
    assert "drop --base-url" in result.stderr


def test_console_script_is_installed() -> None:
    script = shutil.which("inferwire", path=os.path.dirname(sys.executable)) or \
        shutil.which("inferwire")
    assert script is not None, "the `inferwire` console script is not on PATH"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "chat" in result.stdout


@pytest.mark.realserver
def test_the_readme_main_command_streams_from_smollm2() -> None:
    """README's first command: `inferwire chat --local "What is the capital of France?"`."""
    result = cli("chat", "--local", "--max-tokens", "24", "What is the capital of France?",
                 timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "starting a local llama.cpp server" in result.stderr
    assert "ready in" in result.stderr


@pytest.mark.realserver
def test_embed_local() -> None:
    result = cli("embed", "--local", "Paris", "Berlin", timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("shape: (2, 576)\n")


# -- finish: version, words, pipes, empty inputs ------------------------------------------------


def test_version() -> None:
    import inferwire

    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"inferwire {inferwire.__version__}\n"


@pytest.mark.parametrize(("args", "expected"), [
    (["chat", "--base-url", "ftp://example.org", "Hi"],
     "inferwire: error: --base-url must be an http(s) URL, got 'ftp://example.org'"),
    (["chat", "--model", "org/name", "Hi"],
     "inferwire: error: the Hugging Face router needs a Hugging Face token: pass --token or set "
     "HF_TOKEN"),
])
def test_messages_name_flags_not_python_keywords(args: list[str], expected: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == expected
    assert "base_url" not in result.stderr and "token=" not in result.stderr


def test_an_unreachable_model_id_is_not_called_a_host() -> None:
    # No network here: the router's name does not resolve (or the connection fails).
    result = cli("chat", "--model", "org/name", "--token", "hf_x", "--timeout", "5", "Hi")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert line.startswith("inferwire: error: could not reach the inference service for model "
                           "org/name: "), line
    assert "could not connect to org/name" not in line
    assert "is the server running" not in line


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """`inferwire generate ... | head -c 20`: exit 141 like any writer cut off, no traceback."""
    with FakeInferenceServer(tokens=["word "] * 5000) as fake:
        env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "inferwire", "generate", "--base-url", fake.url("/v1"), "go"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(20) == b"word " * 4
        proc.stdout.close()                     # what `head` does once it has its bytes
        status = proc.wait(timeout=60)
        err = proc.stderr.read().decode()
        proc.stderr.close()
    assert err == ""
    assert status == 141


@pytest.mark.parametrize("args", [
    ["chat", "   "], ["generate", ""], ["embed", "fine", ""],
])
def test_empty_inputs_are_refused_before_anything_is_sent(
        server: FakeInferenceServer, args: list[str]) -> None:
    before = len(server.requests)
    result = cli(args[0], "--base-url", server.url("/v1"), *args[1:])
    assert result.returncode == 2
    assert result.stderr.startswith("inferwire: error: ")
    assert "empty" in result.stderr
    assert len(server.requests) == before


def test_serve_listens_where_the_quickstart_looks() -> None:
    from inferwire._cli import SERVE_PORT

    assert SERVE_PORT == 8080
    result = cli("serve", "--help")
    assert result.returncode == 0
    assert "default 8080" in result.stdout
    result = cli("serve")
    assert result.returncode == 2
    assert "--local" in result.stderr

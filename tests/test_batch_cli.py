"""``inferwire batch``: the command, its errors, and kill -9 / resume cycles in a subprocess
(zero items lost, zero done twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inferwire.__main__ import main
from inferwire.testing import FakeInferenceServer, RecordedRequest, Reply, chat_completion, error


@pytest.fixture
def server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(tokens=["ok"]) as fake:
        yield fake


def _write_inputs(path: Path, n: int) -> None:
    with path.open("w") as file:
        for i in range(n):
            file.write(json.dumps({"id": f"q{i}", "messages": [
                {"role": "user", "content": f"q{i}"}]}) + "\n")


def _complete_ids(path: Path) -> list[str]:
    """The ids of the complete lines of an output file (a torn last line is not one)."""
    if not path.exists():
        return []
    return [json.loads(line)["id"] for line in path.read_bytes().splitlines(keepends=True)
            if line.endswith(b"\n")]


def _asked(request: RecordedRequest) -> str:
    return str(request.json["messages"][0]["content"])


def test_batch_writes_one_line_per_input_and_a_summary(
        server: FakeInferenceServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_inputs(source, 5)
    argv = ["batch", "chat", "--input", str(source), "--output", str(out),
            "--base-url", server.url("/v1"), "--model", "my-model", "--no-progress"]
    assert main(argv) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == [f"q{i}" for i in range(5)]
    assert all(r["output"]["choices"][0]["message"]["content"] == "ok" for r in records)
    assert server.last_request.json["model"] == "my-model"
    assert "5 done, 0 failed, 0 already in" in capsys.readouterr().err
    assert main(argv) == 0  # the same command again: nothing left to do
    assert "0 done, 0 failed, 5 already in" in capsys.readouterr().err
    assert len(server.requests) == 5


def test_batch_exits_1_when_an_item_failed(
        server: FakeInferenceServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_inputs(source, 2)
    server.enqueue(error(400, message="no"))
    argv = ["batch", "chat_completion", "--input", str(source), "--output", str(out),
            "--base-url", server.url("/v1"), "--concurrency", "1", "--no-progress"]
    assert main(argv) == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["error"]["status"] for r in records if "error" in r] == [400]
    assert "1 done, 1 failed" in capsys.readouterr().err
    assert main(argv) == 0  # the failed item is final: a plain re-run has nothing to do
    assert "0 done, 0 failed, 2 already in" in capsys.readouterr().err
    assert main([*argv, "--retry-failed"]) == 0
    assert "1 done, 0 failed, 1 already in" in capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["q0", "q1"]
    assert all("output" in r for r in records)


@pytest.mark.parametrize(("argv", "message"), [
    (["batch", "no-such-task"], "unknown task 'no-such-task'"),
    (["batch", "chat", "--concurrency", "0"], "--concurrency must be >= 1"),
])
def test_batch_usage_errors_name_the_flag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str) -> None:
    source = tmp_path / "in.jsonl"
    _write_inputs(source, 1)
    argv = [*argv, "--input", str(source), "--output", str(tmp_path / "o.jsonl"),
            "--base-url", "http://127.0.0.1:9/v1"]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_batch_refuses_a_missing_input_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["batch", "chat", "--input", str(tmp_path / "nope.jsonl"), "--output",
            str(tmp_path / "o.jsonl"), "--base-url", "http://127.0.0.1:9/v1"]
    assert main(argv) == 2
    assert "no such input file" in capsys.readouterr().err


def _slow(request: RecordedRequest) -> Reply:
    return chat_completion(f"answer to {_asked(request)}", delay_before_headers=0.01)


def test_kill_9_at_any_moment_then_resume_loses_nothing_and_does_nothing_twice(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    n = 400
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_inputs(source, n)
    server.route("POST", "/v1/chat/completions", _slow)
    command = [sys.executable, "-m", "inferwire", "batch", "chat", "--input", str(source),
               "--output", str(out), "--base-url", server.url("/v1"), "--concurrency", "8",
               "--no-progress"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    kills = 0
    for target in (40, 130, 250):
        done_before = set(_complete_ids(out))
        asked_before = len(server.requests)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while len(_complete_ids(out)) < target and process.poll() is None:
                assert time.monotonic() < deadline, "the batch made no progress"
                time.sleep(0.005)
            running = process.poll() is None
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert process.stderr is not None
            process.stderr.close()
        assert running, "the batch ended before it could be killed"
        kills += 1
        redone = {_asked(r) for r in server.requests[asked_before:]} & done_before
        assert not redone, f"items done before the kill were asked again: {sorted(redone)}"
    done_before = set(_complete_ids(out))
    asked_before = len(server.requests)
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert finished.returncode == 0, finished.stderr
    assert not {_asked(r) for r in server.requests[asked_before:]} & done_before
    ids = _complete_ids(out)
    assert len(ids) == len(set(ids)), "an id was written twice"
    assert set(ids) == {f"q{i}" for i in range(n)}, "an item was lost"
    records: list[dict[str, Any]] = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["output"]["choices"][0]["message"]["content"] == f"answer to {r['id']}"
               for r in records)
    assert kills == 3


def test_ctrl_c_stops_with_exit_130_and_a_consistent_file_that_resumes(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_inputs(source, 300)
    server.route("POST", "/v1/chat/completions", _slow)
    command = [sys.executable, "-m", "inferwire", "batch", "chat", "--input", str(source),
               "--output", str(out), "--base-url", server.url("/v1"), "--concurrency", "4",
               "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while len(_complete_ids(out)) < 20 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    text = out.read_bytes()
    assert text.endswith(b"\n")  # stopped between lines, not in the middle of one
    ids = _complete_ids(out)
    assert 20 <= len(ids) < 300 and len(ids) == len(set(ids))
    assert main(command[3:]) == 0
    final = _complete_ids(out)
    assert sorted(final) == sorted(f"q{i}" for i in range(300))

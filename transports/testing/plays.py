"""How `FakeInferenceServer` plays an inference provider (`FakeInferenceServer.play_provider`).

A play answers the provider's own routes under ``/{provider}``, with the shapes of its API
docs; its OpenAI-compatible routes (chat, completions, embeddings) fall through to the
server's defaults. Providers whose tasks run as jobs play the job too: the submission
answers a job id, each status poll moves it on, and after ``polls`` polls it ends as
``outcome`` says. Options every play takes:

- ``outcome``: ``"done"`` (default), ``"failed"``, ``"canceled"``, ``"pending"`` (never
  finishes: for the client's bound), or ``"unknown"`` (a status word no client knows);
- ``polls``: status polls that answer "in progress" before the outcome (default 1);
- ``result_server``: another `FakeInferenceServer` that serves the result files (a CDN on
  another host: a client must fetch them without its key); by default this server does.

`JobPlay` keeps the state: `JobPlay.jobs` counts the status polls per job id, and
`JobPlay.submissions` the submitted requests.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._hf_tasks import fake_mp4, fake_png, fake_wav
from ._replies import error, json_reply, raw
from ._reply import RecordedRequest, Reply

if TYPE_CHECKING:
    from ._server import FakeInferenceServer

__all__ = ["OUTCOMES", "JobPlay", "make_play"]

OUTCOMES = ("done", "failed", "canceled", "pending", "unknown")

Answer = Callable[["JobPlay", RecordedRequest, str], "Reply | None"]
"""A provider's answers: the play's state, the request, its path under ``/{provider}``."""


class JobPlay:
    """The state and helpers every provider play shares (see the module documentation)."""

    def __init__(self, server: FakeInferenceServer, name: str, options: dict[str, Any],
                 answer: Answer) -> None:
        outcome = options.pop("outcome", "done")
        polls = options.pop("polls", 1)
        result_server = options.pop("result_server", None)
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if not isinstance(polls, int) or polls < 0:
            raise ValueError(f"polls must be an int >= 0, got {polls!r}")
        self.server = server
        self.name = name
        self.outcome: str = outcome
        self.polls: int = polls
        self.result_server: FakeInferenceServer = result_server or server
        self.options = options
        self._answer = answer
        self.jobs: dict[str, int] = {}
        self.submissions: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def __call__(self, request: RecordedRequest, path: str) -> Reply | None:
        """The reply to `request` (its path under ``/{provider}``), or None."""
        return self._answer(self, request, path)

    # -- jobs ----------------------------------------------------------------------------

    def submit(self, request: RecordedRequest) -> str:
        """Record a submission; its new job id."""
        with self._lock:
            job_id = f"{self.name}-job-{next(self._ids)}"
            self.jobs[job_id] = 0
            self.submissions.append(request)
        return job_id

    def poll(self, job_id: str) -> str | None:
        """One status poll of `job_id`: ``"pending"`` while it runs, then the outcome
        (None for an unknown job)."""
        with self._lock:
            if job_id not in self.jobs:
                return None
            self.jobs[job_id] += 1
            seen = self.jobs[job_id]
        if self.outcome == "pending" or seen <= self.polls:
            return "pending"
        return self.outcome

    # -- results -------------------------------------------------------------------------

    def result_url(self, job_id: str, kind: str) -> str:
        """A URL on `result_server` that serves a fake ``png``, ``wav`` or ``mp4``."""
        body, mime = {"png": (fake_png(seed=job_id), "image/png"),
                      "wav": (fake_wav(), "audio/wav"),
                      "mp4": (fake_mp4(job_id.encode()), "video/mp4")}[kind]
        path = f"/files/{self.name}/{job_id}.{kind}"
        self.result_server.route("GET", path, raw(200, [("content-type", mime)], [body]))
        return self.result_server.url(path)

    def not_found(self, what: str) -> Reply:
        """The provider's 404."""
        return error(404, message=f"{self.name}: {what} not found")


def b64_png(seed: str) -> str:
    """A fake PNG as base64 text (the ``b64_json`` of image APIs)."""
    return base64.b64encode(fake_png(seed=seed)).decode("ascii")


# -- the providers with plain (non-queue) APIs -------------------------------------------


def _together(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    body = request.json if isinstance(request.json, dict) else {}
    if request.method == "POST" and path == "/v1/images/generations":
        play.submit(request)
        return json_reply({"id": "img-1", "model": body.get("model"),
                           "data": [{"index": 0, "b64_json": b64_png(str(body.get("prompt")))}]})
    if request.method == "POST" and path == "/v1/audio/speech":
        play.submit(request)
        return raw(200, [("content-type", "audio/wav")], [fake_wav()])
    if request.method == "POST" and path == "/v2/videos":
        job_id = play.submit(request)
        return json_reply({"id": job_id, "status": "queued"})
    if request.method == "GET" and path.startswith("/v2/videos/"):
        job_id = path.removeprefix("/v2/videos/")
        state = play.poll(job_id)
        if state is None:
            return play.not_found(f"video {job_id}")
        word = {"pending": "in_progress", "done": "completed", "failed": "failed",
                "canceled": "cancelled", "unknown": "mysterious"}[state]
        answer: dict[str, Any] = {"id": job_id, "status": word}
        if state == "done":
            answer["outputs"] = {"video_url": play.result_url(job_id, "mp4"), "cost": 0.1}
        if state == "failed":
            answer["error"] = {"message": "the video could not be generated"}
        return json_reply(answer)
    return None


def _nscale(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and path == "/v1/images/generations":
        play.submit(request)
        prompt = str((request.json or {}).get("prompt"))
        return json_reply({"created": 0, "data": [{"b64_json": b64_png(prompt)}]})
    return None


def _zai_org(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and path == "/api/paas/v4/async/images/generations":
        job_id = play.submit(request)
        return json_reply({"id": job_id, "request_id": "req-" + job_id,
                           "task_status": "PROCESSING", "model": (request.json or {}).get("model")})
    if request.method == "GET" and path.startswith("/api/paas/v4/async-result/"):
        job_id = path.removeprefix("/api/paas/v4/async-result/")
        state = play.poll(job_id)
        if state is None:
            return play.not_found(f"task {job_id}")
        word = {"pending": "PROCESSING", "done": "SUCCESS", "failed": "FAIL",
                "canceled": "FAIL", "unknown": "PAUSED"}[state]
        answer: dict[str, Any] = {"id": job_id, "task_status": word}
        if state == "done":
            answer["image_result"] = [{"url": play.result_url(job_id, "png")}]
        return json_reply(answer)
    return None


def _novita(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and path.startswith("/v3/hf/"):
        job_id = play.submit(request)
        return json_reply({"video": {"video_url": play.result_url(job_id, "mp4")}})
    return None


def _deepinfra(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and path == "/v1/openai/audio/transcriptions":
        play.submit(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(400, message="expected multipart/form-data")
        return json_reply({"text": "hello world", "segments": [
            {"id": 0, "start": 0.0, "end": 0.5, "text": "hello"},
            {"id": 1, "start": 0.5, "end": 1.0, "text": " world"}]})
    if request.method == "POST" and path == "/v1/openai/audio/speech":
        play.submit(request)
        return raw(200, [("content-type", "audio/mpeg")], [fake_wav()])
    return None


def _openai_compatible(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    return None


_PLAYS: dict[str, Answer] = {
    "together": _together,
    "nscale": _nscale,
    "zai-org": _zai_org,
    "novita": _novita,
    "deepinfra": _deepinfra,
}

_JOB_PROVIDERS = ("fal-ai", "replicate", "wavespeed")
# (this package imports nothing of inferwire, so the names are listed here)
_OPENAI_COMPATIBLE = ("baseten", "cerebras", "cohere", "featherless-ai", "fireworks-ai",
                      "groq", "openai", "ovhcloud", "publicai", "scaleway")


def make_play(server: FakeInferenceServer, name: str, options: dict[str, Any]) -> JobPlay:
    """The play of provider `name` on `server` (behind `FakeInferenceServer.play_provider`)."""
    answer: Answer
    if name in _JOB_PROVIDERS:
        from ._play_jobs import job_play

        answer = job_play(name)
    elif name in _PLAYS:
        answer = _PLAYS[name]
    elif name in _OPENAI_COMPATIBLE:
        answer = _openai_compatible
    else:
        raise ValueError(f"no play for provider {name!r}")
    play = JobPlay(server, name, dict(options), answer)
    if play.options:
        raise ValueError(f"unknown options for the {name} play: {sorted(play.options)}")
    return play

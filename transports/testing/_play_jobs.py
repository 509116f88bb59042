"""The plays of the providers whose tasks run as queued jobs: fal-ai, replicate, wavespeed.

Each answers with the shapes of the provider's API (see `.plays` for the options). What a
submission asks for is read from its body and model path, as the provider's model would:

- fal-ai: ``audio_url`` is speech recognition, ``text`` speech, a bare ``prompt`` an image
  (a video when the model path names ``video``) and those three answer at once;
  ``image_urls`` is image to image, ``sync_mode`` a segmentation (the mask comes back as a
  data URL), any other ``image_url`` a video. Those four (and videos) go through the queue:
  through the router they must carry ``?_subdomain=queue``. Status and result URLs are
  answered on ``https://queue.fal.run`` under the app (the model path's first two parts). A
  failed request is ``COMPLETED`` and its result answers HTTP 422; a canceled one reads
  ``CANCELLED``.
- replicate: ``audio`` is speech recognition (the output is the transcription), ``text``
  speech, ``image`` image to image, a ``prompt`` an image (a video when the model path names
  ``video``). With ``polls=0`` the submission (``Prefer: wait``) answers the finished
  prediction; else ``starting``, then ``GET /v1/predictions/{id}`` moves it on.
- wavespeed: ``POST /api/v3/{model}`` answers ``created`` and the result URL
  ``https://api.wavespeed.ai/api/v3/predictions/{id}/result``, whose polls move it on; the
  output is a video when the model path names ``video``, else an image. A canceled job
  reads ``failed`` (wavespeed has no such status).

Sync tasks ignore ``outcome``: only jobs fail, stay pending or end with an unknown status.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ._hf_tasks import fake_png
from ._replies import error, json_reply

if TYPE_CHECKING:
    from ._reply import RecordedRequest, Reply
    from .plays import Answer, JobPlay

__all__ = ["job_play"]


def job_play(name: str) -> Answer:
    """The answers of job provider `name`."""
    plays: dict[str, Answer] = {"fal-ai": _fal_ai, "replicate": _replicate,
                                "wavespeed": _wavespeed}
    if name not in plays:
        raise ValueError(f"no play for provider {name!r}")
    return plays[name]


def _body(request: RecordedRequest) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else {}


def _submission(play: JobPlay, job_id: str) -> RecordedRequest:
    """The request that submitted `job_id` (`JobPlay.submit` numbers its ids from 1)."""
    return play.submissions[int(job_id.rsplit("-", 1)[1]) - 1]


# -- fal-ai ------------------------------------------------------------------------------

_FAL_QUEUE = "https://queue.fal.run"


def _fal_kind(request: RecordedRequest, path: str) -> str:
    body = _body(request)
    if "audio_url" in body:
        return "asr"
    if "text" in body and "prompt" not in body:
        return "speech"
    if "sync_mode" in body:
        return "segmentation"
    if "image_urls" in body:
        return "image-to-image"
    if "image_url" in body:
        return "video"
    return "video" if "video" in path else "image"


def _fal_ai(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and "/requests/" not in path:
        return _fal_submit(play, request, path)
    if request.method == "GET" and "/requests/" in path:
        app, _, rest = path.partition("/requests/")
        job_id, _, what = rest.partition("/")
        if job_id not in play.jobs or what not in ("", "status"):
            return play.not_found(f"request {job_id}")
        if what == "":
            return _fal_result(play, job_id)
        state = play.poll(job_id)
        word = {"pending": "IN_PROGRESS", "done": "COMPLETED", "failed": "COMPLETED",
                "canceled": "CANCELLED", "unknown": "MYSTERIOUS"}[str(state)]
        return json_reply({"status": word, "request_id": job_id,
                           "response_url": f"{_FAL_QUEUE}{app}/requests/{job_id}"})
    return None


def _fal_submit(play: JobPlay, request: RecordedRequest, path: str) -> Reply:
    kind = _fal_kind(request, path)
    queued = kind not in ("asr", "speech", "image")
    via_router = "_subdomain" in request.params
    if via_router and queued != (request.params.get("_subdomain") == "queue"):
        return error(400, message=f"fal-ai: a {kind} request goes "
                     f"{'to' if queued else 'outside'} the queue (?_subdomain=queue)")
    job_id = play.submit(request)
    if kind == "asr":
        return json_reply({"text": "hello world", "chunks": []})
    if kind == "speech":
        return json_reply({"audio": {"url": play.result_url(job_id, "wav"),
                                     "content_type": "audio/wav"}})
    if kind == "image" and not queued:
        return json_reply({"images": [{"url": play.result_url(job_id, "png"), "width": 8,
                                       "height": 8}], "seed": 1})
    app = "/".join(path.strip("/").split("/")[:2])
    base = f"{_FAL_QUEUE}/{app}/requests/{job_id}"
    return json_reply({"request_id": job_id, "status": "IN_QUEUE", "queue_position": 0,
                       "response_url": base, "status_url": base + "/status",
                       "cancel_url": base + "/cancel"})


def _fal_result(play: JobPlay, job_id: str) -> Reply:
    seen = play.jobs[job_id]
    if play.outcome == "pending" or seen <= play.polls:
        return error(400, message=f"fal-ai: request {job_id} is still in progress")
    if play.outcome == "failed":
        return error(422, json={"detail": "the request could not be processed"})
    submission = _submission(play, job_id)
    kind = _fal_kind(submission, submission.path)
    if kind == "segmentation":
        mask = base64.b64encode(fake_png(seed=job_id)).decode("ascii")
        return json_reply({"image": {"url": f"data:image/png;base64,{mask}",
                                     "content_type": "image/png"}})
    if kind == "image-to-image":
        return json_reply({"images": [{"url": play.result_url(job_id, "png")}]})
    return json_reply({"video": {"url": play.result_url(job_id, "mp4")}})


# -- replicate ---------------------------------------------------------------------------

_REPLICATE = "https://api.replicate.com"
_REPLICATE_WORDS = {"pending": "processing", "done": "succeeded", "failed": "failed",
                    "canceled": "canceled", "unknown": "mysterious"}


def _replicate(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    submit = path == "/v1/predictions" or (path.startswith("/v1/models/")
                                           and path.endswith("/predictions"))
    if request.method == "POST" and submit:
        if not isinstance(_body(request).get("input"), dict):
            return error(422, json={"detail": "input is required", "status": 422})
        job_id = play.submit(request)
        ready = play.polls == 0 and play.outcome != "pending"
        state = play.outcome if ready else "starting"
        return json_reply(_prediction(play, job_id, state), status=201)
    if request.method == "GET" and path.startswith("/v1/predictions/"):
        job_id = path.removeprefix("/v1/predictions/")
        polled = play.poll(job_id)
        if polled is None:
            return play.not_found(f"prediction {job_id}")
        return json_reply(_prediction(play, job_id, polled))
    return None


def _prediction(play: JobPlay, job_id: str, state: str) -> dict[str, Any]:
    submission = _submission(play, job_id)
    body = _body(submission)
    answer: dict[str, Any] = {
        "id": job_id, "version": body.get("version"), "input": body.get("input"),
        "status": _REPLICATE_WORDS.get(state, state), "output": None, "error": None,
        "urls": {"get": f"{_REPLICATE}/v1/predictions/{job_id}",
                 "cancel": f"{_REPLICATE}/v1/predictions/{job_id}/cancel"}}
    if state == "done":
        answer["output"] = _replicate_output(play, job_id, submission)
    if state == "failed":
        answer["error"] = "the model crashed"
    return answer


def _replicate_output(play: JobPlay, job_id: str, submission: RecordedRequest) -> Any:
    inputs = _body(submission).get("input") or {}
    if "audio" in inputs:
        return {"transcription": "hello world", "translation": None, "segments": []}
    if "text" in inputs:
        return play.result_url(job_id, "wav")
    if "image" in inputs:
        return [play.result_url(job_id, "png")]
    if "video" in submission.path:
        return play.result_url(job_id, "mp4")
    return [play.result_url(job_id, "png")]


# -- wavespeed ---------------------------------------------------------------------------

_WAVESPEED = "https://api.wavespeed.ai"
_WAVESPEED_WORDS = {"pending": "processing", "done": "completed", "failed": "failed",
                    "canceled": "failed", "unknown": "mysterious"}


def _wavespeed(play: JobPlay, request: RecordedRequest, path: str) -> Reply | None:
    if request.method == "POST" and path.startswith("/api/v3/") and not path.startswith(
            "/api/v3/predictions/"):
        job_id = play.submit(request)
        return json_reply({"code": 200, "message": "success",
                           "data": _wavespeed_job(play, job_id, "created")})
    if (request.method == "GET" and path.startswith("/api/v3/predictions/")
            and path.endswith("/result")):
        job_id = path.removeprefix("/api/v3/predictions/").removesuffix("/result")
        state = play.poll(job_id)
        if state is None:
            return play.not_found(f"prediction {job_id}")
        return json_reply({"code": 200, "message": "success",
                           "data": _wavespeed_job(play, job_id, state)})
    return None


def _wavespeed_job(play: JobPlay, job_id: str, state: str) -> dict[str, Any]:
    submission = _submission(play, job_id)
    job: dict[str, Any] = {
        "id": job_id, "model": submission.path.removeprefix("/wavespeed/api/v3/"),
        "outputs": [], "status": _WAVESPEED_WORDS.get(state, state), "error": "",
        "urls": {"get": f"{_WAVESPEED}/api/v3/predictions/{job_id}/result"},
        "has_nsfw_contents": [], "timings": {"inference": 0}}
    if state == "done":
        kind = "mp4" if "video" in submission.path else "png"
        job["outputs"] = [play.result_url(job_id, kind)]
    if state == "failed":
        job["error"] = "the job failed"
    if state == "canceled":
        job["error"] = "the job was canceled"
    return job

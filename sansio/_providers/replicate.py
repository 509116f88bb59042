"""replicate: https://api.replicate.com (the router: https://router.huggingface.co/replicate).

Every task is a prediction: ``POST /v1/models/{id}/predictions`` (or ``/v1/predictions``
with the ``version`` in the body, when the id is ``owner/model:version``) with the task's
``input``, and ``Prefer: wait`` so that Replicate answers the finished prediction when it
can. When it cannot (the answer is still ``starting`` or ``processing``), the prediction is
polled at ``GET /v1/predictions/{prediction id}`` until it ``succeeded`` (or ``failed``, or
was ``canceled``). Its ``output`` is the URL of the file (or a list of them: the first is
taken), downloaded without the key; speech recognition's output is the text itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inferwire.sansio._args import encode_json
from inferwire.sansio._hf_outputs import result_type
from inferwire.sansio._http import Request
from inferwire.sansio._models import load_json_body

from ._base import Provider, Route
from ._jobs import JobState, State, job_state, poll

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow
    from inferwire.sansio._http import Response

    from ._call import ProviderCall

POLL_INTERVAL = 1.0
"""Seconds between two polls of a prediction that ``Prefer: wait`` did not see finish."""

_WORDS: dict[str, State] = {
    "starting": "pending", "processing": "pending", "succeeded": "done", "failed": "failed",
    "canceled": "canceled", "aborted": "canceled"}


def _path(provider_id: str) -> str:
    if ":" in provider_id:
        return "/v1/predictions"
    return f"/v1/models/{provider_id}/predictions"


def _prediction(call: ProviderCall, response: Response) -> dict[str, Any]:
    # (not `call.json`: a failed prediction carries its message in "error", which is the
    # job's outcome here, not an error object)
    data = load_json_body(response.body, f"{call.name} {call.task}")
    if not isinstance(data, dict):
        raise call.malformed("a prediction object", response)
    return data


def _read(call: ProviderCall) -> Callable[[Response], JobState]:
    def read(response: Response) -> JobState:
        prediction = _prediction(call, response)
        state = job_state(prediction.get("status"), _WORDS, prediction.get("error"))
        # `Prefer: wait` may answer a prediction still "processing" whose output (the file
        # URL) is already there (a recorded answer does): that output is the result, as
        # huggingface_hub reads it.
        if state.state == "pending" and prediction.get("output") not in (None, [], ""):
            return JobState("done", state.status, state.detail)
        return state

    return read


def _predict(call: ProviderCall, inputs: dict[str, Any]) -> Flow[tuple[Any, Response]]:
    """Run a prediction of `inputs`; its ``output`` and the response that has it."""
    payload: dict[str, Any] = {"input": inputs}
    if ":" in call.provider_id:
        payload["version"] = call.provider_id.split(":", 1)[1]
    headers = (*call.headers(call.url), ("prefer", "wait"))
    response = yield from call.send(Request("POST", call.url, headers,
                                            encode_json(payload, call.task)))
    prediction = _prediction(call, response)
    job_id = prediction.get("id") if isinstance(prediction.get("id"), str) else None
    first = [response]

    def status() -> Flow[Response]:
        if first:  # the submission's answer is the first status
            return first.pop()
        if job_id is None:
            raise call.malformed("a prediction with an 'id' to poll", response)
        return (yield from call.get(call.at(f"/v1/predictions/{job_id}")))

    done = yield from poll(call, job_id=job_id, status=status, read=_read(call),
                           interval=POLL_INTERVAL)
    return _prediction(call, done).get("output"), done


def _file(call: ProviderCall, inputs: dict[str, Any]) -> Flow[bytes]:
    """A prediction whose output is a file URL (or a list of them): the first, downloaded."""
    output, response = yield from _predict(call, inputs)
    url = output[0] if isinstance(output, list) and output else output
    if not isinstance(url, str) or not url:
        raise call.malformed("an output URL (or a list of them)", response)
    return (yield from call.download(url))


def _lora(call: ProviderCall) -> dict[str, str]:
    entry = call.mapping
    if call.lora_url() is None or entry is None:
        return {}
    return {"lora_weights": f"{call.config.hub_url}/{entry.model_id}"}


def text_to_image(call: ProviderCall) -> Flow[bytes]:
    """A prediction of the prompt (a LoRA adapter's repository as ``lora_weights``)."""
    return (yield from _file(call, {"prompt": call.inputs, **call.parameters, **_lora(call)}))


def text_to_speech(call: ProviderCall) -> Flow[bytes]:
    """A prediction of ``text``."""
    return (yield from _file(call, {"text": call.inputs, **call.parameters}))


def text_to_video(call: ProviderCall) -> Flow[bytes]:
    """A prediction of the prompt."""
    return (yield from _file(call, {"prompt": call.inputs, **call.parameters}))


def image_to_image(call: ProviderCall) -> Flow[bytes]:
    """A prediction of the image (a URL, or a data URL) under every name Replicate's image
    models read it by: ``image``, ``images``, ``input_image``, ``input_images``."""
    image = call.url_of(call.inputs, "image/jpeg")
    return (yield from _file(call, {"image": image, "images": [image], "input_image": image,
                                    "input_images": [image], **call.parameters}))


def _text(call: ProviderCall, output: Any, response: Response) -> Flow[str]:
    if isinstance(output, list) and output:
        output = output[0]
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        for key in ("translation", "transcription"):
            if isinstance(output.get(key), str):
                text: str = output[key]
                return text
        if isinstance(output.get("txt_file"), str):
            data = yield from call.download(output["txt_file"])
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                raise call.malformed("a UTF-8 text file at output.txt_file") from None
    raise call.malformed("the text as output (a string, or an object with 'transcription', "
                         "'translation' or 'txt_file')", response)


def automatic_speech_recognition(call: ProviderCall) -> Flow[Any]:
    """A prediction of ``audio`` (a URL, or a data URL): the text (a translation when the
    model made one, else the transcription; a ``txt_file`` is downloaded)."""
    output, response = yield from _predict(
        call, {"audio": call.url_of(call.inputs, "audio/wav"), **call.parameters})
    text = yield from _text(call, output, response)
    cls = result_type("automatic_speech_recognition", "AutomaticSpeechRecognitionOutput")
    return cls._from_json({"text": text})


PROVIDER = Provider(
    "replicate",
    "https://api.replicate.com",
    {
        "text-to-image": Route(_path, flow=text_to_image),
        "text-to-speech": Route(_path, flow=text_to_speech),
        "text-to-video": Route(_path, flow=text_to_video),
        "image-to-image": Route(_path, flow=image_to_image),
        "automatic-speech-recognition": Route(_path, flow=automatic_speech_recognition),
    },
)

"""deepinfra: https://api.deepinfra.com (the router: https://router.huggingface.co/deepinfra).

Chat, completions and embeddings are OpenAI-shaped (under ``/v1/openai``). Speech
recognition is OpenAI's transcription API: a ``multipart/form-data`` upload (the audio as
``file``, the parameters as fields, ``model`` last), answering ``text`` and ``segments``
(read as chunks with timestamps). Text-to-speech answers the audio bytes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from inferwire.sansio._hf_outputs import result_type

from ._base import Provider, Route

if TYPE_CHECKING:
    from inferwire.sansio._effects import Flow

    from ._call import ProviderCall


def _field(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def automatic_speech_recognition(call: ProviderCall) -> Flow[Any]:
    """``/v1/openai/audio/transcriptions`` (multipart)."""
    audio = yield from call.content(call.inputs)
    fields = {name: _field(value) for name, value in call.parameters.items()}
    fields["model"] = call.provider_id
    response = yield from call.post_form(fields, {"file": audio.with_mime(None)})
    data = call.json(response)
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise call.malformed("{'text': str, 'segments'?: [...]}", response)
    result: dict[str, Any] = {"text": text}
    segments = data.get("segments")
    if isinstance(segments, list):
        result["chunks"] = [{"text": s.get("text"), "timestamp": [s.get("start"), s.get("end")]}
                            for s in segments if isinstance(s, dict)]
    cls = result_type("automatic_speech_recognition", "AutomaticSpeechRecognitionOutput")
    return cls._from_json(result)


def text_to_speech(call: ProviderCall) -> Flow[bytes]:
    """``/v1/openai/audio/speech``: the audio bytes."""
    payload = {"input": call.inputs, **call.parameters, "model": call.provider_id}
    response = yield from call.post_json(payload)
    return call.binary(response)


PROVIDER = Provider(
    "deepinfra",
    "https://api.deepinfra.com",
    {
        "conversational": Route("/v1/openai/chat/completions"),
        "text-generation": Route("/v1/openai/completions"),
        "feature-extraction": Route("/v1/openai/embeddings"),
        "automatic-speech-recognition": Route("/v1/openai/audio/transcriptions",
                                              flow=automatic_speech_recognition),
        "text-to-speech": Route("/v1/openai/audio/speech", flow=text_to_speech),
    },
)

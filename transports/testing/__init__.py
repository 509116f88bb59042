"""A scriptable fake inference server for tests: no model, real HTTP, real wire formats.

`FakeInferenceServer` listens on ``127.0.0.1`` (a free port) and serves from background
threads, so the same server works for sync code, asyncio and trio alike::

    from inferwire.testing import FakeInferenceServer, chat_stream, error

    with FakeInferenceServer(tokens=["Hello", ",", " world"]) as server:
        client = InferenceClient(base_url=server.url("/v1"))
        ...
        server.enqueue(error(503, headers={"Retry-After": "0"}))  # next request fails once
        server.route("POST", "/v1/chat/completions", chat_stream(["Hi"], split_events=True))
        assert server.requests[-1].json["stream"] is True

Without a script, the server answers like the real servers do (shapes taken from captures of
llama.cpp, ``transformers serve``, LiteLLM, infinity, TGI and the HF Inference Toolkit). Routes
match by path suffix, so a prefix such as ``/models/org/name/v1/chat/completions`` works too:

- ``POST .../chat/completions``: OpenAI chat. SSE when ``"stream": true`` (a role chunk, one
  content chunk per token, a finish chunk, a usage chunk when
  ``stream_options.include_usage``, ``data: [DONE]``), else a ``chat.completion`` object.
- ``POST .../completions``: OpenAI legacy completions, streamed or not.
- ``POST .../embeddings``: OpenAI embeddings; ``input`` a string or a list,
  ``encoding_format`` float or base64, ``dimensions`` honoured; vectors are
  `fake_embedding` of each input.
- ``POST .../generate``: TGI ``{"generated_text", "details"?}`` (details when
  ``parameters.details``).
- ``POST .../generate_stream``: TGI SSE (``data:{...}`` without a space; the last event has
  ``generated_text`` and, when asked, ``details``).
- ``POST`` to a path containing ``/pipeline/feature-extraction``: HF feature extraction,
  ``{"inputs": str | list}`` to nested lists; ``/pipeline/{task}`` plays any other task.
- ``POST .../models/{model}`` for a model given in ``tasks=`` (or `FakeInferenceServer.serve_task`):
  that hf-inference task (``text-classification``, ``image-segmentation``, ``text-to-image``...:
  every id in `TASKS`). The request is checked like hf-inference does (a wrong shape is a 400
  ``{"error": "..."}``) and the default reply is built from it.
- ``POST`` to any other path (``/``, ``/models/org/name``): the server's ``root_task``, by
  default TGI-compatible text generation (SSE when ``"stream": true``, else
  ``[{"generated_text": ...}]``); any task id of `TASKS` works.
- ``GET /api/models/{id}`` and ``GET /api/models`` (the search): the Hub API, for the models
  registered with `FakeInferenceServer.hub_model` (``hub_models=``); point a client at it with
  ``hub_url=server.base_url``. An unregistered model is a 404 ``Repository not found``.
- ``GET .../health`` (``{"status":"ok"}``), ``GET .../info`` (TGI-like), ``GET .../models``
  (OpenAI model list); any other ``GET`` is a 404 in llama.cpp's error shape.

Scripting, in order of precedence for each request:

1. `FakeInferenceServer.enqueue`: a FIFO of replies for the next requests, whatever their route.
2. `FakeInferenceServer.route`: replies for one method and path (exact match, no query).
3. `FakeInferenceServer.default_reply`: the defaults above (override it in a subclass).

A reply is a `Reply` built by the builders here (`chat_stream`, `chat_completion`,
`completion_stream`, `completion`, `tgi_stream`, `tgi_generate`, `embeddings`, `hf_features`,
one per hf-inference task named after the ``InferenceClient`` method (`text_classification`,
`object_detection`, `text_to_image`...), `json_reply`, `sse`, `error`, `raw`, `replay`,
`close_connection`), or a function of the
`RecordedRequest` returning a reply (or None to fall through to the next level). Every builder
takes the `ReplyOptions` keywords: delays, mid-stream disconnects, split events, gzip, chunked
or Content-Length, keep-alive, extra headers and status.

`fake_png`, `fake_mask_png`, `fake_bmp`, `fake_wav` and `fake_mp4` make small valid media files
(for requests as well as replies).

The code is organised by what it plays: ``_openai`` (chat, completions, embeddings), ``_tgi``,
``_hf_tasks`` (feature extraction and every other hf-inference task's replies), ``_hf_play``
(what the server answers when a model plays a task), ``_replies`` (generic
replies), ``_server`` (`FakeInferenceServer`); this module is the public surface.

Only the standard library is used: importing this module never imports httpx, h11 or trio.
"""

from __future__ import annotations

from types import FunctionType

from ._common import DEFAULT_MODEL, DEFAULT_TOKENS
from ._hf_tasks import (
    Box,
    LabelScores,
    audio_classification,
    audio_to_audio,
    automatic_speech_recognition,
    document_question_answering,
    fake_bmp,
    fake_embedding,
    fake_mask_png,
    fake_mp4,
    fake_png,
    fake_wav,
    fill_mask,
    hf_features,
    image_classification,
    image_segmentation,
    image_to_image,
    image_to_text,
    image_to_video,
    object_detection,
    question_answering,
    sentence_similarity,
    summarization,
    table_question_answering,
    tabular_classification,
    tabular_regression,
    text_classification,
    text_to_image,
    text_to_speech,
    text_to_video,
    token_classification,
    translation,
    visual_question_answering,
    zero_shot_classification,
    zero_shot_image_classification,
)
from ._openai import chat_completion, chat_stream, completion, completion_stream, embeddings
from ._replies import close_connection, error, json_reply, raw, replay, sse
from ._reply import RecordedRequest, Reply, ReplyOptions
from ._server import TASKS, FakeInferenceServer, ReplyFactory, ReplySource
from ._tgi import tgi_generate, tgi_stream

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TOKENS",
    "TASKS",
    "Box",
    "FakeInferenceServer",
    "LabelScores",
    "RecordedRequest",
    "Reply",
    "ReplyFactory",
    "ReplyOptions",
    "ReplySource",
    "audio_classification",
    "audio_to_audio",
    "automatic_speech_recognition",
    "chat_completion",
    "chat_stream",
    "close_connection",
    "completion",
    "completion_stream",
    "document_question_answering",
    "embeddings",
    "error",
    "fake_bmp",
    "fake_embedding",
    "fake_mask_png",
    "fake_mp4",
    "fake_png",
    "fake_wav",
    "fill_mask",
    "hf_features",
    "image_classification",
    "image_segmentation",
    "image_to_image",
    "image_to_text",
    "image_to_video",
    "json_reply",
    "object_detection",
    "question_answering",
    "raw",
    "replay",
    "sentence_similarity",
    "sse",
    "summarization",
    "table_question_answering",
    "tabular_classification",
    "tabular_regression",
    "text_classification",
    "text_to_image",
    "text_to_speech",
    "text_to_video",
    "tgi_generate",
    "tgi_stream",
    "token_classification",
    "translation",
    "visual_question_answering",
    "zero_shot_classification",
    "zero_shot_image_classification",
]

# The public names live in private modules; they present themselves as `inferwire.testing`'s.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, (type, FunctionType)):
        _obj.__module__ = __name__
del _name, _obj

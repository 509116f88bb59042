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
  ``{"inputs": str | list}`` to nested lists.
- ``POST`` to any other path (``/``, ``/models/org/name``): the server's ``root_task``, by
  default TGI-compatible text generation (SSE when ``"stream": true``, else
  ``[{"generated_text": ...}]``).
- ``GET .../health`` (``{"status":"ok"}``), ``GET .../info`` (TGI-like), ``GET .../models``
  (OpenAI model list); any other ``GET`` is a 404 in llama.cpp's error shape.

Scripting, in order of precedence for each request:

1. `FakeInferenceServer.enqueue`: a FIFO of replies for the next requests, whatever their route.
2. `FakeInferenceServer.route`: replies for one method and path (exact match, no query).
3. `FakeInferenceServer.default_reply`: the defaults above (override it in a subclass).

A reply is a `Reply` built by the builders here (`chat_stream`, `chat_completion`,
`completion_stream`, `completion`, `tgi_stream`, `tgi_generate`, `embeddings`, `hf_features`,
`json_reply`, `sse`, `error`, `raw`, `replay`, `close_connection`), or a function of the
`RecordedRequest` returning a reply (or None to fall through to the next level). Every builder
takes the `ReplyOptions` keywords: delays, mid-stream disconnects, split events, gzip, chunked
or Content-Length, keep-alive, extra headers and status.

Only the standard library is used: importing this module never imports httpx, h11 or trio.
"""

from __future__ import annotations

from types import FunctionType

from ._common import DEFAULT_MODEL, DEFAULT_TOKENS
from ._fake_server import RecordedRequest, Reply, ReplyOptions
from ._hf_tasks import fake_embedding, hf_features
from ._openai import chat_completion, chat_stream, completion, completion_stream, embeddings
from ._replies import close_connection, error, json_reply, raw, replay, sse
from ._server import FakeInferenceServer, ReplyFactory, ReplySource
from ._tgi import tgi_generate, tgi_stream

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TOKENS",
    "FakeInferenceServer",
    "RecordedRequest",
    "Reply",
    "ReplyFactory",
    "ReplyOptions",
    "ReplySource",
    "chat_completion",
    "chat_stream",
    "close_connection",
    "completion",
    "completion_stream",
    "embeddings",
    "error",
    "fake_embedding",
    "hf_features",
    "json_reply",
    "raw",
    "replay",
    "sse",
    "tgi_generate",
    "tgi_stream",
]

# The public names live in private modules; they present themselves as `inferwire.testing`'s.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, (type, FunctionType)):
        _obj.__module__ = __name__
del _name, _obj

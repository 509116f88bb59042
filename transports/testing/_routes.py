"""The default routes' replies: OpenAI chat, completions and embeddings, TGI, the server info
and HF feature extraction, each a function of the request body and the server's settings.

`FakeInferenceServer.default_reply` picks the route; these build what a real server of that
kind would answer, including its validation errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from ._common import _tokens, _usage
from ._hf_tasks import fake_embedding, hf_features
from ._openai import chat_completion, chat_stream, completion, completion_stream, embeddings
from ._replies import error
from ._reply import Reply, dumps
from ._tgi import tgi_generate, tgi_stream

__all__ = [
    "TGIRoute",
    "chat_reply",
    "completions_reply",
    "embeddings_reply",
    "features_reply",
    "server_info",
    "tgi_reply",
]

TGIRoute = Literal["generate", "generate_stream", "root"]
"""Which TGI route was asked: ``/generate``, ``/generate_stream`` or the root (``POST /``)."""


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return _words(value.get("content")) + _words(value.get("text"))
    return 0


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _limit(tokens: Sequence[str], limit: Any) -> tuple[list[str], bool]:
    """The tokens a reply carries under a token limit, and whether the limit cut them."""
    toks = list(tokens)
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(toks):
        return toks[:limit], True
    return toks, False


def server_info(model: str, root_task: str) -> dict[str, Any]:
    """TGI's ``/info`` for `model` serving `root_task`."""
    return {
        "model_id": model,
        "model_sha": None,
        "model_pipeline_tag": root_task,
        "model_device_type": "cpu",
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": 1024,
        "max_total_tokens": 2048,
        "validation_workers": 2,
        "max_client_batch_size": 4,
        "router": "text-generation-router",
        "version": "3.3.6-fake",
        "sha": None,
        "docker_label": None,
    }


def chat_reply(body: Any, tokens: Sequence[str], model: str) -> Reply:
    """``POST /v1/chat/completions``: `tokens` as the answer, streamed if asked."""
    if not isinstance(body, dict):
        return error(400, message="Invalid JSON body", error_type="invalid_request_error")
    messages = body.get("messages")
    if not isinstance(messages, list):
        return error(400, message="Expected 'messages' to be an array")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    return _openai_reply(
        body,
        tokens,
        model,
        limit=limit,
        prompt=messages,
        stream_reply=chat_stream,
        whole_reply=chat_completion,
    )


def completions_reply(body: Any, tokens: Sequence[str], model: str) -> Reply:
    """``POST /v1/completions``: `tokens` as the completion, streamed if asked."""
    if not isinstance(body, dict) or "prompt" not in body:
        return error(400, message="'prompt' is required")
    return _openai_reply(
        body,
        tokens,
        model,
        limit=body.get("max_tokens"),
        prompt=body["prompt"],
        stream_reply=completion_stream,
        whole_reply=completion,
    )


def _openai_reply(
    body: dict[str, Any],
    tokens: Sequence[str],
    default_model: str,
    *,
    limit: Any,
    prompt: Any,
    stream_reply: Callable[..., Reply],
    whole_reply: Callable[..., Reply],
) -> Reply:
    """The answer of an OpenAI route (chat or completions), streamed or not."""
    model = body["model"] if isinstance(body.get("model"), str) else default_model
    toks, truncated = _limit(tokens, limit)
    finish = "length" if truncated else "stop"
    prompt_tokens = max(1, _words(prompt))
    if body.get("stream"):
        stream_options = body.get("stream_options") or {}
        include_usage = isinstance(stream_options, dict) and bool(
            stream_options.get("include_usage")
        )
        return stream_reply(
            toks,
            usage=True if include_usage else None,
            finish_reason=finish,
            model=model,
            prompt_tokens=prompt_tokens,
        )
    return whole_reply(
        "".join(toks),
        finish_reason=finish,
        model=model,
        usage=_usage(True, prompt_tokens, len(toks)),
    )


def embeddings_reply(body: Any, model: str, dim: int) -> Reply:
    """``POST /v1/embeddings``: a deterministic vector of `dim` floats per input text."""
    if not isinstance(body, dict) or "input" not in body:
        return error(400, message="'input' is required")
    raw_input = body["input"]
    texts = [raw_input] if isinstance(raw_input, str) else raw_input
    if not isinstance(texts, list) or not texts:
        return error(400, message="'input' must be a string or a non-empty list")
    dim = _positive_int(body.get("dimensions")) or dim
    encoding: Literal["float", "base64"]
    if body.get("encoding_format") in (None, "float"):
        encoding = "float"
    elif body.get("encoding_format") == "base64":
        encoding = "base64"
    else:
        return error(400, message=f"unsupported encoding_format {body['encoding_format']!r}")
    model = body["model"] if isinstance(body.get("model"), str) else model
    used = max(1, _words(texts))
    return embeddings(
        [fake_embedding(t if isinstance(t, str) else dumps(t), dim) for t in texts],
        encoding=encoding,
        model=model,
        usage={"prompt_tokens": used, "total_tokens": used},
    )


def tgi_reply(body: Any, route: TGIRoute, tokens: Sequence[str]) -> Reply:
    """TGI's generate routes: `tokens` as the generated text, with details if asked."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
        return error(
            422,
            message="Input validation error: `inputs` must be a string",
            shape="tgi",
            error_type="validation",
        )
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        params = {}
    toks, truncated = _limit(tokens, params.get("max_new_tokens"))
    finish = "length" if truncated else "eos_token"
    top_n = _positive_int(params.get("top_n_tokens")) or 0
    seed = params.get("seed") if isinstance(params.get("seed"), int) else None
    text = "".join(toks)
    if params.get("return_full_text"):
        text = body["inputs"] + text
    details = bool(params.get("details"))
    stream = route == "generate_stream" or (route == "root" and bool(body.get("stream")))
    if stream:
        return tgi_stream(
            toks,
            details=details,
            top_n_tokens=top_n,
            finish_reason=finish,
            seed=seed,
            input_length=max(1, len(_tokens(body["inputs"]))),
            generated_text=text,
        )
    prefill = _tokens(body["inputs"]) if params.get("decoder_input_details") else ()
    return tgi_generate(
        toks,
        details=details,
        top_n_tokens=top_n,
        finish_reason=finish,
        seed=seed,
        prefill=prefill,
        generated_text=text,
        as_list=route == "root",
    )


def features_reply(body: Any, dim: int, *, pooled: bool) -> Reply:
    """HF feature extraction: one vector per text (`pooled`) or one per token."""
    if not isinstance(body, dict) or "inputs" not in body:
        return error(
            400,
            json={"error": f"Body needs to provide a inputs key, received: {dumps(body)!r}"},
        )
    inputs = body["inputs"]

    def one(text: str) -> Any:
        if pooled:
            return fake_embedding(text, dim)
        toks = [t.strip() for t in _tokens(text)] or [""]
        return [[fake_embedding(f"{t}#{i}", dim) for i, t in enumerate(toks)]]

    if isinstance(inputs, str):
        return hf_features(one(inputs))
    if isinstance(inputs, list) and all(isinstance(t, str) for t in inputs):
        return hf_features([one(t) for t in inputs])
    return error(400, json={"error": "inputs must be a string or a list of strings"})

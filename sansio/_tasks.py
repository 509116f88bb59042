"""The task flows: one generator per task, shared by every transport.

Each function validates its arguments eagerly (so a usage error is raised at the call, before
any I/O), builds the request, and returns the flow that performs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ._args import NUMBER, check_arg, check_params, encode_json, filter_none, messages_as_dicts
from ._bodies import (
    JSON_BODY_LIMIT,
    Prefilled,
    chat_stream_item,
    check_json_error,
    is_event_stream,
    parse_endpoint_info,
    text_stream_item,
)
from ._chat_types import ChatCompletionOutput, ChatCompletionStreamOutput, parse_chat_completion
from ._config import ClientConfig, Lookup, Target
from ._effects import Flow, Send, StreamDecoder, Streaming
from ._embeddings import FloatArray, parse_hf_features, parse_openai_embeddings
from ._errors import BadRequestError, UsageError
from ._exchange import open_response, read_body, send_request
from ._http import Request, Response, ResponseHead
from ._streams import (
    ChatCompletionStreamDecoder,
    CompletionStreamDecoder,
    TextGenerationStreamDecoder,
)
from ._textgen_checks import check_text_generation_parameters
from ._textgen_types import (
    TextGenerationOutput,
    TextGenerationStreamOutput,
    parse_completion_as_text_generation,
    parse_text_generation,
)

__all__ = [
    "CHAT_COMPLETION_PARAMS",
    "TEXT_GENERATION_PARAMS",
    "chat_completion",
    "feature_extraction",
    "get_endpoint_info",
    "health_check",
    "text_generation",
]

CHAT_COMPLETION_PARAMS: Mapping[str, tuple[type, ...]] = {
    "frequency_penalty": NUMBER,
    "logit_bias": (dict,),
    "logprobs": (bool,),
    "max_tokens": (int,),
    "n": (int,),
    "presence_penalty": NUMBER,
    "response_format": (dict,),
    "seed": (int,),
    "stop": (list, str),
    "stream_options": (dict,),
    "temperature": NUMBER,
    "tool_choice": (str, dict),
    "tool_prompt": (str,),
    "tools": (list,),
    "top_logprobs": (int,),
    "top_p": NUMBER,
}

TEXT_GENERATION_PARAMS: Mapping[str, tuple[type, ...]] = {
    "adapter_id": (str,),
    "best_of": (int,),
    "decoder_input_details": (bool,),
    "do_sample": (bool,),
    "frequency_penalty": NUMBER,
    "grammar": (dict,),
    "max_new_tokens": (int,),
    "repetition_penalty": NUMBER,
    "return_full_text": (bool,),
    "seed": (int,),
    "stop": (list,),
    "temperature": NUMBER,
    "top_k": (int,),
    "top_n_tokens": (int,),
    "top_p": NUMBER,
    "truncate": (int,),
    "typical_p": NUMBER,
    "watermark": (bool,),
}

# TGI parameters with an OpenAI /v1/completions spelling; the rest cannot be expressed there.
_COMPLETIONS_NAMES = {
    "max_new_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "typical_p": "typical_p",
    "seed": "seed",
    "stop": "stop",
    "frequency_penalty": "frequency_penalty",
    "repetition_penalty": "repetition_penalty",
    "best_of": "best_of",
    "top_n_tokens": "logprobs",
    "return_full_text": "echo",
}


def _request(config: ClientConfig, method: str, url: str, payload: Any = None,
             target: Target | None = None) -> Request:
    if target is not None and target.transform is not None and isinstance(payload, dict):
        payload = target.transform(payload)
    body = None if payload is None else encode_json(payload, "request")
    headers = config.request_headers(url, json_body=body is not None)
    if target is not None and target.headers:
        headers = (*headers, *target.headers)
    return Request(method, url, headers, body)


def _routed(config: ClientConfig, lookup: Lookup,
            build: Callable[[Target], Flow[Any]]) -> Flow[Any]:
    """Resolve `lookup` through the Hub's provider mapping, then run the flow `build` makes
    for the provider's target."""
    from ._routing import provider_target  # only provider calls need it: kept out of imports

    target = yield from provider_target(config, lookup)
    return (yield from build(target))


def _auto(config: ClientConfig, lookup: Lookup,
          again: Callable[[ClientConfig], Flow[Any]]) -> Flow[Any]:
    """``provider="auto"``: choose the provider from the Hub's mapping, then run the flow
    `again` makes for the configuration with that provider."""
    from ._routing import auto_provider

    name = yield from auto_provider(config, lookup.model_id, lookup.task)
    return (yield from again(config.with_provider(name)))


# -- chat completion ---------------------------------------------------------------------


def _tgi_response_format(response_format: dict[str, Any]) -> dict[str, Any]:
    """TGI's grammar spelling of OpenAI's ``json_schema`` response format (hf-inference only)."""
    if response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema") or {}
        return {"type": "json_object", "value": schema.get("schema", schema)}
    return response_format


def chat_completion(
    config: ClientConfig,
    messages: Any,
    *,
    model: str | None = None,
    stream: bool = False,
    extra_body: Mapping[str, Any] | None = None,
    params: Mapping[str, Any],
) -> Flow[ChatCompletionOutput | Streaming[ChatCompletionStreamOutput]]:
    """Flow of `chat_completion` (OpenAI chat-completions API, streamed or not)."""
    task = "chat_completion"
    message_dicts = messages_as_dicts(messages, task)
    check_arg(task, "model", model, (str,))
    check_arg(task, "stream", stream, (bool,))
    check_arg(task, "extra_body", extra_body, (dict,))
    check_params(task, params, CHAT_COMPLETION_PARAMS)
    route = config.chat_target(model)

    def build(target: Target) -> Flow[Any]:
        payload: dict[str, Any] = {"model": target.payload_model, "messages": message_dicts}
        payload.update(params)
        response_format = payload.get("response_format")
        if response_format is not None and "/hf-inference/" in target.url:
            payload["response_format"] = _tgi_response_format(response_format)
        payload["stream"] = stream
        payload = filter_none(payload)
        if extra_body:
            payload.update(extra_body)
        request = _request(config, "POST", target.url, payload, target)
        if stream:
            return _chat_stream_flow(config, request)
        return _chat_flow(config, request)

    if isinstance(route, Lookup):
        return _routed(config, route, build)
    return build(route)


def _chat_flow(config: ClientConfig, request: Request) -> Flow[ChatCompletionOutput]:
    response = yield from send_request(request, config.runtime)
    result = parse_chat_completion(response.body)
    served = response.header("x-inference-provider")
    if served:
        object.__setattr__(result, "_provider", served)
    return result


def _chat_stream_flow(
    config: ClientConfig, request: Request
) -> Flow[Streaming[ChatCompletionStreamOutput]]:
    head = yield from open_response(request, config.runtime)
    if is_event_stream(head):
        decoder: StreamDecoder[ChatCompletionStreamOutput] = ChatCompletionStreamDecoder(
            max_line_size=config.max_line_size, max_event_size=config.max_event_size)
        return Streaming(head, decoder)
    body = yield from read_body(JSON_BODY_LIMIT)
    check_json_error(body)
    return Streaming(head, Prefilled([chat_stream_item(parse_chat_completion(body))]))


# -- text generation ---------------------------------------------------------------------


def _completions_parameters(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    """TGI's parameters under their OpenAI completions names; `UsageError` for one that has
    none (`where` names the server or provider in the message)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None or (name == "decoder_input_details" and not value):
            continue
        openai_name = _COMPLETIONS_NAMES.get(name)
        if openai_name is None:
            raise UsageError(
                f"text_generation(): {name} has no equivalent in the OpenAI completions API "
                f"that {where} speaks; drop it or use a TGI endpoint",
                argument=name,
            )
        out[openai_name] = value
    return out


def _completions_payload(prompt: str, target: Target, params: Mapping[str, Any],
                         stream: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"prompt": prompt}
    if target.payload_model:
        payload["model"] = target.payload_model
    payload.update(_completions_parameters(params, target.url))
    payload["stream"] = stream
    return payload


def text_generation(
    config: ClientConfig,
    prompt: Any,
    *,
    model: str | None = None,
    details: bool | None = None,
    stream: bool | None = None,
    params: Mapping[str, Any],
) -> Flow[str | TextGenerationOutput | Streaming[str] | Streaming[TextGenerationStreamOutput]]:
    """Flow of `text_generation`: TGI's ``/generate`` shape, or OpenAI ``/v1/completions``."""
    task = "text_generation"
    check_arg(task, "prompt", prompt, (str,))
    if prompt is None:
        raise UsageError("text_generation(): prompt is required", argument="prompt")
    check_arg(task, "model", model, (str,))
    check_arg(task, "details", details, (bool,))
    check_arg(task, "stream", stream, (bool,))
    check_params(task, params, TEXT_GENERATION_PARAMS)
    if params.get("decoder_input_details") and not details:
        raise UsageError(
            "text_generation(): decoder_input_details=True needs details=True",
            argument="decoder_input_details",
        )
    grammar = params.get("grammar")
    if grammar is not None and grammar.get("type") not in ("json", "regex", "json_schema"):
        raise UsageError(
            "text_generation(): grammar must be {'type': 'json'|'regex'|'json_schema', "
            "'value': ...}",
            argument="grammar",
        )
    want_details = bool(details)
    route = config.task_target(model, "text-generation")
    # The old model's checks are TGI's: an OpenAI-shaped server (a provider, a /v1 URL) also
    # takes temperature=0, as greedy decoding. (`auto` checks again once it has chosen.)
    check_text_generation_parameters(
        params, stream=bool(stream),
        zero_temperature=isinstance(route, Lookup) or route.openai_style)
    if isinstance(route, Lookup) and route.provider == "auto":
        return _auto(config, route, lambda chosen: text_generation(
            chosen, prompt, model=model, details=details, stream=stream, params=params))

    def openai_flow(target: Target) -> Flow[Any]:
        payload = _completions_payload(prompt, target, params, bool(stream))
        request = _request(config, "POST", target.url, filter_none(payload), target)
        if stream:
            return _text_stream_flow(config, lambda: request, True, want_details)
        return _text_flow(config, lambda: request, True, want_details)

    if isinstance(route, Lookup):
        _completions_parameters(params, route.provider)  # refused now, before any I/O
        return _routed(config, route, openai_flow)
    target = route
    if target.openai_style:
        return openai_flow(target)
    parameters = dict(params)
    parameters["details"] = details

    def tgi_request() -> Request:
        # Parameters this server refused before (the HF Inference Toolkit) are left out.
        refused = config.state.refused(target.url)
        kept = {k: v for k, v in parameters.items() if k not in refused}
        payload: dict[str, Any] = {"inputs": prompt, "parameters": filter_none(kept)}
        if stream is not None:
            payload["stream"] = stream
        return _request(config, "POST", target.url, payload)

    if stream:
        return _text_stream_flow(config, tgi_request, False, want_details)
    return _text_flow(config, tgi_request, False, want_details)


_UNUSED_KWARGS = re.compile(r"The following `model_kwargs` are not used by the model: \[(.*?)\]")


def _send_text_generation(config: ClientConfig, build: Callable[[], Request], *,
                          opening: bool) -> Flow[Any]:
    """Send a text-generation request; a server that refuses some TGI parameters (the HF
    Inference Toolkit's "model_kwargs are not used" 400) gets the request again without them,
    once, with a warning, and the client remembers it for later calls to that URL."""
    request = build()
    try:
        if opening:
            return (yield from open_response(request, config.runtime))
        return (yield from send_request(request, config.runtime))
    except BadRequestError as error:
        found = _UNUSED_KWARGS.search(error.server_message or "")
        if found is None:
            raise
        names = frozenset(re.findall(r"'([^']+)'", found.group(1)))
        if not names or names <= config.state.refused(request.url):
            raise
        config.state.refuse(request.url, names)
        config.runtime.warn(
            f"{request.url} does not take the text-generation parameter(s) "
            f"{', '.join(sorted(names))}: sending the request again without them (remembered "
            "for this client)")
    request = build()
    if opening:
        return (yield from open_response(request, config.runtime))
    return (yield from send_request(request, config.runtime))


def _text_flow(config: ClientConfig, build: Callable[[], Request], openai_style: bool,
               details: bool) -> Flow[str | TextGenerationOutput]:
    response: Response = yield from _send_text_generation(config, build, opening=False)
    parse = parse_completion_as_text_generation if openai_style else parse_text_generation
    output = parse(response.body)
    return output if details else output.generated_text


def _text_stream_flow(
    config: ClientConfig, build: Callable[[], Request], openai_style: bool, details: bool
) -> Flow[Streaming[str] | Streaming[TextGenerationStreamOutput]]:
    head: ResponseHead = yield from _send_text_generation(config, build, opening=True)
    if is_event_stream(head):
        cls = CompletionStreamDecoder if openai_style else TextGenerationStreamDecoder
        return Streaming(head, cls(details=details, max_line_size=config.max_line_size,
                                   max_event_size=config.max_event_size))
    # The HF Inference Toolkit ignores "stream" and answers JSON: one item, not silence.
    body = yield from read_body(JSON_BODY_LIMIT)
    check_json_error(body)
    parse = parse_completion_as_text_generation if openai_style else parse_text_generation
    return Streaming(head, Prefilled([text_stream_item(parse(body), details)]))


# -- feature extraction ------------------------------------------------------------------

_HF_ONLY = ("normalize", "prompt_name", "truncate", "truncation_direction")


def feature_extraction(
    config: ClientConfig,
    text: Any,
    *,
    model: str | None = None,
    normalize: bool | None = None,
    prompt_name: str | None = None,
    truncate: bool | None = None,
    truncation_direction: str | None = None,
    dimensions: int | None = None,
    encoding_format: str | None = None,
) -> Flow[FloatArray]:
    """Flow of `feature_extraction`: HF/TEI ``{"inputs"}`` or OpenAI ``/v1/embeddings``."""
    task = "feature_extraction"
    if isinstance(text, (list, tuple)):
        if not text or not all(isinstance(t, str) for t in text):
            raise UsageError(f"{task}(): text must be a str or a non-empty list of str",
                             argument="text")
        text = list(text)
    elif not isinstance(text, str):
        raise UsageError(f"{task}(): text must be a str or a list of str, got "
                         f"{type(text).__name__}", argument="text")
    check_arg(task, "model", model, (str,))
    check_arg(task, "normalize", normalize, (bool,))
    check_arg(task, "prompt_name", prompt_name, (str,))
    check_arg(task, "truncate", truncate, (bool,))
    check_arg(task, "dimensions", dimensions, (int,))
    if truncation_direction not in (None, "left", "right", "Left", "Right"):
        raise UsageError(f"{task}(): truncation_direction must be 'left' or 'right'",
                         argument="truncation_direction")
    if encoding_format not in (None, "float", "base64"):
        raise UsageError(f"{task}(): encoding_format must be 'float' or 'base64'",
                         argument="encoding_format")
    route = config.task_target(model, "feature-extraction")
    if isinstance(route, Lookup) and route.provider == "auto":
        return _auto(config, route, lambda chosen: feature_extraction(
            chosen, text, model=model, normalize=normalize, prompt_name=prompt_name,
            truncate=truncate, truncation_direction=truncation_direction,
            dimensions=dimensions, encoding_format=encoding_format))
    options = {"normalize": normalize, "prompt_name": prompt_name, "truncate": truncate,
               "truncation_direction": truncation_direction}
    openai_style = isinstance(route, Lookup) or route.openai_style
    if openai_style:
        where = route.provider if isinstance(route, Lookup) else route.url
        for name in _HF_ONLY:
            if options[name] is not None:
                raise UsageError(
                    f"{task}(): {name} is not part of the OpenAI embeddings API that "
                    f"{where} speaks",
                    argument=name,
                )

    def build(target: Target) -> Flow[FloatArray]:
        if openai_style:
            payload: dict[str, Any] = {"input": text, "model": target.payload_model,
                                       "dimensions": dimensions,
                                       "encoding_format": encoding_format}
        else:
            payload = {"inputs": text, **options, "dimensions": dimensions,
                       "encoding_format": encoding_format}
        request = _request(config, "POST", target.url, filter_none(payload), target)
        return _embedding_flow(config, request, openai_style)

    if isinstance(route, Lookup):
        return _routed(config, route, build)
    return build(route)


def _embedding_flow(config: ClientConfig, request: Request, openai_style: bool
                    ) -> Flow[FloatArray]:
    response = yield from send_request(request, config.runtime)
    return (parse_openai_embeddings if openai_style else parse_hf_features)(response.body)


# -- endpoint utilities ------------------------------------------------------------------


def health_check(config: ClientConfig, model: str | None = None) -> Flow[bool]:
    """Flow of `health_check`: ``GET <url>/health`` answers 200."""
    check_arg("health_check", "model", model, (str,))
    request = _request(config, "GET", config.endpoint_url(model, "health"))
    return _health_flow(request)


def _health_flow(request: Request) -> Flow[bool]:
    response = yield Send(request)
    return bool(response.status == 200)


def get_endpoint_info(config: ClientConfig, model: str | None = None) -> Flow[dict[str, Any]]:
    """Flow of `get_endpoint_info`: ``GET <url>/info`` as a dict."""
    check_arg("get_endpoint_info", "model", model, (str,))
    request = _request(config, "GET", config.endpoint_url(model, "info"))
    return _info_flow(config, request)


def _info_flow(config: ClientConfig, request: Request) -> Flow[dict[str, Any]]:
    response = yield from send_request(request, config.runtime)
    return parse_endpoint_info(response.body)

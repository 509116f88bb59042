"""The older huggingface_hub calls, as flows over today's services (pure, like every flow).

* `conversational`: the old conversation (past user inputs, generated responses, the new
  text) becomes alternating chat messages for `chat_completion`; the answer becomes a
  `ConversationalOutput`.
* `get_model_status` and `list_deployed_models`: answered from the Hub API as it is today
  (a model's ``inference`` state and provider mapping; the models Inference Providers serve),
  mapped as docs/migrating.md documents.
* `MODERN`: the modern call each old one names in its `DeprecationWarning`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ._chat_types import ChatCompletionOutput
from ._config import ClientConfig, is_url
from ._effects import Flow, Send
from ._errors import HTTPStatusError, MalformedResponseError, UsageError, UsageTypeError
from ._exchange import send_request
from ._http import Request, Response
from ._legacy_types import ConversationalOutput, ModelStatus
from ._models import load_json_body
from ._tasks import chat_completion

__all__ = [
    "ALL_TASKS",
    "MODERN",
    "capturing",
    "chat_parameters",
    "conversation_messages",
    "conversational",
    "deployed_models",
    "get_model_status",
    "inference_api_call",
    "inference_api_task",
    "list_deployed_models",
    "model_status",
    "old_json",
    "pipeline_tag",
]

#: what each old call is today, for its DeprecationWarning
MODERN: Mapping[str, str] = {
    "conversational": "conversational() is deprecated: use chat_completion(messages=[...]) "
                      "(the conversation as alternating user/assistant messages)",
    "get_model_status": "get_model_status() is deprecated: the Hub API's model info "
                        "(expand[]=inference, expand[]=inferenceProviderMapping) says where a "
                        "model is served today",
    "list_deployed_models": "list_deployed_models() is deprecated: search the Hub for models "
                            "served by Inference Providers (GET /api/models?inference_provider="
                            "all&pipeline_tag=TASK)",
    "InferenceApi": "InferenceApi is deprecated: use InferenceClient and its task methods "
                    "(e.g. InferenceClient().text_classification(...))",
}

# The old conversational parameters (transformers pipeline keywords) with a chat spelling.
_CHAT_NAMES = {
    "max_length": "max_tokens",
    "max_new_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
}


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not all(
            isinstance(item, str) for item in value):
        raise UsageTypeError(f"conversational(): {name} must be a list of strings",
                             argument=name)
    return list(value)


def conversation_messages(text: Any, generated_responses: Any,
                          past_user_inputs: Any) -> list[dict[str, str]]:
    """The chat messages of an old conversation: each past user input followed by the
    response to it, then `text` as the last user message."""
    if not isinstance(text, str):
        raise UsageTypeError("conversational(): text must be a string", argument="text")
    responses = _strings(generated_responses, "generated_responses")
    inputs = _strings(past_user_inputs, "past_user_inputs")
    if len(responses) != len(inputs):
        raise UsageError(
            f"conversational(): past_user_inputs ({len(inputs)}) and generated_responses "
            f"({len(responses)}) must have the same length",
            argument="generated_responses",
        )
    messages: list[dict[str, str]] = []
    for asked, answered in zip(inputs, responses, strict=True):
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": answered})
    messages.append({"role": "user", "content": text})
    return messages


def chat_parameters(parameters: Any) -> dict[str, Any]:
    """The chat-completion parameters for old conversational `parameters`; one with no chat
    equivalent is a `UsageError` naming it (nothing is silently dropped)."""
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise UsageTypeError("conversational(): parameters must be a dict",
                             argument="parameters")
    out: dict[str, Any] = {}
    for name, value in parameters.items():
        chat_name = _CHAT_NAMES.get(name)
        if chat_name is None:
            known = ", ".join(sorted(_CHAT_NAMES))
            raise UsageError(
                f"conversational(): parameter {name!r} has no chat-completion equivalent "
                f"(known: {known})",
                argument="parameters",
            )
        if value is not None:
            out[chat_name] = value
    return out


def conversational(config: ClientConfig, text: Any, generated_responses: Any = None,
                   past_user_inputs: Any = None, *, parameters: Any = None,
                   model: str | None = None) -> Flow[ConversationalOutput]:
    """Flow of the old `conversational` over `chat_completion`."""
    messages = conversation_messages(text, generated_responses, past_user_inputs)
    params = chat_parameters(parameters)
    output = yield from chat_completion(config, messages, model=model, params=params)
    assert isinstance(output, ChatCompletionOutput)  # (not streamed)
    choices = output.choices
    reply = choices[0].message.content if choices else None
    generated = reply if isinstance(reply, str) else ""
    return ConversationalOutput.parse({
        "generated_text": generated,
        "conversation": {
            "generated_responses": [*_strings(generated_responses, "generated_responses"),
                                    generated],
            "past_user_inputs": [*_strings(past_user_inputs, "past_user_inputs"), text],
        },
        "warnings": [],
    })


def _hub_request(config: ClientConfig, path_and_query: str) -> Request:
    url = f"{config.hub_url}{path_and_query}"
    headers = [("user-agent", config.user_agent)]
    # Only a Hugging Face token goes to the Hub: a provider's own key never leaves for it.
    if config.token and config.token.startswith("hf_") and config.sends_token_to(url):
        headers.append(("authorization", f"Bearer {config.token}"))
    return Request("GET", url, tuple(headers), None)


def _model_id(config: ClientConfig, model: Any, method: str) -> str:
    chosen = model if model is not None else config.model
    if chosen is None:
        raise UsageError(f"{method}(): pass a model id", argument="model")
    if not isinstance(chosen, str):
        raise UsageTypeError(f"{method}(): model must be a string", argument="model")
    if is_url(chosen):
        raise UsageError(
            f"{method}(): model status is only known for Hub model ids, not URLs "
            f"({chosen!r})", argument="model")
    return chosen


def model_status(info: Any) -> ModelStatus:
    """The old `ModelStatus` for a Hub model info object (expanded with ``inference`` and
    ``inferenceProviderMapping``):

    * ``loaded``: the Hub says ``inference: "warm"``, or a provider serves it ``live``;
    * ``state``: ``"Loaded"`` then; ``"Loadable"`` if providers map it but none is live;
      ``"NotLoaded"`` otherwise;
    * ``compute_type``: the provider mapping as ``{provider: status}`` (today's Hub does not
      say CPU or GPU);
    * ``framework``: the model's ``library_name`` (``"unknown"`` when the Hub has none).
    """
    if not isinstance(info, dict):
        raise MalformedResponseError("model info: expected a JSON object")
    mapping = info.get("inferenceProviderMapping") or {}
    if isinstance(mapping, list):  # the older list form: [{"provider": ..., ...}]
        mapping = {entry.get("provider"): entry for entry in mapping if isinstance(entry, dict)}
    if not isinstance(mapping, dict):
        raise MalformedResponseError("model info: inferenceProviderMapping is malformed")
    statuses = {str(name): str(entry.get("status", "live")) for name, entry in mapping.items()
                if isinstance(entry, dict)}
    loaded = info.get("inference") == "warm" or "live" in statuses.values()
    state = "Loaded" if loaded else "Loadable" if statuses else "NotLoaded"
    framework = info.get("library_name")
    return ModelStatus(loaded=loaded, state=state, compute_type=statuses,
                       framework=framework if isinstance(framework, str) else "unknown")


def get_model_status(config: ClientConfig, model: Any = None) -> Flow[ModelStatus]:
    """Flow of the old `get_model_status`: one Hub model-info request."""
    model_id = _model_id(config, model, "get_model_status")
    response = yield from send_request(_hub_request(
        config, f"/api/models/{quote(model_id)}"
                "?expand%5B%5D=inference&expand%5B%5D=inferenceProviderMapping"
                "&expand%5B%5D=library_name&expand%5B%5D=pipeline_tag"), config.runtime)
    return model_status(load_json_body(response.body, "model info"))


def _frameworks(frameworks: Any) -> frozenset[str] | None:
    if frameworks is None or frameworks == "all":
        return None
    if isinstance(frameworks, str):
        return frozenset({frameworks})
    if isinstance(frameworks, Sequence) and all(isinstance(f, str) for f in frameworks):
        return frozenset(frameworks)
    raise UsageTypeError("list_deployed_models(): frameworks must be None, 'all', a string "
                         "or a list of strings", argument="frameworks")


def deployed_models(models: Any, frameworks: frozenset[str] | None) -> dict[str, list[str]]:
    """``{task: [model id, ...]}`` for a Hub search answer, keeping the models whose
    ``library_name`` is in `frameworks` (all of them for None)."""
    if not isinstance(models, list):
        raise MalformedResponseError("model search: expected a list")
    out: dict[str, list[str]] = {}
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            raise MalformedResponseError("model search: expected objects with an id")
        task = model.get("pipeline_tag")
        if not isinstance(task, str):
            continue  # a model without a task cannot be listed under one
        if frameworks is not None and model.get("library_name") not in frameworks:
            continue
        out.setdefault(task, []).append(model["id"])
    return out


def list_deployed_models(config: ClientConfig,
                         frameworks: Any = None) -> Flow[dict[str, list[str]]]:
    """Flow of the old `list_deployed_models`: one Hub search for models served by
    Inference Providers."""
    wanted = _frameworks(frameworks)
    response = yield from send_request(_hub_request(
        config, "/api/models?inference_provider=all&expand%5B%5D=pipeline_tag"
                "&expand%5B%5D=library_name"), config.runtime)
    return deployed_models(load_json_body(response.body, "model search"), wanted)


#: The tasks the old ``InferenceApi`` accepted for an explicit `task`.
ALL_TASKS = (
    "text-classification", "token-classification", "table-question-answering",
    "question-answering", "zero-shot-classification", "translation", "summarization",
    "conversational", "feature-extraction", "text-generation", "text2text-generation",
    "fill-mask", "sentence-similarity", "text-to-speech", "automatic-speech-recognition",
    "audio-to-audio", "audio-classification", "voice-activity-detection",
    "image-classification", "object-detection", "image-segmentation", "text-to-image",
    "image-to-image", "tabular-classification", "tabular-regression",
)

# Old InferenceApi tasks with a modern method: task -> (method, how `inputs` becomes its
# arguments: "inputs" (positional), or the names of the dict keys passed positionally).
_DISPATCH: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "text-classification": ("text_classification", ()),
    "token-classification": ("token_classification", ()),
    "table-question-answering": ("table_question_answering", ("table", "query")),
    "question-answering": ("question_answering", ("question", "context")),
    "zero-shot-classification": ("zero_shot_classification", ()),
    "translation": ("translation", ()),
    "summarization": ("summarization", ()),
    "conversational": ("conversational", ("text", "generated_responses", "past_user_inputs")),
    "feature-extraction": ("feature_extraction", ()),
    "text-generation": ("text_generation", ()),
    "text2text-generation": ("text_generation", ()),
    "fill-mask": ("fill_mask", ()),
    "sentence-similarity": ("sentence_similarity", ("source_sentence", "sentences")),
    "text-to-speech": ("text_to_speech", ()),
    "automatic-speech-recognition": ("automatic_speech_recognition", ()),
    "audio-to-audio": ("audio_to_audio", ()),
    "audio-classification": ("audio_classification", ()),
    "image-classification": ("image_classification", ()),
    "object-detection": ("object_detection", ()),
    "image-segmentation": ("image_segmentation", ()),
    "text-to-image": ("text_to_image", ()),
    "image-to-image": ("image_to_image", ()),
    "tabular-classification": ("tabular_classification", ("table",)),
    "tabular-regression": ("tabular_regression", ("table",)),
}


def pipeline_tag(config: ClientConfig, model_id: str) -> Flow[str | None]:
    """Flow of a model's Hub ``pipeline_tag`` (one request, then cached in the client)."""
    known = config.state.pipeline_tags
    if model_id in known:
        return known[model_id]
    response = yield from send_request(_hub_request(
        config, f"/api/models/{quote(model_id)}?expand%5B%5D=pipeline_tag"), config.runtime)
    info = load_json_body(response.body, "model info")
    tag = info.get("pipeline_tag") if isinstance(info, dict) else None
    known[model_id] = tag if isinstance(tag, str) else None
    return known[model_id]


def inference_api_task(repo_id: str, task: Any, tag: str | None) -> str:
    """The task an old ``InferenceApi`` runs: an explicit known `task`, else the pipeline tag."""
    if task is not None and not isinstance(task, str):
        raise UsageTypeError("InferenceApi(): task must be a string", argument="task")
    if task and task != tag:
        if task not in ALL_TASKS:
            raise UsageError(f"InferenceApi(): unknown task {task!r} (known: "
                             f"{', '.join(ALL_TASKS)})", argument="task")
        return task
    if tag is None:
        raise UsageError(f"InferenceApi(): the Hub gives {repo_id!r} no pipeline tag: pass "
                         "task=", argument="task")
    return tag


def inference_api_call(task: str, inputs: Any, params: Any,
                       data: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """``(method, args, kwargs)`` of the modern client method an old ``InferenceApi`` call
    with `task` runs; `params` become keyword arguments, `data` (bytes) the input."""
    found = _DISPATCH.get(task)
    if found is None:
        raise UsageError(f"InferenceApi(): task {task!r} has no modern equivalent today",
                         argument="task")
    method, keys = found
    if params is not None and not isinstance(params, Mapping):
        raise UsageTypeError("InferenceApi(): params must be a dict", argument="params")
    kwargs = dict(params or {})
    if data is not None:
        if inputs is not None:
            raise UsageError("InferenceApi(): pass inputs or data, not both", argument="data")
        inputs = data
    if not keys:
        return method, (inputs,), kwargs
    if not isinstance(inputs, Mapping):
        raise UsageTypeError(f"InferenceApi(): {task} takes inputs as a dict with "
                             f"{', '.join(keys)}", argument="inputs")
    missing = [key for key in keys[:2] if key not in inputs and key != "generated_responses"]
    if missing:
        raise UsageError(f"InferenceApi(): {task} inputs lack {', '.join(missing)}",
                         argument="inputs")
    return method, tuple(inputs.get(key) for key in keys), kwargs


def old_json(task: str, result: Any) -> Any:
    """A modern result as the old ``InferenceApi`` returned it: plain dicts and lists (the
    text tasks wrapped in a list, as the API answered)."""
    if task in ("text-generation", "text2text-generation"):
        return [{"generated_text": result}]
    if task in ("summarization", "translation"):
        return [_plain(result)]
    return _plain(result)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # FloatArray (feature extraction)
        return tolist()
    return value


def capturing(flow: Flow[Any]) -> Flow[Response]:
    """Run `flow` and answer with the last response a `Send` got instead of its result: the
    old ``InferenceApi``'s ``raw_response=True``. An error status is returned, not raised,
    as the old class did; any other failure propagates."""
    last: Response | None = None
    try:
        effect = next(flow)
        while True:
            try:
                answer = yield effect
            except BaseException as exc:  # noqa: BLE001 - a transport failure: the flow decides
                effect = flow.throw(exc)
                continue
            if isinstance(effect, Send) and isinstance(answer, Response):
                last = answer
            effect = flow.send(answer)
    except StopIteration:
        pass
    except (HTTPStatusError, MalformedResponseError):
        if last is None:
            raise
    if last is None:
        raise UsageError("raw_response=True: the call sent no request", argument="raw_response")
    return last

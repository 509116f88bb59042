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
from ._effects import Flow
from ._errors import MalformedResponseError, UsageError, UsageTypeError
from ._exchange import send_request
from ._http import Request
from ._legacy_types import ConversationalOutput, ModelStatus
from ._models import load_json_body
from ._tasks import chat_completion

__all__ = [
    "MODERN",
    "chat_parameters",
    "conversation_messages",
    "conversational",
    "deployed_models",
    "get_model_status",
    "list_deployed_models",
    "model_status",
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

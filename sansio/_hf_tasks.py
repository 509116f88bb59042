"""The hf-inference tasks as data: one description per task, one flow for all of them.

Most tasks of the Hugging Face inference API are the same exchange: a JSON body
``{"inputs": ..., "parameters": {...}}`` (or the raw bytes of an image or a clip when there
are no parameters), then a JSON answer read into typed results, or the bytes of an image, a
clip or a video. A `TaskSpec` says, for one task, what its inputs are, which parameters it
takes (and their types), what ``Accept`` it sends and how its answer is read; `task_flow`
runs any of them. Chat, text generation and feature extraction keep flows of their own
(`._tasks`): their protocols differ.

Inputs come in checked: text is a ``str``; binary content is a `Blob` (bytes and a MIME type)
or an ``http(s)://`` URL, which the flow fetches with a `Send` (without the client's
credentials) when the request needs the bytes. Turning a path, a file object or a PIL image
into a `Blob` happens outside the core (`inferwire._media`).

Where ``huggingface_hub`` sends a shape the API does not document, the documented one is sent
(see docs/tasks): visual and document question answering send ``inputs={"image",
"question"}``, the tabular tasks ``inputs={"data": table}``, and table question answering
does not put the model id inside ``parameters``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._args import NUMBER, check_arg, encode_json, filter_none
from ._config import ClientConfig, Lookup
from ._content import MAX_INPUT_SIZE, Blob, is_http_url
from ._effects import Flow
from ._errors import UsageError, UsageTypeError
from ._exchange import send_request
from ._hf_outputs import (
    OutputReader,
    audio_elements,
    binary,
    elements,
    first_element,
    floats,
    one_or_many,
    single,
    values,
    zero_shot_elements,
)
from ._http import Headers, Request

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = ["TASKS", "Content", "TaskSpec", "fetch_blob", "task_flow"]

Content = Blob | str
"""Binary content in the core: a `Blob`, or an ``http(s)://`` URL to fetch."""

_STR = (str,)
_INT = (int,)
_BOOL = (bool,)
_LIST = (list,)
_DICT = (dict,)


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One hf-inference task: how its request is built and its answer read.

    `inputs` names the shape of ``inputs``: ``"text"`` (a string), ``"binary"`` (content,
    sent raw when there are no parameters, else base64 in JSON), or ``"fields"`` (an object
    of named parts; binary parts are sent as base64). `params` gives each parameter's accepted
    types; they travel in ``parameters``. `reader` turns the response into the result.
    """

    method: str
    task: str
    inputs: str
    params: Mapping[str, tuple[type, ...]]
    reader: OutputReader
    accept: str | None = None
    hf_inference: bool = True
    #: The user's argument that is the input ("text", "image"...), for messages.
    argument: str = "inputs"
    #: For "fields" inputs: JSON key -> (the user's argument, its kind: "text", "texts",
    #: "table" or "content").
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Checks across parameters (e.g. translation's languages go in pairs).
    check: Callable[[str, Mapping[str, Any]], None] | None = None


def _spec(method: str, inputs: str, reader: OutputReader, params: Mapping[str, tuple[type, ...]]
          | None = None, **options: Any) -> TaskSpec:
    if "argument" not in options:
        options["argument"] = {"binary": "image", "text": "text"}.get(inputs, "inputs")
    return TaskSpec(method, method.replace("_", "-"), inputs, params or {}, reader, **options)


def _languages_in_pairs(method: str, params: Mapping[str, Any]) -> None:
    if (params.get("src_lang") is None) != (params.get("tgt_lang") is None):
        raise UsageError(f"{method}(): src_lang and tgt_lang go together: set both or neither",
                         argument="src_lang" if params.get("src_lang") is None else "tgt_lang")


def _labels(minimum: int) -> Callable[[str, Mapping[str, Any]], None]:
    def check(method: str, params: Mapping[str, Any]) -> None:
        texts_arg(method, "candidate_labels", params.get("candidate_labels"), minimum)

    return check


_GENERATE = {"generate_parameters": _DICT, "clean_up_tokenization_spaces": _BOOL,
             "truncation": _STR}
_QA = {"doc_stride": _INT, "handle_impossible_answer": _BOOL, "max_answer_len": _INT,
       "max_question_len": _INT, "max_seq_len": _INT, "top_k": _INT}
_TTS = {name: NUMBER if name.endswith(("_cutoff", "alpha", "temperature", "_p"))
        else _BOOL if name in ("do_sample", "use_cache") else (bool, str) if name ==
        "early_stopping" else _INT
        for name in ("do_sample", "early_stopping", "epsilon_cutoff", "eta_cutoff",
                     "max_length", "max_new_tokens", "min_length", "min_new_tokens",
                     "num_beam_groups", "num_beams", "penalty_alpha", "temperature", "top_k",
                     "top_p", "typical_p", "use_cache")}
_IMAGE_GEN = {"negative_prompt": _STR, "num_inference_steps": _INT, "guidance_scale": NUMBER,
              "target_size": _DICT}

TASKS: Mapping[str, TaskSpec] = {spec.method: spec for spec in (
    _spec("audio_classification", "binary",
          elements("audio_classification", "AudioClassificationOutputElement"),
          {"top_k": _INT, "function_to_apply": _STR}, argument="audio"),
    _spec("audio_to_audio", "binary", audio_elements(), argument="audio"),
    _spec("automatic_speech_recognition", "binary",
          single("automatic_speech_recognition", "AutomaticSpeechRecognitionOutput"),
          argument="audio"),
    _spec("document_question_answering", "fields",
          elements("document_question_answering", "DocumentQuestionAnsweringOutputElement"),
          {**_QA, "lang": _STR, "word_boxes": _LIST},
          fields={"image": ("image", "content"), "question": ("question", "text")}),
    _spec("fill_mask", "text", elements("fill_mask", "FillMaskOutputElement"),
          {"targets": _LIST, "top_k": _INT}),
    _spec("image_classification", "binary",
          elements("image_classification", "ImageClassificationOutputElement"),
          {"function_to_apply": _STR, "top_k": _INT}),
    _spec("image_segmentation", "binary",
          elements("image_segmentation", "ImageSegmentationOutputElement"),
          {"mask_threshold": NUMBER, "overlap_mask_area_threshold": NUMBER, "subtask": _STR,
           "threshold": NUMBER}),
    _spec("image_to_image", "binary", binary(), {"prompt": _STR, **_IMAGE_GEN},
          accept="image/png"),
    _spec("image_to_text", "binary", first_element("image_to_text", "ImageToTextOutput")),
    _spec("image_to_video", "binary", binary(),
          {"prompt": _STR, **_IMAGE_GEN, "num_frames": NUMBER, "seed": _INT},
          hf_inference=False),
    _spec("object_detection", "binary",
          elements("object_detection", "ObjectDetectionOutputElement"),
          {"threshold": NUMBER}),
    _spec("question_answering", "fields",
          one_or_many("question_answering", "QuestionAnsweringOutputElement"),
          {**_QA, "align_to_words": _BOOL},
          fields={"question": ("question", "text"), "context": ("context", "text")}),
    _spec("sentence_similarity", "fields", floats(),
          fields={"source_sentence": ("sentence", "text"),
                  "sentences": ("other_sentences", "texts")}),
    _spec("summarization", "text", first_element("summarization", "SummarizationOutput"),
          _GENERATE),
    _spec("table_question_answering", "fields",
          single("table_question_answering", "TableQuestionAnsweringOutputElement"),
          {"padding": _STR, "sequential": _BOOL, "truncation": _BOOL},
          fields={"query": ("query", "text"), "table": ("table", "table")}),
    _spec("tabular_classification", "fields", values(), fields={"data": ("table", "table")}),
    _spec("tabular_regression", "fields", floats(), fields={"data": ("table", "table")}),
    _spec("text_classification", "text",
          elements("text_classification", "TextClassificationOutputElement", nested=True),
          {"top_k": _INT, "function_to_apply": _STR}),
    _spec("text_to_image", "text", binary(),
          {"negative_prompt": _STR, "height": _INT, "width": _INT,
           "num_inference_steps": _INT, "guidance_scale": NUMBER, "scheduler": _STR,
           "seed": _INT}, accept="image/png", argument="prompt"),
    _spec("text_to_speech", "text", binary(), _TTS),
    _spec("text_to_video", "text", binary(),
          {"guidance_scale": NUMBER, "negative_prompt": _LIST, "num_frames": NUMBER,
           "num_inference_steps": _INT, "seed": _INT}, hf_inference=False, argument="prompt"),
    _spec("token_classification", "text",
          elements("token_classification", "TokenClassificationOutputElement"),
          {"aggregation_strategy": _STR, "ignore_labels": _LIST, "stride": _INT}),
    _spec("translation", "text", first_element("translation", "TranslationOutput"),
          {"src_lang": _STR, "tgt_lang": _STR, **_GENERATE}, check=_languages_in_pairs),
    _spec("visual_question_answering", "fields",
          elements("visual_question_answering", "VisualQuestionAnsweringOutputElement"),
          {"top_k": _INT},
          fields={"image": ("image", "content"), "question": ("question", "text")}),
    _spec("zero_shot_classification", "text", zero_shot_elements(),
          {"candidate_labels": _LIST, "multi_label": _BOOL, "hypothesis_template": _STR},
          check=_labels(1)),
    _spec("zero_shot_image_classification", "binary",
          elements("zero_shot_image_classification",
                   "ZeroShotImageClassificationOutputElement"),
          {"candidate_labels": _LIST, "hypothesis_template": _STR}, check=_labels(2)),
)}


# -- argument checks shared by the methods --------------------------------------------------


def text_arg(method: str, name: str, value: Any) -> str:
    """`value` if it is a non-empty string, else `UsageError` naming `name`."""
    if not isinstance(value, str):
        raise UsageTypeError(f"{method}(): {name} must be a str, got {type(value).__name__}",
                             argument=name)
    return value


def texts_arg(method: str, name: str, value: Any, minimum: int = 1) -> list[str]:
    """`value` as a list of at least `minimum` strings, else `UsageError` naming `name`."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) for v in value
    ):
        raise UsageTypeError(f"{method}(): {name} must be a list of str, got "
                             f"{type(value).__name__}", argument=name)
    if len(value) < minimum:
        raise UsageError(f"{method}(): {name} needs at least {minimum} item(s)", argument=name)
    return list(value)


def table_arg(method: str, name: str, value: Any) -> dict[str, Any]:
    """`value` if it is a table (a dict of columns, each a list), else `UsageError`."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) for k, v in value.items()
    ):
        raise UsageTypeError(f"{method}(): {name} must be a dict of column name -> list of "
                             f"values, got {type(value).__name__}", argument=name)
    return value


def content_arg(method: str, name: str, value: Any) -> Content:
    """`value` if it is core content (a `Blob` or an http(s) URL), else `UsageError`."""
    if isinstance(value, Blob):
        if len(value.data) > MAX_INPUT_SIZE:
            raise UsageError(f"{method}(): {name} is {len(value.data)} bytes, more than the "
                             f"{MAX_INPUT_SIZE}-byte input limit", argument=name)
        return value
    if isinstance(value, str) and is_http_url(value):
        return value
    raise UsageTypeError(f"{method}(): {name} must be content (bytes or a URL), got "
                         f"{type(value).__name__}", argument=name)


# -- the flow ------------------------------------------------------------------------------


def task_flow(
    config: ClientConfig,
    method: str,
    inputs: Any,
    *,
    model: str | None,
    params: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Flow[Any]:
    """The flow of hf-inference task `method` (a key of `TASKS`).

    `inputs` is the task's ``inputs`` (text, content, or a dict of parts for "fields"
    tasks), already checked by the caller for its kind; `params` the parameters the user set
    (None values dropped), type-checked here; `extra` more parameters passed as they are
    (``extra_body``, ``**kwargs``), merged into ``parameters``. Raises `UsageError` now for
    a bad argument; the flow performs the call.
    """
    spec = TASKS[method]
    inputs = _checked_inputs(spec, inputs)
    for name, value in params.items():
        check_arg(method, name, value, spec.params[name])
    if spec.check is not None:
        spec.check(method, params)
    if extra is not None and not isinstance(extra, Mapping):
        raise UsageTypeError(f"{method}(): extra_body must be a dict, got "
                             f"{type(extra).__name__}", argument="extra_body")
    parameters = filter_none({**params, **(extra or {})})
    target = config.task_target(model, spec.task, hf_inference=spec.hf_inference)
    if isinstance(target, Lookup):
        return _provider_flow(config, spec, target, inputs, parameters, model=model)
    return _run(config, spec, target.url, inputs, parameters)


def _provider_flow(config: ClientConfig, spec: TaskSpec, lookup: Lookup, inputs: Any,
                   parameters: dict[str, Any], *, model: str | None) -> Flow[Any]:
    """A task at a provider: ``auto`` first chooses one from the Hub's mapping."""
    from ._providers._call import ProviderCall
    from ._routing import auto_provider, resolve

    if lookup.provider == "auto":
        name = yield from auto_provider(config, lookup.model_id, lookup.task,
                                        hf_inference=spec.hf_inference)
        config = config.with_provider(name)
        target = config.task_target(model, spec.task, hf_inference=spec.hf_inference)
        if not isinstance(target, Lookup):
            return (yield from _run(config, spec, target.url, inputs, parameters))
        lookup = target
    where = yield from resolve(config, lookup)
    flow = where.route.flow
    assert flow is not None  # (every provider route of an hf task has its flow)
    call = ProviderCall(config, where.provider, lookup.task, where.url, where.root,
                        where.via_router, where.provider_id, where.entry, inputs, parameters)
    return (yield from flow(call))


_KINDS: Mapping[str, Callable[[str, str, Any], Any]] = {
    "text": text_arg, "texts": texts_arg, "table": table_arg, "content": content_arg,
}


def _checked_inputs(spec: TaskSpec, inputs: Any) -> Any:
    if spec.inputs == "text":
        return text_arg(spec.method, spec.argument, inputs)
    if spec.inputs == "binary":
        return content_arg(spec.method, spec.argument, inputs)
    if not isinstance(inputs, dict):  # pragma: no cover - the client methods build the dict
        raise UsageTypeError(f"{spec.method}(): inputs must be a dict")
    return {key: _KINDS[kind](spec.method, argument, inputs.get(key))
            for key, (argument, kind) in spec.fields.items()}


def _run(config: ClientConfig, spec: TaskSpec, url: str, inputs: Any,
         parameters: dict[str, Any]) -> Flow[Any]:
    inputs = yield from _fetched(config, inputs)
    if spec.inputs == "binary" and not parameters:
        assert isinstance(inputs, Blob)
        blob = inputs.with_mime(None)
        headers = config.request_headers(url, json_body=False)
        if blob.mime is not None:
            headers = (*headers, ("content-type", blob.mime))
        request = Request("POST", url, _accept(headers, spec.accept), blob.data)
    else:
        payload = {"inputs": _encoded(inputs), "parameters": parameters}
        body = encode_json(payload, spec.method)
        headers = _accept(config.request_headers(url, json_body=True), spec.accept)
        request = Request("POST", url, headers, body)
    response = yield from send_request(request, config.runtime)
    return spec.reader(response)


def _accept(headers: Headers, accept: str | None) -> Headers:
    if accept is None or any(name.lower() == "accept" for name, _ in headers):
        return headers
    return (*headers, ("accept", accept))


def _fetched(config: ClientConfig, inputs: Any) -> Flow[Any]:
    """`inputs` with its URL content (the input itself, or the ``image`` part of a "fields"
    task) fetched into a `Blob`."""
    if isinstance(inputs, str) and is_http_url(inputs):
        return (yield from fetch_blob(config, inputs))
    if isinstance(inputs, dict) and isinstance(inputs.get("image"), str) and is_http_url(
        inputs["image"]
    ):
        return {**inputs, "image": (yield from fetch_blob(config, inputs["image"]))}
    return inputs


def fetch_blob(config: ClientConfig, url: str, *, limit: int = MAX_INPUT_SIZE) -> Flow[Blob]:
    """The content at `url` as a `Blob` (its type and file name from the answer and the URL),
    fetched with neither the client's key nor its headers: they are for the inference
    server, not for this host."""
    request = Request("GET", url, (("user-agent", config.user_agent),), None)
    response = yield from send_request(request, config.runtime, limit=limit)
    mime = response.header("content-type")
    name = url.rsplit("/", 1)[-1].split("?", 1)[0] or None
    return Blob(response.body, mime.split(";", 1)[0].strip() if mime else None, name)


def _encoded(inputs: Any) -> Any:
    """`inputs` as JSON: content becomes base64 text."""
    if isinstance(inputs, Blob):
        return base64.b64encode(inputs.data).decode("ascii")
    if isinstance(inputs, dict):
        return {k: _encoded(v) for k, v in inputs.items()}
    return inputs

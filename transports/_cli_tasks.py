"""The task commands of the ``inferwire`` command line: the hf-inference tasks a terminal
user reaches for (``text-to-image``, ``text-to-speech``, ``transcribe``, ``classify``) and
``run``, which calls any task method with ``key=value`` arguments.

Everything a command can check is checked by `check` before a client is made or anything
is sent (arguments, input files, where the output goes, Pillow for images), so a mistake
costs no inference; the commands then run on the client `inferwire._cli` builds.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import inspect
import io
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from .sansio._errors import InferenceError, UsageError

__all__ = ["COMMANDS", "FLAGS", "add_commands", "check"]

PILLOW_HINT = "install Pillow: `pip install 'inferwire[images]'`"

TaskCommand = Callable[[argparse.Namespace, Any, "str | None", TextIO], None]


# -- the task methods, as `run` sees them ----------------------------------------------------


def _methods() -> dict[str, inspect.Signature]:
    from ._sync_hf_tasks import SyncHFTaskMethods

    return {name: inspect.signature(member) for name, member in
            sorted(vars(SyncHFTaskMethods).items())
            if not name.startswith("_") and callable(member)}


def _parameters(signature: inspect.Signature) -> dict[str, inspect.Parameter]:
    """The parameters `run` takes as ``key=value`` (not ``self``, ``model``, ``**kwargs``)."""
    return {name: p for name, p in signature.parameters.items()
            if name not in ("self", "model")
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def _is_binary(parameter: inspect.Parameter) -> bool:
    return str(parameter.annotation) == "ContentInput"


def _is_text(parameter: inspect.Parameter) -> bool:
    return str(parameter.annotation) in ("str", "str | None")


def _summary(method: str) -> str:
    from ._sync_hf_tasks import SyncHFTaskMethods

    doc = inspect.getdoc(getattr(SyncHFTaskMethods, method)) or ""
    text = " ".join(doc.split("\n\n")[0].split()).replace("`", "")
    sentence = text.split(". ")[0].rstrip(".")
    head = sentence.split(": ")[0]
    return head if head.count("(") == head.count(")") else sentence


def _task_list() -> str:
    lines = []
    for method, signature in _methods().items():
        required = " ".join(f"{name}=" for name, p in _parameters(signature).items()
                            if p.default is p.empty)
        lines.append(f"  {method.replace('_', '-'):<31} {required:<22} {_summary(method)}")
    return "\n".join(lines)


def _parameter_list(method: str, signature: inspect.Signature) -> str:
    lines = [f"{method.replace('_', '-')} ({method}): {_summary(method)}", "parameters:"]
    for name, p in _parameters(signature).items():
        kind = "required" if p.default is p.empty else f"default {p.default!r}"
        note = ", @FILE: its bytes" if _is_binary(p) else ""
        lines.append(f"  {name}=  {p.annotation} ({kind}{note})")
    lines.append(f"returns: {signature.return_annotation}")
    return "\n".join(lines)


def _method_of(task: str) -> tuple[str, inspect.Signature]:
    methods = _methods()
    method = task.replace("-", "_")
    if method not in methods:
        close = difflib.get_close_matches(method, methods, n=1)
        hint = f" (did you mean {close[0].replace('_', '-')}?)" if close else ""
        raise UsageError(f"run: unknown task {task!r}{hint}; `inferwire run --list` lists them",
                         argument="task")
    return method, methods[method]


# -- values: key=value, JSON when it parses, @FILE ---------------------------------------------


def _read(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what}: no such file {path!r}", argument="file") from None
    except IsADirectoryError:
        raise UsageError(f"{what}: {path!r} is a directory, not a file",
                         argument="file") from None
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {path!r}: {exc.strerror}",
                         argument="file") from None


def _value(key: str, raw: str, parameter: inspect.Parameter) -> Any:
    """``@FILE``: the file (bytes for a binary input, else its text); ``@@x``: ``@x``; a text
    parameter (``text=``, ``question=``) or a binary one (a path, a URL) verbatim; any other
    value as JSON when it parses (numbers, true/false, null, lists, objects), else a string."""
    if raw.startswith("@@"):
        raw = raw[1:]
    elif raw.startswith("@"):
        data = _read(raw[1:], f"{key}={raw}")
        if _is_binary(parameter):
            return data
        try:
            raw = data.decode()
        except UnicodeDecodeError:
            raise UsageError(f"{key}={raw}: the file is not UTF-8 text ({key} takes text)",
                             argument=key) from None
    if _is_binary(parameter) or _is_text(parameter):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _call_arguments(method: str, signature: inspect.Signature,
                    pairs: list[str]) -> dict[str, Any]:
    parameters = _parameters(signature)
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if not equals or not key:
            raise UsageError(f"run {method}: expected key=value, got {pair!r}", argument="args")
        if key == "model":
            raise UsageError(f"run {method}: pass the model with --model, not model=",
                             argument="model")
        if key not in parameters:
            raise UsageError(f"run {method}: unknown parameter {key!r}; it takes "
                             f"{', '.join(parameters)}", argument=key)
        if key in arguments:
            raise UsageError(f"run {method}: {key}= is given twice", argument=key)
        arguments[key] = _value(key, raw, parameters[key])
    missing = [name for name, p in parameters.items()
               if p.default is p.empty and name not in arguments]
    if missing:
        raise UsageError(f"run {method}: missing {' '.join(f'{m}=...' for m in missing)}",
                         argument=missing[0])
    return arguments


# -- outputs: files, stdout, JSON ----------------------------------------------------------------


def _writable(path: str, out: TextIO, what: str) -> None:
    """Refuse an output that cannot be written, before the (paid) call is made."""
    if path == "-":
        if out.isatty():
            raise UsageError(f"refusing to write {what} to a terminal: pass -o FILE, or "
                             "redirect stdout", argument="output")
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"-o {path}: is a directory; name a file", argument="output")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"-o {path}: no such directory {str(parent)!r}", argument="output")


def _need_pillow(what: str) -> None:
    try:
        import PIL.Image  # noqa: F401 - only whether it is there
    except ImportError:
        raise UsageError(f"{what} needs Pillow: {PILLOW_HINT}", argument="output") from None


def _image_format(path: str) -> str:
    """The Pillow format `path`'s extension names (PNG for ``-``)."""
    _need_pillow("writing an image")
    from PIL import Image

    if path == "-":
        return "PNG"
    extension = os.path.splitext(path)[1].lower()
    image_format = Image.registered_extensions().get(extension)
    if image_format is None or image_format not in Image.SAVE:
        raise UsageError(f"-o {path}: {extension or 'no extension'} is not an image format "
                         "Pillow writes; use .png, .jpg, .webp...", argument="output")
    return image_format


def _write_bytes(path: str, data: bytes, out: TextIO) -> None:
    if path == "-":
        out.flush()
        out.buffer.write(data)
        out.buffer.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InferenceError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_image(path: str, image: Any, out: TextIO) -> None:
    image_format = _image_format(path)
    if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    try:
        image.save(buffer, image_format)
    except (OSError, ValueError) as exc:
        raise InferenceError(f"cannot write the image as {image_format}: {exc}") from None
    _write_bytes(path, buffer.getvalue(), out)


def _jsonable(value: Any) -> Any:
    """Bytes inside a result as base64, images as PNG ``data:`` URLs (segmentation masks)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "save") and hasattr(value, "mode"):  # a PIL image
        buffer = io.BytesIO()
        value.save(buffer, "PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def _dumps(result: Any) -> str:
    return json.dumps(result, ensure_ascii=False, default=_jsonable)


def _wrote(args: argparse.Namespace, out: TextIO, info: Mapping[str, Any]) -> None:
    """After writing ``-o FILE``: print the path (``--json``: an object with it)."""
    if args.output == "-":
        return
    out.write((_dumps({"path": args.output, **info}) if args.json else args.output) + "\n")


# -- the commands ----------------------------------------------------------------------------


def _positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and value <= 0:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} must be positive, got {value}", argument=name)


def _not_empty(text: str, what: str) -> None:
    if not text.strip():
        raise UsageError(f"the {what} is empty", argument=what)


def check(args: argparse.Namespace) -> None:
    """Check a task command's arguments before anything starts (raises `UsageError`)."""
    out = sys.stdout
    if args.command == "text-to-image":
        _not_empty(args.prompt, "prompt")
        _positive(args, "width", "height", "steps")
        _writable(args.output, out, "an image")
        _image_format(args.output)
    elif args.command == "text-to-speech":
        _not_empty(args.text, "text")
        _writable(args.output, out, "audio")
    elif args.command == "transcribe":
        if args.file == "-":
            args.audio = _read("-", "transcribe -")
        elif "://" in args.file or args.file.startswith("data:"):
            args.audio = args.file
        else:
            if not Path(args.file).is_file():
                what = "is not a file" if Path(args.file).exists() else "no such file"
                raise UsageError(f"transcribe: {what} {args.file!r}", argument="file")
            args.audio = args.file
    elif args.command == "classify":
        _not_empty(args.text, "text")
        _positive(args, "top_k")
    elif args.command == "run":
        method, signature = _method_of(args.task)
        args.method = method
        args.arguments = _call_arguments(method, signature, args.pairs)
        returns = str(signature.return_annotation)
        args.returns = returns
        if returns in ("Image", "bytes") and args.output is None:
            kind = "an image" if returns == "Image" else "bytes (audio, video)"
            raise UsageError(f"run {method}: it returns {kind}: pass -o FILE (or -o - for "
                             "stdout)", argument="output")
        if method == "image_segmentation":  # its masks come back as PIL images
            _need_pillow(f"run {method}")
        if args.output is not None:
            _writable(args.output, out, "the result")
            if returns == "Image":
                _image_format(args.output)


def _text_to_image(args: argparse.Namespace, client: Any, model: str | None,
                   out: TextIO) -> None:
    image = client.text_to_image(
        args.prompt, model=model, width=args.width, height=args.height,
        negative_prompt=args.negative_prompt, num_inference_steps=args.steps,
        guidance_scale=args.guidance_scale, seed=args.seed)
    _write_image(args.output, image, out)
    _wrote(args, out, {"width": image.width, "height": image.height,
                       "format": _image_format(args.output)})


def _text_to_speech(args: argparse.Namespace, client: Any, model: str | None,
                    out: TextIO) -> None:
    audio = client.text_to_speech(args.text, model=model)
    _write_bytes(args.output, audio, out)
    _wrote(args, out, {"bytes": len(audio)})


def _transcribe(args: argparse.Namespace, client: Any, model: str | None,
                out: TextIO) -> None:
    result = client.automatic_speech_recognition(args.audio, model=model)
    out.write((_dumps(result) if args.json else result.text) + "\n")


def _classify(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    labels = client.text_classification(args.text, model=model, top_k=args.top_k,
                                        function_to_apply=args.function_to_apply)
    if args.json:
        out.write(_dumps(labels) + "\n")
        return
    for element in labels:
        out.write(f"{element.label}\t{element.score:.4f}\n")


def _run_task(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    result = getattr(client, args.method)(**args.arguments, model=model)
    if args.returns == "Image":
        _write_image(args.output, result, out)
        _wrote(args, out, {"width": result.width, "height": result.height})
    elif isinstance(result, (bytes, bytearray)):
        _write_bytes(args.output, bytes(result), out)
        _wrote(args, out, {"bytes": len(result)})
    elif args.output is not None:
        _write_bytes(args.output, (_dumps(result) + "\n").encode(), out)
        _wrote(args, out, {})
    else:
        out.write(_dumps(result) + "\n")


COMMANDS: dict[str, TaskCommand] = {
    "text-to-image": _text_to_image, "text-to-speech": _text_to_speech,
    "transcribe": _transcribe, "classify": _classify, "run": _run_task,
}

# The library's keyword arguments, and the flag of each task command that sets it.
FLAGS: dict[str, dict[str, str]] = {
    "text-to-image": {"negative_prompt": "--negative-prompt", "num_inference_steps": "--steps",
                      "guidance_scale": "--guidance-scale"},
    "classify": {"top_k": "--top-k", "function_to_apply": "--function-to-apply"},
}


def listing(args: argparse.Namespace, out: TextIO) -> bool:
    """``run --list``, ``run`` alone, ``run TASK --list``: print, and say so."""
    if args.command != "run" or (args.task is not None and not args.list):
        return False
    if args.task is None:
        out.write("tasks (inferwire run TASK key=value...; TASK --list: its parameters):\n"
                  + _task_list() + "\n")
    else:
        method, signature = _method_of(args.task)
        out.write(_parameter_list(method, signature) + "\n")
    return True


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the task commands to the `inferwire` parser's subcommands."""
    image = commands.add_parser(
        "text-to-image", parents=[common], help="draw an image from a prompt (-o FILE)",
        description="Generate an image from a text prompt and write it to -o FILE, in the "
                    "format of the file's extension (needs Pillow). Prints the path written.")
    image.add_argument("prompt", help="what to draw")
    image.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="the image file (.png, .jpg, .webp...); -: PNG on stdout")
    image.add_argument("--width", type=int, metavar="PIXELS")
    image.add_argument("--height", type=int, metavar="PIXELS")
    image.add_argument("--negative-prompt", help="what not to draw")
    image.add_argument("--steps", type=int, metavar="N",
                       help="number of inference (denoising) steps")
    image.add_argument("--guidance-scale", type=float,
                       help="how closely to follow the prompt (higher: closer)")
    image.add_argument("--seed", type=int, metavar="N",
                       help="random seed, for a reproducible image")

    speech = commands.add_parser(
        "text-to-speech", parents=[common], help="speak a text (-o FILE)",
        description="Synthesize speech and write the audio bytes as the server sent them "
                    "(WAV, FLAC... as the model makes them) to -o FILE. Prints the path.")
    speech.add_argument("text", help="what to say")
    speech.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the audio file; -: the bytes on stdout")

    transcribe = commands.add_parser(
        "transcribe", parents=[common], help="transcribe speech (automatic speech recognition)",
        description="Print the text spoken in an audio file (--json: the whole result).")
    transcribe.add_argument("file", help="an audio file, an http(s):// URL, or - for stdin")

    classify = commands.add_parser(
        "classify", parents=[common], help="classify a text (labels and scores)",
        description="Classify a text (sentiment, topic...): prints label<TAB>score lines, "
                    "best first (--json: the list).")
    classify.add_argument("text", help="the text to classify")
    classify.add_argument("--top-k", type=int, metavar="N", help="only the N best labels")
    classify.add_argument("--function-to-apply", choices=["sigmoid", "softmax", "none"],
                          help="how the model's scores are normalized")

    run = commands.add_parser(
        "run", parents=[common], help="run any task: inferwire run TASK key=value...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Call any task method with key=value arguments and print the result as "
                    "JSON.\n\nTASK is a task id or a method name (text-classification or "
                    "text_classification). A value is\ntaken as JSON when it parses (numbers, "
                    "true/false, lists, objects), else as a string; text\nparameters (text=, "
                    "question=...) and binary inputs (a path or URL) are taken verbatim.\n"
                    "@FILE reads a file (bytes for binary inputs such as image= and audio=, "
                    "else its text);\n@- reads stdin; @@ starts a value with a literal @. "
                    "Results that are images or bytes\nneed -o FILE.",
        epilog="examples:\n"
               "  inferwire run text-classification text='I like you' top_k=1 --model ORG/M\n"
               "  inferwire run image_classification image=@cat.png --base-url URL\n"
               "  inferwire run zero-shot-classification text='A new phone' "
               "candidate_labels='[\"tech\", \"food\"]'\n\n"
               "tasks:\n" + _task_list())
    run.add_argument("task", nargs="?", help="task id or method name; none: list the tasks")
    run.add_argument("pairs", nargs="*", metavar="key=value", help="the method's arguments")
    run.add_argument("-o", "--output", metavar="FILE",
                     help="write the result there (images in the extension's format, bytes "
                          "as received, else JSON); -: stdout")
    run.add_argument("--list", action="store_true",
                     help="list the tasks (with TASK: its parameters)")

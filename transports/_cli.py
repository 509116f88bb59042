"""The ``inferwire`` command line, on the sync client.

    inferwire chat --local "What is the capital of France?"
    inferwire serve --local                       # SmolLM2 on http://127.0.0.1:8080/v1
    inferwire chat --base-url http://127.0.0.1:8080/v1          # interactive
    inferwire text-to-image --model ORG/MODEL "a lighthouse at dawn" -o lighthouse.png
    inferwire run text-classification --model ORG/MODEL text="I like you"

The task commands (``text-to-image``, ``text-to-speech``, ``transcribe``, ``classify``,
``run``) live in `inferwire._cli_tasks`; they share the client building and the errors here.

Failures print one line naming what was wrong in the CLI's own terms (flags, not Python
keywords) and exit 1 (2 for a usage error, 130 on Ctrl-C, 141 when the reader of the output
went away, e.g. ``| head``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TextIO

from . import _cli_batch, _cli_tasks
from .sansio._errors import (
    AuthenticationError,
    ConnectError,
    HTTPStatusError,
    InferenceError,
    InferenceTimeoutError,
    NotFoundError,
    UsageError,
)
from .sansio._version import __version__

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer cut off by `head`

SERVE_PORT = 8080
"""``inferwire serve --local`` listens here by default: the port the quickstart uses."""

_LOCAL_MODEL = "SmolLM2-135M-Instruct"


def _common(*, local: bool, json_help: str, base_url_help: str) -> argparse.ArgumentParser:
    """The options every command that talks to a server takes (`_client` reads them)."""
    common = argparse.ArgumentParser(add_help=False)
    target = common.add_argument_group("target")
    target.add_argument("--model", help="Hub model id or URL (for a server: the model name)")
    target.add_argument("--base-url", help=base_url_help)
    target.add_argument("--provider", help="inference provider (auto, hf-inference)")
    target.add_argument("--token", help="API token (default: $HF_TOKEN)")
    if local:
        target.add_argument(
            "--local", action="store_true",
            help=f"start a local llama.cpp server with {_LOCAL_MODEL} for this command")
    else:  # the local model chats and embeds; it has none of the other tasks
        common.set_defaults(local=False)
    target.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    common.add_argument("--json", action="store_true", help=json_help)
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common(local=True, json_help="print JSON (one object per chunk)",
                     base_url_help="URL of a server, e.g. http://127.0.0.1:8080/v1")
    parser = argparse.ArgumentParser(
        prog="inferwire", description="Talk to an inference server from the terminal: chat, "
        "generate, embed, and the Hugging Face tasks (text-to-image, text-to-speech, "
        "transcribe, classify; run: any task).")
    parser.add_argument("--version", action="version", version=f"inferwire {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", parents=[common], help="chat (streams the answer)")
    chat.add_argument("prompt", nargs="?", help="one message; none: interactive chat")
    chat.add_argument("--system", help="system prompt")
    chat.add_argument("--max-tokens", type=int)
    chat.add_argument("--temperature", type=float)
    gen = commands.add_parser("generate", parents=[common], help="text generation (streamed)")
    gen.add_argument("prompt")
    gen.add_argument("--max-new-tokens", type=int)
    gen.add_argument("--temperature", type=float)
    embed = commands.add_parser("embed", parents=[common], help="embed texts")
    embed.add_argument("texts", nargs="+")
    _cli_tasks.add_commands(commands, _common(
        local=False, json_help="print the result as JSON",
        base_url_help="URL that answers the task, e.g. an Inference Endpoint's"))
    _cli_batch.add_command(commands, _common(
        local=False, json_help="(ignored: the output is JSONL)",
        base_url_help="URL of a server, e.g. http://127.0.0.1:8080/v1"))
    serve = commands.add_parser(
        "serve", help=f"run the local model ({_LOCAL_MODEL}) as a server until Ctrl-C",
        description="Start the embedded llama.cpp server in the foreground and print its URL.")
    serve.add_argument("--local", action="store_true", required=True,
                       help=f"serve the embedded {_LOCAL_MODEL} (llama.cpp, 127.0.0.1 only)")
    serve.add_argument("--port", type=int, default=SERVE_PORT,
                       help=f"port on 127.0.0.1 (default {SERVE_PORT}; 0: any free port)")
    serve.add_argument("--embeddings", action="store_true", help="serve /v1/embeddings too")
    serve.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


# -- the local server, with start-up progress on the terminal ----------------------------------


_PHASES = {"starting": "starting the server process", "loading": "loading the model"}


class _StartupDisplay:
    """Renders `inferwire.local`'s start-up progress: one rewritten line on a terminal, one line
    per phase otherwise (logs stay short)."""


    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._phase: str | None = None

    def __call__(self, phase: str, seconds: float) -> None:
        if phase == "ready":
            line = f"ready in {seconds:.1f} s"
        elif self._tty:
            line = f"{_PHASES.get(phase, phase)}... {seconds:.0f} s"
        elif phase != self._phase:
            line = f"{_PHASES.get(phase, phase)}..."
        else:
            return
        self._phase = phase
        if self._tty:
            self._stream.write(f"\r\x1b[K  {line}" + ("\n" if phase == "ready" else ""))
        else:
            self._stream.write(f"  {line}\n")
        self._stream.flush()


@contextlib.contextmanager
def _local(*, embeddings: bool, port: int = 0) -> Iterator[Any]:
    from .local import local_server

    print(f"starting a local llama.cpp server ({_LOCAL_MODEL}"
          f"{', embeddings' if embeddings else ''})...", file=sys.stderr, flush=True)
    with local_server(embeddings=embeddings, port=port,
                      progress=_StartupDisplay(sys.stderr)) as server:
        yield server


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if not args.local:
        yield {"base_url": args.base_url, "model": args.model}
        return
    if args.base_url:
        raise UsageError("--local starts its own server: drop --base-url", argument="base_url")
    with _local(embeddings=args.command == "embed") as server:
        yield {"base_url": server.base_url, "model": args.model or server.model}


def _serve(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0 to 65535, got {args.port}", argument="port")
    with _local(embeddings=args.embeddings, port=args.port) as server:
        print(server.base_url, flush=True)
        print(f"serving {server.model!r} on {server.base_url} (127.0.0.1 only); Ctrl-C to stop\n"
              f"  try: inferwire chat --base-url {server.base_url} \"Hello!\"",
              file=sys.stderr, flush=True)
        while server.is_running():
            time.sleep(0.5)
        from .local import LocalServerError

        raise LocalServerError(
            f"the local server stopped by itself (exit status {server.returncode}); "
            f"its log ends with:\n{server.stderr_tail()}")


# -- the commands that talk to a server ----------------------------------------------------------


def _client(args: argparse.Namespace, target: dict[str, Any]) -> Any:
    from ._sync import InferenceClient

    base_url, model = target["base_url"], target["model"]
    if base_url:
        return InferenceClient(base_url=base_url, provider=args.provider, token=args.token,
                               timeout=args.timeout), model
    return InferenceClient(model=model, provider=args.provider, token=args.token,
                           timeout=args.timeout), None


def _chat_turn(client: Any, model: str | None, messages: list[dict[str, str]],
               args: argparse.Namespace, out: TextIO) -> str:
    parts: list[str] = []
    with client.chat_completion(messages, model=model, stream=True, max_tokens=args.max_tokens,
                                temperature=args.temperature) as stream:
        for chunk in stream:
            if args.json:
                out.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
                    if not args.json:
                        out.write(choice.delta.content)
            out.flush()
    if not args.json:
        out.write("\n")
    return "".join(parts)


def _line_editing() -> None:
    """Arrow keys, editing and history for `input()` at a terminal (GNU readline/libedit)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - importing it is what turns line editing on


def _chat(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    if args.prompt is not None:
        messages.append({"role": "user", "content": args.prompt})
        _chat_turn(client, model, messages, args, out)
        return
    _line_editing()
    print("interactive chat: empty line or Ctrl-D to quit", file=sys.stderr)
    while True:
        try:
            line = input("> ")
        except EOFError:
            return
        if not line.strip():
            return
        messages.append({"role": "user", "content": line})
        answer = _chat_turn(client, model, messages, args, out)
        messages.append({"role": "assistant", "content": answer})


def _generate(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    stream = client.text_generation(args.prompt, model=model, stream=True, details=args.json,
                                    max_new_tokens=args.max_new_tokens,
                                    temperature=args.temperature)
    with stream:
        for item in stream:
            out.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n" if args.json
                      else item)
            out.flush()
    if not args.json:
        out.write("\n")


def _embed(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    vectors = client.feature_extraction(args.texts, model=model)
    if args.json:
        out.write(json.dumps({"shape": list(vectors.shape), "embeddings": vectors.tolist()})
                  + "\n")
        return
    out.write(f"shape: {tuple(vectors.shape)}\n")
    for text, row in zip(args.texts, vectors.reshape(len(args.texts), -1), strict=False):
        head = ", ".join(f"{v:.4f}" for v in row[:6])
        out.write(f"{text!r}: [{head}{', ...' if len(row) > 6 else ''}]\n")


_COMMANDS: dict[str, Callable[[argparse.Namespace, Any, str | None, TextIO], None]] = {
    "chat": _chat, "generate": _generate, "embed": _embed, **_cli_tasks.COMMANDS}
_NO_LOCAL = {*_cli_tasks.COMMANDS, "batch"}  # the commands without --local


def _check_inputs(args: argparse.Namespace) -> None:
    """Refuse empty inputs before anything starts (a server would answer them with nonsense)."""
    if args.command in ("chat", "generate") and args.prompt is not None \
            and not args.prompt.strip():
        hint = " (leave it out for an interactive chat)" if args.command == "chat" else ""
        raise UsageError(f"the prompt is empty: say something{hint}", argument="prompt")
    if args.command == "embed":
        for number, text in enumerate(args.texts, 1):
            if not text.strip():
                raise UsageError(f"text {number} of {len(args.texts)} is empty",
                                 argument="texts")
    if args.command in _cli_tasks.COMMANDS:
        _cli_tasks.check(args)
    if args.command == "batch":
        _cli_batch.check(args)
    if not args.local and not args.base_url and not args.model:
        local = "" if args.command in _NO_LOCAL else " or --local"
        raise UsageError(f"say where to send it: --base-url URL, --model ID{local}")


# -- errors, in the CLI's own words --------------------------------------------------------------

# Python keyword arguments the library names in its messages, and the flag that sets each.
_FLAGS = {
    "api_key": "--token", "token": "--token", "base_url": "--base-url", "model": "--model",
    "provider": "--provider", "timeout": "--timeout", "max_tokens": "--max-tokens",
    "max_new_tokens": "--max-new-tokens", "temperature": "--temperature", "port": "--port",
}
_TARGET_FLAGS = ("api_key", "token", "base_url", "model", "provider", "timeout")


def _as_flags(message: str, flags: dict[str, str] = _FLAGS) -> str:
    """``pass token= (or api_key=)`` → ``pass --token``; ``base_url must be`` → ``--base-url``.

    Bare words that are also English (``token``, ``model``) are translated only with their
    ``=``; identifiers with an underscore always are.
    """
    message = re.sub(r"\btoken= \(or api_key=\)", "--token", message)
    keyword = re.compile(r"\b(" + "|".join(sorted(flags, key=len, reverse=True))
                         + r")(=?)(?![\w-])")

    def flag(match: re.Match[str]) -> str:
        name, equals = match.group(1), match.group(2)
        if equals or "_" in name:
            return flags[name]
        return match.group(0)

    return keyword.sub(flag, message)


def _flags_of(command: str) -> dict[str, str]:
    """`run` takes the library's own keywords (``top_k=``): only the target's are flags."""
    if command == "run":
        return {name: _FLAGS[name] for name in _TARGET_FLAGS}
    if command == "batch":
        return {**_FLAGS, **_cli_batch.FLAGS}
    return {**_FLAGS, **_cli_tasks.FLAGS.get(command, {})}


def _first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


def _explain(error: BaseException, args: argparse.Namespace) -> str:
    base_url = getattr(args, "base_url", None)
    model = getattr(args, "model", None)
    where = base_url or model or "the server"
    if isinstance(error, ConnectError):
        if base_url or (model and "://" in model):
            local = "" if args.command in _NO_LOCAL \
                else " (or use --local to start a local model)"
            return f"could not connect to {where}: is the server running?{local}"
        if model:
            local = "" if args.command in _NO_LOCAL else ", or --local"
            return (f"could not reach the inference service for model {model}: "
                    f"{_first_line(error)} (check the network, or use --base-url for a server "
                    f"of your own{local})")
    if isinstance(error, InferenceTimeoutError):
        return f"timed out after {args.timeout:g}s waiting for {where}: try a larger --timeout"
    if isinstance(error, AuthenticationError):
        return "401 unauthorized: check --token or HF_TOKEN"
    if isinstance(error, NotFoundError):
        return f"404 not found at {where}: check --model and --base-url"
    if isinstance(error, HTTPStatusError):
        detail = error.server_message or "no message"
        return f"the server answered {error.status}: {detail}"
    message = _as_flags(_first_line(error), _flags_of(args.command))
    if args.command == "serve" and "cannot bind" in message:
        message += " (pass --port N, or --port 0 for any free port)"
    return message


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "serve":
        _serve(args)
        return 0
    if _cli_tasks.listing(args, out):
        return 0
    _check_inputs(args)
    if args.command == "batch":
        return _cli_batch.run(args)
    with _target(args) as target:
        client, model = _client(args, target)
        with client:
            _COMMANDS[args.command](args, client, model, out)
    return 0


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    # `run TASK --model M key=value`: argparse stops filling `key=value...` at the option;
    # the pairs after it come back here.
    if extra and args.command == "run" and not any(a.startswith("-") for a in extra):
        if args.task is None:
            args.task, *extra = extra
        args.pairs += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread; no SIGTERM
        # `kill PID` stops the command as Ctrl-C does, so a local server is stopped in order.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = _run(args, sys.stdout)
    except KeyboardInterrupt:
        stopped = " (the local server was stopped)" if getattr(args, "local", False) else ""
        print(f"\ninferwire: interrupted{stopped}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except InferenceError as error:
        if args.debug:
            raise
        print(f"inferwire: error: {_explain(error, args)}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_ERROR
    return status

"""The ``inferwire`` command line, on the sync client."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from .sansio._errors import (
    AuthenticationError,
    ConnectError,
    HTTPStatusError,
    InferenceError,
    InferenceTimeoutError,
    NotFoundError,
    UsageError,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    target = common.add_argument_group("target")
    target.add_argument("--model", help="Hub model id or URL (for a server: the model name)")
    target.add_argument("--base-url", help="URL of a server, e.g. http://127.0.0.1:8080/v1")
    target.add_argument("--provider", help="inference provider (auto, hf-inference)")
    target.add_argument("--token", help="API token (default: $HF_TOKEN)")
    target.add_argument("--local", action="store_true",
                        help="start a local llama.cpp server with SmolLM2 for this command")
    target.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    common.add_argument("--json", action="store_true", help="print JSON (one object per chunk)")
    common.add_argument("--debug", action="store_true", help="show tracebacks")

    parser = argparse.ArgumentParser(
        prog="inferwire", description="Talk to an inference server from the terminal.")
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
    return parser


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if not args.local:
        yield {"base_url": args.base_url, "model": args.model}
        return
    if args.base_url:
        raise UsageError("--local starts its own server: drop --base-url", argument="base_url")
    from .local import local_server

    print("starting a local llama.cpp server (SmolLM2-135M)...", file=sys.stderr, flush=True)
    with local_server(embeddings=args.command == "embed") as server:
        yield {"base_url": server.base_url, "model": args.model or server.model}


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


def _chat(args: argparse.Namespace, client: Any, model: str | None, out: TextIO) -> None:
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    if args.prompt is not None:
        messages.append({"role": "user", "content": args.prompt})
        _chat_turn(client, model, messages, args, out)
        return
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


def _explain(error: BaseException, args: argparse.Namespace) -> str:
    where = args.base_url or args.model or "the server"
    if isinstance(error, ConnectError):
        return (f"could not connect to {where}: is the server running? "
                "(or use --local to start a local model)")
    if isinstance(error, InferenceTimeoutError):
        return f"timed out after {args.timeout:g}s waiting for {where}: try a larger --timeout"
    if isinstance(error, AuthenticationError):
        return "401 unauthorized: check --token or HF_TOKEN"
    if isinstance(error, NotFoundError):
        return f"404 not found at {where}: check --model and --base-url"
    if isinstance(error, HTTPStatusError):
        detail = error.server_message or "no message"
        return f"the server answered {error.status}: {detail}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        with _target(args) as target:
            if not target["base_url"] and not target["model"]:
                raise UsageError("say where to send it: --base-url URL, --model ID or --local")
            client, model = _client(args, target)
            with client:
                {"chat": _chat, "generate": _generate, "embed": _embed}[args.command](
                    args, client, model, out)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except InferenceError as error:
        if args.debug:
            raise
        print(f"inferwire: error: {_explain(error, args)}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    return 0

"""``inferwire batch TASK --input in.jsonl --output out.jsonl``: `inferwire.batch` from the
terminal. Re-running the same command resumes: the output file is the checkpoint."""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

from .sansio._errors import UsageError

__all__ = ["FLAGS", "add_command", "check", "run"]

_ALIASES = {"chat": "chat_completion", "generate": "text_generation",
            "embed": "feature_extraction", "classify": "text_classification"}

FLAGS = {"concurrency": "--concurrency", "rpm": "--rpm", "tpm": "--tpm",
         "max_attempts": "--max-attempts", "inputs": "--input", "output": "--output"}
"""The keyword arguments of `run_batch` and the flag that sets each (for error messages)."""


def add_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``batch`` to the `inferwire` parser's subcommands."""
    batch = commands.add_parser(
        "batch", parents=[common], help="run a task over a JSONL file (resumable)",
        description="Call TASK once per line of --input (a JSON object of the task's "
                    "arguments by name, with an optional \"id\"; default: the line number) "
                    "and append one JSON line per input to --output, with its id and output "
                    "or error, usage, provider and request id. Re-running the same command "
                    "resumes where it stopped (the ids already in --output are skipped; "
                    "with --retry-failed, the failed ones run again). "
                    "Exits 1 when some item failed (its line holds the error).")
    batch.add_argument("task", help="the client method: chat (chat_completion), "
                                    "text-classification, feature-extraction...")
    batch.add_argument("--input", required=True, metavar="FILE", help="JSONL input")
    batch.add_argument("--output", required=True, metavar="FILE",
                       help="JSONL output, also the checkpoint")
    batch.add_argument("--concurrency", type=int, default=16, metavar="N",
                       help="calls in flight at most (default 16)")
    batch.add_argument("--rpm", type=float, metavar="R", help="requests per minute budget")
    batch.add_argument("--tpm", type=float, metavar="T", help="tokens per minute budget")
    batch.add_argument("--max-attempts", type=int, default=4, metavar="N",
                       help="attempts per item on 5xx and connection failures (default 4)")
    batch.add_argument("--retry-failed", action="store_true",
                       help="run the items that failed in an earlier run again (their lines "
                            "are taken out of --output first)")
    batch.add_argument("--no-progress", action="store_true", help="no progress display")


def method_of(task: str) -> str:
    """The `AsyncInferenceClient` method a TASK names (``text-classification``, ``chat``)."""
    from ._async import AsyncInferenceClient

    name = _ALIASES.get(task, task.replace("-", "_"))
    member = getattr(AsyncInferenceClient, name, None)
    if name.startswith("_") or member is None or not inspect.iscoroutinefunction(member):
        raise UsageError(f"batch: unknown task {task!r} (a client method such as "
                         "chat_completion or text-classification)", argument="task")
    return name


def check(args: argparse.Namespace) -> None:
    """Check the batch arguments before anything starts (raises `UsageError`)."""
    args.method = method_of(args.task)
    if not Path(args.input).is_file():
        raise UsageError(f"batch: no such input file {args.input!r}", argument="inputs")
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise UsageError("batch: --output must not be the --input file", argument="output")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be >= 1", argument="concurrency")


def run(args: argparse.Namespace) -> int:
    """Run the batch; the exit status (1 when some item failed)."""
    import asyncio

    from ._async import AsyncInferenceClient
    from ._batch_run import run_batch

    check(args)
    options: dict[str, Any] = {"provider": args.provider, "token": args.token,
                               "timeout": args.timeout, "max_retries": 0}
    model = None
    if args.base_url:
        client = AsyncInferenceClient(base_url=args.base_url, **options)
        model = args.model
    else:
        client = AsyncInferenceClient(model=args.model, **options)

    async def main() -> Any:
        async with client:
            return await run_batch(
                client, args.method, args.input, output=args.output,
                retry_failed=args.retry_failed,
                arguments=None if model is None else {"model": model},
                concurrency=args.concurrency, rpm=args.rpm, tpm=args.tpm,
                max_attempts=args.max_attempts,
                progress=False if args.no_progress else None)

    summary = asyncio.run(main())
    print(f"batch: {summary.succeeded} done, {summary.failed} failed, {summary.skipped} "
          f"already in {args.output}; {summary.retries} retries ({summary.throttled} "
          f"throttled); tokens: {summary.prompt_tokens} prompt + {summary.completion_tokens} "
          f"completion = {summary.total_tokens}", file=sys.stderr)
    return 1 if summary.failed else 0

"""`run_batch`: one client method over many inputs, driven by the core's `BatchScheduler`."""

from __future__ import annotations

import collections
import inspect
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._async import AsyncInferenceClient, AsyncStream, current_async_library
from ._batch_io import (
    BatchResult,
    Checkpoint,
    Item,
    count_inputs,
    estimate_tokens,
    read_inputs,
    result_line,
)
from ._batch_loop import BatchLoop, open_loop
from ._batch_progress import Progress, make_progress
from ._observe import last_response
from .sansio._batch import BatchScheduler, classify
from .sansio._budget import parse_rate_limit
from .sansio._error_body import REQUEST_ID_HEADERS
from .sansio._errors import InferenceError, UsageError, UsageTypeError

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from .sansio._record import dataclass, field

__all__ = ["BatchRun", "BatchSummary", "open_batch", "run_batch", "run_batch_sync"]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a run did: `succeeded` and `failed` in this run, `skipped` (already in the
    checkpoint), `retries` and `throttled` (429s), token totals over this run's successes
    (`prompt_tokens`, `completion_tokens`, `total_tokens`), `elapsed` seconds, and
    `results` (the `BatchResult` values, in the order they were emitted) when kept."""

    succeeded: int
    failed: int
    skipped: int
    retries: int
    throttled: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    elapsed: float
    results: list[BatchResult] | None = field(default=None)


def _method(client: object, method: object) -> Callable[..., Any]:
    if not isinstance(client, AsyncInferenceClient):
        raise UsageTypeError("run_batch needs an AsyncInferenceClient, got "
                             f"{type(client).__name__}", argument="client")
    if not isinstance(method, str) or method.startswith("_"):
        raise UsageTypeError(f"method must be the name of a client method, got {method!r}",
                             argument="method")
    function = getattr(client, method, None)
    if function is None or not inspect.iscoroutinefunction(function):
        raise UsageError(f"AsyncInferenceClient has no task method {method!r}",
                         argument="method")
    return function  # type: ignore[no-any-return]


def _usage(output: Any) -> dict[str, Any] | None:
    usage = output.get("usage") if isinstance(output, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    return {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")
            if isinstance(usage.get(k), int)}


class _Run:
    """The coordinator of one run: feeds the scheduler, starts what it says, records ends."""

    def __init__(self, *, loop: BatchLoop, client: AsyncInferenceClient,
                 function: Callable[..., Any], items: Iterator[Item],
                 scheduler: BatchScheduler, checkpoint: Checkpoint | None, ordered: bool,
                 progress: Progress, charge_tokens: bool, arguments: dict[str, Any],
                 started: float) -> None:
        self.arguments = arguments
        self.loop = loop
        self.provider = client.provider
        self.function = function
        self.items = items
        self.scheduler = scheduler
        self.checkpoint = checkpoint
        self.ordered = ordered
        self.ready: collections.deque[BatchResult] = collections.deque()
        self.started = started
        self.progress = progress
        self.charge_tokens = charge_tokens
        self.tracked: dict[Any, tuple[int, Item]] = {}  # id -> (sequence number, item)
        self.attempts: dict[Any, int] = {}
        self.seen: set[Any] = set()
        self.skipped = 0
        self.next_seq = 0
        self.next_emit = 0
        self.held: dict[int, BatchResult] = {}
        self.tokens = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self.succeeded = 0
        self.failed = 0
        self.exhausted = False
        self.window = 4 * scheduler.wants + 16

    def _feed(self) -> None:
        scheduler = self.scheduler
        while (not self.exhausted and scheduler.wants > 0
               and self.next_seq - self.next_emit < self.window):
            item = next(self.items, None)
            if item is None:
                self.exhausted = True
                scheduler.close_input()
                break
            if self.checkpoint is not None and item.id in self.checkpoint.done:
                self.skipped += 1
                self.progress.skip(1)
                continue
            if item.id in self.seen:
                raise UsageError(f"input {item.index}: id {item.id!r} appears twice in the "
                                 "input", argument="inputs")
            if item.explicit:
                # Ids by position are unique by construction: only the input's own are kept,
                # so that memory stays flat over a long input without ids.
                self.seen.add(item.id)
            self.tracked[item.id] = (self.next_seq, item)
            self.next_seq += 1
            scheduler.add(item.id, cost=estimate_tokens(item) if self.charge_tokens else 0.0)

    async def _call(self, item: Item) -> None:
        last_response.set(None)
        try:
            kwargs = {**self.arguments, **item.kwargs} if self.arguments else item.kwargs
            output = await self.function(*item.args, **kwargs)
        except InferenceError as exc:
            self.loop.put((item.id, None, exc, None))
        except Exception as exc:  # noqa: BLE001 - reported as the item's error, not dropped
            error = InferenceError(f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self.loop.put((item.id, None, error, None))
        else:
            if isinstance(output, AsyncStream):
                await output.aclose()
                error = UsageError("stream=True is not supported in a batch run (each item's "
                                   "whole output is recorded)", argument="stream")
                self.loop.put((item.id, None, error, None))
                return
            self.loop.put((item.id, output, None, last_response.get()))

    def _ended(self, message: tuple[Any, Any, InferenceError | None, Any]) -> None:
        item_id, output, error, response = message
        now = time.monotonic()
        seq, item = self.tracked[item_id]
        attempts = self.attempts.get(item_id, 0) + 1
        self.attempts[item_id] = attempts
        if error is None:
            usage = _usage(output)
            limits = None if response is None else parse_rate_limit(response.header)
            total = None if usage is None else usage.get("total_tokens")
            self.scheduler.succeeded(item_id, now, tokens=total, limits=limits)
            request_id = None if response is None else next(
                (v for v in map(response.header, REQUEST_ID_HEADERS) if v), None)
            result = BatchResult(item_id, item.index, output, None, usage, self.provider,
                                 request_id, attempts)
        else:
            verdict = self.scheduler.failed(item_id, now, classify(error, time.time()),
                                            jitter=random.random())  # noqa: S311
            if not verdict.final:
                return
            result = BatchResult(item_id, item.index, None, error, None, self.provider,
                                 getattr(error, "request_id", None), attempts)
        del self.tracked[item_id]
        del self.attempts[item_id]
        self._finish(seq, result)

    def _finish(self, seq: int, result: BatchResult) -> None:
        if self.checkpoint is not None:
            try:
                line = result_line(result)
            except (TypeError, ValueError) as exc:
                error = InferenceError(f"the output could not be written as JSON: {exc}")
                result = BatchResult(result.id, result.index, None, error, result.usage,
                                     result.provider, result.request_id, result.attempts)
                line = result_line(result)
            self.checkpoint.append(line)
        usage = result.usage or {}
        if result.ok:
            self.succeeded += 1
            for key in self.tokens:
                self.tokens[key] += usage.get(key, 0)
        else:
            self.failed += 1
        self.progress.update(result.ok, usage.get("total_tokens", 0), time.monotonic())
        if not self.ordered:
            self._emit(result)
            self.next_emit += 1
            return
        self.held[seq] = result
        while self.next_emit in self.held:
            self._emit(self.held.pop(self.next_emit))
            self.next_emit += 1

    def _emit(self, result: BatchResult) -> None:
        self.ready.append(result)

    async def _step(self) -> bool:
        """Start what the scheduler admits and record what ended; False once all is done."""
        scheduler, loop = self.scheduler, self.loop
        self._feed()
        if scheduler.finished:
            return False
        decision = scheduler.poll(time.monotonic())
        for item_id in decision.start:
            loop.spawn(self._call, self.tracked[item_id][1])
        wake = decision.wake_at
        message = await loop.get(None if wake is None else max(0.0, wake - time.monotonic()))
        while message is not None:
            self._ended(message)
            message = loop.get_nowait()
        return True

    async def next_result(self) -> BatchResult | None:
        """The next result to emit, stepping the run until there is one; None at the end."""
        while not self.ready:
            if not await self._step():
                return None
        return self.ready.popleft()

    def summary(self, results: list[BatchResult] | None = None) -> BatchSummary:
        stats = self.scheduler.stats()
        return BatchSummary(
            succeeded=self.succeeded, failed=self.failed, skipped=self.skipped,
            retries=stats.retries, throttled=stats.throttled,
            elapsed=time.monotonic() - self.started, results=results, **self.tokens)


class BatchRun:
    """A batch run in progress, from `open_batch`: an async iterator of its `BatchResult`
    values, one per input not already in the checkpoint (in input order with ``ordered=True``,
    else as they complete), and `summary()` of what it did.

    The run advances as it is iterated: items are started and their ends recorded while the
    caller waits for the next result, and no further inputs are read while it does something
    else with one (the calls already in flight go on).
    """

    __slots__ = ("_run",)

    def __init__(self, run: _Run) -> None:
        self._run = run

    def __aiter__(self) -> BatchRun:
        return self

    async def __anext__(self) -> BatchResult:
        """The next result (in input order if ``ordered``, else as they complete)."""
        result = await self._run.next_result()
        if result is None:
            raise StopAsyncIteration
        return result

    def summary(self) -> BatchSummary:
        """The run's totals so far (all of them once the iteration has ended); its
        `results` is None (the caller has each result)."""
        return self._run.summary()

    def __repr__(self) -> str:
        run = self._run
        return (f"<BatchRun {run.succeeded} succeeded, {run.failed} failed, "
                f"{run.skipped} skipped>")


@asynccontextmanager
async def open_batch(
    client: AsyncInferenceClient,
    method: str,
    inputs: object,
    *,
    output: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    concurrency: int = 16,
    rpm: float | None = None,
    tpm: float | None = None,
    max_attempts: int = 4,
    retry_budget: int | None = None,
    ordered: bool = True,
    arguments: Mapping[str, Any] | None = None,
    progress: bool | str | None = None,
) -> AsyncIterator[BatchRun]:
    """Start a batch run whose results the caller iterates; under asyncio or trio.

        async with open_batch(client, "chat_completion", questions, output="out.jsonl") as run:
            async for result in run:
                ...  # each BatchResult as it is emitted
        print(run.summary())

    Takes the arguments of `run_batch` but `on_result` and `keep_results` (the caller has
    each result). Leaving the block early cancels the calls still in flight; what was
    written to `output` stays, so the same run resumes later.
    """
    if not isinstance(retry_failed, bool):
        raise UsageTypeError("retry_failed must be a bool", argument="retry_failed")
    if retry_failed and output is None:
        raise UsageError("retry_failed needs an output file: the failed items to run again "
                         "are read from it", argument="retry_failed")
    if not isinstance(ordered, bool):
        raise UsageTypeError("ordered must be a bool", argument="ordered")
    if arguments is not None and not isinstance(arguments, Mapping):
        raise UsageTypeError("arguments must be a mapping of keyword arguments",
                             argument="arguments")
    function = _method(client, method)
    scheduler = BatchScheduler(concurrency=concurrency, rpm=rpm, tpm=tpm,
                               max_attempts=max_attempts, retry_budget=retry_budget,
                               now=time.monotonic())
    items = read_inputs(inputs)
    start = time.monotonic()
    shown = make_progress(progress, count_inputs(inputs) if progress is not False else None,
                          start)
    checkpoint = None
    try:
        if output is not None:
            checkpoint = Checkpoint(output, retry_failed=retry_failed)
        async with open_loop(current_async_library()) as loop:
            yield BatchRun(_Run(loop=loop, client=client, function=function, items=items,
                                scheduler=scheduler, checkpoint=checkpoint, ordered=ordered,
                                progress=shown, charge_tokens=tpm is not None,
                                arguments=dict(arguments or {}), started=start))
    finally:
        if checkpoint is not None:
            checkpoint.close()
        shown.close(time.monotonic())


async def run_batch(
    client: AsyncInferenceClient,
    method: str,
    inputs: object,
    *,
    output: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    concurrency: int = 16,
    rpm: float | None = None,
    tpm: float | None = None,
    max_attempts: int = 4,
    retry_budget: int | None = None,
    ordered: bool = True,
    arguments: Mapping[str, Any] | None = None,
    on_result: Callable[[BatchResult], object] | None = None,
    keep_results: bool | None = None,
    progress: bool | str | None = None,
) -> BatchSummary:
    """Run ``client.<method>`` over every input; under asyncio or trio.

    Args:
        client: The `AsyncInferenceClient` to call (give it ``max_retries=0``: the batch
            scheduler then sees every 429 and paces the whole run, rather than each call
            sleeping on its own).
        method: The task method's name (``"chat_completion"``, ``"feature_extraction"``...).
        inputs: A JSONL path, or any iterable (list, generator, ``datasets.Dataset``): see
            `read_inputs`. Read lazily: only a window of items is in memory.
        output: The JSONL file of results, which is also the checkpoint: items whose id it
            holds are skipped, each finished item is appended as one line and flushed. Run the
            same call again after a crash or Ctrl-C to resume.
        retry_failed: Run the items that failed in an earlier run again: their lines are
            taken out of `output` first (the file is rewritten without them and replaced in
            one rename), then they run like items never tried. Without it, failed items are
            final and skipped like the others.
        concurrency: Calls in flight at most.
        rpm, tpm: Requests and tokens per minute budgets (None: none). Tokens are charged
            with an estimate (`estimate_tokens`) when a call starts and corrected with its
            usage when it ends.
        max_attempts: Attempts per item on retryable failures (5xx, connection failures);
            429s are retried apart from these (up to 50 per item), at the pace the scheduler
            adapts to the server.
        retry_budget: Retries allowed over the whole run (None: no total).
        ordered: Emit results in input order (True) or as they complete.
        arguments: Keyword arguments given to every call (``{"model": ..., "max_tokens":
            256}``); an input's own arguments take precedence.
        on_result: Called with each `BatchResult` as it is emitted.
        keep_results: Keep every result in the summary's `results` (default: only when
            neither `output` nor `on_result` is given).
        progress: True (tqdm if installed, else a line on stderr), ``"plain"``, ``"tqdm"``,
            False, or None (True when stderr is a terminal).

    To take the results as they come in an ``async for`` loop instead, use `open_batch`.

    Returns:
        A `BatchSummary`. Failed items are results with an `error`, not exceptions; what
        raises is bad usage (`UsageError`) or the run's cancellation (then every result
        already written stays in `output`, and nothing else is).
    """
    if on_result is not None and not callable(on_result):
        raise UsageTypeError("on_result must be callable", argument="on_result")
    keep = (output is None and on_result is None) if keep_results is None else keep_results
    results: list[BatchResult] | None = [] if keep else None
    async with open_batch(client, method, inputs, output=output, retry_failed=retry_failed,
                          concurrency=concurrency, rpm=rpm, tpm=tpm,
                          max_attempts=max_attempts, retry_budget=retry_budget,
                          ordered=ordered, arguments=arguments, progress=progress) as run:
        async for result in run:
            if results is not None:
                results.append(result)
            if on_result is not None:
                on_result(result)
    return run._run.summary(results)


def run_batch_sync(client: AsyncInferenceClient, method: str, inputs: object,
                   **options: Any) -> BatchSummary:
    """`run_batch` from synchronous code, on a private asyncio event loop (same arguments)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise UsageError("run_batch_sync was called inside a running event loop: "
                         "await run_batch(...) there instead")
    return asyncio.run(run_batch(client, method, inputs, **options))

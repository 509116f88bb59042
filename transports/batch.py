"""Batch inference: one client method over many inputs, bounded, rate-aware and resumable.

    from inferwire import AsyncInferenceClient
    from inferwire.batch import run_batch

    async with AsyncInferenceClient("meta-llama/Llama-3.1-8B-Instruct", max_retries=0) as client:
        summary = await run_batch(client, "chat_completion", "questions.jsonl",
                                  output="answers.jsonl", concurrency=32, rpm=600)

Runs under asyncio and trio (`run_batch_sync` drives it from synchronous code; `open_batch`
hands the results to an ``async for`` loop as they come). The decisions
(admission under the budgets, the pace, retries) are the core's `BatchScheduler`; this module
reads the inputs, performs the calls and writes the results. See the "Batch inference" page of
the documentation for the JSONL format, resuming and the budgets.
"""

from __future__ import annotations

from ._batch_io import BatchResult, estimate_tokens, read_inputs
from ._batch_ray import RayInference
from ._batch_run import BatchRun, BatchSummary, open_batch, run_batch, run_batch_sync
from .sansio._batch import BatchScheduler, BatchStats, Decision, Failure, Verdict, classify
from .sansio._budget import RateLimitInfo, parse_rate_limit

__all__ = [
    "BatchResult",
    "BatchRun",
    "BatchScheduler",
    "BatchStats",
    "BatchSummary",
    "Decision",
    "Failure",
    "RateLimitInfo",
    "RayInference",
    "Verdict",
    "classify",
    "estimate_tokens",
    "open_batch",
    "parse_rate_limit",
    "read_inputs",
    "run_batch",
    "run_batch_sync",
]

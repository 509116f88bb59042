"""Parsing only, no network: inferwire's typed stream decoders against the peers' parse paths.

Corpus: `corpus.py` (a 20,000-token OpenAI chat stream and a TGI ``/generate_stream``; seed 0),
fed in random 1-4 KiB chunks and one chunk per event, plus the framing variants. Each contender
turns the chunks into its own typed objects, through its library's own code over an in-memory
response (so the libraries' ``iter_bytes`` / ``iter_lines`` layers are included):

* ``json.loads floor``: ``json.loads`` of every event's JSON text, already cut out (the floor);
* ``inferwire``: `ChatCompletionStreamDecoder` -> `ChatCompletionStreamOutput`,
  `TextGenerationStreamDecoder(details=True)` -> `TextGenerationStreamOutput`;
* ``hf_hub``: the ``chat_completion(stream=True)`` / ``text_generation(stream=True,
  details=True)`` path of huggingface_hub's `InferenceClient` (its ``_stream_*_response`` over
  ``httpx2.Response.iter_lines()``, exactly what the client returns);
* ``openai``: ``openai.Stream[ChatCompletionChunk]`` over an ``httpx2.Response`` (chat only);
* ``httpx-sse``: ``EventSource(httpx.Response).iter_sse()`` + ``json.loads`` (dicts).

Before timing, each contender must decode the stream right (same text, same number of items);
one that does not is marked as failing that variant and not timed. Timed runs consume the
items as an application does, one by one, without keeping them (keeping 20,000 objects alive
would time the garbage collector's full collections rather than the parsing). Rounds are
interleaved: every contender once per round, shuffled, after ``gc.collect()`` (GC stays
enabled, after a ``gc.freeze()`` of every library's import-time objects); a fast contender
repeats its run within the round for about 0.3 s and its mean is its time in the round, so
that every figure averages the machine's noise over a similar stretch; times are CPU times
(`CLOCK`); the ratio to the floor is taken per round, then the median.

inferwire is also measured *paired* with the floor (`paired`): the stream is cut into twenty
parts and, pass after pass, the decoder and the floor take turns on each part. Whole rounds
move by tens of percent on this shared machine; within a few milliseconds both see the same
machine, so the paired ratio holds to a few percent. The decoding targets are judged on it.

    python benchmarks/parse_vs_peers.py --json out.json [--quick]
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CLIENT_CPU, emit, machine, pin, section_parser, stamp, versions
from corpus import Corpus, build

Runner = Callable[[bool], Any]  # (keep) -> the items (keep) or how many there were
CLOCK = time.process_time
"""Parsing is pure CPU work: its time is the process's CPU time, which does not count the
moments other tenants of the shared machine had the CPU (wall time did, and moved the ratios
by ±40 % from round to round)."""

URL = "http://127.0.0.1:8080/v1/chat/completions"
OUTPUTS = {
    "json.loads floor": "dict",
    "inferwire": "typed",
    "hf_hub": "typed",
    "openai": "typed",
    "httpx-sse": "dict",
}


def _chat_text(obj: Any) -> str:
    choices = obj.choices
    return (choices[0].delta.content or "") if choices else ""


def _dict_text(kind: str, obj: dict[str, Any]) -> str:
    if kind == "chat":
        choices = obj.get("choices")
        return (choices[0]["delta"].get("content") or "") if choices else ""
    return obj["token"]["text"]


def _consume(items: Iterable[Any], keep: bool) -> Any:
    if keep:
        return list(items)
    n = 0
    for _ in items:
        n += 1
    return n


def floor(corpus: Corpus, chunks: list[bytes]) -> Runner:
    payloads = corpus.payloads
    loads = json.loads

    def run(keep: bool) -> Any:
        if keep:
            return [loads(p) for p in payloads]
        n = 0
        for p in payloads:
            loads(p)
            n += 1
        return n

    return run


def _typed_decoder(kind: str) -> Any:
    """inferwire's typed decoder for a corpus kind ("chat" or "tgi")."""
    from inferwire.sansio import ChatCompletionStreamDecoder, TextGenerationStreamDecoder

    if kind == "chat":
        return ChatCompletionStreamDecoder()
    return TextGenerationStreamDecoder(details=True)


def inferwire(corpus: Corpus, chunks: list[bytes]) -> Runner:
    def run(keep: bool) -> Any:
        dec = _typed_decoder(corpus.kind)
        if keep:
            items: list[Any] = []
            for c in chunks:
                items += dec.feed(c)
            return items + dec.close()
        n = 0
        for c in chunks:
            for _ in dec.feed(c):
                n += 1
        return n + len(dec.close())

    return run


def hf_hub(corpus: Corpus, chunks: list[bytes]) -> Runner:
    import httpx2
    from huggingface_hub.inference._common import (
        _stream_chat_completion_response,
        _stream_text_generation_response,
    )

    chat = corpus.kind == "chat"

    def run(keep: bool) -> Any:
        # What InferenceClient returns: `_inner_post` hands over `response.iter_lines()`.
        response = httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                   content=iter(chunks))
        lines = response.iter_lines()
        if chat:
            items = _stream_chat_completion_response(lines)
        else:
            items = _stream_text_generation_response(lines, details=True)
        return _consume(items, keep)

    return run


def openai_stream(corpus: Corpus, chunks: list[bytes]) -> Runner:
    import httpx2
    from openai import OpenAI, Stream
    from openai.types.chat import ChatCompletionChunk

    client = OpenAI(api_key="bench", base_url=URL.rsplit("/chat", 1)[0], max_retries=0)
    request = httpx2.Request("POST", URL)

    def run(keep: bool) -> Any:
        response = httpx2.Response(200, headers={"content-type": "text/event-stream"},
                                   content=iter(chunks), request=request)
        return _consume(Stream(cast_to=ChatCompletionChunk, response=response, client=client),
                        keep)

    return run


def httpx_sse(corpus: Corpus, chunks: list[bytes]) -> Runner:
    import httpx
    from httpx_sse import EventSource

    loads = json.loads

    def run(keep: bool) -> Any:
        response = httpx.Response(200, headers={"content-type": "text/event-stream"},
                                  content=iter(chunks))
        items = (loads(e.data) for e in EventSource(response).iter_sse() if e.data != "[DONE]")
        return _consume(items, keep)

    return run


def contenders(corpus: Corpus, chunks: list[bytes]) -> dict[str, Runner]:
    out = {
        "json.loads floor": floor(corpus, chunks),
        "inferwire": inferwire(corpus, chunks),
        "hf_hub": hf_hub(corpus, chunks),
        "httpx-sse": httpx_sse(corpus, chunks),
    }
    if corpus.kind == "chat":
        out["openai"] = openai_stream(corpus, chunks)
    return out


def _text(kind: str, items: list[Any]) -> str:
    if not items:
        return ""
    if isinstance(items[0], dict):
        return "".join(_dict_text(kind, i) for i in items)
    if kind == "chat":
        return "".join(_chat_text(i) for i in items)
    return "".join(i.token.text for i in items)


def check(runner: Runner, corpus: Corpus) -> str | None:
    """None if the runner decodes `corpus` right (same items, same text), else what is wrong."""
    try:
        items = runner(True)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    if len(items) != corpus.n_events:
        return f"{len(items)} items, expected {corpus.n_events}"
    if _text(corpus.kind, items) != corpus.text:
        return "decoded text differs"
    return None


def _slices(corpus: Corpus, chunks: list[bytes], n: int) -> list[tuple[list[bytes], list[str]]]:
    """The stream cut into `n` consecutive parts: (chunks, the payloads of the events those
    chunks complete), so that the decoder and the floor do the same work part by part."""
    ends = []  # byte offset where each event ends
    pos = 0
    for event in corpus.events:
        pos += len(event)
        ends.append(pos)
    n = max(1, min(n, len(chunks)))
    out = []
    done_bytes = done_events = 0
    for i in range(n):
        part = chunks[len(chunks) * i // n : len(chunks) * (i + 1) // n]
        done_bytes += sum(map(len, part))
        events = done_events
        while events < len(ends) and ends[events] <= done_bytes:
            events += 1
        out.append((part, corpus.payloads[done_events:events]))
        done_events = events
    return out


def paired(corpus: Corpus, chunks: list[bytes], passes: int, rng: random.Random,
           slices: int = 20) -> dict[str, Any]:
    """inferwire's typed decoder against the floor, alternating part by part.

    The stream is cut into `slices` parts (a few milliseconds of work each); in every pass a
    fresh decoder and the floor take turns on each part, in a random order, each timed alone.
    A pass's ratio is the decoder's total over the floor's total: both saw the machine in the
    same state to within a part, so the noise of a shared machine (which moves whole rounds
    by tens of percent) mostly cancels. Reported: the median over passes, and the range.
    """
    parts = _slices(corpus, chunks, slices)
    loads = json.loads
    ratios = []
    for _ in range(passes):
        dec = _typed_decoder(corpus.kind)
        feed = dec.feed
        t_dec = t_floor = 0.0
        gc.collect()
        for i, (part, payloads) in enumerate(parts):
            for turn in (0, 1) if rng.random() < 0.5 else (1, 0):
                t0 = CLOCK()
                if turn:
                    n = 0
                    for c in part:
                        for _ in feed(c):
                            n += 1
                    if i == len(parts) - 1:
                        n += len(dec.close())
                    t_dec += CLOCK() - t0
                else:
                    for p in payloads:
                        loads(p)
                    t_floor += CLOCK() - t0
        ratios.append(t_dec / t_floor)
    return {"ratio": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
            "passes": passes, "slices": len(parts)}


def measure(corpus: Corpus, chunking: str, rounds: int, rng: random.Random,
            window: float = 0.3) -> dict[str, Any]:
    chunks = corpus.chunks(chunking)
    runners = contenders(corpus, chunks)
    # Correctness first, on the same stream shape at (at most) 2,000 tokens; that run's time,
    # scaled, also tells how many times a fast contender repeats its run in a round: it repeats
    # it back to back for about `window` seconds and reports the mean, so that every figure
    # averages the machine's noise over a similar stretch (a slow peer's run lasts seconds, a
    # floor run a tenth of one).
    small = build(corpus.kind, min(corpus.n_tokens, 2_000), corpus.variant) if (
        corpus.n_tokens > 2_000) else corpus
    small_runners = contenders(small, small.chunks(chunking)) if small is not corpus else runners
    failures: dict[str, str | None] = {}
    reps: dict[str, int] = {}
    for name, runner in small_runners.items():
        failures[name] = check(runner, small)
        if failures[name] is not None:
            continue
        gc.collect()
        t0 = CLOCK()
        runner(False)
        estimate = (CLOCK() - t0) * corpus.n_tokens / small.n_tokens
        reps[name] = max(1, min(10, round(window / max(estimate, 1e-6))))
    timed = {name: run for name, run in runners.items() if failures[name] is None}
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(rounds):
        order = list(timed)
        rng.shuffle(order)
        for name in order:
            runner, n = timed[name], reps[name]
            gc.collect()
            t0 = CLOCK()
            for _ in range(n):
                runner(False)
            times[name].append((CLOCK() - t0) / n)
    floor_times = times["json.loads floor"]
    rows = {}
    for name in runners:
        if failures[name] is not None:
            rows[name] = {"error": failures[name]}
            continue
        ts = times[name]
        ratios = [t / f for t, f in zip(ts, floor_times, strict=True)]
        med = statistics.median(ts)
        rows[name] = {
            "output": OUTPUTS[name],
            "times": ts,
            "mb_s": len(corpus.body) / med / 1e6,
            "us_event": med / corpus.n_events * 1e6,
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
        }
    if failures["inferwire"] is None:
        rows["inferwire"]["paired"] = paired(corpus, chunks, max(3, 3 * rounds), rng)
    return {
        "kind": corpus.kind,
        "variant": corpus.variant,
        "chunking": chunking,
        "tokens": corpus.n_tokens,
        "events": corpus.n_events,
        "bytes": len(corpus.body),
        "rounds": rounds,
        "repeats": {name: reps[name] for name in timed},
        "rows": rows,
    }


def _cells(quick: bool) -> Iterator[tuple[str, str, str, int, int, float]]:
    """(kind, variant, chunking, tokens, rounds, window) of every measured cell."""
    tokens = 500 if quick else 20_000
    rounds = 1 if quick else 3
    for kind in ("chat", "tgi"):
        for chunking in ("random", "event"):
            yield kind, "lf", chunking, tokens, rounds, 0.05 if quick else 0.3
    for variant in ("crlf", "keepalive", "event", "multiline", "mixed"):
        for kind in ("chat", "tgi"):
            yield (kind, variant, "random", 200 if quick else 1_000, 1 if quick else 3,
                   0.02 if quick else 0.1)


def run(quick: bool, seed: int = 0) -> dict[str, Any]:
    pinned = pin(CLIENT_CPU)
    rng = random.Random(seed)
    started = time.perf_counter()
    # Untimed warm-up: every code path once.
    for kind in ("chat", "tgi"):
        small = build(kind, 200)
        for runner in contenders(small, small.chunks("random")).values():
            runner(False)
    # Everything the libraries' imports created moves out of the collector's way: no
    # contender pays, in its full collections, for the module objects of all the others.
    gc.collect()
    gc.freeze()
    cells = []
    for kind, variant, chunking, tokens, rounds, window in _cells(quick):
        t0 = time.perf_counter()
        cells.append(measure(build(kind, tokens, variant), chunking, rounds, rng, window))
        print(f"  parse {kind}/{variant}/{chunking} ({tokens} tokens, {rounds} rounds): "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return {
        "date": stamp(),
        "duration_s": time.perf_counter() - started,
        "pinned": pinned,
        "clock": "process_time",
        "machine": machine(),
        "versions": versions(),
        "cells": cells,
    }


def main() -> None:
    args = section_parser(__doc__).parse_args()
    emit(run(args.quick), args.json)


if __name__ == "__main__":
    main()

"""Parsing speed of inferwire's stream decoders against the ``json.loads`` floor.

For each stream (chat, TGI) and chunking (random 1-4 KiB, one chunk per event) it times, in
several interleaved rounds (every contender once per round, in a shuffled order, after a
``gc.collect()``; GC stays enabled):

* ``json.loads floor``: ``json.loads`` of every event's JSON text (already cut out, as str):
  the least any parser that builds Python objects from the JSON must spend;
* ``inferwire typed``: the typed decoder fed the chunks (`ChatCompletionStreamDecoder` ->
  `ChatCompletionStreamOutput`, `TextGenerationStreamDecoder(details=True)` ->
  `TextGenerationStreamOutput`), SSE framing included;
* ``inferwire typed + read``: the same, reading each chunk's text as a consumer does
  (``chunk.choices[0].delta.content`` / ``output.token.text``);
* ``inferwire text``: TGI with ``details=False`` (items are the token strings);
* ``inferwire SSE events``: the `SSEDecoder` alone (`ServerSentEvent` objects, no JSON);
* ``json.loads(bytes) floor``: for reference, ``json.loads`` of the UTF-8 payloads.

The ratio is taken per round (contender time / floor time in the same round) and the median
over rounds is reported with MB/s and µs/event (medians too). Run::

    python benchmarks/parse_bench.py            # 20k tokens, 11 rounds, + framing variants
    python benchmarks/parse_bench.py --quick    # 5k tokens, 3 rounds, LF only
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import VARIANTS, Corpus, build

from inferwire.sansio._sse import SSEDecoder
from inferwire.sansio._streams import (
    ChatCompletionStreamDecoder,
    TextGenerationStreamDecoder,
)

Runner = Callable[[], int]


def _floor(payloads: list[str] | list[bytes]) -> Runner:
    loads = json.loads

    def run() -> int:
        n = 0
        for p in payloads:
            loads(p)
            n += 1
        return n

    return run


def _decoder(factory: Callable[[], object], chunks: list[bytes]) -> Runner:
    def run() -> int:
        dec = factory()
        feed = dec.feed  # type: ignore[attr-defined]
        n = 0
        for c in chunks:
            n += len(feed(c))
        n += len(dec.close())  # type: ignore[attr-defined]
        return n

    return run


def _chat_read(chunks: list[bytes]) -> Runner:
    def run() -> int:
        dec = ChatCompletionStreamDecoder()
        parts = []
        for c in chunks:
            for item in dec.feed(c):
                if item.choices:
                    content = item.choices[0].delta.content
                    if content:
                        parts.append(content)
        dec.close()
        return len(parts)

    return run


def _tgi_read(chunks: list[bytes]) -> Runner:
    def run() -> int:
        dec = TextGenerationStreamDecoder(details=True)
        parts = [item.token.text for c in chunks for item in dec.feed(c)]
        dec.close()
        return len(parts)

    return run


def contenders(corpus: Corpus, chunks: list[bytes]) -> dict[str, Runner]:
    payload_bytes = [p.encode() for p in corpus.payloads]
    out: dict[str, Runner] = {
        "json.loads floor": _floor(corpus.payloads),
        "json.loads(bytes) floor": _floor(payload_bytes),
        "inferwire SSE events": _decoder(SSEDecoder, chunks),
    }
    if corpus.kind == "chat":
        out["inferwire typed"] = _decoder(ChatCompletionStreamDecoder, chunks)
        out["inferwire typed + read"] = _chat_read(chunks)
    else:
        out["inferwire typed"] = _decoder(lambda: TextGenerationStreamDecoder(details=True), chunks)
        out["inferwire typed + read"] = _tgi_read(chunks)
        out["inferwire text"] = _decoder(lambda: TextGenerationStreamDecoder(details=False), chunks)
    return out


def check(corpus: Corpus, chunks: list[bytes]) -> None:
    """The decoders must decode the corpus right before their time means anything."""
    if corpus.kind == "chat":
        dec = ChatCompletionStreamDecoder()
        items = [i for c in chunks for i in dec.feed(c)] + dec.close()
        text = "".join(i.choices[0].delta.content or "" for i in items if i.choices)
        assert dec.finished
        assert len(items) == corpus.n_events, (len(items), corpus.n_events)
    else:
        tdec = TextGenerationStreamDecoder(details=False)
        tokens = [t for c in chunks for t in tdec.feed(c)] + tdec.close()
        text = "".join(tokens)
    assert text == corpus.text, f"{corpus.name}: decoded text differs"
    sse = SSEDecoder()
    events = [e for c in chunks for e in sse.feed(c)] + sse.close()
    n_data = corpus.n_events + (1 if corpus.kind == "chat" else 0)  # + [DONE]
    assert len(events) == n_data, (corpus.name, len(events), n_data)


def measure(corpus: Corpus, chunking: str, rounds: int, rng: random.Random) -> list[dict]:
    chunks = corpus.chunks(chunking)
    check(corpus, chunks)
    runners = contenders(corpus, chunks)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        order = list(runners)
        rng.shuffle(order)
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            runners[name]()
            times[name].append(time.perf_counter() - t0)
    floor = times["json.loads floor"]
    size = len(corpus.body)
    rows = []
    for name, ts in times.items():
        ratios = [t / f for t, f in zip(ts, floor, strict=True)]
        med = statistics.median(ts)
        rows.append(
            {
                "contender": name,
                "mb_s": size / med / 1e6,
                "us_event": med / corpus.n_events * 1e6,
                "ratio": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
            }
        )
    rows.sort(key=lambda r: r["ratio"])
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(
        f"| {'contender':26} | {'MB/s':>6} | {'us/event':>8} | {'x floor':>7} | {'x min-max':>11} |"
    )
    print(f"|{'-' * 28}|{'-' * 8}|{'-' * 10}|{'-' * 9}|{'-' * 13}|")
    for r in rows:
        print(
            f"| {r['contender']:26} | {r['mb_s']:6.1f} | {r['us_event']:8.2f} | "
            f"{r['ratio']:7.2f} | {r['ratio_min']:5.2f}-{r['ratio_max']:<5.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5k tokens, 3 rounds, LF only")
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--no-variants", action="store_true", help="skip the framing variants")
    args = parser.parse_args()
    tokens = args.tokens or (5_000 if args.quick else 20_000)
    rounds = args.rounds or (3 if args.quick else 11)
    rng = random.Random(0)
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}; {tokens} tokens, median of {rounds} rounds"
    )
    # Warm-up (untimed): every code path once on a small stream.
    for kind in ("chat", "tgi"):
        small = build(kind, 300)
        for runner in contenders(small, small.chunks("random")).values():
            runner()

    for kind in ("chat", "tgi"):
        corpus = build(kind, tokens)
        for chunking in ("random", "event"):
            rows = measure(corpus, chunking, rounds, rng)
            title = (
                f"{kind} / lf / chunks={chunking}: {corpus.n_events} events, "
                f"{len(corpus.body) / 1e6:.2f} MB"
            )
            print_table(title, rows)

    if args.quick or args.no_variants:
        return
    print("\nFraming variants (5k tokens, random chunks, 3 rounds): inferwire typed, x floor")
    print(f"| {'variant':12} | {'chat':>6} | {'tgi':>6} |")
    print(f"|{'-' * 14}|{'-' * 8}|{'-' * 8}|")
    for variant in VARIANTS:
        cells = []
        for kind in ("chat", "tgi"):
            corpus = build(kind, 5_000, variant)
            rows = measure(corpus, "random", 3, rng)
            cells.append(next(r["ratio"] for r in rows if r["contender"] == "inferwire typed"))
        print(f"| {variant:12} | {cells[0]:6.2f} | {cells[1]:6.2f} |")


if __name__ == "__main__":
    main()

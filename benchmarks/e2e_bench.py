"""End to end over loopback: inferwire's three transports against the peers, in one run.

`server.py` runs in its own process pinned to CPU 1; the clients run here, pinned to CPU 0.
Sections (each measurement: a fresh client, warmed up with one short stream or 20 calls, then
timed; client CPU is this process's `time.process_time()` over the timed part):

* ``stream_chat`` / ``stream_tgi``: one N-token stream written as fast as the socket allows
  (tokens/s);
* ``paced``: a chat stream arriving one event per write at 2,000 tokens/s (client CPU per token);
* ``ttft``: 8-token chat streams, request start to first token (median over the requests);
* ``seq_chat`` / ``seq_embed``: sequential non-streamed chat completions / embeddings (req/s);
* ``conc_chat``: chat completions with 64 in flight, asyncio and trio clients (req/s).

Every section counts the server's accepted TCP connections per request (connection reuse).
Rounds are interleaved: in each round every section runs every contender once, in a shuffled
order, after `gc.collect()`. Raw samples go to the JSON output; `report.py` takes the ratios
per round (peer time / inferwire time) and their medians.

    python benchmarks/e2e_bench.py --json out.json [--quick]
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as cs
from _common import (
    CLIENT_CPU,
    BenchServer,
    bench_server,
    emit,
    machine,
    pin,
    section_parser,
    stamp,
    versions,
)


@dataclass
class Section:
    name: str
    title: str
    kind: str  # "stream", "ttft", "seq", "conc"
    unit: str  # what one unit of work is: "token" or "request"
    n: int  # tokens per stream, or requests
    contenders: list[cs.Contender]
    mode: str = "burst"
    task: str = "chat_stream"
    stream_kind: str = "chat"
    concurrency: int = 1
    rounds: int = 3
    warmup: int = 20  # calls before the timed part (streams: one 50-token stream)
    extra: dict[str, Any] = field(default_factory=dict)


def sections(quick: bool) -> list[Section]:
    sync = cs.SYNC
    iw_a, iw_t, hub_a, oa_a, oa_t, hx_a, hx_t = (cs.by_name(n) for n in (
        "inferwire AsyncInferenceClient (asyncio)", "inferwire AsyncInferenceClient (trio)",
        "hf_hub AsyncInferenceClient (asyncio)", "openai AsyncOpenAI (asyncio)",
        "openai AsyncOpenAI (trio)", "httpx + httpx-sse (asyncio)", "httpx + httpx-sse (trio)"))
    hub_t = cs.HubAsync("trio")
    streamers = [*sync, iw_a, iw_t, hub_a, oa_a, oa_t, hx_a, hx_t]
    callers = [*sync, iw_a, iw_t, hub_a, oa_a, hx_a]
    concurrent = [iw_a, iw_t, hub_a, hub_t, oa_a, hx_a, hx_t]
    tokens = 500 if quick else 10_000
    calls = 50 if quick else 2_000
    paced = 50 if quick else 1_000
    ttft = 5 if quick else 100
    slow = 1 if quick else 2
    seq = 1 if quick else 3  # (the sequential sections are the noisiest: a third round)
    fast = 1 if quick else 3
    return [
        Section("stream_chat", f"one {tokens:,}-token chat stream (burst)", "stream", "token",
                tokens, streamers, rounds=fast),
        Section("stream_tgi", f"one {tokens:,}-token TGI /generate_stream (burst, details)",
                "stream", "token", tokens,
                [c for c in streamers if "tgi_stream" in c.tasks], task="tgi_stream",
                stream_kind="tgi", rounds=fast),
        Section("paced", f"a {paced:,}-token chat stream arriving at 2,000 tokens/s (one "
                "event per write)", "stream", "token", paced, streamers, mode="paced2000",
                rounds=slow),
        Section("ttft", "time to first token: 8-token chat streams, request start to first "
                f"token ({ttft} requests)", "ttft", "request", ttft, streamers, rounds=fast),
        Section("seq_chat", f"{calls:,} sequential chat completions", "seq", "request", calls,
                callers, task="chat", rounds=seq),
        Section("seq_embed", f"{calls:,} sequential embeddings (384 floats)", "seq", "request",
                calls, callers, task="embed", rounds=seq),
        Section("conc_chat", f"{calls:,} chat completions, 64 concurrent", "conc", "request",
                calls, concurrent, task="chat", concurrency=64, rounds=slow),
    ]


# ---------------------------------------------------------------------------------------------
# one measurement


def _sync_measure(c: cs.Contender, s: Section, server: BenchServer) -> dict[str, Any]:
    client = c.client(server.root, s.mode)
    try:
        if s.kind in ("stream", "ttft"):
            c.stream(client, s.stream_kind, 50)
        else:
            op = getattr(c, s.task)
            for _ in range(s.warmup):
                op(client)
        before = server.stats()["accepted"]
        ttfts: list[float] = []
        gc.collect()
        t0 = time.perf_counter()
        c0 = time.process_time()
        if s.kind == "stream":
            units, _ = c.stream(client, s.stream_kind, s.n)
            requests = 1
            if units != s.n:
                raise AssertionError(f"{units} tokens, expected {s.n}")
        elif s.kind == "ttft":
            for _ in range(s.n):
                start = time.perf_counter()
                _, first = c.stream(client, "chat", 8)
                ttfts.append(first - start)
            units = requests = s.n
        else:
            op = getattr(c, s.task)
            for _ in range(s.n):
                op(client)
            units = requests = s.n
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
        after = server.stats()["accepted"]
    finally:
        c.close(client)
    return _sample(wall, cpu, units, requests, after - before, ttfts)


async def _async_measure(c: cs.Contender, s: Section, server: BenchServer) -> dict[str, Any]:
    client = c.client(server.root, s.mode)
    try:
        if s.kind in ("stream", "ttft"):
            await c.stream(client, s.stream_kind, 50)
        else:
            op = getattr(c, s.task)
            for _ in range(s.warmup):
                await op(client)
        before = server.stats()["accepted"]
        ttfts: list[float] = []
        gc.collect()
        t0 = time.perf_counter()
        c0 = time.process_time()
        if s.kind == "stream":
            units, _ = await c.stream(client, s.stream_kind, s.n)
            requests = 1
            if units != s.n:
                raise AssertionError(f"{units} tokens, expected {s.n}")
        elif s.kind == "ttft":
            for _ in range(s.n):
                start = time.perf_counter()
                _, first = await c.stream(client, "chat", 8)
                ttfts.append(first - start)
            units = requests = s.n
        elif s.kind == "conc":
            await _concurrently(c, client, s)
            units = requests = s.n
        else:
            op = getattr(c, s.task)
            for _ in range(s.n):
                await op(client)
            units = requests = s.n
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
        after = server.stats()["accepted"]
    finally:
        await c.close(client)
    return _sample(wall, cpu, units, requests, after - before, ttfts)


async def _concurrently(c: cs.Contender, client: Any, s: Section) -> None:
    op = getattr(c, s.task)
    remaining = [s.n]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            await op(client)

    if c.library == "trio":
        import trio

        async with trio.open_nursery() as nursery:
            for _ in range(s.concurrency):
                nursery.start_soon(worker)
    else:
        await asyncio.gather(*(worker() for _ in range(s.concurrency)))


def _sample(wall: float, cpu: float, units: int, requests: int, new_conns: int,
            ttfts: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "wall": wall,
        "cpu": cpu,
        "units": units,
        "rate": units / wall,
        "conns_per_request": new_conns / requests,
    }
    if ttfts:
        ttfts.sort()
        out["ttft_median"] = ttfts[len(ttfts) // 2]
        out["ttft_p90"] = ttfts[min(len(ttfts) - 1, int(len(ttfts) * 0.9))]
    return out


def measure(c: cs.Contender, s: Section, server: BenchServer) -> dict[str, Any]:
    try:
        if not c.is_async:
            return _sync_measure(c, s, server)
        if c.library == "trio":
            import trio

            return trio.run(_async_measure, c, s, server)  # type: ignore[no-any-return]
        return asyncio.run(_async_measure(c, s, server))
    except Exception as exc:
        traceback.print_exc(limit=3)
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


# ---------------------------------------------------------------------------------------------


def run(quick: bool, only: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    pinned = pin(CLIENT_CPU)
    rng = random.Random(seed)
    secs = [s for s in sections(quick) if not only or s.name in only]
    if quick:
        for s in secs:
            s.warmup = 5
    results: dict[str, Any] = {
        s.name: {
            "title": s.title,
            "kind": s.kind,
            "unit": s.unit,
            "n": s.n,
            "rounds": s.rounds,
            "samples": {c.name: [] for c in s.contenders},
            "contenders": {c.name: {"family": c.family, "transport": c.transport}
                           for c in s.contenders},
        }
        for s in secs
    }
    started = time.perf_counter()
    with bench_server() as server:
        for r in range(max(s.rounds for s in secs)):
            for s in secs:
                if r >= s.rounds:
                    continue
                order = list(s.contenders)
                rng.shuffle(order)
                t_section = time.perf_counter()
                for c in order:
                    results[s.name]["samples"][c.name].append(measure(c, s, server))
                print(f"  e2e round {r + 1}/{s.rounds} {s.name}: "
                      f"{time.perf_counter() - t_section:.1f} s", file=sys.stderr, flush=True)
    return {
        "date": stamp(),
        "pinned": pinned,
        "duration_s": time.perf_counter() - started,
        "machine": machine(),
        "versions": versions(),
        "sections": results,
    }


def main() -> None:
    parser = section_parser(__doc__)
    parser.add_argument("--only", nargs="*", help="run only these sections")
    args = parser.parse_args()
    emit(run(args.quick, args.only), args.json)


if __name__ == "__main__":
    main()

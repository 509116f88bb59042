"""Memory: resident size after import + one call, and peak memory while streaming.

Every measurement is a fresh process (``memory_bench.py --child``): it imports the client, makes
one 50-token warm-up stream, records its resident set, then reads one N-token chat stream from
`server.py` (``gen`` mode: generated on the fly, so a 1,000,000-token stream needs no prebuilt
body) and reports, in one of two modes:

* ``rss``: the growth of the peak resident set (``ru_maxrss``) during the stream;
* ``tracemalloc``: the tracemalloc peak during the stream, above what was allocated before it.

Every contender streams 10,000 tokens (``rss``); inferwire's three transports also stream
1,000,000 tokens (``rss``), and 10,000 and 100,000 tokens under tracemalloc (which slows a
stream tenfold: 1,000,000 tokens under it would take minutes per transport), to show that
memory does not grow with the stream's length. Measurements run a few at a time (memory does
not depend on the machine's load).

    python benchmarks/memory_bench.py --json out.json [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contenders as cs
from _common import bench_server, emit, machine, section_parser, stamp, versions

PARALLEL = 3


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(name: str, root: str, tokens: int, mode: str) -> dict[str, Any]:
    import gc
    import tracemalloc

    c = cs.by_name(name)
    out: dict[str, Any] = {}

    def before() -> None:
        gc.collect()
        out["rss_after_warmup"] = _rss_mib()
        if mode == "tracemalloc":
            tracemalloc.start()
            out["traced_before"] = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        out["peak_before"] = _maxrss_mib()
        out["t0"] = time.perf_counter()

    def after(n: int) -> None:
        out["seconds"] = time.perf_counter() - out.pop("t0")
        if mode == "tracemalloc":
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            out["tracemalloc_peak"] = (peak - out.pop("traced_before")) / 2**20
        out["peak_rss"] = _maxrss_mib()
        out["rss_growth"] = max(out["peak_rss"] - out["peak_before"], 0.0)
        out["tokens"] = n

    if not c.is_async:
        client = c.client(root, "gen")
        c.stream(client, "chat", 50)
        before()
        n, _ = c.stream(client, "chat", tokens)
        after(n)
        c.close(client)
        return out

    async def main() -> None:
        client = c.client(root, "gen")
        await c.stream(client, "chat", 50)
        before()
        n, _ = await c.stream(client, "chat", tokens)
        after(n)
        await c.close(client)

    if c.library == "trio":
        import trio

        trio.run(main)
    else:
        asyncio.run(main())
    return out


def _spawn(name: str, root: str, tokens: int, mode: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, "--root", root, "--tokens", str(tokens),
         "--mode", mode],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result.get("tokens") != tokens:
        result["error"] = f"{result.get('tokens')} tokens, expected {tokens}"
    return result


def run(quick: bool) -> dict[str, Any]:
    short, medium, long = (2_000, 10_000, 20_000) if quick else (10_000, 100_000, 1_000_000)
    started = time.perf_counter()
    jobs: list[tuple[str, int, str]] = []
    for c in cs.ALL:
        jobs.append((c.name, short, "rss"))
        if c.family == "inferwire":
            jobs.append((c.name, short, "tracemalloc"))
            jobs.append((c.name, medium, "tracemalloc"))
            jobs.append((c.name, long, "rss"))
    # The longest first, so that the pool of workers ends together.
    jobs.sort(key=lambda job: (-job[1], job[0]))
    with bench_server() as server, ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda job: _spawn(job[0], server.root, job[1], job[2]), jobs))
    rows: dict[str, dict[str, Any]] = {}
    for (name, tokens, mode), result in zip(jobs, results, strict=True):
        c = cs.by_name(name)
        row = rows.setdefault(f"{name}|{tokens}", {
            "contender": name, "family": c.family, "transport": c.transport, "tokens": tokens,
        })
        if "error" in result:
            row.setdefault("errors", []).append(f"{mode}: {result['error']}")
            continue
        if mode == "rss":
            row["rss_after_warmup"] = result["rss_after_warmup"]
            row["peak_rss"] = result["peak_rss"]
            row["rss_growth"] = result["rss_growth"]
            row["seconds"] = result["seconds"]
        else:
            row["tracemalloc_peak"] = result["tracemalloc_peak"]
    return {
        "date": stamp(),
        "duration_s": time.perf_counter() - started,
        "machine": machine(),
        "versions": versions(),
        "short": short,
        "medium": medium,
        "long": long,
        "rows": list(rows.values()),
    }


def main() -> None:
    parser = section_parser(__doc__)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.root, args.tokens, args.mode)))
        return
    emit(run(args.quick), args.json)


if __name__ == "__main__":
    main()

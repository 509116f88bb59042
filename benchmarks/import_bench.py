"""Import time: ``python -c STMT`` in a fresh process per sample, minus ``python -c pass``.

Every statement runs once untimed (``.pyc`` written even if ``PYTHONDONTWRITEBYTECODE`` is
set, as the peers' were at install time; page cache warm), then in interleaved
rounds in a shuffled order. Import ms = the median process wall time minus the median of
``python -c pass``; the ratio to ``import httpx`` is taken per round. A last check runs
``from inferwire import AsyncInferenceClient`` (and a call's worth of setup) and reports whether
httpx got imported.

    python benchmarks/import_bench.py --json out.json [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CLIENT_CPU, machine, pin, stamp, versions

STATEMENTS: list[tuple[str, str, str]] = [
    # (name, family, statement)
    ("python -c pass (baseline)", "baseline", "pass"),
    ("inferwire.sansio", "inferwire", "import inferwire.sansio"),
    ("inferwire InferenceClient", "inferwire", "from inferwire import InferenceClient"),
    ("inferwire AsyncInferenceClient", "inferwire", "from inferwire import AsyncInferenceClient"),
    ("httpx", "httpx", "import httpx"),
    ("httpx + httpx_sse", "httpx", "import httpx, httpx_sse"),
    ("hf_hub InferenceClient", "hf_hub", "from huggingface_hub import InferenceClient"),
    ("hf_hub AsyncInferenceClient", "hf_hub", "from huggingface_hub import AsyncInferenceClient"),
    ("openai OpenAI", "openai", "from openai import OpenAI"),
    ("openai AsyncOpenAI", "openai", "from openai import AsyncOpenAI"),
]

_NO_HTTPX = (
    "import sys, asyncio\n"
    "from inferwire import AsyncInferenceClient\n"
    "async def main():\n"
    "    async with AsyncInferenceClient('http://127.0.0.1:9/v1') as c:\n"
    "        try:\n"
    "            await c.chat_completion([{'role': 'user', 'content': 'x'}])\n"
    "        except Exception:\n"
    "            pass\n"
    "asyncio.run(main())\n"
    "print(sorted(m for m in sys.modules if m == 'httpx' or m.startswith('httpx.')))\n"
)


# Byte-code caching on, whatever the caller's environment says: the peers' .pyc files were
# written when they were installed, inferwire's are written by the warm-up run.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(stmt: str) -> tuple[float, float]:
    """(wall, child CPU) seconds of ``python -c stmt``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", stmt], check=True, env=_ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(quick: bool, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    rounds = 1 if quick else 7
    started = time.perf_counter()
    # Warm-up (untimed, two at a time, before pinning to one CPU): .pyc files and the page
    # cache. --quick warms up inferwire's statements only (pip compiled the peers' .pyc files
    # when it installed them; inferwire's editable build tree may have none yet).
    warm = [stmt for _, family, stmt in STATEMENTS
            if not quick or family not in ("hf_hub", "openai")]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(_time, warm))
    pinned = pin(CLIENT_CPU)
    walls: dict[str, list[float]] = {name: [] for name, _, _ in STATEMENTS}
    cpus: dict[str, list[float]] = {name: [] for name, _, _ in STATEMENTS}
    for _ in range(rounds):
        order = list(STATEMENTS)
        rng.shuffle(order)
        for name, _, stmt in order:
            wall, cpu = _time(stmt)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(walls[STATEMENTS[0][0]])
    base_cpu = statistics.median(cpus[STATEMENTS[0][0]])
    httpx_walls = walls["httpx"]
    httpx_base = [max(w - b, 1e-6) for w, b in zip(httpx_walls, walls[STATEMENTS[0][0]],
                                                   strict=True)]
    rows = {}
    for name, family, stmt in STATEMENTS:
        ws = walls[name]
        per_round = [max(w - b, 0.0) for w, b in zip(ws, walls[STATEMENTS[0][0]], strict=True)]
        rows[name] = {
            "family": family,
            "statement": stmt,
            "wall_ms": statistics.median(ws) * 1e3,
            "wall_min_ms": min(ws) * 1e3,
            "wall_max_ms": max(ws) * 1e3,
            "import_ms": max(statistics.median(ws) - base, 0.0) * 1e3,
            "import_cpu_ms": max(statistics.median(cpus[name]) - base_cpu, 0.0) * 1e3,
            "x_httpx": statistics.median(
                [p / h for p, h in zip(per_round, httpx_base, strict=True)]),
        }
    check = subprocess.run([sys.executable, "-c", _NO_HTTPX], capture_output=True, text=True,
                           check=True, env=_ENV)
    httpx_modules = json.loads(check.stdout.strip().replace("'", '"'))
    return {
        "date": stamp(),
        "pinned": pinned,
        "rounds": rounds,
        "duration_s": time.perf_counter() - started,
        "machine": machine(),
        "versions": versions(),
        "rows": rows,
        "async_client_imports_httpx": bool(httpx_modules),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    out = run(args.quick)
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()

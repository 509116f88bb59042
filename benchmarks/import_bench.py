"""Import time: ``python -c STMT`` in a fresh process per sample.

Every statement runs once untimed (``.pyc`` written even if ``PYTHONDONTWRITEBYTECODE`` is
set, as the peers' were at install time; page cache warm), then in interleaved rounds in a
shuffled order. Import ms = the median time of the statement itself, measured inside the fresh
process (``time.perf_counter()`` around it; CPU: ``time.process_time()``): interpreter start-up
and ``site`` (which here imports certifi, pathlib and re through a ``.pth`` file, for every
contender alike) stay out of it, and with them most of the noise (the start-up alone moved by
±20 ms between samples on this machine). The process's whole wall time, minus that of
``python -c pass``, is kept as a second figure. The ratio to ``import httpx`` is taken per
round. A last check runs ``from inferwire import AsyncInferenceClient`` (and a call's worth of
setup) and reports whether httpx got imported.

    python benchmarks/import_bench.py --json out.json [--quick]
"""

from __future__ import annotations

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

from _common import CLIENT_CPU, emit, machine, pin, section_parser, stamp, versions

STATEMENTS: list[tuple[str, str, str]] = [
    # (name, family, statement)
    ("python -c pass (baseline)", "baseline", "pass"),
    ("inferwire.sansio", "inferwire", "import inferwire.sansio"),
    # the core's names load on first use: what a user of the stream parser alone pays
    ("inferwire.sansio chat decoder", "inferwire",
     "from inferwire.sansio import ChatCompletionStreamDecoder"),
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


_TIMED = (
    "import time as _t\n_w, _c = _t.perf_counter(), _t.process_time()\n{stmt}\n"
    "print(_t.perf_counter() - _w, _t.process_time() - _c)"
)


def _time(stmt: str) -> tuple[float, float, float]:
    """(process wall, import wall, import CPU) seconds of ``python -c stmt``."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _TIMED.format(stmt=stmt)], check=True,
                          env=_ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    inner, cpu = (float(x) for x in proc.stdout.split())
    return wall, inner, cpu


def run(quick: bool, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    rounds = 1 if quick else 5
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
    inners: dict[str, list[float]] = {name: [] for name, _, _ in STATEMENTS}
    cpus: dict[str, list[float]] = {name: [] for name, _, _ in STATEMENTS}
    for _ in range(rounds):
        order = list(STATEMENTS)
        rng.shuffle(order)
        for name, _, stmt in order:
            wall, inner, cpu = _time(stmt)
            walls[name].append(wall)
            inners[name].append(inner)
            cpus[name].append(cpu)
    base = statistics.median(walls[STATEMENTS[0][0]])
    rows = {}
    for name, family, stmt in STATEMENTS:
        ws = walls[name]
        rows[name] = {
            "family": family,
            "statement": stmt,
            "import_ms": statistics.median(inners[name]) * 1e3,
            "import_min_ms": min(inners[name]) * 1e3,
            "import_max_ms": max(inners[name]) * 1e3,
            "import_cpu_ms": statistics.median(cpus[name]) * 1e3,
            "wall_ms": statistics.median(ws) * 1e3,
            "wall_min_ms": min(ws) * 1e3,
            "wall_max_ms": max(ws) * 1e3,
            "process_ms": max(statistics.median(ws) - base, 0.0) * 1e3,
            "x_httpx": statistics.median(
                [t / max(h, 1e-9) for t, h in zip(inners[name], inners["httpx"], strict=True)]),
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
    args = section_parser(__doc__).parse_args()
    emit(run(args.quick), args.json)


if __name__ == "__main__":
    main()

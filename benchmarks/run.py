"""Run every benchmark against the peers, in one run, and write the results.

    python benchmarks/run.py            # the full run (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # every section and contender, small sizes (< 1 min)

Needs the ``bench`` extra (``pip install -e ".[bench]"``: huggingface_hub, openai, httpx-sse,
trio, numpy, matplotlib). Runs, one after the other, each in its own process:
`parse_vs_peers.py` (parsing, no network), `e2e_bench.py` (loopback, with `server.py` in its
own process on CPU 1), `binary_bench.py` (a 10 MiB upload, a 5 MiB download and small
text-classification calls, over the same loopback), `import_bench.py`, `memory_bench.py` and
`bench_batch.py` (batch inference: an enforced rate, throughput, memory, kill -9 / resume).
Then it writes, in ``benchmarks/results/`` (full run) or ``benchmarks/results/tmp/``
(``--quick``, unless ``--out`` says otherwise): ``latest.json`` (every sample), ``latest.md``
(the tables) and ``ratios.png`` (the chart); a full run also puts the tables into
``docs/benchmarks.md``, between its ``results`` markers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
from _common import HERE, machine, stamp, versions

SECTIONS = {
    "parse": "parse_vs_peers.py",
    "e2e": "e2e_bench.py",
    "binary": "binary_bench.py",
    "import": "import_bench.py",
    "memory": "memory_bench.py",
    "batch": "bench_batch.py",
}
PEERS = ("huggingface_hub", "openai", "httpx", "httpx_sse", "httpx2", "trio", "numpy",
         "matplotlib")
DOC = HERE.parent / "docs" / "benchmarks.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def check_peers() -> None:
    missing = []
    for name in PEERS:
        # (found, not imported: importing them all here would cost seconds)
        if importlib.util.find_spec(name) is None:
            missing.append(name)
    if missing:
        sys.exit(f"missing {', '.join(missing)}: install the bench extra first "
                 "(pip install -e '.[bench]')")


def update_doc(md: str) -> None:
    text = DOC.read_text()
    if START not in text or END not in text:
        print(f"{DOC} has no results markers; not updated", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    # The chart lives next to the results; the doc links to it from docs/.
    md = md.replace("![ratios](ratios.png)", "![ratios](../benchmarks/results/ratios.png)")
    DOC.write_text(f"{head}{START}\n\n{md}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and one round: every section and contender, < 1 min")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run these sections")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default benchmarks/results, or results/tmp with "
                             "--quick)")
    args = parser.parse_args()
    check_peers()
    out = args.out or (HERE / "results" / "tmp" if args.quick else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "") + (
        f" --only {' '.join(args.only)}" if args.only else "")
    started = time.perf_counter()
    load_start = list(os.getloadavg())
    results: dict[str, Any] = {}
    failed = []
    for name in args.only or SECTIONS:
        part = out / f"{name}.json.tmp"
        t0 = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(HERE / SECTIONS[name]), "--json", str(part)]
        if args.quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, check=False)
        if proc.returncode != 0 or not part.exists():
            failed.append(name)
            print(f"== {name} FAILED (exit {proc.returncode})", file=sys.stderr, flush=True)
            continue
        results[name] = json.loads(part.read_text())
        part.unlink()
        print(f"== {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    results["meta"] = {
        "command": command,
        "date": stamp(),
        "duration_s": time.perf_counter() - started,
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
        "machine": machine(),
        "versions": versions(),
        "pinned": results.get("e2e", results.get("binary", {})).get("pinned", False),
        "sections": {name: results[name]["duration_s"] for name in SECTIONS if name in results},
    }
    (out / "latest.json").write_text(json.dumps(results, indent=1))
    md = report.markdown(results, "ratios.png")
    (out / "latest.md").write_text(md)
    report.chart(results, out / "ratios.png")
    if not args.quick and not args.out and not args.only:
        update_doc(md)
    print(md)
    print(f"wrote {out / 'latest.json'}, {out / 'latest.md'}, {out / 'ratios.png'} "
          f"in {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr)
    if failed:
        sys.exit(f"failed sections: {', '.join(failed)}")


if __name__ == "__main__":
    main()

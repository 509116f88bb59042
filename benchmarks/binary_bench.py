"""Binary payloads over loopback: a 10 MB upload, a 5 MB download, small JSON calls.

`server.py` runs in its own process pinned to CPU 1; the clients run here, pinned to CPU 0.
Contenders: inferwire's `InferenceClient` (sync) and `AsyncInferenceClient` (asyncio, trio),
huggingface_hub's `InferenceClient` and `AsyncInferenceClient` (asyncio), and a raw-socket
floor (a blocking socket, HTTP/1.1 by hand: the 10 MB body sent with ``sendall``, the 5 MB
response read with ``recv_into`` a preallocated buffer — the least a Python client can spend).

Sections (each measurement: a fresh client, one full-size warm-up call, then timed; client
CPU is this process's `time.process_time()` over the timed part):

* ``asr``: `automatic_speech_recognition(audio)` with 10 MiB of audio bytes (raw body, the
  server answers ``{"text": ...}`` naming the byte count it received, which is checked);
* ``t2i``: `text_to_image(prompt)`, the server answering a prebuilt ~5 MiB ``image/png``.
  **Transfer only**: both libraries' image decoding is swapped for the identity in this
  process (inferwire's `to_image`, huggingface_hub's `_bytes_to_image`), so the method
  returns the body's bytes, checked against the server's. Decoding a PNG costs the same
  whatever the client (inferwire's `to_image` decodes it — ``Image.load()`` — while
  huggingface_hub's `Image.open` is lazy: left in, that difference alone would be timed);
* ``classify``: sequential `text_classification` calls (req/s).

Rounds are interleaved (every contender once per round, shuffled, after `gc.collect()`);
ratios are taken within a round. Memory: a fresh process per (contender, payload)
(``--child``): it builds the payload and the client, makes one small call, then two full-size
calls: over the first, the growth of the peak resident set (``VmHWM``, reset just before it
through ``/proc/self/clear_refs``; ``ru_maxrss`` where that is not possible), over the second
the tracemalloc peak — both to be read against the payload's size.

    python benchmarks/binary_bench.py --json out.json [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

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

AUDIO_BYTES = 10 * 2**20
IMAGE_BYTES = 5 * 2**20
SMALL = 1024
PROMPT = "An astronaut riding a horse on the moon."
TEXT = "I like you. I love you."
PARALLEL = 3  # (memory does not depend on the machine's load)


def audio_payload(n: int = AUDIO_BYTES) -> bytes:
    return random.Random(1).randbytes(n)


def _identity(data: Any) -> Any:
    return data


def transfer_only() -> None:
    """Swap both libraries' image decoding for the identity: text_to_image returns bytes."""
    import huggingface_hub.inference._client as hub_sync
    import huggingface_hub.inference._generated._async_client as hub_async

    import inferwire._async_hf_tasks as iw_async
    import inferwire._sync_hf_tasks as iw_sync

    iw_sync.to_image = iw_async.to_image = _identity  # type: ignore[attr-defined]
    hub_sync._bytes_to_image = hub_async._bytes_to_image = _identity  # type: ignore[attr-defined]


def urls(root: str) -> dict[str, str]:
    return {"asr": f"{root}/burst/asr", "t2i": f"{root}/burst/t2i",
            "classify": f"{root}/burst/classify"}


def _check_asr(text: str, n: int) -> None:
    if text != f"received {n} bytes":
        raise AssertionError(f"server answered {text!r} for {n} bytes")


def _check_image(data: Any, n: int) -> int:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise AssertionError(f"text_to_image returned {type(data).__name__}")  # noqa: TRY004
    if len(data) < n or bytes(data[:8]) != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"{len(data)} bytes, not the {n}-byte PNG")
    return len(data)


# ---------------------------------------------------------------------------------------------
# contenders


class Contender:
    name = ""
    family = ""
    transport = "sync"
    library = "sync"
    is_async = False


class RawSocket(Contender):
    """HTTP/1.1 by hand on a blocking keep-alive socket."""

    name = "raw socket floor (sync)"
    family = "floor"

    def client(self, root: str) -> Any:
        host, port = root.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return {"sock": sock, "host": f"{host}:{port}".encode(), "buf": bytearray()}

    def close(self, client: Any) -> None:
        client["sock"].close()

    def _post(self, client: Any, path: bytes, body: bytes, ctype: bytes) -> bytearray:
        sock = client["sock"]
        sock.sendall(b"POST %s HTTP/1.1\r\nhost: %s\r\ncontent-type: %s\r\n"
                     b"content-length: %d\r\n\r\n" % (path, client["host"], ctype, len(body)))
        sock.sendall(body)
        buf = client["buf"]
        while (end := buf.find(b"\r\n\r\n")) < 0:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            buf += data
        head = bytes(buf[:end]).lower()
        length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        out = bytearray(length)
        have = min(len(buf) - end - 4, length)
        out[:have] = buf[end + 4 : end + 4 + have]
        del buf[: end + 4 + have]
        view = memoryview(out)
        while have < length:
            got = sock.recv_into(view[have:])
            if not got:
                raise ConnectionError("closed")
            have += got
        return out

    def asr(self, client: Any, audio: bytes) -> str:
        out = self._post(client, b"/burst/asr", audio, b"audio/flac")
        return json.loads(out)["text"]  # type: ignore[no-any-return]

    def t2i(self, client: Any, n: int) -> Any:
        body = json.dumps({"inputs": PROMPT}).encode()
        return self._post(client, b"/burst/t2i/%d" % n, body, b"application/json")

    def classify(self, client: Any) -> None:
        body = json.dumps({"inputs": TEXT}).encode()
        out = json.loads(self._post(client, b"/burst/classify", body, b"application/json"))
        assert out[0][0]["label"]


class InferwireSync(Contender):
    name = "inferwire InferenceClient (sync)"
    family = "inferwire"

    def client(self, root: str) -> Any:
        from inferwire import InferenceClient

        c = InferenceClient(max_retries=0)
        c.bench_urls = urls(root)
        return c

    def close(self, client: Any) -> None:
        client.close()

    def asr(self, client: Any, audio: bytes) -> str:
        return client.automatic_speech_recognition(audio, model=client.bench_urls["asr"]).text

    def t2i(self, client: Any, n: int) -> Any:
        return client.text_to_image(PROMPT, model=f"{client.bench_urls['t2i']}/{n}")

    def classify(self, client: Any) -> None:
        out = client.text_classification(TEXT, model=client.bench_urls["classify"])
        assert out[0].label


class InferwireAsync(Contender):
    family = "inferwire"
    is_async = True

    def __init__(self, library: str) -> None:
        self.library = self.transport = library
        self.name = f"inferwire AsyncInferenceClient ({library})"

    def client(self, root: str) -> Any:
        from inferwire import AsyncInferenceClient

        c = AsyncInferenceClient(max_retries=0, async_library=self.library)  # type: ignore[arg-type]
        c.bench_urls = urls(root)
        return c

    async def close(self, client: Any) -> None:
        await client.close()

    async def asr(self, client: Any, audio: bytes) -> str:
        out = await client.automatic_speech_recognition(audio, model=client.bench_urls["asr"])
        return out.text  # type: ignore[no-any-return]

    async def t2i(self, client: Any, n: int) -> Any:
        return await client.text_to_image(PROMPT, model=f"{client.bench_urls['t2i']}/{n}")

    async def classify(self, client: Any) -> None:
        out = await client.text_classification(TEXT, model=client.bench_urls["classify"])
        assert out[0].label


class HubSync(InferwireSync):
    name = "hf_hub InferenceClient (sync)"
    family = "hf_hub"

    def client(self, root: str) -> Any:
        from huggingface_hub import InferenceClient

        c = InferenceClient()
        c.bench_urls = urls(root)
        return c


class HubAsync(InferwireAsync):
    family = "hf_hub"

    def __init__(self, library: str = "asyncio") -> None:
        self.library = self.transport = library
        self.name = f"hf_hub AsyncInferenceClient ({library})"

    def client(self, root: str) -> Any:
        from huggingface_hub import AsyncInferenceClient

        c = AsyncInferenceClient()
        c.bench_urls = urls(root)
        return c


ALL: list[Contender] = [RawSocket(), InferwireSync(), InferwireAsync("asyncio"),
                        InferwireAsync("trio"), HubSync(), HubAsync("asyncio")]


def by_name(name: str) -> Contender:
    return next(c for c in ALL if c.name == name)


def _run(c: Contender, fn: Any) -> Any:
    """Run coroutine function `fn` on c's library; a sync contender's never suspends, so it
    is stepped to its end directly (no event loop around the sync clients)."""
    if c.library == "trio":
        import trio

        return trio.run(fn)
    if c.is_async:
        return asyncio.run(fn())
    coro = fn()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a sync measurement suspended")


# ---------------------------------------------------------------------------------------------
# timing


async def _maybe(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


def _one(c: Contender, client: Any, task: str, audio: bytes) -> Any:
    """One call (a coroutine for an async contender), checked when it returns."""
    if task == "asr":
        result = c.asr(client, audio)  # type: ignore[attr-defined]
        check = lambda text: _check_asr(text, len(audio))  # noqa: E731
    elif task == "t2i":
        result = c.t2i(client, IMAGE_BYTES)  # type: ignore[attr-defined]
        check = lambda data: _check_image(data, IMAGE_BYTES)  # noqa: E731
    else:
        return c.classify(client)  # type: ignore[attr-defined]
    if c.is_async:
        async def checked() -> None:
            check(await result)
        return checked()
    check(result)
    return None


def measure(c: Contender, task: str, n: int, warmup: int, audio: bytes,
            server: BenchServer) -> dict[str, Any]:
    async def body() -> dict[str, Any]:
        client = c.client(server.root)  # type: ignore[attr-defined]
        try:
            for _ in range(warmup):
                await _maybe(_one(c, client, task, audio))
            before = server.stats()["accepted"]
            gc.collect()
            t0 = time.perf_counter()
            u0 = resource.getrusage(resource.RUSAGE_SELF)
            c0 = time.process_time()
            for _ in range(n):
                await _maybe(_one(c, client, task, audio))
            cpu = time.process_time() - c0
            u1 = resource.getrusage(resource.RUSAGE_SELF)
            wall = time.perf_counter() - t0
            after = server.stats()["accepted"]
        finally:
            await _maybe(c.close(client))  # type: ignore[attr-defined]
        # (user and system CPU apart: on loopback the kernel's part of a transfer — copies
        # into socket buffers, and TCP work done in the sender's context — is system time)
        return {"wall": wall, "cpu": cpu, "user": u1.ru_utime - u0.ru_utime,
                "sys": u1.ru_stime - u0.ru_stime, "units": n, "rate": n / wall,
                "conns_per_request": (after - before) / n}

    try:
        return _run(c, body)  # type: ignore[no-any-return]
    except Exception as exc:
        traceback.print_exc(limit=3)
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}


# ---------------------------------------------------------------------------------------------
# memory: one fresh process per measurement


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_peak() -> float | None:
    """Reset the peak resident set to the current one (Linux: ``5 > /proc/self/clear_refs``)
    and return it, or None where that is not possible (then `ru_maxrss` is read: its growth
    only counts what rises above the process's earlier peak)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status_mib("VmRSS:")
    except OSError:
        return None


def child(name: str, root: str, task: str) -> dict[str, Any]:
    """In a fresh process: one small call (imports, connection), then two full-size calls,
    the first measured by the peak resident set, the second under tracemalloc."""
    import tracemalloc

    transfer_only()
    c = by_name(name)
    # (os.urandom builds the bytes in place: no temporary to inflate the peak before the call)
    audio = os.urandom(AUDIO_BYTES) if task == "asr" else b""
    small = os.urandom(SMALL)
    out: dict[str, Any] = {}

    async def body() -> None:
        client = c.client(root)  # type: ignore[attr-defined]
        # warm up with a small call: imports, connection, templates — not the big buffers
        if task == "asr":
            await _maybe(_one(c, client, "asr", small))
        else:
            await _maybe(c.t2i(client, SMALL))  # type: ignore[attr-defined]
        gc.collect()
        rss0 = _reset_peak()
        peak0 = _maxrss_mib()
        t0 = time.perf_counter()
        await _maybe(_one(c, client, task, audio))
        out["seconds"] = time.perf_counter() - t0
        if rss0 is not None:
            out["rss_growth"] = max(_status_mib("VmHWM:") - rss0, 0.0)
            out["peak_source"] = "VmHWM"
        else:
            out["rss_growth"] = max(_maxrss_mib() - peak0, 0.0)
            out["peak_source"] = "ru_maxrss"
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await _maybe(_one(c, client, task, audio))
        out["tracemalloc_peak"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        await _maybe(c.close(client))  # type: ignore[attr-defined]

    _run(c, body)
    return out


def _spawn(name: str, root: str, task: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, "--root", root, "--task", task],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def memory(root: str) -> dict[str, Any]:
    jobs = [(c.name, task) for c in ALL for task in ("asr", "t2i")]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda job: _spawn(job[0], root, job[1]), jobs))
    rows: dict[str, dict[str, Any]] = {}
    for (name, task), result in zip(jobs, results, strict=True):
        c = by_name(name)
        payload = AUDIO_BYTES if task == "asr" else IMAGE_BYTES
        row = rows.setdefault(f"{name}|{task}", {
            "contender": name, "family": c.family, "transport": c.transport, "task": task,
            "payload_mib": payload / 2**20})
        if "error" in result:
            row.setdefault("errors", []).append(result["error"])
        else:
            row.update({k: result[k] for k in ("rss_growth", "peak_source",
                                               "tracemalloc_peak")})
    return {"rows": list(rows.values())}


# ---------------------------------------------------------------------------------------------


def run(quick: bool, seed: int = 0) -> dict[str, Any]:
    pinned = pin(CLIENT_CPU)
    transfer_only()
    rng = random.Random(seed)
    audio = audio_payload()
    rounds = 1 if quick else 5
    plan = {  # task: (title, kind, transfers or calls per measurement, warm-up calls)
        "asr": (f"automatic_speech_recognition: upload {AUDIO_BYTES / 2**20:.0f} MiB of audio",
                "cpu", 3 if quick else 50, 1),
        "t2i": (f"text_to_image: receive a {IMAGE_BYTES / 2**20:.0f} MiB image (transfer only: "
                "decoding swapped out)", "cpu", 3 if quick else 100, 1),
        "classify": ("sequential text_classification calls", "rate", 50 if quick else 2_000,
                     5 if quick else 20),
    }
    sections: dict[str, Any] = {
        task: {"title": title, "kind": kind, "n": n, "rounds": rounds,
               "samples": {c.name: [] for c in ALL},
               "contenders": {c.name: {"family": c.family, "transport": c.transport}
                              for c in ALL}}
        for task, (title, kind, n, _) in plan.items()
    }
    started = time.perf_counter()
    with bench_server() as server:
        for r in range(rounds):
            for task, (_, _, n, warmup) in plan.items():
                order = list(ALL)
                rng.shuffle(order)
                t = time.perf_counter()
                for c in order:
                    sections[task]["samples"][c.name].append(
                        measure(c, task, n, warmup, audio, server))
                print(f"  binary round {r + 1}/{rounds} {task}: {time.perf_counter() - t:.1f} s",
                      file=sys.stderr, flush=True)
        t = time.perf_counter()
        mem = memory(server.root)
        print(f"  binary memory: {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return {
        "date": stamp(),
        "pinned": pinned,
        "duration_s": time.perf_counter() - started,
        "machine": machine(),
        "versions": versions(),
        "audio_bytes": AUDIO_BYTES,
        "image_bytes": IMAGE_BYTES,
        "sections": sections,
        "memory": mem,
    }


def main() -> None:
    parser = section_parser(__doc__)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.root, args.task)))
        return
    emit(run(args.quick), args.json)


if __name__ == "__main__":
    main()

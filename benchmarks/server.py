"""The end-to-end benchmark server: its own process, raw asyncio, precomputed responses.

Run by `e2e_bench.py` and `memory_bench.py` (``python benchmarks/server.py --cpu 1``); it prints
``PORT <n>`` on its first stdout line and serves on 127.0.0.1 until its stdin closes (so it never
outlives the benchmark). Responses are built once and written as fast as the socket allows:
HTTP/1.1 keep-alive, one HTTP chunk per SSE event (as TGI, vLLM and llama.cpp write them).

The first path segment picks how a stream is written:

* ``/burst/...``: the whole prebuilt stream in one write (the kernel paces it);
* ``/paced<R>/...``: one event per write, R events per second (a token generator's rhythm);
* ``/gen/...``: chat streams generated on the fly in blocks (for 1,000,000-token streams,
  without holding the whole body in memory).

The rest of the path picks the route: ``.../chat/completions`` (OpenAI chat; ``stream`` and
``max_tokens`` from the JSON body; the stream is `corpus.chat_corpus`), ``.../embeddings``
(OpenAI embeddings), ``.../embed`` (TEI ``[[...]]``), anything else with ``inputs`` in the body
is TGI (``/generate_stream`` events from `corpus.tgi_corpus` when ``stream`` is true,
``max_new_tokens`` tokens). The binary routes (`binary_bench.py`): ``.../asr`` reads the
request body (raw audio bytes, any size) and answers ``{"text": "received <n> bytes"}``;
``.../t2i/<n>`` answers a prebuilt ``image/png`` body of about n bytes (a valid PNG of random
pixels, stored uncompressed, so its size is n); ``.../classify`` answers a text-classification
list ``[[{"label", "score"}, ...]]``. ``GET /stats`` answers ``{"accepted": n, "requests": m}``: how
many TCP connections were accepted and requests served, so that a benchmark can count the new
connections a client opened per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import struct
import sys
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import chat_corpus, tgi_corpus

EMBED_DIM = 384
_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_LAST = b"0\r\n\r\n"
_GEN_BLOCK = 1000


def _chunk(event: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(event), event)


def _json_response(obj: object, status: int = 200) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    reason = b"OK" if status == 200 else b"Error"
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        % (status, reason, len(body))
        + body
    )


def _chat_reply() -> bytes:
    return _json_response(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1732230000,
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "system_fingerprint": "fp_7a1f3e9",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        }
    )


def _vector() -> list[float]:
    return [round(((i * 7919) % 2000) / 1000.0 - 1.0, 6) for i in range(EMBED_DIM)]


def png(nbytes: int, seed: int = 0) -> bytes:
    """A valid RGB PNG of random pixels with about `nbytes` of pixel data, stored (deflate
    level 0), so the file is about `nbytes` long and costs nothing to build but the copy."""
    height = max(1, int((nbytes / 3) ** 0.5))
    width = max(1, -(-nbytes // (3 * height)))  # (at least nbytes of pixels)
    pixels = random.Random(seed).randbytes(width * height * 3)
    stride = width * 3
    raw = b"".join(b"\x00" + pixels[i : i + stride] for i in range(0, len(pixels), stride))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0))
            + chunk(b"IEND", b""))


def _binary_response(body: bytes, content_type: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n"
            % (content_type, len(body)) + body)


class Responses:
    """Every response, built once and cached."""

    def __init__(self) -> None:
        self.chat = _chat_reply()
        vector = _vector()
        self.tei = _json_response([vector])
        self.openai_embed = _json_response(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": vector}],
                "model": "bench-embed",
                "usage": {"prompt_tokens": 4, "total_tokens": 4},
            }
        )
        self.tgi_text = _json_response([{"generated_text": "Hello! How can I help you today?"}])
        self.classify = _json_response([[
            {"label": "POSITIVE", "score": 0.9998656511306763},
            {"label": "NEGATIVE", "score": 0.00013436275185085833},
        ]])
        self._images: dict[int, bytes] = {}
        self._streams: dict[tuple[str, int], list[bytes]] = {}
        self._joined: dict[tuple[str, int], bytes] = {}
        self._blocks: dict[str, tuple[bytes, bytes, bytes]] = {}

    def events(self, kind: str, n: int) -> list[bytes]:
        """The HTTP chunks (one per SSE event) of an n-token stream, without the last chunk."""
        key = (kind, n)
        chunks = self._streams.get(key)
        if chunks is None:
            corpus = chat_corpus(n) if kind == "chat" else tgi_corpus(n)
            chunks = self._streams[key] = [_chunk(e) for e in corpus.events]
            if len(self._streams) > 16:
                self._streams.pop(next(iter(self._streams)))
        return chunks

    def joined(self, kind: str, n: int) -> bytes:
        key = (kind, n)
        body = self._joined.get(key)
        if body is None:
            body = self._joined[key] = _SSE_HEAD + b"".join(self.events(kind, n)) + _LAST
            if len(self._joined) > 16:
                self._joined.pop(next(iter(self._joined)))
        return body

    def image(self, nbytes: int) -> bytes:
        """The whole ``image/png`` response (head and body) of an image of about `nbytes`."""
        response = self._images.get(nbytes)
        if response is None:
            response = self._images[nbytes] = _binary_response(png(nbytes), b"image/png")
            if len(self._images) > 4:
                self._images.pop(next(iter(self._images)))
        return response

    def blocks(self, kind: str) -> tuple[bytes, bytes, bytes]:
        """(role chunk, a block of `_GEN_BLOCK` token chunks, finish + usage + [DONE]) of a
        chat stream, for `gen` mode."""
        parts = self._blocks.get(kind)
        if parts is None:
            events = self.events(kind, _GEN_BLOCK)
            parts = (events[0], b"".join(events[1:-3]), b"".join(events[-3:]))
            self._blocks[kind] = parts
        return parts


_STREAM_TRUE = re.compile(rb'"stream"\s*:\s*true')
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)


class Server:
    """Routes requests to prebuilt responses and counts connections and requests."""

    def __init__(self) -> None:
        self.responses = Responses()
        self.accepted = 0
        self.requests = 0

    def respond(self, method: str, target: str, body: bytes) -> bytes | tuple[str, int, str]:
        """The whole response, or (kind, tokens, mode) of a stream to write."""
        path = target.split("?", 1)[0]
        r = self.responses
        if path == "/stats":
            return _json_response({"accepted": self.accepted, "requests": self.requests})
        mode, _, route = path.lstrip("/").partition("/")
        # The binary routes first: a 10 MB audio body is not searched for "stream".
        if route.endswith("asr"):
            return _json_response({"text": f"received {len(body)} bytes"})
        head, _, size = route.rpartition("/")
        if head.endswith("t2i"):
            return r.image(int(size))
        if route.endswith("classify"):
            return r.classify
        # Only a streamed request needs its JSON parsed (for its length): a plain call gets
        # its prebuilt answer at once.
        stream = _STREAM_TRUE.search(body) is not None
        if route.endswith("chat/completions"):
            if not stream:
                return r.chat
            return "chat", int(json.loads(body).get("max_tokens") or 16), mode
        if route.endswith("embeddings"):
            return r.openai_embed
        if route.endswith("embed"):
            return r.tei
        if b'"inputs"' in body:
            if not stream:
                return r.tgi_text
            parameters = json.loads(body).get("parameters") or {}
            return "tgi", int(parameters.get("max_new_tokens") or 16), mode
        return _json_response({"error": f"no route for {method} {path}"}, 404)


class Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 keep-alive, requests answered in order."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # (a bytearray: a 10 MB request body arrives in hundreds of reads, and `bytes +=`
        # would copy all of it on each)
        self.buf = bytearray()
        self.need = 0  # bytes `buf` must hold before the request at its start is complete
        self.busy = False  # a stream is being written; later requests wait in `buf`
        self.close_after = False
        self.transport: asyncio.Transport | None = None
        self.writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.accepted += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self.process()

    def process(self) -> None:
        while self.transport is not None:
            buf = self.buf
            if len(buf) < self.need:  # the body of a parsed head is still arriving
                return
            end = buf.find(b"\r\n\r\n", 0, 65536)
            if end < 0:
                return
            head = bytes(buf[:end])
            match = _CONTENT_LENGTH.search(head)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(buf) < total:
                self.need = total
                return
            self.need = 0
            body = bytes(buf[end + 4 : total])
            del buf[:total]
            self.close_after = _CLOSE.search(head) is not None
            method, target, _ = head[: head.find(b"\r\n")].decode("latin-1").split(" ", 2)
            self.server.requests += 1
            answer = self.server.respond(method, target, body)
            if isinstance(answer, bytes):
                self.transport.write(answer)
                if self.close_after:
                    self.transport.close()
                continue
            self.busy = True
            asyncio.get_running_loop().create_task(self.stream(*answer))
            return

    async def drain(self) -> None:
        if self.writable is not None:
            await self.writable

    async def stream(self, kind: str, n: int, mode: str) -> None:
        r = self.server.responses
        write = self.write
        if mode == "burst":
            write(r.joined(kind, n))
        elif mode.startswith("paced"):
            rate = float(mode[5:])
            write(_SSE_HEAD)
            start = time.perf_counter()
            for i, event in enumerate(r.events(kind, n)):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                write(event)
            write(_LAST)
        elif mode == "gen":
            if kind != "chat":
                raise ValueError("gen mode streams chat completions only")
            first, block, last = r.blocks(kind)
            write(_SSE_HEAD + first)
            blocks, rest = divmod(n, _GEN_BLOCK)
            for _ in range(blocks):
                write(block)
                await self.drain()
            tail = r.events(kind, _GEN_BLOCK)
            write(b"".join(tail[1 : 1 + rest]) + last + _LAST)
        else:
            raise ValueError(f"unknown mode {mode!r}")
        await self.drain()
        self.busy = False
        if self.close_after and self.transport is not None:
            self.transport.close()
        elif self.buf:
            self.process()

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)


def _watch_stdin() -> None:
    """Exit when the parent closes our stdin (or dies)."""
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    os._exit(0)


async def _serve(port: int) -> None:
    server = Server()
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: Connection(server), "127.0.0.1", port, backlog=512)
    # Warm the caches of the common streams before announcing the port.
    for kind in ("chat", "tgi"):
        server.responses.joined(kind, 8)
    server.responses.blocks("chat")
    print(f"PORT {srv.sockets[0].getsockname()[1]}", flush=True)
    async with srv:
        await srv.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {args.cpu % (os.cpu_count() or 1)})
    threading.Thread(target=_watch_stdin, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()

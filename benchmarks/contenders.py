"""The end-to-end contenders: one adapter per client, all driving the same server.

Every adapter builds a fresh client for `root` (``http://127.0.0.1:<port>``) and a stream
`mode` (``burst``, ``paced<R>``, ``gen``; see `server.py`), and implements:

* ``stream(client, kind, n)`` -> ``(tokens, t_first)``: one streamed call (``kind`` ``"chat"``:
  an OpenAI chat completion of ``n`` tokens; ``"tgi"``: a TGI ``/generate_stream`` with
  details), read to the end, each item produced as the library's own typed object and its token
  text read; ``t_first`` is the `time.perf_counter()` at the first non-empty token;
* ``chat(client)``: one non-streamed chat completion (typed result, content read);
* ``embed(client)``: one embedding call (384 floats; numpy array or the library's type);
* ``close(client)``.

Async adapters have the same methods as coroutines and a ``library`` (``asyncio``/``trio``).
Contenders that cannot do a task (openai has no TGI route) have ``tasks`` without it. The
floor is a hand-written blocking-socket client (HTTP/1.1, chunked decoding, naive SSE split,
``json.loads``): the least a Python client must spend.

`SYNC`, `ASYNC` and `ALL` list them; `by_name` finds one (used by the fresh processes of
`memory_bench.py`).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

MESSAGES = [{"role": "user", "content": "Say hello."}]
EMBED_TEXT = "The quick brown fox jumps over the lazy dog."
MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def chat_url(root: str, mode: str) -> str:
    return f"{root}/{mode}/v1"


def tgi_url(root: str, mode: str) -> str:
    return f"{root}/{mode}/tgi"


def embed_url(root: str, mode: str) -> str:
    return f"{root}/{mode}/embed"


class Contender:
    name = ""
    family = ""  # "inferwire", "hf_hub", "openai", "httpx", "floor"
    transport = "sync"  # "sync", "asyncio", "trio"
    library = "sync"
    tasks = frozenset({"chat_stream", "tgi_stream", "chat", "embed"})
    is_async = False

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---------------------------------------------------------------------------------------------
# the floor: a blocking socket, HTTP/1.1 by hand


class _RawConnection:
    """Keep-alive HTTP/1.1 over a blocking socket; chunked and content-length bodies."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _fill(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def request(self, path: str, payload: dict[str, Any]):
        sock = self._connect()
        body = json.dumps(payload).encode()
        sock.sendall(
            b"POST %s HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s"
            % (path.encode(), self.host.encode(), self.port, len(body), body)
        )
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            return self._chunked()
        length = int(lower.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(self.buf) < length:
            self._fill()
        out, self.buf = self.buf[:length], self.buf[length:]
        return out

    def _chunked(self):
        """Yield the payload of every socket read (all complete chunks in it, joined)."""
        while True:
            out = []
            buf = self.buf
            pos = 0
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(buf[pos:eol], 16)
                if size == 0:
                    if len(buf) < eol + 4:
                        break
                    self.buf = buf[eol + 4 :]
                    if out:
                        yield b"".join(out)
                    return
                stop = eol + 2 + size
                if len(buf) < stop + 2:
                    break
                out.append(buf[eol + 2 : stop])
                pos = stop + 2
            self.buf = buf[pos:]
            if out:
                yield b"".join(out)
            self._fill()


class RawSocketFloor(Contender):
    name = "raw socket floor (sync)"
    family = "floor"

    def client(self, root: str, mode: str) -> Any:
        host, port = root.removeprefix("http://").split(":")
        conn = _RawConnection(host, int(port))
        conn.mode = mode  # type: ignore[attr-defined]
        return conn

    def close(self, client: Any) -> None:
        client.close()

    def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        if kind == "chat":
            path = f"/{client.mode}/v1/chat/completions"
            payload: dict[str, Any] = {
                "model": MODEL, "messages": MESSAGES, "max_tokens": n, "stream": True,
            }
        else:
            path = f"/{client.mode}/tgi"
            payload = {"inputs": "Hi", "parameters": {"max_new_tokens": n, "details": True},
                       "stream": True}
        tokens = 0
        t_first = 0.0
        rest = b""
        loads = json.loads
        for data in client.request(path, payload):
            rest += data
            events = rest.split(b"\n\n")
            rest = events.pop()
            for event in events:
                body = event[5:].lstrip()
                if body == b"[DONE]":
                    continue
                obj = loads(body)
                if kind == "chat":
                    choices = obj["choices"]
                    text = choices[0]["delta"].get("content") if choices else None
                else:
                    text = obj["token"]["text"]
                if text:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    def chat(self, client: Any) -> None:
        body = client.request(f"/{client.mode}/v1/chat/completions",
                              {"model": MODEL, "messages": MESSAGES})
        assert json.loads(body)["choices"][0]["message"]["content"]

    def embed(self, client: Any) -> None:
        body = client.request(f"/{client.mode}/embed", {"inputs": EMBED_TEXT})
        import numpy as np

        assert np.asarray(json.loads(body), dtype=np.float32).shape[1] > 0


# ---------------------------------------------------------------------------------------------
# inferwire


class InferwireSync(Contender):
    name = "inferwire InferenceClient (sync)"
    family = "inferwire"

    def client(self, root: str, mode: str) -> Any:
        from inferwire import InferenceClient

        c = InferenceClient(max_retries=0)
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    def close(self, client: Any) -> None:
        client.close()

    def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        if kind == "chat":
            stream = client.chat_completion(MESSAGES, model=client.bench_urls[0], max_tokens=n,
                                            stream=True)
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        else:
            stream = client.text_generation("Hi", model=client.bench_urls[1], max_new_tokens=n,
                                            stream=True, details=True)
            for out in stream:
                if out.token.text:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    def chat(self, client: Any) -> None:
        out = client.chat_completion(MESSAGES, model=client.bench_urls[0])
        assert out.choices[0].message.content

    def embed(self, client: Any) -> None:
        assert client.feature_extraction(EMBED_TEXT, model=client.bench_urls[2]).shape[1] > 0


class _AsyncBase(Contender):
    is_async = True


class InferwireAsync(_AsyncBase):
    family = "inferwire"

    def __init__(self, library: str) -> None:
        self.library = self.transport = library
        self.name = f"inferwire AsyncInferenceClient ({library})"

    def client(self, root: str, mode: str) -> Any:
        from inferwire import AsyncInferenceClient

        c = AsyncInferenceClient(max_retries=0, async_library=self.library)  # type: ignore[arg-type]
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    async def close(self, client: Any) -> None:
        await client.close()

    async def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        if kind == "chat":
            stream = await client.chat_completion(MESSAGES, model=client.bench_urls[0],
                                                  max_tokens=n, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        else:
            stream = await client.text_generation("Hi", model=client.bench_urls[1],
                                                  max_new_tokens=n, stream=True, details=True)
            async for out in stream:
                if out.token.text:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    async def chat(self, client: Any) -> None:
        out = await client.chat_completion(MESSAGES, model=client.bench_urls[0])
        assert out.choices[0].message.content

    async def embed(self, client: Any) -> None:
        out = await client.feature_extraction(EMBED_TEXT, model=client.bench_urls[2])
        assert out.shape[1] > 0


# ---------------------------------------------------------------------------------------------
# huggingface_hub


class HubSync(Contender):
    name = "hf_hub InferenceClient (sync)"
    family = "hf_hub"

    def client(self, root: str, mode: str) -> Any:
        from huggingface_hub import InferenceClient

        c = InferenceClient()
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    def close(self, client: Any) -> None:
        client.close()

    def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        if kind == "chat":
            for chunk in client.chat_completion(MESSAGES, model=client.bench_urls[0],
                                                max_tokens=n, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        else:
            for out in client.text_generation("Hi", model=client.bench_urls[1],
                                              max_new_tokens=n, stream=True, details=True):
                if out.token.text:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    def chat(self, client: Any) -> None:
        out = client.chat_completion(MESSAGES, model=client.bench_urls[0])
        assert out.choices[0].message.content

    def embed(self, client: Any) -> None:
        assert client.feature_extraction(EMBED_TEXT, model=client.bench_urls[2]).shape[1] > 0


class HubAsync(_AsyncBase):
    family = "hf_hub"

    def __init__(self, library: str = "asyncio") -> None:
        self.library = self.transport = library
        self.name = f"hf_hub AsyncInferenceClient ({library})"

    def client(self, root: str, mode: str) -> Any:
        from huggingface_hub import AsyncInferenceClient

        c = AsyncInferenceClient()
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    async def close(self, client: Any) -> None:
        await client.close()

    async def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        if kind == "chat":
            stream = await client.chat_completion(MESSAGES, model=client.bench_urls[0],
                                                  max_tokens=n, stream=True)
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        else:
            stream = await client.text_generation("Hi", model=client.bench_urls[1],
                                                  max_new_tokens=n, stream=True, details=True)
            async for out in stream:
                if out.token.text:
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    async def chat(self, client: Any) -> None:
        out = await client.chat_completion(MESSAGES, model=client.bench_urls[0])
        assert out.choices[0].message.content

    async def embed(self, client: Any) -> None:
        out = await client.feature_extraction(EMBED_TEXT, model=client.bench_urls[2])
        assert out.shape[1] > 0


# ---------------------------------------------------------------------------------------------
# openai


class OpenAISync(Contender):
    name = "openai OpenAI (sync)"
    family = "openai"
    tasks = frozenset({"chat_stream", "chat", "embed"})

    def client(self, root: str, mode: str) -> Any:
        from openai import OpenAI

        return OpenAI(api_key="bench", base_url=chat_url(root, mode), max_retries=0)

    def close(self, client: Any) -> None:
        client.close()

    def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES,
                                                    max_tokens=n, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                if not tokens:
                    t_first = time.perf_counter()
                tokens += 1
        return tokens, t_first

    def chat(self, client: Any) -> None:
        out = client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert out.choices[0].message.content

    def embed(self, client: Any) -> None:
        out = client.embeddings.create(model="bench-embed", input=EMBED_TEXT)
        assert len(out.data[0].embedding) > 0


class OpenAIAsync(_AsyncBase):
    family = "openai"
    tasks = frozenset({"chat_stream", "chat", "embed"})

    def __init__(self, library: str) -> None:
        self.library = self.transport = library
        self.name = f"openai AsyncOpenAI ({library})"

    def client(self, root: str, mode: str) -> Any:
        from openai import AsyncOpenAI

        return AsyncOpenAI(api_key="bench", base_url=chat_url(root, mode), max_retries=0)

    async def close(self, client: Any) -> None:
        await client.close()

    async def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        tokens = 0
        t_first = 0.0
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES,
                                                      max_tokens=n, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                if not tokens:
                    t_first = time.perf_counter()
                tokens += 1
        return tokens, t_first

    async def chat(self, client: Any) -> None:
        out = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert out.choices[0].message.content

    async def embed(self, client: Any) -> None:
        out = await client.embeddings.create(model="bench-embed", input=EMBED_TEXT)
        assert len(out.data[0].embedding) > 0


# ---------------------------------------------------------------------------------------------
# httpx + httpx-sse (dicts, the lean reference)


def _sse_payload(kind: str, n: int) -> dict[str, Any]:
    if kind == "chat":
        return {"model": MODEL, "messages": MESSAGES, "max_tokens": n, "stream": True}
    return {"inputs": "Hi", "parameters": {"max_new_tokens": n, "details": True}, "stream": True}


def _sse_text(kind: str, obj: dict[str, Any]) -> str | None:
    if kind == "chat":
        choices = obj["choices"]
        return choices[0]["delta"].get("content") if choices else None
    return obj["token"]["text"]


class HttpxSync(Contender):
    name = "httpx + httpx-sse (sync)"
    family = "httpx"

    def client(self, root: str, mode: str) -> Any:
        import httpx

        c = httpx.Client()
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    def close(self, client: Any) -> None:
        client.close()

    def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        from httpx_sse import connect_sse

        url = client.bench_urls[0] + "/chat/completions" if kind == "chat" else client.bench_urls[1]
        tokens = 0
        t_first = 0.0
        loads = json.loads
        with connect_sse(client, "POST", url, json=_sse_payload(kind, n)) as source:
            for sse in source.iter_sse():
                if sse.data == "[DONE]":
                    continue
                if _sse_text(kind, loads(sse.data)):
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    def chat(self, client: Any) -> None:
        r = client.post(client.bench_urls[0] + "/chat/completions",
                        json={"model": MODEL, "messages": MESSAGES})
        r.raise_for_status()
        assert r.json()["choices"][0]["message"]["content"]

    def embed(self, client: Any) -> None:
        import numpy as np

        r = client.post(client.bench_urls[2], json={"inputs": EMBED_TEXT})
        r.raise_for_status()
        assert np.asarray(r.json(), dtype=np.float32).shape[1] > 0


class HttpxAsync(_AsyncBase):
    family = "httpx"

    def __init__(self, library: str) -> None:
        self.library = self.transport = library
        self.name = f"httpx + httpx-sse ({library})"

    def client(self, root: str, mode: str) -> Any:
        import httpx

        c = httpx.AsyncClient()
        c.bench_urls = (chat_url(root, mode), tgi_url(root, mode), embed_url(root, mode))
        return c

    async def close(self, client: Any) -> None:
        await client.aclose()

    async def stream(self, client: Any, kind: str, n: int) -> tuple[int, float]:
        from httpx_sse import aconnect_sse

        url = client.bench_urls[0] + "/chat/completions" if kind == "chat" else client.bench_urls[1]
        tokens = 0
        t_first = 0.0
        loads = json.loads
        async with aconnect_sse(client, "POST", url, json=_sse_payload(kind, n)) as source:
            async for sse in source.aiter_sse():
                if sse.data == "[DONE]":
                    continue
                if _sse_text(kind, loads(sse.data)):
                    if not tokens:
                        t_first = time.perf_counter()
                    tokens += 1
        return tokens, t_first

    async def chat(self, client: Any) -> None:
        r = await client.post(client.bench_urls[0] + "/chat/completions",
                              json={"model": MODEL, "messages": MESSAGES})
        r.raise_for_status()
        assert r.json()["choices"][0]["message"]["content"]

    async def embed(self, client: Any) -> None:
        import numpy as np

        r = await client.post(client.bench_urls[2], json={"inputs": EMBED_TEXT})
        r.raise_for_status()
        assert np.asarray(r.json(), dtype=np.float32).shape[1] > 0


SYNC: list[Contender] = [RawSocketFloor(), InferwireSync(), HubSync(), OpenAISync(), HttpxSync()]
ASYNC: list[Contender] = [
    InferwireAsync("asyncio"),
    InferwireAsync("trio"),
    HubAsync("asyncio"),
    OpenAIAsync("asyncio"),
    OpenAIAsync("trio"),
    HttpxAsync("asyncio"),
    HttpxAsync("trio"),
]
ALL: list[Contender] = SYNC + ASYNC


def by_name(name: str) -> Contender:
    for c in ALL:
        if c.name == name:
            return c
    raise KeyError(name)

"""Helpers of the conformance tests: recorded real traffic, loaded safely and served back.

Two sources (see `test_conformance_cassettes.py` and `test_conformance_real_streams.py`):

- ``tests/data/hf_cassettes/``: vcrpy YAML cassettes of real exchanges with the Hugging Face
  services (Apache-2.0 data from huggingface_hub; see ``tests/data/SOURCE.md``). `load_cassette`
  reads them with a safe loader that also accepts the ``!!python/object/new:_io.BytesIO``
  request bodies of old vcrpy versions, without ever constructing arbitrary Python objects.
- ``tests/data/real_streams/``: raw captures of local servers (status line, headers, body),
  replayed with `inferwire.testing.replay`.

Also here: an independent reference reading of recorded bodies (`sse_data`, `sse_json`) that
the tests compare inferwire's parsed results with, and `run`, which runs one scenario against
one of the three transports (httpx sync, asyncio, trio) through a small `Facade`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio
import yaml

from inferwire import AsyncInferenceClient, InferenceClient
from inferwire.testing import FakeInferenceServer, Reply, raw

__all__ = [
    "CASSETTES_DIR",
    "REAL_STREAMS_DIR",
    "TRANSPORTS",
    "CassetteLoader",
    "Facade",
    "Interaction",
    "cassette_files",
    "cassette_reply",
    "load_cassette",
    "require_cassettes",
    "run",
    "sse_data",
    "sse_json",
]

TRANSPORTS = ("sync", "asyncio", "trio")

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The test data carried in the repository (provenance and licenses: ``SOURCE.md`` there)."""

CASSETTES_DIR = DATA_DIR / "hf_cassettes"

REAL_STREAMS_DIR = DATA_DIR / "real_streams"


# -- safe YAML loading -------------------------------------------------------------------------

_BYTESIO_TAG = "tag:yaml.org,2002:python/object/new:_io.BytesIO"


def _construct_bytesio(loader: yaml.constructor.SafeConstructor, node: yaml.Node) -> bytes:
    """The bytes of an old vcrpy request body ``!!python/object/new:_io.BytesIO``.

    The node is ``{state: !!python/tuple [!!binary <base64>, <position>, <dict>]}``. Only the
    ``!!binary`` scalar is constructed (by the safe constructor); the tuple tag around it is
    never resolved, so nothing but bytes can come out of it.
    """
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "state"
                and isinstance(value_node, yaml.SequenceNode)
                and value_node.value
                and value_node.value[0].tag == "tag:yaml.org,2002:binary"
            ):
                value = loader.construct_object(value_node.value[0])
                if isinstance(value, bytes):
                    return value
    raise yaml.constructor.ConstructorError(
        None,
        None,
        "expected {state: [!!binary ..., ...]} in a BytesIO request body",
        node.start_mark,
    )


class CassetteLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` plus one constructor: old vcrpy ``_io.BytesIO`` bodies become bytes."""


CassetteLoader.add_constructor(_BYTESIO_TAG, _construct_bytesio)

if getattr(yaml, "__with_libyaml__", False):

    class FastCassetteLoader(yaml.CSafeLoader):
        """The same safe loader on libyaml's parser (the pure one takes ~10 s for all files)."""

    FastCassetteLoader.add_constructor(_BYTESIO_TAG, _construct_bytesio)
    _LOADER: type[Any] = FastCassetteLoader
else:  # pragma: no cover - PyYAML without libyaml
    _LOADER = CassetteLoader


def capture_body(name: str) -> bytes:
    """The body of a recorded exchange in `REAL_STREAMS_DIR` (status line and headers cut off)."""
    return (REAL_STREAMS_DIR / name).read_bytes().split(b"\r\n\r\n", 1)[1]


def require_cassettes() -> Path:
    """The cassette folder, or a test failure that says where it was expected."""
    if not CASSETTES_DIR.is_dir():
        pytest.fail(
            f"the Hugging Face cassettes are missing: expected the folder {CASSETTES_DIR} "
            "(it is part of the repository; see tests/data/SOURCE.md)",
            pytrace=False,
        )
    return CASSETTES_DIR


def cassette_files() -> list[str]:
    """The cassette file names, sorted ([] when the folder is missing)."""
    if not CASSETTES_DIR.is_dir():
        return []
    return sorted(p.name for p in CASSETTES_DIR.glob("*.yaml"))


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response, as the cassette stores them.

    Response bodies are stored decoded (vcrpy decompresses them), so the recorded
    ``Content-Encoding`` no longer matches the body; `cassette_reply` drops it.
    """

    cassette: str
    index: int
    method: str
    uri: str
    request_body: bytes | None
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def host(self) -> str:
        return urlsplit(self.uri).netloc

    @property
    def request_json(self) -> Any:
        """The recorded request body as JSON, or None (not recorded, or not JSON)."""
        if not self.request_body:
            return None
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").lower()

    @property
    def is_sse(self) -> bool:
        return "text/event-stream" in self.content_type

    def json(self) -> Any:
        return json.loads(self.body)


def _as_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"unexpected body type {type(value).__name__}")


@cache
def load_cassette(name: str) -> tuple[Interaction, ...]:
    """The interactions of cassette file `name` (loaded once per session)."""
    path = require_cassettes() / name
    with path.open("rb") as f:
        data = yaml.load(f, Loader=_LOADER)  # a safe loader
    out = []
    for index, item in enumerate(data["interactions"]):
        request, response = item["request"], item["response"]
        headers = tuple(
            (str(k), str(v))
            for k, values in (response.get("headers") or {}).items()
            for v in (values if isinstance(values, list) else [values])
        )
        out.append(
            Interaction(
                cassette=name,
                index=index,
                method=request["method"].upper(),
                uri=request["uri"],
                request_body=_as_bytes(request.get("body")),
                status=int(response["status"]["code"]),
                reason=str(response["status"].get("message") or ""),
                headers=headers,
                body=_as_bytes((response.get("body") or {}).get("string")) or b"",
            )
        )
    return tuple(out)


# -- serving a recorded response ---------------------------------------------------------------

_NOT_REPLAYED = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"}
)
_EVENT_END = re.compile(rb"(?:\r\n|\r|\n)(?:\r\n|\r|\n)")


def _events(body: bytes) -> list[bytes]:
    pieces, start = [], 0
    for match in _EVENT_END.finditer(body):
        pieces.append(body[start : match.end()])
        start = match.end()
    if start < len(body):
        pieces.append(body[start:])
    return pieces


def cassette_reply(interaction: Interaction) -> Reply:
    """The recorded response as a fake-server reply: same status, reason, headers and body.

    Framing and hop-by-hop headers are left to the fake server (``Content-Length`` or
    chunked, as recorded), and ``Content-Encoding`` is dropped because the stored body is
    already decoded. An event-stream body is sent one SSE event per write.
    """
    headers = [(k, v) for k, v in interaction.headers if k.lower() not in _NOT_REPLAYED]
    chunked = "chunked" in (interaction.header("transfer-encoding") or "").lower()
    body = interaction.body
    pieces = _events(body) if interaction.is_sse else ([body] if body else [])
    return raw(
        interaction.status, headers, pieces, reason=interaction.reason or None, chunked=chunked
    )


# -- an independent reading of recorded bodies -------------------------------------------------


def sse_data(body: bytes) -> Iterator[str]:
    """The ``data`` of each event of an SSE body (a deliberately plain reading: events split
    at blank lines, ``data:`` lines joined with newlines, one optional space dropped)."""
    text = body.decode("utf-8")
    for block in re.split(r"\r\n\r\n|\n\n|\r\r", text):
        lines = [line[5:] for line in re.split(r"\r\n|\n|\r", block) if line.startswith("data:")]
        if lines:
            yield "\n".join(line[1:] if line.startswith(" ") else line for line in lines)


def sse_json(body: bytes) -> tuple[list[Any], bool]:
    """The JSON payloads of an SSE body, and whether it ended with ``[DONE]``."""
    payloads: list[Any] = []
    done = False
    for data in sse_data(body):
        if data.strip() == "[DONE]":
            done = True
            break
        payloads.append(json.loads(data))
    return payloads, done


# -- one scenario on one transport -------------------------------------------------------------


class Facade:
    """The same awaitable surface over a sync or an async client."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        target: Any = self.client
        for part in method.split("."):  # "chat.completions.create" works too
            target = getattr(target, part)
        result = target(*args, **kwargs)
        return await result if self.is_async else result

    async def collect(self, stream: Any) -> list[Any]:
        if self.is_async:
            return [item async for item in stream]
        return list(stream)


Scenario = Callable[[Facade], Awaitable[Any]]


def run(
    transport: str,
    server: FakeInferenceServer,
    scenario: Scenario,
    *,
    path: str = "/v1",
    **client_kwargs: Any,
) -> Any:
    """Run `scenario` with a client of `transport` whose base URL is `path` on `server`."""
    base_url = server.url(path)
    client_kwargs.setdefault("timeout", 10)
    if transport == "sync":
        with InferenceClient(base_url=base_url, **client_kwargs) as client:
            return asyncio.run(scenario(Facade(client, False)))

    async def main() -> Any:
        async with AsyncInferenceClient(base_url=base_url, **client_kwargs) as client:
            return await scenario(Facade(client, True))

    if transport == "asyncio":
        return asyncio.run(main())
    if transport == "trio":
        return trio.run(main)
    raise ValueError(f"unknown transport {transport!r}")

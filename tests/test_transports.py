"""One scenario table, run against all three transports (httpx sync, asyncio, trio) on the
loopback fake server. Each scenario is written once, as an async function over a small facade
that hides whether the client underneath is sync or async."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from inferwire import (
    AuthenticationError,
    BadRequestError,
    IncompleteStreamError,
    InferenceClient,
    InferenceTimeoutError,
    MalformedResponseError,
    NotFoundError,
    ServerError,
    UnknownError,
    UnprocessableEntityError,
    UsageError,
    ValidationError,
)
from inferwire.testing import (
    FakeInferenceServer,
    chat_completion,
    chat_stream,
    error,
    fake_embedding,
    raw,
    tgi_stream,
)

from scenarios import TRANSPORTS, Facade, Scenario, run

MESSAGES = [{"role": "user", "content": "Say hello"}]
TOKENS = ["Hel", "lo", ",", " wor", "ld", "!"]


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer(tokens=TOKENS) as fake:
        yield fake


def text_of(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


# -- the scenarios ---------------------------------------------------------------------

async def stream_then_reuse(t: Facade, server: FakeInferenceServer) -> None:
    for _ in range(3):
        chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
        assert text_of(chunks) == "Hello, world!"
        assert chunks[-1].choices[0].finish_reason == "stop"
    assert server.connections_accepted == 1  # a stream read to the end leaves it reusable


async def non_stream(t: Facade, server: FakeInferenceServer) -> None:
    output = await t.call("chat_completion", MESSAGES, max_tokens=10)
    assert output.choices[0].message.content == "Hello, world!"
    assert server.last_request is not None
    assert server.last_request.json["max_tokens"] == 10
    assert server.last_request.json["stream"] is False


async def openai_alias(t: Facade, server: FakeInferenceServer) -> None:
    create = t.client.chat.completions.create
    result = create(MESSAGES, model="m")
    output = await result if t.is_async else result
    assert output.choices[0].message.content == "Hello, world!"
    assert server.last_request is not None and server.last_request.json["model"] == "m"


async def usage_and_tool_calls(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(["ok"], usage=True, tool_calls=[
        {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
    assert chunks[-1].choices == [] and chunks[-1].usage is not None  # usage-only chunk
    arguments = "".join(tc.function.arguments or "" for c in chunks if c.choices
                        for tc in c.choices[0].delta.tool_calls or [])
    assert arguments == '{"city": "Paris"}'


async def text_generation_tgi(t: Facade, server: FakeInferenceServer) -> None:
    server.route("POST", "/", tgi_stream(TOKENS, details=True), times=1)
    items = await t.collect(await t.call("text_generation", "Hi", stream=True, details=True))
    assert "".join(i.token.text for i in items) == "Hello, world!"
    assert items[-1].details.finish_reason == "length"
    words = await t.collect(await t.call("text_generation", "Hi", stream=True))
    assert words == TOKENS
    text = await t.call("text_generation", "Hi", max_new_tokens=6)
    assert text == "Hello, world!"
    server.route("POST", "/", tgi_stream(TOKENS, error="too many tokens",
                                         error_type="validation", error_after=1), times=1)
    with pytest.raises(ValidationError, match="too many tokens"):
        await t.collect(await t.call("text_generation", "Hi", stream=True))


async def completions_on_v1(t: Facade, server: FakeInferenceServer) -> None:
    words = await t.collect(await t.call("text_generation", "Hi", stream=True))
    assert "".join(words) == "Hello, world!"
    assert server.last_request is not None
    assert server.last_request.path == "/v1/completions"


async def embeddings_float_and_base64(t: Facade, server: FakeInferenceServer) -> None:
    for encoding in (None, "base64"):
        vectors = await t.call("feature_extraction", ["a", "bc"], encoding_format=encoding)
        assert isinstance(vectors, np.ndarray) and vectors.dtype == np.float32
        assert vectors.shape == (2, 16)
        np.testing.assert_array_equal(vectors[1], np.array(fake_embedding("bc"), np.float32))


async def error_statuses(t: Facade, server: FakeInferenceServer) -> None:
    cases: list[tuple[Any, type[Exception], str]] = [
        (error(400, message="messages must be an array"), BadRequestError,
         "messages must be an array"),
        (error(401, message="Invalid API Key"), AuthenticationError, "Invalid API Key"),
        (error(422, message="Input validation error", shape="tgi"), UnprocessableEntityError,
         "Input validation error"),
        (error(404, text="no such route"), NotFoundError, "no such route"),
        (error(502, html="<html><title>502 Bad Gateway</title></html>"), ServerError,
         "HTML error page: 502 Bad Gateway"),
    ]
    for stream in (False, True):
        for reply, cls, message in cases:
            server.enqueue(reply)
            with pytest.raises(cls) as info:
                await t.call("chat_completion", MESSAGES, stream=stream)
            assert info.value.server_message == message  # type: ignore[attr-defined]
    # errors were read to the end: the connection survives all ten
    output = await t.call("chat_completion", MESSAGES)
    assert output.choices[0].message.content == "Hello, world!"
    assert server.connections_accepted == 1


async def retry_after_503(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(error(503, message="Loading model", headers={"Retry-After": "0"}))
    server.enqueue(error(429, message="slow down", headers={"Retry-After": "0"}))
    chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
    assert text_of(chunks) == "Hello, world!"
    assert len(server.requests) == 3


async def closed_mid_stream(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(TOKENS, disconnect_after_events=3))
    stream = await t.call("chat_completion", MESSAGES, stream=True)
    with pytest.raises(IncompleteStreamError):
        await t.collect(stream)
    output = await t.call("chat_completion", MESSAGES)  # the client recovers
    assert output.choices[0].message.content == "Hello, world!"


async def read_timeout(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(chat_completion("late", delay_before_headers=3.0))
    with pytest.raises(InferenceTimeoutError) as info:
        await t.call("chat_completion", MESSAGES)
    assert isinstance(info.value, TimeoutError)
    server.enqueue(chat_stream(TOKENS, delay_between_events=3.0))
    stream = await t.call("chat_completion", MESSAGES, stream=True)
    with pytest.raises(InferenceTimeoutError):
        await t.collect(stream)


async def early_close_then_new_call(t: Facade, server: FakeInferenceServer) -> None:
    # paced events, so the body is still arriving when the stream is closed
    server.enqueue(chat_stream(TOKENS, delay_between_events=0.05))
    stream = await t.call("chat_completion", MESSAGES, stream=True)
    first = await t.collect(stream, limit=2)
    assert len(first) == 2
    await t.close_stream(stream)
    chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
    assert text_of(chunks) == "Hello, world!"
    assert server.connections_accepted == 2  # the dirty connection was not reused


async def gzip_bodies(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(TOKENS, gzip=True))
    server.enqueue(chat_completion("compressed", gzip=True))
    assert text_of(await t.collect(await t.call("chat_completion", MESSAGES, stream=True))) \
        == "Hello, world!"
    output = await t.call("chat_completion", MESSAGES)
    assert output.choices[0].message.content == "compressed"


async def framing_variants(t: Facade, server: FakeInferenceServer) -> None:
    for style in ({"crlf": True}, {"keepalive_comments": True}, {"event_lines": True},
                  {"multiline_data": True}, {"data_space": False}):
        server.enqueue(chat_stream(TOKENS, split_events=True, **style))
        chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
        assert text_of(chunks) == "Hello, world!", style


async def in_stream_errors(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(chat_stream(TOKENS, error="model crashed", error_after=2))
    stream = await t.call("chat_completion", MESSAGES, stream=True)
    with pytest.raises(UnknownError, match="model crashed"):
        await t.collect(stream)


async def malformed_stream(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(raw(200, [("content-type", "text/event-stream")],
                       [b"data: {\"choices\": [\n\n"]))
    with pytest.raises(MalformedResponseError):
        await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
    server.enqueue(raw(200, [("content-type", "application/json")], [b"<html>oops</html>"]))
    with pytest.raises(MalformedResponseError):
        await t.call("chat_completion", MESSAGES)


async def endpoint_utilities(t: Facade, server: FakeInferenceServer) -> None:
    assert await t.call("health_check") is True
    info = await t.call("get_endpoint_info")
    assert isinstance(info, dict) and info
    server.enqueue(error(503, message="loading"))
    assert await t.call("health_check") is False


async def usage_errors(t: Facade, server: FakeInferenceServer) -> None:
    with pytest.raises(UsageError) as info:
        await t.call("chat_completion", MESSAGES, max_completion_tokens=5)
    assert info.value.argument == "max_completion_tokens"
    assert "extra_body" in str(info.value)
    with pytest.raises(UsageError) as info:
        await t.call("chat_completion", "not a list")
    assert info.value.argument == "messages"
    assert server.requests == []  # nothing was sent


SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "stream, then the connection is reused": (stream_then_reuse, "/v1"),
    "non-stream": (non_stream, "/v1"),
    "chat.completions.create alias": (openai_alias, "/v1"),
    "usage-only chunk and tool calls": (usage_and_tool_calls, "/v1"),
    "TGI text generation": (text_generation_tgi, ""),
    "completions on /v1": (completions_on_v1, "/v1"),
    "embeddings float and base64": (embeddings_float_and_base64, "/v1"),
    "error statuses, JSON and non-JSON": (error_statuses, "/v1"),
    "503 and 429 retried after Retry-After": (retry_after_503, "/v1"),
    "server closes mid-stream": (closed_mid_stream, "/v1"),
    "slow server hits the read timeout": (read_timeout, "/v1"),
    "early close, then a new call": (early_close_then_new_call, "/v1"),
    "gzip": (gzip_bodies, "/v1"),
    "SSE framing variants split across chunks": (framing_variants, "/v1"),
    "in-stream errors": (in_stream_errors, "/v1"),
    "malformed stream and body": (malformed_stream, "/v1"),
    "health and info": (endpoint_utilities, ""),
    "usage errors send nothing": (usage_errors, "/v1"),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name: str, transport: str, server: FakeInferenceServer) -> None:
    scenario, path = SCENARIOS[name]
    timeout = 1.0 if scenario is read_timeout else 10.0
    run(transport, server, scenario, path=path, timeout=timeout)


def test_a_temporary_sync_client_streams_and_closes_its_pool_when_collected(
        server: FakeInferenceServer, recwarn: pytest.WarningsRecorder) -> None:
    """`for chunk in InferenceClient(...).chat_completion(stream=True)` (huggingface_hub fails
    here: collecting the client closes the response)."""
    import gc
    import warnings

    warnings.simplefilter("always", ResourceWarning)
    chunks = list(InferenceClient(base_url=server.url("/v1")).chat_completion(
        MESSAGES, stream=True))
    gc.collect()
    assert text_of(chunks) == "Hello, world!"
    assert not [w for w in recwarn if issubclass(w.category, ResourceWarning)]

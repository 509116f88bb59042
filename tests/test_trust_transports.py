"""The trust rules on all three transports (sync, asyncio, trio) against loopback servers:
credentials across redirects, malformed tokens, abandoned and finished streams, one async
client over many event loops, the whole-call deadline, resends, the environment."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from inferwire import (
    AsyncInferenceClient,
    InferenceClient,
    InferenceTimeoutError,
    OfflineModeError,
    RedirectError,
    TransportError,
    UsageError,
)
from inferwire.testing import FakeInferenceServer, chat_completion, close_connection, raw

from scenarios import TRANSPORTS, Facade, run

MESSAGES = [{"role": "user", "content": "hi"}]
SECRET = "hf_trustTEST0123456789"
CREDENTIALS = {"authorization", "x-api-key", "proxy-authorization", "cookie", "x-hf-bill-to"}


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer(tokens=["Hel", "lo"]) as fake:
        yield fake


@pytest.fixture
def other() -> Any:
    with FakeInferenceServer(tokens=["elsewhere"]) as fake:
        yield fake


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- credentials never cross origins; the redirect rules are the same everywhere ---------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("status", [302, 307])
def test_cross_origin_redirect_drops_credentials(
        transport: str, status: int, server: FakeInferenceServer,
        other: FakeInferenceServer) -> None:
    target = other.url("/v1/chat/completions")
    server.enqueue(raw(status, [("Location", target)]))
    other.route("GET", "/v1/chat/completions", chat_completion("elsewhere"))  # 302 → GET

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        output = await t.call("chat_completion", MESSAGES)
        assert output.choices[0].message.content == "elsewhere"

    run(transport, server, scenario, token=SECRET, bill_to="my-org",
        headers={"X-API-Key": "k", "Proxy-Authorization": "p"}, cookies={"c": "1"})
    first, = server.requests
    assert first.headers["authorization"] == f"Bearer {SECRET}"
    moved, = other.requests
    assert not CREDENTIALS & {k.lower() for k in moved.headers}
    assert moved.method == ("GET" if status == 302 else "POST")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_same_origin_303_becomes_a_get_and_keeps_the_token(
        transport: str, server: FakeInferenceServer) -> None:
    server.enqueue(raw(303, [("Location", "/v1/chat/completions?moved=1")]),
                   chat_completion("ok"))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        await t.call("chat_completion", MESSAGES)

    run(transport, server, scenario, token=SECRET)
    first, second = server.requests
    assert (first.method, second.method) == ("POST", "GET")
    assert second.headers["authorization"] == f"Bearer {SECRET}" and not second.body


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_bad_location_is_a_server_side_error(transport: str, location: str,
                                             server: FakeInferenceServer) -> None:
    server.enqueue(raw(302, [("Location", location)]))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        with pytest.raises(RedirectError) as info:
            await t.call("chat_completion", MESSAGES)
        assert not isinstance(info.value, UsageError)

    run(transport, server, scenario)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_redirect_limit_is_the_same_on_every_transport(
        transport: str, server: FakeInferenceServer) -> None:
    server.route("POST", "/v1/chat/completions",
                 raw(307, [("Location", "/v1/chat/completions")]))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        with pytest.raises(RedirectError, match="too many redirects"):
            await t.call("chat_completion", MESSAGES)

    run(transport, server, scenario)
    assert len(server.requests) == 21


# -- a malformed token never reaches the wire, and never shows ----------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_token_read_from_a_file_works_and_a_broken_one_is_refused_unquoted(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        await t.call("chat_completion", MESSAGES)

    run(transport, server, scenario, token=SECRET + "\n")
    assert server.last_request is not None
    assert server.last_request.headers["authorization"] == f"Bearer {SECRET}"
    with pytest.raises(UsageError) as info:
        run(transport, server, scenario, token=SECRET[:6] + "\r\n" + SECRET[6:])
    assert info.value.argument == "token"
    assert SECRET[:6] not in str(info.value) and SECRET[6:] not in str(info.value)


@pytest.mark.parametrize("cls", [InferenceClient, AsyncInferenceClient])
def test_clients_do_not_pickle_and_expose_token_and_headers(cls: type) -> None:
    client = cls(base_url="http://127.0.0.1:9/v1", token=SECRET, headers={"X-A": "1"})
    with pytest.raises(UsageError, match="cannot be pickled"):
        pickle.dumps(client)
    assert client.token == SECRET and client.headers == {"x-a": "1"}
    with pytest.raises(TypeError):
        cls(base_url="http://127.0.0.1:9/v1", token=True)
    def call_with_an_unknown_keyword() -> None:
        call = cls(base_url="http://127.0.0.1:9/v1").chat_completion(MESSAGES,
                                                                     max_completion_tokens=3)
        if asyncio.iscoroutine(call):
            asyncio.run(call)

    with pytest.raises(TypeError, match="unknown parameter"):
        call_with_an_unknown_keyword()


# -- abandoned streams release their connection; finished streams do not wait ------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_500_abandoned_streams_leave_no_open_descriptor(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        await t.call("chat_completion", MESSAGES, max_tokens=1)  # the pool's first socket
        gc.collect()
        before = _open_fds()
        for i in range(500):
            stream = await t.call("chat_completion", MESSAGES, stream=True)
            if i % 2:
                await t.collect(stream, limit=1)  # left by break
            del stream  # dropped without close()
        gc.collect()
        assert _open_fds() <= before + 1

    run(transport, server, scenario)


def test_a_stream_cancelled_while_user_code_runs_releases_its_socket(
        server: FakeInferenceServer) -> None:
    async def main() -> None:
        async with AsyncInferenceClient(base_url=server.url("/v1"), timeout=10) as client:
            await client.chat_completion(MESSAGES, max_tokens=1)
            gc.collect()
            before = _open_fds()
            for _ in range(100):
                async def consume() -> None:
                    stream = await client.chat_completion(MESSAGES, stream=True)
                    async for _chunk in stream:
                        await asyncio.sleep(10)  # the caller's own code, cancelled here

                task = asyncio.ensure_future(consume())
                await asyncio.sleep(0.005)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                del task
            gc.collect()
            assert _open_fds() <= before + 1

    asyncio.run(main())


def _done_then(tail: bytes, delay: float) -> Any:
    events = (b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
              b"data: [DONE]\n\n")
    return raw(200, [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")],
               [b"%x\r\n%s\r\n" % (len(events), events), tail],
               delay_between_events=delay)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stream_ends_at_done_without_waiting_for_the_body_end(
        transport: str, server: FakeInferenceServer) -> None:
    server.enqueue(_done_then(b"0\r\n\r\n", delay=3.0))  # the terminator comes 3 s later

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        start = time.monotonic()
        chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
        assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
        assert time.monotonic() - start < 1.5

    run(transport, server, scenario)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stream_ends_at_done_when_the_server_then_drops_the_connection(
        transport: str, server: FakeInferenceServer) -> None:
    server.enqueue(_done_then(b"5\r\nbro", delay=0.0))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
        assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
        output = await t.call("chat_completion", MESSAGES)  # the client is still fine
        assert output.choices[0].message.content == "Hello"

    run(transport, server, scenario)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_normally_ended_stream_leaves_its_connection_reusable(
        transport: str, server: FakeInferenceServer) -> None:
    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        for _ in range(3):
            await t.collect(await t.call("chat_completion", MESSAGES, stream=True))

    run(transport, server, scenario)
    assert server.connections_accepted == 1


# -- one async client, many event loops ------------------------------------------------------


def test_one_async_client_over_successive_asyncio_runs(server: FakeInferenceServer) -> None:
    client = AsyncInferenceClient(base_url=server.url("/v1"), timeout=10)

    async def call() -> str:
        output = await client.chat_completion(MESSAGES)
        return str(output.choices[0].message.content)

    assert asyncio.run(call()) == "Hello"
    assert asyncio.run(call()) == "Hello"  # the idle connection of the dead loop is dropped
    asyncio.run(client.close())


def test_one_async_client_refuses_a_second_library(server: FakeInferenceServer) -> None:
    client = AsyncInferenceClient(base_url=server.url("/v1"), timeout=10)

    async def call() -> None:
        await client.chat_completion(MESSAGES)

    asyncio.run(call())
    with pytest.raises(UsageError, match="first used under asyncio"):
        trio.run(call)


# -- the whole-call deadline ----------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_deadline_stops_a_server_that_sends_one_byte_at_a_time(
        transport: str, server: FakeInferenceServer) -> None:
    body = json.dumps({"choices": [{"index": 0, "message": {"content": "x" * 40}}]}).encode()
    server.enqueue(raw(200, [("Content-Type", "application/json"),
                             ("Content-Length", str(len(body)))],
                       [body[i:i + 1] for i in range(len(body))], delay_between_events=0.1))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        start = time.monotonic()
        with pytest.raises(InferenceTimeoutError, match="deadline"):
            await t.call("chat_completion", MESSAGES)
        assert time.monotonic() - start < 2.5

    run(transport, server, scenario, timeout=5, deadline=1.0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_deadline_covers_retry_sleeps(transport: str, server: FakeInferenceServer) -> None:
    server.route("POST", "/v1/chat/completions",
                 raw(503, [("Retry-After", "20")], [b'{"error": "loading"}']))

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        start = time.monotonic()
        with pytest.raises(InferenceTimeoutError, match="deadline"):
            await t.call("chat_completion", MESSAGES)
        assert time.monotonic() - start < 1.0

    run(transport, server, scenario, deadline=2.0)


# -- a POST the server may have read is not sent again ------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_post_is_not_resent_after_the_server_closed_without_answering(
        transport: str, server: FakeInferenceServer) -> None:
    server.enqueue(chat_completion("first"), close_connection())

    async def scenario(t: Facade, server: FakeInferenceServer) -> None:
        await t.call("chat_completion", MESSAGES)  # a keep-alive connection to reuse
        with pytest.raises(TransportError, match="may have been processed"):
            await t.call("chat_completion", MESSAGES)

    run(transport, server, scenario, max_retries=3)
    assert len(server.requests) == 2


# -- the environment ---------------------------------------------------------------------


def test_saved_token_is_read_and_sent_only_to_hugging_face(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FakeInferenceServer) -> None:
    from inferwire._common import saved_token

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                 "HF_HUB_DISABLE_IMPLICIT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert saved_token() is None
    (tmp_path / "token").write_text(SECRET + "\n")
    assert saved_token() == SECRET + "\n"
    other_file = tmp_path / "elsewhere"
    other_file.write_text("hf_fromTokenPath\n")
    monkeypatch.setenv("HF_TOKEN_PATH", str(other_file))
    assert saved_token() == "hf_fromTokenPath\n"
    monkeypatch.setenv("HF_TOKEN", "hf_fromEnv")
    assert saved_token() == "hf_fromEnv"
    monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
    assert saved_token() is None
    monkeypatch.delenv("HF_HUB_DISABLE_IMPLICIT_TOKEN")
    # the implicit token is not sent to a local server
    with InferenceClient(base_url=server.url("/v1")) as client:
        client.chat_completion(MESSAGES)
        assert client.token is None
    assert server.last_request is not None
    assert "authorization" not in server.last_request.headers


def test_offline_mode_reaches_local_servers_only(
        monkeypatch: pytest.MonkeyPatch, server: FakeInferenceServer) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with InferenceClient(base_url=server.url("/v1")) as local:
        assert local.chat_completion(MESSAGES).choices[0].message.content == "Hello"
    with InferenceClient(token="hf_x") as hub, pytest.raises(OfflineModeError):
        hub.chat_completion(MESSAGES, model="org/model")


def test_hf_inference_endpoint_is_honoured(monkeypatch: pytest.MonkeyPatch,
                                           server: FakeInferenceServer) -> None:
    monkeypatch.setenv("HF_INFERENCE_ENDPOINT", server.url("/"))
    server.route("GET", "/models/org/model/info", raw(200, [("Content-Type",
                                                          "application/json")], [b'{"a": 1}']))
    with InferenceClient() as client:
        assert client.get_endpoint_info(model="org/model") == {"a": 1}

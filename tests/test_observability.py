"""Observability: one DEBUG line per request on the ``inferwire`` logger (retries included, as
their own lines), no secret in any record, and ``HF_DEBUG`` curl commands on stderr; the same
on the sync, asyncio and trio clients, against the loopback fake server."""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
import socket
from typing import Any

import pytest
import trio
from conformance import TRANSPORTS, Facade, run

from inferwire import AsyncInferenceClient, ConnectError, InferenceClient, RetryPolicy
from inferwire.sansio import Request
from inferwire.sansio._effects import Open, Send
from inferwire.sansio._exchange import Runtime, open_response, send_request
from inferwire.testing import FakeInferenceServer, chat_completion, error, raw

from flowscript import Conversation

MESSAGES = [{"role": "user", "content": "Say hello"}]
TOKEN = "hf_observabilitySecretToken1234"
FAST_RETRY = RetryPolicy(max_retries=2, backoff_initial=0.001, backoff_max=0.001)
PATH = "/v1/chat/completions"


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer(tokens=["ok"]) as fake:
        yield fake


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="inferwire")
    return caplog


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "inferwire" and hasattr(r, "attempt")]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def chat(t: Facade, stream: bool = False) -> str:
    if stream:
        chunks = await t.collect(await t.call("chat_completion", MESSAGES, stream=True))
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    output = await t.call("chat_completion", MESSAGES)
    return str(output.choices[0].message.content)


# -- the core: the attempt number is the core's decision ----------------------------------------

REQ = Request("POST", "http://server/v1/chat/completions", (), b"{}")


def test_the_core_numbers_attempts_on_send_and_open() -> None:
    runtime = Runtime(retry=RetryPolicy(max_retries=2), jitter=lambda: 1.0)
    for flow, kind in ((send_request(REQ, runtime), Send), (open_response(REQ, runtime), Open)):
        talk = Conversation(flow)
        first = talk.step
        assert isinstance(first, kind) and first.attempt == 1
        talk.fail(ConnectError("refused"))
        talk.slept()
        second = talk.step
        assert isinstance(second, kind) and second.attempt == 2
        assert second.request == first.request
        if kind is Send:  # a 503 retried, then a redirect: the redirect keeps the count
            talk.respond(503, b"loading", {"Retry-After": "0"})
            talk.slept()
            third = talk.step
            assert isinstance(third, Send) and third.attempt == 3
            talk.respond(307, b"", {"Location": "http://server/elsewhere"})
            hop = talk.step
            assert isinstance(hop, Send) and hop.attempt == 3
            assert hop.request.url == "http://server/elsewhere"


# -- one line per request ---------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("stream", [False, True])
def test_one_debug_line_per_request_with_its_fields(
        transport: str, stream: bool, server: FakeInferenceServer,
        debug_log: pytest.LogCaptureFixture) -> None:
    server.route("POST", PATH, chat_completion("ok", headers={"x-request-id": "req-42"})
                 if not stream else raw(200, [("content-type", "text/event-stream"),
                                             ("x-request-id", "req-42")],
                                        [b'data: {"choices":[{"index":0,"delta":'
                                         b'{"content":"ok"}}]}\n\n', b"data: [DONE]\n\n"]))
    assert run(transport, server, lambda t: chat(t, stream)) == "ok"
    (record,) = request_records(debug_log)
    url = server.url(PATH)
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith(f"POST {url} status=200 elapsed_ms=")
    assert record.getMessage().endswith(" request_id=req-42 attempt=1")
    fields = record.__dict__
    assert (fields["http_method"], fields["http_url"], fields["http_status"],
            fields["http_error"], fields["request_id"], fields["attempt"]) == (
        "POST", url, 200, None, "req-42", 1)
    assert isinstance(fields["elapsed_ms"], float) and fields["elapsed_ms"] >= 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_retried_503_logs_two_lines_attempts_1_and_2(
        transport: str, server: FakeInferenceServer, debug_log: pytest.LogCaptureFixture
) -> None:
    server.enqueue(error(503, message="Loading model",
                         headers={"Retry-After": "0", "x-request-id": "first"}))
    assert run(transport, server, chat, max_retries=FAST_RETRY) == "ok"
    records = request_records(debug_log)
    assert [(r.__dict__["http_status"], r.__dict__["attempt"]) for r in records] == [
        (503, 1), (200, 2)]
    assert records[0].__dict__["request_id"] == "first"
    assert " status=503 " in records[0].getMessage()
    assert records[1].getMessage().endswith(" attempt=2")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_connect_failure_logs_the_error_class_per_attempt(
        transport: str, debug_log: pytest.LogCaptureFixture) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"

    async def scenario(t: Facade) -> None:
        with pytest.raises(ConnectError):
            await t.call("chat_completion", MESSAGES)

    run_at(transport, base_url, scenario, max_retries=FAST_RETRY)
    records = request_records(debug_log)
    assert [r.__dict__["attempt"] for r in records] == [1, 2, 3]
    for record in records:
        assert record.__dict__["http_error"] == "ConnectError"
        assert record.__dict__["http_status"] is None
        assert " error=ConnectError " in record.getMessage()
        assert " request_id=- " in record.getMessage()


def run_at(transport: str, base_url: str, scenario: Any, **kwargs: Any) -> None:
    """`scenarios.run` for a base URL that is not on a fake server."""
    if transport == "sync":
        with InferenceClient(base_url=base_url, **kwargs) as client:
            asyncio.run(scenario(Facade(client, False)))
        return

    async def main() -> None:
        async with AsyncInferenceClient(base_url=base_url, **kwargs) as client:
            await scenario(Facade(client, True))

    if transport == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_redirect_logs_both_requests(transport: str, server: FakeInferenceServer,
                                       debug_log: pytest.LogCaptureFixture) -> None:
    server.route("POST", "/old/v1/chat/completions",
                 raw(307, [("location", server.url(PATH))], [b""]))
    assert run(transport, server, chat, path="/old/v1") == "ok"
    records = request_records(debug_log)
    assert [(r.__dict__["http_url"], r.__dict__["http_status"], r.__dict__["attempt"])
            for r in records] == [(server.url("/old/v1/chat/completions"), 307, 1),
                                  (server.url(PATH), 200, 1)]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_successful_calls_log_nothing_at_info_or_above(
        transport: str, server: FakeInferenceServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert run(transport, server, chat) == "ok"
    assert run(transport, server, lambda t: chat(t, True)) == "ok"
    assert len(request_records(caplog)) == 2
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_nothing_is_logged_or_printed_when_debug_is_off(
        transport: str, server: FakeInferenceServer, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_DEBUG", raising=False)
    caplog.set_level(logging.INFO, logger="inferwire")
    assert run(transport, server, chat) == "ok"
    assert caplog.records == []
    assert capsys.readouterr().err == ""


# -- never a secret -----------------------------------------------------------------------------

def _secret_scenario(server: FakeInferenceServer) -> None:
    """The first request is redirected to a URL carrying the token in its query, and that
    one answers 503 once (a retry), then succeeds."""
    target = server.url(f"/v2/chat/completions?api_key={TOKEN}&model=m")
    server.route("POST", "/v1/chat/completions", raw(307, [("location", target)], [b""]))
    server.route("POST", "/v2/chat/completions", error(503, headers={"Retry-After": "0"}),
                 times=1)
    server.route("POST", "/v2/chat/completions", chat_completion("ok"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_token_never_appears_in_any_record_or_curl_command(
        transport: str, server: FakeInferenceServer, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DEBUG", "1")
    caplog.set_level(logging.NOTSET)
    caplog.set_level(logging.DEBUG, logger="inferwire")
    _secret_scenario(server)
    assert run(transport, server, chat, token=TOKEN, max_retries=FAST_RETRY,
               headers={"X-Api-Key": TOKEN, "Cookie": f"session={TOKEN}",
                        "X-Custom-Token": TOKEN}) == "ok"
    assert server.requests[0].header("authorization") == f"Bearer {TOKEN}"  # it was sent
    assert server.requests[-1].params["api_key"] == TOKEN
    records = request_records(caplog)
    assert [r.__dict__["attempt"] for r in records] == [1, 1, 2]
    assert "api_key=***&model=m" in records[1].getMessage()
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)
    assert TOKEN not in caplog.text
    err = capsys.readouterr().err
    assert err.count("curl ") == 3
    assert TOKEN not in err


def test_urls_lose_userinfo_and_secret_query_values() -> None:
    from inferwire._observe import redact_url

    assert redact_url("https://h/v1/x") == "https://h/v1/x"
    assert redact_url(f"https://me:{TOKEN}@h:8080/v1?a=1") == "https://***@h:8080/v1?a=1"
    assert redact_url(f"https://h/p?api_key={TOKEN}&q=ok&access_token={TOKEN}"
                      f"&X-Amz-Signature={TOKEN}&flag") == (
        "https://h/p?api_key=***&q=ok&access_token=***&X-Amz-Signature=***&flag")


# -- HF_DEBUG: an equivalent curl command -------------------------------------------------------

def _curl_lines(err: str) -> list[list[str]]:
    return [shlex.split(line) for line in err.splitlines() if line.startswith("curl ")]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hf_debug_prints_a_valid_curl_command_per_request(
        transport: str, server: FakeInferenceServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DEBUG", "1")
    server.enqueue(error(503, headers={"Retry-After": "0"}))
    assert run(transport, server, chat, token=TOKEN, max_retries=FAST_RETRY) == "ok"
    commands = _curl_lines(capsys.readouterr().err)
    assert len(commands) == 2  # the retry is sent again, so printed again
    words = commands[0]
    assert words[:3] == ["curl", "-X", "POST"]
    assert words[-1] == server.url(PATH)
    headers = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
    assert "authorization: Bearer <TOKEN>" in headers
    assert "content-type: application/json" in headers
    body = words[words.index("-d") + 1]
    assert json.loads(body)["messages"] == MESSAGES
    assert commands[1] == words


def test_hf_debug_is_read_when_the_client_is_built(
        server: FakeInferenceServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_DEBUG", raising=False)
    with InferenceClient(base_url=server.url("/v1")) as quiet:
        monkeypatch.setenv("HF_DEBUG", "1")
        quiet.chat_completion(MESSAGES)
        assert capsys.readouterr().err == ""
        with InferenceClient(base_url=server.url("/v1")) as loud:
            loud.chat_completion(MESSAGES)
    assert len(_curl_lines(capsys.readouterr().err)) == 1


def test_curl_bodies_binary_and_large() -> None:
    from inferwire._observe import CURL_BODY_LIMIT, curl_command

    binary = Request("POST", "http://h/x", (("content-type", "image/png"),),
                     b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    words = shlex.split(curl_command(binary))
    assert words[words.index("-d") + 1] == "<264 bytes of binary data>"
    big = Request("POST", "http://h/x", (), b'{"a": "' + b"x" * 5000 + b'"}')
    shown = shlex.split(curl_command(big))
    text = shown[shown.index("-d") + 1]
    assert text.startswith('{"a": "xxx') and text.endswith("[truncated: 5009 bytes in all]")
    assert len(text) < CURL_BODY_LIMIT + 50
    quoted = Request("POST", "http://h/x?token=abc", (("authorization", "Key abc"),
                                                      ("x-api-key", "abc")),
                     b"""{"q": "it's $HOME `x`\\n"}""")
    words = shlex.split(curl_command(quoted))
    assert words[words.index("-d") + 1] == """{"q": "it's $HOME `x`\\n"}"""
    assert "authorization: Key <TOKEN>" in words and "x-api-key: <REDACTED>" in words
    assert words[-1] == "http://h/x?token=***"
    assert "abc" not in curl_command(quoted).replace("http://h/x?token=***", "")
    assert "-d" not in shlex.split(curl_command(Request("GET", "http://h/x")))

"""The sync client on the shared pool, and on a user-supplied httpx client."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from inferwire import InferenceClient
from inferwire.testing import FakeInferenceServer, chat_completion, raw

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server() -> Any:
    with FakeInferenceServer(tokens=["ok"]) as fake:
        yield fake


def test_redirects_are_followed_once_by_the_core(server: FakeInferenceServer) -> None:
    """The core follows the redirect: the redirecting server sees the request once, and a
    307 keeps the method and body."""
    server.route("POST", "/old/v1/chat/completions",
                 raw(307, [("location", server.url("/v1/chat/completions"))], [b""]))
    with InferenceClient(base_url=server.url("/old/v1")) as client:
        output = client.chat_completion(MESSAGES)
    assert output.choices[0].message.content == "ok"
    assert [r.path for r in server.requests] == ["/old/v1/chat/completions",
                                                  "/v1/chat/completions"]
    assert server.requests[-1].json == server.requests[0].json  # the body followed the 307


def test_a_user_httpx_client_does_not_follow_redirects_itself(server: FakeInferenceServer
                                                              ) -> None:
    server.route("POST", "/old/v1/chat/completions",
                 raw(302, [("location", "/v1/chat/completions")], [b""]))
    server.route("GET", "/v1/chat/completions", chat_completion("moved"))
    http = httpx.Client(follow_redirects=True)
    with InferenceClient(base_url=server.url("/old/v1"), http_client=http) as client:
        assert client.chat_completion(MESSAGES).choices[0].message.content == "moved"
    assert server.requests[-1].method == "GET"  # the core's rule (302 POST -> GET), not httpx's
    http.close()


def test_a_user_httpx_client_body_is_decoded_by_inferwire(server: FakeInferenceServer) -> None:
    server.enqueue(chat_completion("zipped", gzip=True))
    with httpx.Client() as http, InferenceClient(base_url=server.url("/v1"),
                                                 http_client=http) as client:
        assert client.chat_completion(MESSAGES).choices[0].message.content == "zipped"


def test_a_user_supplied_httpx_client_is_used_and_left_open(server: FakeInferenceServer
                                                            ) -> None:
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]})
    with InferenceClient(base_url=server.url("/v1"), http_client=http) as client:
        chunks = list(client.chat_completion(MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "ok"
    assert seen == [server.url("/v1/chat/completions")]
    assert not http.is_closed
    http.close()


def test_one_client_from_many_threads(server: FakeInferenceServer) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    with InferenceClient(base_url=server.url("/v1"), timeout=10) as client:

        def work() -> None:
            try:
                for _ in range(10):
                    stream = client.chat_completion(MESSAGES, stream=True)
                    results.append("".join(c.choices[0].delta.content or "" for c in stream
                                           if c.choices))
                    results.append(client.chat_completion(MESSAGES).choices[0].message.content)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert results == ["ok"] * 160
    assert server.connections_accepted <= 8  # connections were pooled and reused

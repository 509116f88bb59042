"""How to test your own streaming code with inferwire.testing (run by inferwire's test suite).

The code under test is `summarize`, a function of *your* application that streams a chat answer.
"""

from __future__ import annotations

import pytest

from inferwire import IncompleteStreamError, InferenceClient, RateLimitError
from inferwire.testing import FakeInferenceServer, chat_stream, error


def summarize(client: InferenceClient, text: str) -> str:
    """Application code: stream a summary and return it."""
    parts = []
    for chunk in client.chat_completion([{"role": "user", "content": f"Summarize: {text}"}],
                                        stream=True, max_tokens=50):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts)


@pytest.fixture
def server():
    with FakeInferenceServer(tokens=["A", " short", " summary."]) as fake:
        yield fake


@pytest.fixture
def client(server):
    with InferenceClient(base_url=server.url("/v1"), timeout=5) as client:
        yield client


def test_summarize_streams_the_answer(server, client):
    assert summarize(client, "a long text") == "A short summary."
    request = server.last_request
    assert request.json["stream"] is True
    assert request.json["max_tokens"] == 50


def test_summarize_survives_a_busy_server(server, client):
    server.enqueue(error(429, message="slow down", headers={"Retry-After": "0"}))
    assert summarize(client, "x") == "A short summary."      # retried once


def test_summarize_reports_rate_limits(server):
    with InferenceClient(base_url=server.url("/v1"), max_retries=0) as impatient:
        server.enqueue(error(429, message="slow down"))
        with pytest.raises(RateLimitError, match="slow down"):
            summarize(impatient, "x")


def test_summarize_with_a_connection_cut_mid_stream(server, client):
    server.enqueue(chat_stream(["A", " short"], disconnect_after_events=2))
    with pytest.raises(IncompleteStreamError):
        summarize(client, "x")


def test_summarize_with_awkward_framing(server, client):
    server.enqueue(chat_stream(["A", " short", " summary."], crlf=True, split_events=1,
                               keepalive_comments=True))
    assert summarize(client, "x") == "A short summary."

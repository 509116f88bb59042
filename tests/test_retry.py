"""The retry policy and the shared send/open sub-flows, as scripted conversations."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferwire.sansio import Request
from inferwire.sansio._errors import (
    AuthenticationError,
    ConnectError,
    InferenceTimeoutError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    UsageError,
)
from inferwire.sansio._exchange import Runtime, open_response, send_request
from inferwire.sansio._retry import RetryPolicy, parse_retry_after

from flowscript import Conversation

REQ = Request("POST", "http://server/v1/chat/completions", (), b"{}")
NOW = 1_800_000_000.0


def runtime(max_retries: int = 2, jitter: float = 1.0) -> Runtime:
    return Runtime(retry=RetryPolicy(max_retries=max_retries), now=lambda: NOW,
                   jitter=lambda: jitter)


def test_429_then_success_is_retried_after_backoff() -> None:
    talk = Conversation(send_request(REQ, runtime()))
    talk.respond(429, b'{"error":"slow down"}')
    assert talk.slept() == pytest.approx(0.5)
    talk.respond(200, b"ok")
    assert talk.result().body == b"ok"


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, backoff_initial=1.0, backoff_max=5.0)
    assert [policy.delay(a, jitter=1.0) for a in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.delay(1, jitter=0.0) == 1.0  # jitter scales to [0.5, 1.0] of the base


def test_retry_after_seconds_is_honoured_and_capped() -> None:
    talk = Conversation(send_request(REQ, runtime()))
    talk.respond(503, b"loading", {"Retry-After": "3"})
    assert talk.slept() == 3.0
    talk.respond(503, b"loading", {"Retry-After": "3600"})
    assert talk.slept() == RetryPolicy().retry_after_max
    talk.respond(200, b"{}")
    assert talk.done


def test_retry_after_http_date_uses_the_injected_clock() -> None:
    when = datetime.fromtimestamp(NOW + 7, tz=timezone.utc)
    talk = Conversation(send_request(REQ, runtime()))
    talk.respond(429, b"", {"Retry-After": format_datetime(when, usegmt=True)})
    assert talk.slept() == pytest.approx(7.0)


@pytest.mark.parametrize(("value", "expected"), [
    ("5", 5.0), (" 2 ", 2.0), ("1.5", 1.5), ("-3", None), ("soon", None), (None, None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: retry now
    ("²", None), ("nan", None), ("١٢", None),  # digits that are not ASCII are no delay
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_date_without_clock_falls_back_to_backoff() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", None) is None


def test_retries_are_bounded_then_the_status_error_is_raised() -> None:
    talk = Conversation(send_request(REQ, runtime(max_retries=2)))
    talk.respond(503, b'{"error":"Loading model"}', {"x-request-id": "r-1"})
    talk.slept()
    talk.respond(503, b'{"error":"Loading model"}')
    talk.slept()
    with pytest.raises(ServiceUnavailableError) as info:
        talk.respond(503, b'{"error":"Loading model"}', {"x-request-id": "r-3"})
    assert info.value.server_message == "Loading model"
    assert info.value.request_id == "r-3"


def test_zero_retries_raises_at_once() -> None:
    talk = Conversation(send_request(REQ, runtime(max_retries=0)))
    with pytest.raises(RateLimitError):
        talk.respond(429, b"{}")


def test_500_is_not_retried() -> None:
    talk = Conversation(send_request(REQ, runtime()))
    with pytest.raises(ServerError):
        talk.respond(500, b"boom")


def test_failed_connect_is_retried_but_timeouts_are_not() -> None:
    talk = Conversation(send_request(REQ, runtime()))
    talk.fail(ConnectError("refused"))
    talk.slept()
    with pytest.raises(InferenceTimeoutError):
        talk.fail(InferenceTimeoutError("read timeout"))


def test_connect_failures_exhaust_the_retries() -> None:
    talk = Conversation(send_request(REQ, runtime(max_retries=1)))
    talk.fail(ConnectError("refused"))
    talk.slept()
    with pytest.raises(ConnectError):
        talk.fail(ConnectError("refused again"))


def test_open_reads_the_error_body_before_retrying_and_returns_the_head() -> None:
    talk = Conversation(open_response(REQ, runtime()))
    talk.respond_head(429, {"content-type": "application/json"})
    talk.expect_receive()
    talk.body(b'{"error":', b'"busy"}')
    assert talk.slept() == pytest.approx(0.5)
    talk.respond_head(200, {"content-type": "text/event-stream"})
    assert talk.result().status == 200


def test_open_maps_an_error_status_with_its_body() -> None:
    talk = Conversation(open_response(REQ, runtime()))
    talk.respond_head(401)
    with pytest.raises(AuthenticationError) as info:
        talk.body(b'{"error":{"code":401,"message":"Invalid API Key",'
                  b'"type":"authentication_error"}}')
    assert info.value.server_message == "Invalid API Key"
    assert info.value.error_type == "authentication_error"


def test_policy_rejects_bad_settings() -> None:
    with pytest.raises(UsageError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(UsageError, match="backoff_max"):
        RetryPolicy(backoff_max=-1.0)


@given(attempt=st.integers(0, 30), jitter=st.floats(0, 1),
       header=st.none() | st.text(max_size=40))
def test_delay_is_always_within_bounds(attempt: int, jitter: float, header: str | None) -> None:
    policy = RetryPolicy()
    delay = policy.delay(attempt, retry_after=header, now=NOW, jitter=jitter)
    assert 0.0 <= delay <= max(policy.backoff_max, policy.retry_after_max)

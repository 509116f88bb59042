"""The batch scheduler (inferwire.sansio._batch), driven by a fake clock.

Scripted conversations first (what the scheduler says at each step), then properties over
arbitrary interleavings of successes, 429s and failures.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwire.sansio import RateLimitError, ServerError, UsageError
from inferwire.sansio._batch import BatchScheduler, Failure, classify
from inferwire.sansio._budget import AdaptivePace, TokenBucket, parse_rate_limit
from inferwire.sansio._errors import BadRequestError, ConnectError, TLSError, http_status_error
from inferwire.sansio._http import Request, ResponseHead

THROTTLED = Failure(True, True, None)
FLAKY = Failure(True)
FATAL = Failure(False)


def _head(status: int, headers: dict[str, str]) -> ResponseHead:
    request = Request("POST", "http://127.0.0.1/v1/chat/completions", (), b"")
    return ResponseHead(status, tuple((k.lower(), v) for k, v in headers.items()), request)


def _error(status: int, **headers: str) -> BaseException:
    return http_status_error(_head(status, headers), b"", server_message=None, request_id=None)


# -- conversations ----------------------------------------------------------------------


def test_admits_up_to_the_concurrency_bound_then_waits_for_an_end() -> None:
    s = BatchScheduler(concurrency=2)
    for i in range(3):
        s.add(i)
    assert s.poll(0.0).start == (0, 1)
    assert s.poll(0.0).start == ()
    assert s.poll(0.0).wake_at is None  # only an ending item can free a slot
    s.succeeded(0, 1.0)
    assert s.poll(1.0).start == (2,)


def test_rpm_budget_spaces_starts_and_names_the_wake_up_time() -> None:
    s = BatchScheduler(concurrency=10, rpm=60)  # one per second, bursts of one
    for i in range(3):
        s.add(i)
    first = s.poll(0.0)
    assert first.start == (0,)
    assert first.wake_at == pytest.approx(1.0)
    assert s.poll(0.5).start == ()
    assert s.poll(1.0).start == (1,)
    assert s.poll(2.0).start == (2,)


def test_tpm_budget_is_charged_the_estimate_and_corrected_by_the_actual_usage() -> None:
    s = BatchScheduler(concurrency=10, tpm=600)  # 10 tokens per second, bursts of 10
    s.add("a", cost=10)
    s.add("b", cost=10)
    assert s.poll(0.0).start == ("a",)
    decision = s.poll(0.0)
    assert decision.start == ()
    assert decision.wake_at == pytest.approx(1.0)
    s.succeeded("a", 0.1, tokens=2)  # used less than estimated: 8 tokens come back
    assert s.poll(0.2).start == ("b",)


def test_a_429_with_retry_after_retries_that_item_then_and_cuts_the_pace() -> None:
    s = BatchScheduler(concurrency=4)
    for i in range(4):
        s.add(i)
    assert s.poll(0.0).start == (0, 1, 2, 3)
    verdict = s.failed(0, 0.5, Failure(True, True, 2.0))
    assert verdict.retry_at == pytest.approx(2.5)
    assert s.stats().pace is not None  # a pace now bounds the rate
    s.succeeded(1, 0.6)
    decision = s.poll(0.6)
    assert 0 not in decision.start
    assert s.poll(2.5).start[:1] in ((0,), ())
    assert s.stats().throttled == 1


def test_429s_do_not_use_up_attempts_but_are_bounded() -> None:
    s = BatchScheduler(concurrency=1, max_attempts=1, max_throttled=2, adapt=False)
    s.add("x")
    now = 0.0
    for _ in range(2):
        assert s.poll(now).start == ("x",)
        assert not s.failed("x", now, THROTTLED).final
        now += 1.0
    assert s.poll(now).start == ("x",)
    assert s.failed("x", now, THROTTLED).final
    assert s.finished is False  # input not closed yet
    s.close_input()
    assert s.finished
    assert s.stats().failed == 1


def test_retryable_failures_back_off_exponentially_up_to_max_attempts() -> None:
    s = BatchScheduler(concurrency=1, max_attempts=3, backoff_initial=1.0)
    s.add("x")
    assert s.poll(0.0).start == ("x",)
    assert s.failed("x", 0.0, FLAKY).retry_at == pytest.approx(1.0)
    assert s.poll(0.5) .start == ()
    assert s.poll(1.0).start == ("x",)
    assert s.failed("x", 1.0, FLAKY).retry_at == pytest.approx(3.0)
    assert s.poll(3.0).start == ("x",)
    assert s.failed("x", 3.0, FLAKY).final
    assert s.stats().retries == 2


def test_a_final_failure_is_not_retried() -> None:
    s = BatchScheduler()
    s.add("x")
    s.poll(0.0)
    assert s.failed("x", 0.0, FATAL).final
    assert s.poll(10.0).start == ()


def test_the_total_retry_budget_stops_retrying_across_items() -> None:
    s = BatchScheduler(concurrency=2, retry_budget=1, backoff_initial=0.0)
    s.add("a")
    s.add("b")
    s.poll(0.0)
    assert not s.failed("a", 0.0, FLAKY).final
    assert s.poll(0.0).start == ("a",)  # the one retry
    assert s.failed("b", 0.0, FLAKY).final  # budget spent


def test_a_success_is_never_started_again_and_ends_once() -> None:
    s = BatchScheduler()
    s.add("a")
    s.poll(0.0)
    s.succeeded("a", 0.0)
    with pytest.raises(UsageError, match="not in flight"):
        s.succeeded("a", 0.0)
    with pytest.raises(UsageError, match="not in flight"):
        s.failed("a", 0.0, FLAKY)
    assert s.poll(1.0).start == ()


def test_bad_arguments_are_named() -> None:
    with pytest.raises(UsageError) as info:
        BatchScheduler(concurrency=0)
    assert info.value.argument == "concurrency"
    with pytest.raises(UsageError) as info:
        BatchScheduler(rpm=-1)
    assert info.value.argument == "rpm"
    with pytest.raises(UsageError) as info:
        BatchScheduler(tpm="100")  # type: ignore[arg-type]
    assert info.value.argument == "tpm"
    s = BatchScheduler()
    s.add("a")
    with pytest.raises(UsageError, match="already queued"):
        s.add("a")
    with pytest.raises(UsageError) as info:
        s.add("b", cost=-1)
    assert info.value.argument == "cost"


def test_wants_asks_for_input_only_while_the_queue_is_short() -> None:
    s = BatchScheduler(concurrency=3)
    assert s.wants == 3
    s.add(1)
    assert s.wants == 2
    s.poll(0.0)
    assert s.wants == 3


def test_rate_headers_with_nothing_remaining_pause_until_the_reset() -> None:
    s = BatchScheduler(concurrency=4)
    for i in range(3):
        s.add(i)
    s.poll(0.0)
    limits = parse_rate_limit(_head(200, {"x-ratelimit-remaining": "0",
                                          "x-ratelimit-reset": "3"}).header)
    s.succeeded(0, 1.0, limits=limits)
    s.add(9)
    decision = s.poll(1.0)
    assert decision.start == ()
    assert decision.wake_at == pytest.approx(4.0)
    assert s.poll(4.0).start == (9,)


def test_an_announced_rate_caps_the_pace_just_under_it() -> None:
    s = BatchScheduler(concurrency=100)
    s.add(0)
    s.poll(0.0)
    limits = parse_rate_limit(_head(200, {"RateLimit-Limit": "10",
                                          "RateLimit-Policy": "10;w=1"}).header)
    s.succeeded(0, 0.0, limits=limits)
    assert s.stats().pace == pytest.approx(9.7)


# -- classification and headers --------------------------------------------------------


def test_classify_follows_what_the_server_can_have_done() -> None:
    throttled = classify(_error(429, **{"Retry-After": "3"}))
    assert throttled == Failure(True, True, 3.0, None)
    assert classify(_error(503)).retryable
    assert classify(_error(500)).retryable
    assert not classify(_error(400)).retryable
    assert not classify(_error(404)).retryable
    assert classify(ConnectError("refused")).retryable
    assert not classify(TLSError("bad certificate")).retryable
    assert not classify(UsageError("bad")).retryable
    assert not classify(ValueError("not ours")).retryable
    assert isinstance(_error(429), RateLimitError)
    assert isinstance(_error(503), ServerError)
    assert isinstance(_error(400), BadRequestError)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"RateLimit-Limit": "100", "RateLimit-Remaining": "5", "RateLimit-Reset": "30",
      "RateLimit-Policy": "100;w=60"}, (100.0, 60.0, 5.0, 30.0)),
    ({"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "6m0s"}, (500.0, 60.0, 0.0, 360.0)),
    ({"X-RateLimit-Limit": "10", "X-RateLimit-Reset": "1700000010"}, (10.0, None, None, 10.0)),
    ({"x-ratelimit-reset-requests": "120ms", "x-ratelimit-limit-requests": "1"},
     (1.0, 60.0, None, 0.12)),
])
def test_parse_rate_limit_reads_the_three_header_families(
        headers: dict[str, str], expected: tuple[float | None, ...]) -> None:
    info = parse_rate_limit(_head(200, headers).header, wall_now=1700000000.0)
    assert info is not None
    got = (info.limit, info.window, info.remaining, info.reset)
    assert got == pytest.approx(expected)


def test_parse_rate_limit_without_headers_or_with_garbage_is_none() -> None:
    assert parse_rate_limit(_head(200, {}).header) is None
    assert parse_rate_limit(_head(200, {"X-RateLimit-Limit": "lots"}).header) is None


@given(st.text(max_size=20))
def test_parse_rate_limit_never_raises(value: str) -> None:
    for name in ("RateLimit-Limit", "x-ratelimit-reset-requests", "X-RateLimit-Reset"):
        info = parse_rate_limit(_head(200, {name: value, "RateLimit-Policy": value}).header)
        assert info is None or all(v is None or v >= 0 for v in
                                   (info.limit, info.window, info.remaining, info.reset))


def test_the_pace_settles_just_under_the_rate_that_was_too_much() -> None:
    pace = AdaptivePace(None)
    pace.throttled(100.0)
    assert pace.rate == pytest.approx(90.0)
    pace.advance(10.0)
    assert 96.5 < (pace.rate or 0) < 97.5
    pace.advance(1.0)
    assert (pace.rate or 0) < 98.0  # probing above is slow


def test_token_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    bucket = TokenBucket(2.0, 4.0, 0.0)
    bucket.take(4.0)
    assert not bucket.ready(1.0)
    assert bucket.ready_at(1.0, 0.0) == pytest.approx(0.5)
    bucket.refill(10.0)
    assert bucket.level == 4.0


# -- properties --------------------------------------------------------------------------

OUTCOMES = st.sampled_from(["ok", "ok", "429", "flaky", "fatal"])


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 25), concurrency=st.integers(1, 6),
       rpm=st.one_of(st.none(), st.floats(30, 6000)),
       script=st.lists(st.tuples(OUTCOMES, st.floats(0, 3), st.integers(0, 5)), max_size=300),
       retry_after=st.one_of(st.none(), st.floats(0, 5)))
def test_every_item_ends_exactly_once_and_the_budget_holds_over_any_window(
        n: int, concurrency: int, rpm: float | None,
        script: list[tuple[str, float, int]], retry_after: float | None) -> None:
    s = BatchScheduler(concurrency=concurrency, rpm=rpm, max_attempts=3, max_throttled=4,
                       backoff_initial=0.1)
    for i in range(n):
        s.add(i)
    s.close_input()
    now = 0.0
    running: list[int] = []
    starts: list[float] = []
    ended: dict[int, str] = {}
    steps = iter(script)
    for _ in range(10_000):
        if s.finished:
            break
        decision = s.poll(now)
        for item in decision.start:
            assert item not in ended, "an ended item was started again"
            assert item not in running
            running.append(item)
            starts.append(now)
        outcome, advance, pick = next(steps, ("ok", 0.5, 0))
        if running:
            item = running.pop(pick % len(running))
            if outcome == "ok":
                s.succeeded(item, now)
                ended[item] = "done"
            else:
                failure = {"429": Failure(True, True, retry_after), "flaky": FLAKY,
                           "fatal": FATAL}[outcome]
                if s.failed(item, now, failure).final:
                    ended[item] = "failed"
        elif decision.wake_at is not None:
            now = max(now, decision.wake_at)
        now += advance
    assert s.finished
    assert sorted(ended) == list(range(n))  # none lost, each ended once
    stats = s.stats()
    assert stats.done + stats.failed == n
    assert stats.done == sum(v == "done" for v in ended.values())
    if rpm is not None:
        rate, burst = rpm / 60.0, max(1.0, rpm / 60.0)
        for i, begin in enumerate(starts):
            for j in range(i, len(starts)):
                assert j - i + 1 <= burst + rate * (starts[j] - begin) + 1e-6


@settings(max_examples=100, deadline=None)
@given(tpm=st.floats(600, 60_000), concurrency=st.integers(1, 8),
       costs=st.lists(st.floats(0, 500), min_size=1, max_size=40),
       steps=st.lists(st.floats(0, 2), max_size=200))
def test_tokens_started_never_exceed_the_tpm_budget_over_any_window(
        tpm: float, concurrency: int, costs: list[float], steps: list[float]) -> None:
    s = BatchScheduler(concurrency=concurrency, tpm=tpm)
    for i, cost in enumerate(costs):
        s.add(i, cost=cost)
    s.close_input()
    now, running, starts = 0.0, [], []
    advances = iter(steps)
    while not s.finished:
        decision = s.poll(now)
        for item in decision.start:
            running.append(item)
            starts.append((now, costs[item]))
        if running:
            s.succeeded(running.pop(0), now)
        elif decision.wake_at is not None:
            now = max(now, decision.wake_at)
        now += next(advances, 0.25)
    rate, burst = tpm / 60.0, max(1.0, tpm / 60.0)
    overdraft = max(costs)  # a cost above the burst starts on a full bucket
    for i, (begin, _) in enumerate(starts):
        total = 0.0
        for end, cost in starts[i:]:
            total += cost
            assert total <= burst + rate * (end - begin) + overdraft + 1e-6

"""The batch scheduler: which items to start now, when to wake up, what to retry.

`BatchScheduler` keeps the bookkeeping of a batch run by item id (pending, in flight, waiting
to retry, done, failed) and decides admission under a concurrency bound and optional
requests-per-minute and tokens-per-minute budgets, adapting the pace to the server's 429s and
rate headers. It reads no clock: the driver passes ``now`` (seconds on any monotonic clock) to
every call and performs what it is told::

    scheduler = BatchScheduler(concurrency=16, rpm=600)
    scheduler.add("q1")
    decision = scheduler.poll(now)       # Decision(start=("q1",), wake_at=None)
    ...                                  # run "q1"; when it ends:
    scheduler.succeeded("q1", now)       # or scheduler.failed("q1", now, classify(error))

An item that succeeded is never started again; each item ends exactly once, done or failed.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING

from ._budget import AdaptivePace, RateLimitInfo, TokenBucket, check_rate, parse_rate_limit
from ._errors import (
    HTTPStatusError,
    OverloadedError,
    ProxyError,
    RateLimitError,
    ServerError,
    TLSError,
    TransportError,
    UsageError,
)
from ._retry import parse_retry_after

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = ["BatchScheduler", "BatchStats", "Decision", "Failure", "Verdict", "classify"]

ItemId = Hashable

_MEASURE_WINDOW = 5.0
_MEASURE_STARTS = 256  # the recent rate is measured over at most this many starts


@dataclass(frozen=True, slots=True)
class Failure:
    """How a failed attempt counts: `retryable` (worth another attempt), `throttled` (a 429:
    the pace was too high) and the server's `retry_after` in seconds, if it sent one."""

    retryable: bool
    throttled: bool = False
    retry_after: float | None = None
    limits: RateLimitInfo | None = None


def classify(error: BaseException, wall_now: float | None = None) -> Failure:
    """The retry classification of a failed call, for `BatchScheduler.failed`.

    Retried: 429 (throttled), 5xx, transport failures (refused, reset, timeouts; not TLS or
    proxy refusals) and in-stream ``overloaded`` errors. Everything else (4xx, malformed
    replies, usage errors, anything not an `InferenceError`) is final. `wall_now` (a Unix
    time) lets a ``Retry-After`` HTTP date count.
    """
    if isinstance(error, HTTPStatusError):
        head = error.head
        retry_after = None
        limits = None
        if head is not None:
            retry_after = parse_retry_after(head.header("retry-after"), wall_now)
            limits = parse_rate_limit(head.header, wall_now)
        if isinstance(error, RateLimitError):
            return Failure(True, True, retry_after, limits)
        return Failure(isinstance(error, ServerError), False, retry_after, limits)
    if isinstance(error, (TLSError, ProxyError)):
        return Failure(False)
    if isinstance(error, (TransportError, OverloadedError)):
        return Failure(True)
    return Failure(False)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the driver does now: start the items `start` (in this order), and call `poll`
    again at `wake_at` at the latest (None: only when an item ends or input arrives)."""

    start: tuple[ItemId, ...]
    wake_at: float | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What follows a failed attempt: `retry_at` (when it becomes startable again) or None
    when the failure is final."""

    retry_at: float | None

    @property
    def final(self) -> bool:
        """Whether the item has failed for good."""
        return self.retry_at is None


@dataclass(frozen=True, slots=True)
class BatchStats:
    """Counters of a run: items queued (`pending`), `in_flight`, `waiting` (to retry), `done`,
    `failed`, `retries` (attempts after the first), `throttled` (429s) and the admitted `pace`
    in requests per second (None: bounded by concurrency only)."""

    pending: int
    in_flight: int
    waiting: int
    done: int
    failed: int
    retries: int
    throttled: int
    pace: float | None


class _Item:
    __slots__ = ("attempts", "cost", "started", "throttles")

    def __init__(self, cost: float) -> None:
        self.cost = cost
        self.attempts = 0
        self.throttles = 0
        self.started: float | None = None  # set while in flight


def _positive_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be an int, got {type(value).__name__}", argument=name)
    if value < minimum:
        raise UsageError(f"{name} must be >= {minimum}, got {value}", argument=name)
    return value


class BatchScheduler:
    """The pure decision maker of a batch run (see the module docs).

    Args:
        concurrency: At most this many items in flight.
        rpm: Requests per minute budget (None: no budget). Bursts are bounded to one second's
            worth (at least one request).
        tpm: Tokens per minute budget (None: no budget), charged with each item's `cost` when
            it starts and corrected with the actual tokens when it succeeds. Bursts are
            bounded to one second's worth (an item costing more starts on a full bucket).
        max_attempts: Attempts per item for retryable failures other than 429.
        max_throttled: 429s tolerated per item before it fails (429s are not counted in
            `max_attempts`: they mean the server did no work).
        retry_budget: Retries (429s included) allowed across the whole run; None: no total.
        backoff_initial, backoff_max: Capped exponential backoff in seconds when the server
            gives no ``Retry-After``: ``initial * 2**(attempt-1)``, scaled by ``0.5 + jitter/2``.
        adapt: Adapt the pace to 429s and rate headers (see `AdaptivePace`).
        now: The driver's clock at creation (buckets start full at that time).
    """

    __slots__ = ("_adapt", "_backoff_initial", "_backoff_max", "_budget_paused", "_closed",
                 "_concurrency", "_done", "_failed", "_in_flight", "_items", "_last_advance",
                 "_last_cut", "_max_attempts", "_max_throttled", "_pace", "_pacer", "_paused",
                 "_ready", "_requests", "_retries", "_retry_budget", "_seq", "_starts",
                 "_throttled", "_tokens", "_waiting")

    def __init__(self, *, concurrency: int = 16, rpm: float | None = None,
                 tpm: float | None = None, max_attempts: int = 4, max_throttled: int = 50,
                 retry_budget: int | None = None, backoff_initial: float = 0.5,
                 backoff_max: float = 30.0, adapt: bool = True, now: float = 0.0) -> None:
        self._concurrency = _positive_int(concurrency, "concurrency", 1)
        rpm = check_rate(rpm, "rpm")
        tpm = check_rate(tpm, "tpm")
        self._max_attempts = _positive_int(max_attempts, "max_attempts", 1)
        self._max_throttled = _positive_int(max_throttled, "max_throttled", 0)
        self._retry_budget = (None if retry_budget is None
                              else _positive_int(retry_budget, "retry_budget", 0))
        for name, value in (("backoff_initial", backoff_initial), ("backoff_max", backoff_max)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise UsageError(f"{name} must be a number >= 0", argument=name)
        self._backoff_initial = float(backoff_initial)
        self._backoff_max = float(backoff_max)
        self._adapt = adapt
        self._requests = (None if rpm is None
                          else TokenBucket(rpm / 60.0, max(1.0, rpm / 60.0), now))
        self._tokens = None if tpm is None else TokenBucket(tpm / 60.0, max(1.0, tpm / 60.0), now)
        self._pace = AdaptivePace(None if rpm is None else rpm / 60.0)
        self._pacer: TokenBucket | None = None  # smooth spacing at the adapted pace
        self._items: dict[ItemId, _Item] = {}
        self._ready: deque[ItemId] = deque()
        self._waiting: list[tuple[float, int, ItemId]] = []
        self._seq = 0
        self._in_flight = 0
        self._done = 0
        self._failed = 0
        self._retries = 0
        self._throttled = 0
        self._closed = False
        self._paused = now  # no start before this time (server said the window is spent)
        self._budget_paused = now
        self._last_cut = -1e300  # time of the last pace cut: older requests' 429s are stale
        self._last_advance = now
        self._starts: deque[float] = deque(maxlen=_MEASURE_STARTS)

    # -- input ---------------------------------------------------------------------------

    def add(self, item_id: ItemId, *, cost: float = 0.0) -> None:
        """Queue a new item (its `cost` in tokens counts against `tpm`)."""
        if self._closed:
            raise UsageError("add() after close_input()", argument="item_id")
        if item_id in self._items:
            raise UsageError(f"item {item_id!r} is already queued or running",
                             argument="item_id")
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
            raise UsageError(f"cost must be a number >= 0, got {cost!r}", argument="cost")
        self._items[item_id] = _Item(float(cost))
        self._ready.append(item_id)

    def close_input(self) -> None:
        """No more items will be added: the run is finished once the tracked ones end."""
        self._closed = True

    @property
    def wants(self) -> int:
        """How many more items the driver should add now (keeps input reading lazy)."""
        return max(0, self._concurrency - len(self._ready))

    @property
    def finished(self) -> bool:
        """Input closed and every item ended."""
        return self._closed and not self._items

    # -- decisions -----------------------------------------------------------------------

    def poll(self, now: float) -> Decision:
        """The items to start now and when to poll again at the latest."""
        self._advance(now)
        waiting = self._waiting
        ready = self._ready
        while waiting and waiting[0][0] <= now:
            ready.appendleft(heapq.heappop(waiting)[2])  # retries go first
        wakes: list[float] = [waiting[0][0]] if waiting else []
        if not ready or self._in_flight >= self._concurrency:
            return Decision((), min(wakes, default=None))
        paused = max(self._paused, self._budget_paused)
        if now < paused:
            wakes.append(paused)
            return Decision((), min(wakes))
        started: list[ItemId] = []
        buckets = [b for b in (self._requests, self._pacer) if b is not None]
        for bucket in buckets:
            bucket.refill(now)
        tokens = self._tokens
        if tokens is not None:
            tokens.refill(now)
        items = self._items
        while ready and self._in_flight < self._concurrency:
            item = items[ready[0]]
            blocked = [b.ready_at(1.0, now) for b in buckets if not b.ready(1.0)]
            if tokens is not None and not tokens.ready(item.cost):
                blocked.append(tokens.ready_at(item.cost, now))
            if blocked:
                wakes.append(max(blocked))
                break
            for bucket in buckets:
                bucket.take(1.0)
            if tokens is not None:
                tokens.take(item.cost)
            item_id = ready.popleft()
            item.started = now
            item.attempts += 1
            self._in_flight += 1
            self._starts.append(now)
            started.append(item_id)
        return Decision(tuple(started), min(wakes, default=None))

    def succeeded(self, item_id: ItemId, now: float, *, tokens: float | None = None,
                  limits: RateLimitInfo | None = None) -> None:
        """Item `item_id` succeeded (`tokens`: what it actually used, for `tpm`)."""
        item, _ = self._end(item_id)
        if tokens is not None and self._tokens is not None:
            self._tokens.give_back(item.cost - tokens)
        self._learn(limits, now)
        del self._items[item_id]
        self._done += 1

    def failed(self, item_id: ItemId, now: float, failure: Failure, *,
               jitter: float = 1.0) -> Verdict:
        """Item `item_id` failed: retry it (and when), or record the failure as final.

        `jitter` in [0, 1] scales the backoff (drawn by the driver: the core has no random
        source)."""
        item, started = self._end(item_id)
        self._learn(failure.limits, now)
        budget_left = self._retry_budget is None or self._retries < self._retry_budget
        if failure.throttled:
            self._throttled += 1
            item.throttles += 1
            item.attempts -= 1  # a 429 is not an attempt at the work
            if self._adapt and started >= self._last_cut:
                self._cut(now)
            retry = item.throttles <= self._max_throttled
            base = self._pace_interval()
        else:
            retry = failure.retryable and item.attempts < self._max_attempts
            scale = 0.5 + min(max(jitter, 0.0), 1.0) / 2.0
            base = min(self._backoff_max,
                       self._backoff_initial * 2.0 ** (item.attempts - 1)) * scale
        if not (retry and budget_left):
            del self._items[item_id]
            self._failed += 1
            return Verdict(None)
        self._retries += 1
        delay = failure.retry_after if failure.retry_after is not None else base
        at = now + delay
        self._seq += 1
        heapq.heappush(self._waiting, (at, self._seq, item_id))
        return Verdict(at)

    def stats(self) -> BatchStats:
        """The counters of the run so far."""
        return BatchStats(pending=len(self._ready), in_flight=self._in_flight,
                          waiting=len(self._waiting), done=self._done, failed=self._failed,
                          retries=self._retries, throttled=self._throttled,
                          pace=self._pace.rate)

    # -- internals ---------------------------------------------------------------------

    def _end(self, item_id: ItemId) -> tuple[_Item, float]:
        item = self._items.get(item_id)
        if item is None or item.started is None:
            raise UsageError(f"item {item_id!r} is not in flight", argument="item_id")
        started = item.started
        item.started = None
        self._in_flight -= 1
        return item, started

    def _advance(self, now: float) -> None:
        seconds = now - self._last_advance
        if seconds > 0:
            self._last_advance = now
            if self._adapt:
                self._pace.advance(seconds)
                self._sync_pacer(now)
        starts = self._starts
        while starts and starts[0] < now - _MEASURE_WINDOW:
            starts.popleft()

    def _measured(self, now: float) -> float:
        starts = self._starts
        if not starts:
            return 1.0
        return len(starts) / max(now - starts[0], 0.1)

    def _cut(self, now: float) -> None:
        self._pace.throttled(self._measured(now))
        self._last_cut = now
        self._sync_pacer(now)

    def _pace_interval(self) -> float:
        rate = self._pace.rate
        return 0.0 if rate is None else 1.0 / rate

    def _sync_pacer(self, now: float) -> None:
        rate = self._pace.rate
        budget = self._requests
        if rate is None or (budget is not None and rate >= budget.rate):
            self._pacer = None
            return
        if self._pacer is None:
            self._pacer = TokenBucket(rate, 1.0, now)
            self._pacer.level = 0.0
        else:
            self._pacer.refill(now)
            self._pacer.rate = rate

    def _learn(self, limits: RateLimitInfo | None, now: float) -> None:
        if limits is None or not self._adapt:
            return
        rate = limits.rate
        if rate is not None and rate > 0:
            self._pace.cap(rate * self._pace.settle)
            self._sync_pacer(now)
        if limits.remaining is not None and limits.remaining < 1 and limits.reset is not None:
            self._budget_paused = max(self._budget_paused, now + limits.reset)


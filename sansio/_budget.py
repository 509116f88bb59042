"""Rate budgets for batch runs: token buckets, an adaptive pace, and the servers' rate headers.

Everything here is pure: the time is a number the driver passes in (any monotonic clock, in
seconds), so the same code runs on a fake clock in tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import UsageError

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = ["AdaptivePace", "RateLimitInfo", "TokenBucket", "check_rate", "parse_rate_limit"]


class TokenBucket:
    """`rate` units per second, at most `capacity` stored; starts full.

    Over any window of T seconds, what is taken is at most ``capacity + rate * T`` (plus, for
    `take_over`, one overdraft: a cost above the capacity is let through on a full bucket and
    leaves it in debt).
    """

    __slots__ = ("_last", "capacity", "level", "rate")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.level = capacity
        self._last = now

    def refill(self, now: float) -> None:
        """Add what accrued since the last call (time never goes back here)."""
        if now > self._last:
            self.level = min(self.capacity, self.level + (now - self._last) * self.rate)
            self._last = now

    def ready(self, amount: float) -> bool:
        """Whether `amount` (capped to the capacity) can be taken now."""
        return self.level >= min(amount, self.capacity) - 1e-9

    def take(self, amount: float) -> None:
        """Take `amount` (the level may go below zero: a debt paid by later refills)."""
        self.level -= amount

    def give_back(self, amount: float) -> None:
        """Return `amount` (negative: charge more), never above the capacity."""
        self.level = min(self.capacity, self.level + amount)

    def ready_at(self, amount: float, now: float) -> float:
        """When `amount` will be ready (`now` if it is)."""
        missing = min(amount, self.capacity) - self.level
        if missing <= 1e-9:
            return now
        return now + missing / self.rate


class AdaptivePace:
    """The admitted request rate (per second), adapted to a server's 429s.

    A 429 marks the current rate as too high (`bad`): the pace drops to ``decrease * bad``,
    climbs back quickly towards ``settle * bad`` and above that only probes slowly, so that
    under a server enforcing a rate the pace settles just under it rather than oscillating
    between bursts and penalties. `ceiling` (the budget, or what rate headers announce) is
    never exceeded; `floor` bounds the cuts.
    """

    __slots__ = ("bad", "ceiling", "rate")

    floor = 0.2  # requests per second: repeated 429s never stall a run completely
    decrease = 0.9
    settle = 0.97
    approach = 1.0  # per second: the gap to settle*bad shrinks as exp(-approach * t)
    probe = 0.005  # per second, the relative growth above settle*bad

    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        self.rate: float | None = ceiling
        self.bad: float | None = None

    def throttled(self, measured: float) -> None:
        """A 429 answered a request sent at the current pace (`measured`: the recent rate of
        starts, used when no pace was set yet)."""
        current = self.rate if self.rate is not None else measured
        current = max(current, 1e-3)
        self.bad = current
        self.rate = max(current * self.decrease, self.floor)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass without a 429: climb back."""
        rate, bad = self.rate, self.bad
        if rate is None or bad is None or seconds <= 0:
            return
        target = bad * self.settle
        if rate < target:
            rate = target - (target - rate) * math.exp(-self.approach * seconds)
        else:
            rate *= math.exp(self.probe * seconds)
        if self.ceiling is not None:
            rate = min(rate, self.ceiling)
        self.rate = rate

    def cap(self, ceiling: float) -> None:
        """Lower the ceiling to `ceiling` (a rate a server announced)."""
        self.ceiling = ceiling if self.ceiling is None else min(self.ceiling, ceiling)
        if self.rate is None or self.rate > self.ceiling:
            self.rate = self.ceiling


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """What a response's rate headers say about the request budget.

    `limit` requests per `window` seconds (when both are known), `remaining` in the current
    window, and `reset`: seconds until the window resets.
    """

    limit: float | None = None
    window: float | None = None
    remaining: float | None = None
    reset: float | None = None

    @property
    def rate(self) -> float | None:
        """The announced rate in requests per second, when limit and window are known."""
        if self.limit is None or self.window is None or self.window <= 0:
            return None
        return self.limit / self.window


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    text = value.strip().split(",")[0].split(";")[0].strip()
    if not text.isascii():
        return None
    try:
        number = float(text)
    except ValueError:
        return _duration(text)
    return number if math.isfinite(number) and number >= 0 else None


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(text: str) -> float | None:
    """OpenAI's reset durations: ``"1s"``, ``"6m0s"``, ``"120ms"``."""
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit() or char == ".":
            number += char
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else char
        if unit not in _UNITS or not number:
            return None
        try:
            total += float(number) * _UNITS[unit]
        except ValueError:
            return None
        number = ""
        i += len(unit)
    return None if number else total


def _policy_window(value: str | None) -> float | None:
    """The ``w=`` of an IETF ``RateLimit-Policy`` value such as ``100;w=60``."""
    if value is None:
        return None
    for part in value.split(",")[0].split(";")[1:]:
        name, _, number = part.strip().partition("=")
        if name.strip() == "w":
            return _number(number)
    return None


def parse_rate_limit(header: Callable[[str], str | None],
                     wall_now: float | None = None) -> RateLimitInfo | None:
    """Read the rate headers of a response through `header` (a case-insensitive lookup,
    such as ``ResponseHead.header``), or None when it sent none.

    Understood: the IETF draft ``RateLimit-Limit``/``-Remaining``/``-Reset`` with
    ``RateLimit-Policy: 100;w=60``; ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (a reset
    above 10**9 is a Unix time, turned into seconds with `wall_now`); and OpenAI's
    ``x-ratelimit-limit-requests``/``-remaining-requests``/``-reset-requests`` (per minute).
    """
    window: float | None = None
    limit = _number(header("ratelimit-limit"))
    if limit is not None:
        window = _policy_window(header("ratelimit-policy"))
        remaining = _number(header("ratelimit-remaining"))
        reset = _number(header("ratelimit-reset"))
    else:
        limit = _number(header("x-ratelimit-limit-requests"))
        if limit is not None:
            window = 60.0
            remaining = _number(header("x-ratelimit-remaining-requests"))
            reset = _number(header("x-ratelimit-reset-requests"))
        else:
            limit = _number(header("x-ratelimit-limit"))
            remaining = _number(header("x-ratelimit-remaining"))
            reset = _number(header("x-ratelimit-reset"))
    if reset is not None and reset > 1e9:
        reset = None if wall_now is None else max(0.0, reset - wall_now)
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitInfo(limit=limit, window=window, remaining=remaining, reset=reset)


def check_rate(value: object, name: str) -> float | None:
    """A budget argument (per minute) as given: None, or a positive finite number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number of units per minute or None, got "
                         f"{type(value).__name__}", argument=name)
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{name} must be > 0, got {value!r}", argument=name)
    return float(value)

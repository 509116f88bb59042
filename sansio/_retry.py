"""The retry policy: when a request may be sent again, and how long to wait first.

A request is retried only when the server cannot have processed it: the connection could not
be made, or the server answered 429 / 503 before doing any work. Once a response body has
begun to stream, nothing is retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import UsageError

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:
    from ._record import dataclass, field

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, now: float | None) -> float | None:
    """Seconds to wait according to a `Retry-After` header value, or None if unusable.

    Accepts delta-seconds (``"3"``) and HTTP dates; a date needs `now` (a Unix timestamp the
    caller supplies: the core has no clock). Dates in the past mean "retry now" (0.0).
    """
    if value is None:
        return None
    value = value.strip()
    if not value.isascii():  # HTTP says ASCII digits; float() and isdigit() accept "²", "١٢"
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    if now is None:
        return None
    from email.utils import parsedate_to_datetime  # only for HTTP dates: email is costly

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times, on what, and how long to wait. Pure: jitter and time are inputs.

    - `max_retries`: retries after the first attempt (0 disables retrying).
    - `statuses`: response statuses that mean "not processed, try again" (429, 503).
    - `backoff_initial` / `backoff_max`: capped exponential backoff, ``initial * 2**attempt``,
      scaled by ``0.5 + jitter / 2`` where `jitter` in [0, 1) is drawn by the caller.
    - `retry_after_max`: a server's `Retry-After` is honoured up to this many seconds; a longer
      wait is capped to it.
    """

    max_retries: int = 2
    statuses: frozenset[int] = field(default=frozenset({429, 503}))
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool):
            raise UsageError("max_retries must be an int", argument="max_retries")
        if self.max_retries < 0:
            raise UsageError("max_retries must be >= 0", argument="max_retries")
        for name in ("backoff_initial", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise UsageError(f"{name} must be a number >= 0", argument=name)

    def can_retry(self, attempt: int) -> bool:
        """Whether attempt number `attempt` (0 = the first) may be followed by another."""
        return attempt < self.max_retries

    def delay(
        self, attempt: int, *, retry_after: str | None = None, now: float | None = None,
        jitter: float = 1.0,
    ) -> float:
        """Seconds to wait before retrying after attempt number `attempt` (0-based) failed."""
        server_says = parse_retry_after(retry_after, now)
        if server_says is not None:
            return min(server_says, self.retry_after_max)
        base = min(self.backoff_max, self.backoff_initial * (2.0**attempt))
        return base * (0.5 + min(max(jitter, 0.0), 1.0) / 2.0)

"""The core's light records behave like frozen, slotted dataclasses."""

from __future__ import annotations

import pytest

from inferwire.sansio import Request, RetryPolicy, Send, ServerSentEvent, UsageError
from inferwire.sansio._record import dataclass, field


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


def test_init_defaults_factory_eq_hash_repr_frozen_slots() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1, tags=[]).tags is not p.tags  # a fresh default per instance
    assert Point(1, 2) == Point(x=1, y=2)
    assert Point(1, 2) != Point(2, 1)
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=[])"
    with pytest.raises(AttributeError, match="frozen"):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    assert not hasattr(p, "__dict__")
    assert Point.__slots__ == ("x", "y", "tags")
    assert hash(ServerSentEvent("a")) == hash(ServerSentEvent("a"))
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_post_init_and_own_methods_are_kept() -> None:
    with pytest.raises(UsageError):
        RetryPolicy(max_retries=-1)  # __post_init__ validation runs
    request = Request("GET", "http://h/", (("authorization", "Bearer secret"),))
    assert "secret" not in repr(request)  # the class's own __repr__ wins
    assert repr(Send(request)).startswith("Send(request=<Request GET")


def test_non_default_after_default_is_refused() -> None:
    with pytest.raises(TypeError, match="follows a default"):
        @dataclass(frozen=True, slots=True)
        class Bad:
            a: int = 1
            b: int

"""The plays of the providers whose tasks run as queued jobs: fal-ai, replicate, wavespeed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plays import Answer

__all__ = ["job_play"]


def job_play(name: str) -> Answer:
    """The answers of job provider `name`."""
    raise ValueError(f"no play for provider {name!r} yet")

"""Waiting on a provider's long-running job: one bounded polling loop for every provider.

fal-ai's queue, replicate's predictions, together's and wavespeed's video tasks and zai-org's
async images all answer a submission with a job, then a status to poll until the result is
ready. `poll` is that loop, written once: it asks for the status, reads it with the
provider's `read` function into a `JobState`, and between polls yields `Sleep` effects, so
every transport waits the same way and an async client never blocks its event loop (and
cancelling the call cancels the sleep, which ends the loop).

The loop is bounded by the client's ``job_timeout`` (seconds of waiting, measured on the
runtime's clock when it has one, else as the sum of the sleeps): a job still pending then
raises `JobTimeoutError` with its job id. A failed, canceled or unknown status raises
`JobFailedError` or `JobCanceledError`. Each status seen is reported to the runtime's
`progress` hook (transports log it and pass it to the user's callback).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from inferwire.sansio._effects import Flow, Sleep
from inferwire.sansio._errors import JobCanceledError, JobFailedError, JobTimeoutError
from inferwire.sansio._http import Response

if TYPE_CHECKING:
    from dataclasses import dataclass

    from ._call import ProviderCall
else:
    from inferwire.sansio._record import dataclass

__all__ = ["JobProgress", "JobState", "State", "job_state", "poll"]

State = Literal["pending", "done", "failed", "canceled", "unknown"]


@dataclass(frozen=True, slots=True)
class JobState:
    """A job's status as one provider answered it: `state` in inferwire's words, `status`
    in the provider's, and its message (`detail`) if any."""

    state: State
    status: str | None
    detail: str | None = None


def job_state(status: Any, words: Mapping[str, State], detail: Any = None) -> JobState:
    """The `JobState` of a provider's `status` word, by its table `words` (any other word
    is ``"unknown"``); `detail` is its message, if any."""
    word = status if isinstance(status, str) else None
    state: State = words.get(word, "unknown") if word is not None else "unknown"
    return JobState(state, word if word is not None else repr(status),
                    str(detail) if detail else None)


@dataclass(frozen=True, slots=True)
class JobProgress:
    """What a progress hook is told after each poll of a job."""

    provider: str
    job_id: str | None
    status: str | None
    polls: int
    waited: float


def poll(
    call: ProviderCall,
    *,
    job_id: str | None,
    status: Callable[[], Flow[Response]],
    read: Callable[[Response], JobState],
    interval: float,
    first: Response | None = None,
) -> Flow[Response]:
    """Poll a job until `read` says it is done; return that response.

    `status` makes the flow of one status request; `interval` is the provider's pace
    (seconds between polls; the client's ``job_poll_interval`` overrides it). `first` is
    an answer that already tells the job's state (a submission's): it is read before any
    status request, and returned if the job is done.
    See the module documentation for the bound and the errors.
    """
    runtime = call.config.runtime
    limit = call.config.job_timeout
    interval = call.config.job_poll_interval or interval
    clock = runtime.now
    started = clock() if clock is not None else 0.0
    slept = 0.0
    polls = 0
    while True:
        if first is not None:
            response, first = first, None
        else:
            response = yield from status()
            polls += 1
        state = read(response)
        waited = clock() - started if clock is not None else slept
        runtime.progress(JobProgress(call.name, job_id, state.status, polls, waited))
        if state.state == "done":
            return response
        what = f"{call.name} job {job_id or '(no id)'}"
        detail = f": {state.detail}" if state.detail else ""
        if state.state == "failed":
            raise JobFailedError(f"{what} failed (status {state.status!r}){detail}",
                                 provider=call.name, job_id=job_id, status=state.status,
                                 detail=state.detail)
        if state.state == "canceled":
            raise JobCanceledError(f"{what} was canceled (status {state.status!r}){detail}",
                                   provider=call.name, job_id=job_id, status=state.status,
                                   detail=state.detail)
        if state.state == "unknown":
            raise JobFailedError(
                f"{what} answered the status {state.status!r}, which inferwire does not know: "
                "not waiting on it", provider=call.name, job_id=job_id, status=state.status,
                detail=state.detail)
        if limit is not None and waited + interval > limit:
            raise JobTimeoutError(
                f"{what} is still {state.status!r} after {waited:.1f}s of waiting (the "
                f"client's job_timeout is {limit:g}s); it may still finish at the provider",
                provider=call.name, job_id=job_id, status=state.status)
        yield Sleep(interval)
        slept += interval

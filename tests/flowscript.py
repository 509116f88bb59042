"""Scripted conversations with a flow: the test plays the transport, effect by effect."""

from __future__ import annotations

from typing import Any

from inferwire.sansio import (
    Done,
    FlowRunner,
    Open,
    Receive,
    Request,
    Response,
    ResponseHead,
    Send,
    Sleep,
)
from inferwire.sansio._effects import Flow
from inferwire.sansio._errors import InferenceError


class Conversation:
    """Drive `flow` by hand: look at each effect, then answer it."""

    def __init__(self, flow: Flow[Any]) -> None:
        self.runner: FlowRunner[Any] = FlowRunner(flow)
        self.step: Any = self.runner.start()
        self.open_request: Request | None = None

    # what the flow asks
    def expect_send(self) -> Request:
        assert isinstance(self.step, Send), f"expected Send, flow asked {self.step!r}"
        return self.step.request

    def expect_open(self) -> Request:
        assert isinstance(self.step, Open), f"expected Open, flow asked {self.step!r}"
        self.open_request = self.step.request
        return self.step.request

    def expect_sleep(self) -> float:
        assert isinstance(self.step, Sleep), f"expected Sleep, flow asked {self.step!r}"
        return self.step.seconds

    def expect_receive(self) -> None:
        assert isinstance(self.step, Receive), f"expected Receive, flow asked {self.step!r}"

    # how the transport answers
    def respond(self, status: int = 200, body: bytes = b"",
                headers: dict[str, str] | None = None) -> None:
        request = self.expect_send()
        hdrs = tuple((k.lower(), v) for k, v in (headers or {}).items())
        self.step = self.runner.answer(Response(status, hdrs, body, request))

    def respond_head(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        request = self.expect_open()
        hdrs = tuple((k.lower(), v) for k, v in (headers or {}).items())
        self.step = self.runner.answer(ResponseHead(status, hdrs, request))

    def body(self, *chunks: bytes) -> None:
        """Answer successive Receive effects with `chunks`, then the end of the body."""
        for chunk in (*chunks, b""):
            if not isinstance(self.step, Receive):
                break
            self.step = self.runner.answer(chunk)

    def slept(self) -> float:
        seconds = self.expect_sleep()
        self.step = self.runner.answer(None)
        return seconds

    def fail(self, error: InferenceError) -> None:
        self.step = self.runner.fail(error)

    @property
    def done(self) -> bool:
        return isinstance(self.step, Done)

    def result(self) -> Any:
        assert isinstance(self.step, Done), f"flow is not done; it asks {self.step!r}"
        return self.step.value

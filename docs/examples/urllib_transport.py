"""A complete inferwire transport on the standard library's urllib, in about 60 lines.

It answers the core's effects (Send, Open, Receive, Sleep) with urllib.request and hands the
stream decoder the body's chunks. Run it against any OpenAI-compatible server:

    python docs/examples/urllib_transport.py http://127.0.0.1:8080/v1
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from inferwire.sansio import (
    ConnectError,
    Done,
    Flow,
    FlowRunner,
    InferenceError,
    Open,
    Receive,
    Response,
    ResponseHead,
    Send,
    Sleep,
    Streaming,
    build_config,
    chat_completion,
)


def _urlopen(request: Any) -> Any:
    req = urllib.request.Request(request.url, data=request.body, method=request.method,
                                 headers=dict(request.headers))
    try:
        return urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as error:
        return error  # an error status is an answer too: the flow maps it
    except urllib.error.URLError as error:
        raise ConnectError(f"{request.url}: {error.reason}") from None


def run(flow: Flow[Any]) -> Any:
    """Drive `flow` to its result; a streamed result becomes an iterator of items."""
    runner: FlowRunner[Any] = FlowRunner(flow)
    response: Any = None
    step = runner.start()
    while not isinstance(step, Done):
        try:
            if isinstance(step, (Send, Open)):
                response = _urlopen(step.request)
                headers = tuple((k.lower(), v) for k, v in response.headers.items())
                head = ResponseHead(response.status, headers, step.request)
                answer: Any = head if isinstance(step, Open) else Response(
                    head.status, headers, response.read(), step.request)
            elif isinstance(step, Receive):
                answer = response.read1(65536)
            elif isinstance(step, Sleep):
                time.sleep(step.seconds)
                answer = None
        except InferenceError as error:
            step = runner.fail(error)
        else:
            step = runner.answer(answer)
    result = step.value
    if isinstance(result, Streaming):
        return _items(response, result.decoder)
    return result


def _items(response: Any, decoder: Any) -> Iterator[Any]:
    with response:
        while not decoder.finished and (chunk := response.read1(65536)):
            yield from decoder.feed(chunk)
        yield from decoder.close()


if __name__ == "__main__":
    config = build_config(base_url=sys.argv[1] if len(sys.argv) > 1 else
                          "http://127.0.0.1:8080/v1")
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    for chunk in run(chat_completion(config, messages, stream=True, params={})):
        if chunk.choices:
            print(chunk.choices[0].delta.content or "", end="", flush=True)
    print()

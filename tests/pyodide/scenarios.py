# The scenario table under Pyodide (run by tests/test_pyodide.py through run.mjs, not by pytest
# itself): each scenario prints "PASS name" or "FAIL name: why". The fake server is pytest's,
# on loopback, scripted per path prefix (/<scenario>/v1/...); /ack/<scenario> answers whether
# the server saw the scenario's stream connection dropped.
import asyncio
import json
import os
import sys
import traceback

import js

from inferwire import (
    AsyncInferenceClient,
    ConnectError,
    InferenceTimeoutError,
    NotFoundError,
    ServerError,
    UsageError,
)

BASE = os.environ["URL"]
MESSAGES = [{"role": "user", "content": "hi"}]
HTTP_LIBRARIES = ("h11", "httpx", "trio", "inferwire._h11")
SCENARIOS = []


def scenario(function):
    SCENARIOS.append(function)
    return function


def client(prefix, **options):
    return AsyncInferenceClient(base_url=f"{BASE}/{prefix}/v1", token="hf_secret", **options)


def loaded_http_libraries():
    return sorted(m for m in sys.modules if m.split(".")[0] in HTTP_LIBRARIES
                  or m.startswith("inferwire._h11"))


async def server_saw_drop(name):
    reply = await js.fetch(f"{BASE}/ack/{name}")
    return json.loads(await reply.text())["closed"]


async def raised(awaitable, error_type):
    """The `error_type` error that awaiting `awaitable` raises (pytest is not in Pyodide)."""
    try:
        await awaitable
    except error_type as exc:
        return exc
    raise AssertionError(f"no {error_type.__name__} raised")


async def deltas(stream):
    return [c.choices[0].delta.content async for c in stream
            if c.choices and c.choices[0].delta.content]


@scenario
async def imports_without_http_libraries():
    assert loaded_http_libraries() == [], loaded_http_libraries()
    assert sys.platform == "emscripten"


@scenario
async def stream_split_events():
    stream = await client("stream").chat_completion(MESSAGES, stream=True)
    assert await deltas(stream) == ["Hel", "lo", " wor", "ld"]


@scenario
async def stream_gzip():
    stream = await client("gzip").chat_completion(MESSAGES, stream=True)
    assert await deltas(stream) == ["zip", "ped"]


@scenario
async def non_streamed_call():
    out = await client("plain").chat_completion(MESSAGES, max_tokens=8)
    assert out.choices[0].message.content == "Hello, world!"


@scenario
async def error_404():
    exc = await raised(client("e404").chat_completion(MESSAGES), NotFoundError)
    assert exc.status == 404, exc.status
    assert "no such model" in str(exc), str(exc)


@scenario
async def error_503_retried():
    out = await client("e503").chat_completion(MESSAGES, max_tokens=8)
    assert out.choices[0].message.content == "Hello, world!"


@scenario
async def error_500_stream():
    call = client("e500", max_retries=0).chat_completion(MESSAGES, stream=True)
    exc = await raised(call, ServerError)
    assert exc.status == 500, exc.status


@scenario
async def connect_refused():
    refused = AsyncInferenceClient(base_url=os.environ["REFUSED_URL"], max_retries=0)
    exc = await raised(refused.chat_completion(MESSAGES), ConnectError)
    assert "could not fetch" in str(exc), str(exc)


@scenario
async def timeout_before_head():
    call = client("slowhead", timeout=0.3, max_retries=0).chat_completion(MESSAGES)
    exc = await raised(call, InferenceTimeoutError)
    assert "timeout" in str(exc), str(exc)


@scenario
async def timeout_inside_stream():
    stream = await client("slowbody", timeout=0.3).chat_completion(MESSAGES, stream=True)
    got = []
    try:
        async for chunk in stream:
            got.append(chunk)
    except InferenceTimeoutError:
        pass
    else:
        raise AssertionError("no InferenceTimeoutError")
    assert got  # the role chunk came before the silence


@scenario
async def closing_a_stream_aborts_it():
    stream = await client("close").chat_completion(MESSAGES, stream=True)
    first = [await anext(stream) for _ in range(3)]
    assert len(first) == 3
    await stream.aclose()
    assert await server_saw_drop("close")


@scenario
async def cancelling_the_task_aborts_it():
    stream = await client("cancel").chat_completion(MESSAGES, stream=True)
    seen = asyncio.Event()

    async def read():
        async for _ in stream:
            seen.set()

    task = asyncio.ensure_future(read())
    await seen.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the task was not cancelled")
    assert await server_saw_drop("cancel")


@scenario
async def cookie_header_refused():
    call = client("plain", cookies={"session": "x"}).chat_completion(MESSAGES)
    exc = await raised(call, UsageError)
    assert exc.argument == "cookies", exc.argument


@scenario
async def sync_client_refused():
    # Node has no JavaScript Promise Integration: the sync client cannot block on fetch.
    from inferwire import InferenceClient
    try:
        InferenceClient(base_url=f"{BASE}/v1")
    except UsageError as exc:
        message = str(exc)
    else:
        raise AssertionError("no UsageError")
    assert "AsyncInferenceClient" in message and "Promise Integration" in message, message
    try:
        from inferwire import InferenceApi  # noqa: F401
    except UsageError as exc:
        message = str(exc)
    else:
        raise AssertionError("no UsageError for InferenceApi")
    assert "AsyncInferenceClient" in message, message


@scenario
async def still_no_http_libraries():
    assert loaded_http_libraries() == [], loaded_http_libraries()


async def main():
    failed = False
    for function in SCENARIOS:
        try:
            await function()
        except BaseException:  # reported; the run fails at the end
            failed = True
            why = traceback.format_exc().strip().replace("\n", " | ")
            print(f"FAIL {function.__name__}: {why}", flush=True)
        else:
            print(f"PASS {function.__name__}", flush=True)
    if failed:
        raise SystemExit(1)

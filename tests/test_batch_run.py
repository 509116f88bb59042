"""inferwire.batch.run_batch against the fake server, under asyncio and trio: results, retries,
the JSONL checkpoint (resume, torn lines), lazy input, cancellation and progress."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwire import AsyncInferenceClient
from inferwire.batch import BatchResult, BatchSummary, open_batch, run_batch, run_batch_sync
from inferwire.sansio import RateLimitError, UsageError, UsageTypeError
from inferwire.sansio._errors import BadRequestError, InferenceError
from inferwire.testing import FakeInferenceServer, RecordedRequest, Reply, chat_completion, error

T = TypeVar("T")
LIBRARIES = ["asyncio", "trio"]


def _run(library: str, main: Callable[[], Awaitable[T]]) -> T:
    if library == "trio":
        return trio.run(main)
    return asyncio.run(main())  # type: ignore[arg-type]


def _questions(n: int) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "messages": [{"role": "user", "content": f"question {i}"}]}
            for i in range(n)]


def _client(server: FakeInferenceServer) -> AsyncInferenceClient:
    return AsyncInferenceClient(base_url=server.url("/v1"), max_retries=0)


def _batch(library: str, server: FakeInferenceServer, inputs: object,
           **options: Any) -> BatchSummary:
    async def main() -> BatchSummary:
        async with _client(server) as client:
            return await run_batch(client, "chat_completion", inputs, progress=False,
                                   **options)

    return _run(library, main)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(tokens=["an", " answer"]) as fake:
        yield fake


@pytest.mark.parametrize("library", LIBRARIES)
def test_every_input_gets_one_result_in_input_order(
        library: str, server: FakeInferenceServer) -> None:
    server.route("POST", "/v1/chat/completions",
                 chat_completion("an answer", headers={"x-request-id": "req-1"}))
    summary = _batch(library, server, _questions(30), concurrency=7)
    results = summary.results
    assert results is not None
    assert [r.id for r in results] == [f"q{i}" for i in range(30)]
    assert [r.index for r in results] == list(range(30))
    first = results[0]
    assert first.ok
    assert first.output.choices[0].message.content == "an answer"
    assert first.request_id == "req-1"
    assert first.attempts == 1
    assert first.usage is not None and first.usage["total_tokens"] > 0
    assert summary.succeeded == 30 and summary.failed == 0
    assert summary.total_tokens == sum(r.usage["total_tokens"] for r in results if r.usage)
    assert len(server.requests) == 30


@pytest.mark.parametrize("library", LIBRARIES)
def test_429s_with_retry_after_are_retried_and_nothing_is_lost(
        library: str, server: FakeInferenceServer) -> None:
    throttle = error(429, message="slow down", headers={"Retry-After": "0"})
    server.enqueue(*[throttle] * 6)
    summary = _batch(library, server, _questions(12), concurrency=4)
    assert summary.succeeded == 12
    assert summary.throttled == 6
    assert summary.results is not None
    assert sum(r.attempts for r in summary.results) == 12 + 6
    assert len(server.requests) == 18


@pytest.mark.parametrize("library", LIBRARIES)
def test_final_errors_are_results_and_5xx_are_retried(
        library: str, server: FakeInferenceServer) -> None:
    server.enqueue(error(400, message="bad messages"),
                   error(503, headers={"Retry-After": "0"}))
    summary = _batch(library, server, _questions(1) + _questions(2)[1:], concurrency=1)
    assert summary.results is not None
    bad, good = summary.results
    assert isinstance(bad.error, BadRequestError)
    assert bad.output is None and bad.attempts == 1
    assert good.ok and good.attempts == 2
    assert (summary.succeeded, summary.failed, summary.retries) == (1, 1, 1)


def test_an_item_throttled_too_often_fails_with_the_rate_limit_error(
        server: FakeInferenceServer) -> None:
    server.route("POST", "/v1/chat/completions", error(429, headers={"Retry-After": "0"}))

    async def main() -> BatchSummary:
        async with _client(server) as client:
            return await run_batch(client, "chat_completion", _questions(1), progress=False,
                                   retry_budget=3)

    summary = asyncio.run(main())
    assert summary.results is not None
    assert isinstance(summary.results[0].error, RateLimitError)
    assert summary.results[0].attempts == 4
    assert len(server.requests) == 4


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_output_file_is_a_checkpoint_a_rerun_skips(
        library: str, server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = _batch(library, server, _questions(10), output=out)
    assert first.succeeded == 10 and first.results is None
    records = _lines(out)
    assert sorted(r["id"] for r in records) == sorted(f"q{i}" for i in range(10))
    assert records[0]["output"]["choices"][0]["message"]["content"] == "an answer"
    assert set(records[0]) == {"id", "index", "output", "usage", "provider", "request_id",
                               "attempts"}
    requests = len(server.requests)
    again = _batch(library, server, _questions(12), output=out)
    assert (again.skipped, again.succeeded) == (10, 2)
    assert len(server.requests) == requests + 2
    ids = [r["id"] for r in _lines(out)]
    assert sorted(ids) == sorted(f"q{i}" for i in range(12))


def test_a_torn_last_line_is_cut_and_its_item_redone(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    _batch("asyncio", server, _questions(3), output=out)
    lines = out.read_bytes().splitlines(keepends=True)
    torn_id = json.loads(lines[-1])["id"]
    out.write_bytes(b"".join(lines[:-1]) + lines[-1][:17])  # killed in the middle of a write
    summary = _batch("asyncio", server, _questions(3), output=out)
    assert (summary.skipped, summary.succeeded) == (2, 1)
    records = _lines(out)
    assert sorted(r["id"] for r in records) == ["q0", "q1", "q2"]
    assert records[-1]["id"] == torn_id


@pytest.mark.parametrize("library", LIBRARIES)
def test_failed_items_are_final_unless_retry_failed_takes_them_out_and_runs_them_again(
        library: str, server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    server.enqueue(error(400, message="bad one"), error(400, message="bad two"))
    first = _batch(library, server, _questions(5), output=out, concurrency=1)
    assert (first.succeeded, first.failed) == (3, 2)
    failed_ids = [r["id"] for r in _lines(out) if "error" in r]
    assert failed_ids == ["q0", "q1"]

    requests = len(server.requests)
    plain = _batch(library, server, _questions(5), output=out)
    assert (plain.skipped, plain.succeeded, plain.failed) == (5, 0, 0)
    assert len(server.requests) == requests  # failed items are final by default

    again = _batch(library, server, _questions(5), output=out, retry_failed=True)
    assert (again.skipped, again.succeeded, again.failed) == (3, 2, 0)
    assert sorted(r.json["messages"][0]["content"] for r in server.requests[requests:]) \
        == ["question 0", "question 1"]  # only the failed ones ran again
    records = _lines(out)
    assert sorted(r["id"] for r in records) == [f"q{i}" for i in range(5)]  # each id once
    assert all("output" in r for r in records)
    assert not list(tmp_path.glob(".*retry-failed"))  # the rewrite left no file behind

    quiet = _batch(library, server, _questions(5), output=out, retry_failed=True)
    assert (quiet.skipped, quiet.succeeded) == (5, 0)  # nothing failed: nothing rewritten


def test_retry_failed_keeps_the_torn_tail_out_and_the_order_of_the_kept_lines(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    server.enqueue(chat_completion("kept"), error(400, message="bad"))
    _batch("asyncio", server, _questions(4), output=out, concurrency=1)
    lines = out.read_bytes().splitlines(keepends=True)
    assert [json.loads(line)["id"] for line in lines] == ["q0", "q1", "q2", "q3"]
    torn = lines[3][:10]
    out.write_bytes(b"".join(lines[:3]) + torn)  # q1 failed, q3 torn by a kill
    summary = _batch("asyncio", server, _questions(4), output=out, retry_failed=True)
    assert (summary.skipped, summary.succeeded) == (2, 2)
    ids = [r["id"] for r in _lines(out)]
    assert ids[:2] == ["q0", "q2"] and sorted(ids[2:]) == ["q1", "q3"]
    assert _lines(out)[0]["output"]["choices"][0]["message"]["content"] == "kept"


def test_retry_failed_needs_an_output_and_a_bool(server: FakeInferenceServer) -> None:
    with pytest.raises(UsageError, match="retry_failed needs an output file"):
        _batch("asyncio", server, _questions(1), retry_failed=True)
    with pytest.raises(UsageTypeError, match="retry_failed must be a bool"):
        _batch("asyncio", server, _questions(1), output="x.jsonl", retry_failed="yes")
    assert not server.requests


def test_an_output_that_cannot_be_opened_is_a_usage_error_naming_it(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    (tmp_path / "out.jsonl").mkdir()
    with pytest.raises(UsageError, match=r"batch output .*out\.jsonl.*[Ii]s a directory") as info:
        _batch("asyncio", server, _questions(1), output=tmp_path / "out.jsonl")
    assert info.value.argument == "output"
    assert not server.requests


def test_a_file_that_is_not_a_batch_output_is_refused(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("not json\n{\"id\": 1}\n")
    with pytest.raises(UsageError, match=r"out.jsonl:1: not a batch result line") as info:
        _batch("asyncio", server, _questions(1), output=out)
    assert info.value.argument == "output"
    out.write_text('{"id": 1, "output": 1}\n{"id": 1, "output": 2}\n')
    with pytest.raises(UsageError, match="there twice"):
        _batch("asyncio", server, _questions(1), output=out)


def test_jsonl_input_uses_the_id_field_or_the_line_number(
        server: FakeInferenceServer, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    message = [{"role": "user", "content": "hi"}]
    source.write_text(json.dumps({"id": "named", "messages": message}) + "\n\n"
                      + json.dumps({"messages": message, "max_tokens": 1}) + "\n")
    summary = _batch("asyncio", server, source)
    assert summary.results is not None
    assert [(r.id, r.index) for r in summary.results] == [("named", 0), (3, 1)]
    # (the two calls run concurrently: either may arrive last)
    assert sorted(r.json.get("max_tokens", 0) for r in server.requests) == [0, 1]


def test_bad_jsonl_lines_are_named(server: FakeInferenceServer, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('["a list"]\n')
    with pytest.raises(UsageError, match=r"in.jsonl:1: expected a JSON object"):
        _batch("asyncio", server, source)
    source.write_text('{"id": 1.5, "messages": []}\n')
    with pytest.raises(UsageTypeError, match="an id must be a string or an integer"):
        _batch("asyncio", server, source)
    with pytest.raises(UsageError, match="does not exist"):
        _batch("asyncio", server, tmp_path / "missing.jsonl")


def test_an_iterable_is_read_lazily_and_plain_values_are_the_first_argument(
        server: FakeInferenceServer) -> None:
    consumed: list[int] = []
    consumed_at_first_result: list[int] = []

    def inputs() -> Iterator[list[dict[str, str]]]:
        for i in range(200):
            consumed.append(i)
            yield [{"role": "user", "content": f"q{i}"}]

    def seen(result: BatchResult) -> None:
        if not consumed_at_first_result:
            consumed_at_first_result.append(len(consumed))

    summary = _batch("trio", server, inputs(), concurrency=4, on_result=seen,
                     keep_results=True)
    assert summary.succeeded == 200
    assert consumed_at_first_result[0] < 50  # a window, not the whole input
    assert summary.results is not None
    assert [r.id for r in summary.results] == list(range(200))


@pytest.mark.parametrize("library", LIBRARIES)
def test_as_completed_emits_every_result_once(
        library: str, server: FakeInferenceServer) -> None:
    summary = _batch(library, server, _questions(20), ordered=False, concurrency=5)
    assert summary.results is not None
    assert sorted(r.index for r in summary.results) == list(range(20))


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("ordered", [True, False])
def test_open_batch_hands_each_result_to_an_async_for_loop(
        library: str, ordered: bool, server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    server.enqueue(error(400, message="bad"))

    async def main() -> tuple[list[BatchResult], BatchSummary, BatchSummary]:
        seen: list[BatchResult] = []
        async with _client(server) as client, open_batch(
                client, "chat_completion", _questions(30), output=out, concurrency=4,
                ordered=ordered, progress=False) as run:
            async for result in run:
                seen.append(result)
                if len(seen) == 10:
                    midway = run.summary()
            assert repr(run) == "<BatchRun 29 succeeded, 1 failed, 0 skipped>"
        return seen, midway, run.summary()

    seen, midway, summary = _run(library, main)
    assert sorted(r.index for r in seen) == list(range(30))
    if ordered:
        assert [r.index for r in seen] == list(range(30))
    assert sum(not r.ok for r in seen) == 1
    assert midway.succeeded + midway.failed >= 10
    assert (summary.succeeded, summary.failed, summary.results) == (29, 1, None)
    assert sorted(r["id"] for r in _lines(out)) == sorted(f"q{i}" for i in range(30))


@pytest.mark.parametrize("library", LIBRARIES)
def test_leaving_open_batch_early_cancels_the_calls_in_flight_and_the_run_resumes(
        library: str, server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"

    def reply(request: RecordedRequest) -> Reply:  # the first three fast, the rest slow
        fast = request.json["messages"][0]["content"] in {"question 0", "question 1",
                                                          "question 2"}
        return chat_completion("ok", delay_before_headers=0.0 if fast else 2.0)

    server.route("POST", "/v1/chat/completions", reply)
    consumed: list[int] = []

    def inputs() -> Iterator[dict[str, Any]]:
        for i, question in enumerate(_questions(500)):
            consumed.append(i)
            yield question

    async def sleep(seconds: float) -> None:
        await (trio.sleep(seconds) if library == "trio" else asyncio.sleep(seconds))

    async def main() -> tuple[list[BatchResult], float, list[int], list[int]]:
        taken: list[BatchResult] = []
        async with _client(server) as client:
            async with open_batch(client, "chat_completion", inputs(), output=out,
                                  concurrency=4, progress=False) as run:
                async for result in run:
                    taken.append(result)
                    if len(taken) == 3:
                        left = time.monotonic()
                        break
            exit_took = time.monotonic() - left  # slow calls left to finish would take 2 s
            await sleep(0.1)  # let the requests already on the wire arrive
            at_exit = [len(server.requests), len(_lines(out))]
            await sleep(0.3)
            later = [len(server.requests), len(_lines(out))]
        return taken, exit_took, at_exit, later

    taken, exit_took, at_exit, later = _run(library, main)
    assert [r.id for r in taken] == ["q0", "q1", "q2"]
    assert exit_took < 1.0  # the calls in flight were cancelled, not waited for
    assert len(consumed) < 100  # the input was read a window at a time, not to the end
    assert at_exit == later  # nothing went on after the block: no request, no line
    partial = _lines(out)
    assert len({r["id"] for r in partial}) == len(partial) >= 3
    server.route("POST", "/v1/chat/completions", chat_completion("fast"))
    summary = _batch(library, server, _questions(20), output=out, concurrency=8)
    assert summary.skipped == len(partial)
    assert sorted(r["id"] for r in _lines(out)) == sorted(f"q{i}" for i in range(20))


def test_open_batch_refuses_bad_usage_before_anything_starts(
        server: FakeInferenceServer) -> None:
    async def main(**options: Any) -> None:
        async with _client(server) as client, open_batch(
                client, "chat_completion", _questions(1), progress=False, **options):
            raise AssertionError("the block must not run")

    with pytest.raises(UsageTypeError, match="ordered must be a bool"):
        asyncio.run(main(ordered="yes"))
    with pytest.raises(UsageError, match="retry_failed needs an output file"):
        asyncio.run(main(retry_failed=True))
    with pytest.raises(TypeError, match="on_result"):  # the caller has each result
        asyncio.run(main(on_result=print))
    assert not server.requests


@pytest.mark.parametrize("library", LIBRARIES)
def test_duplicate_ids_in_the_input_are_refused(
        library: str, server: FakeInferenceServer) -> None:
    with pytest.raises(UsageError, match="'q0' appears twice"):  # itself, not in a group
        _batch(library, server, _questions(2) + _questions(1))


class _CallersError(Exception):
    pass


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_callers_own_exceptions_come_out_as_themselves(
        library: str, server: FakeInferenceServer, tmp_path: Path) -> None:
    def on_result(result: BatchResult) -> None:
        raise _CallersError(result.id)

    with pytest.raises(_CallersError, match="q0"):
        _batch(library, server, _questions(5), on_result=on_result)

    async def body() -> None:
        async with _client(server) as client, open_batch(
                client, "chat_completion", _questions(5), output=tmp_path / "o.jsonl",
                progress=False) as run:
            async for result in run:
                raise _CallersError(f"after {result.id}")

    with pytest.raises(_CallersError, match="after q0"):
        _run(library, body)
    written = [r["id"] for r in _lines(tmp_path / "o.jsonl")]
    assert "q0" in written and len(set(written)) == len(written)  # what ended is kept


def test_bad_usage_is_named(server: FakeInferenceServer) -> None:
    async def main(method: str, client: object = None) -> None:
        async with _client(server) as real:
            await run_batch(client or real, method, [], progress=False)  # type: ignore[arg-type]

    with pytest.raises(UsageError) as info:
        asyncio.run(main("no_such_task"))
    assert info.value.argument == "method"
    with pytest.raises(UsageTypeError) as info:
        asyncio.run(main("chat_completion", client=object()))
    assert info.value.argument == "client"
    with pytest.raises(UsageTypeError) as info:
        _batch("asyncio", server, 42)
    assert info.value.argument == "inputs"


def test_stream_true_is_an_item_error_not_a_hang(server: FakeInferenceServer) -> None:
    summary = _batch("asyncio", server, [{"messages": [{"role": "user", "content": "x"}],
                                         "stream": True}])
    assert summary.results is not None
    assert isinstance(summary.results[0].error, UsageError)


@pytest.mark.parametrize("library", LIBRARIES)
def test_cancellation_leaves_a_consistent_file_that_resumes(
        library: str, server: FakeInferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    server.route("POST", "/v1/chat/completions",
                 chat_completion("slow", delay_before_headers=0.02))

    async def cancelled() -> None:
        async with _client(server) as client:
            if library == "trio":
                with trio.move_on_after(0.3):
                    await run_batch(client, "chat_completion", _questions(200), output=out,
                                    concurrency=4, progress=False)
            else:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        run_batch(client, "chat_completion", _questions(200), output=out,
                                  concurrency=4, progress=False), 0.3)

    _run(library, cancelled)
    partial = _lines(out)
    assert 0 < len(partial) < 200
    assert len({r["id"] for r in partial}) == len(partial)
    server.route("POST", "/v1/chat/completions", chat_completion("fast"))
    summary = _batch(library, server, _questions(200), output=out, concurrency=16)
    assert summary.skipped == len(partial)
    ids = [r["id"] for r in _lines(out)]
    assert sorted(ids) == sorted(f"q{i}" for i in range(200))


def test_the_plain_progress_line_shows_counts_and_tokens(
        server: FakeInferenceServer, capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> BatchSummary:
        async with _client(server) as client:
            return await run_batch(client, "chat_completion", _questions(5),
                                   progress="plain")

    asyncio.run(main())
    err = capsys.readouterr().err
    assert "batch: 5/5 items" in err
    assert "0 errors" in err and "tokens" in err


def test_run_batch_sync_drives_it_on_a_private_loop(server: FakeInferenceServer) -> None:
    client = _client(server)
    summary = run_batch_sync(client, "chat_completion", _questions(3), progress=False)
    assert summary.succeeded == 3

    async def inside() -> None:
        run_batch_sync(client, "chat_completion", [], progress=False)

    with pytest.raises(UsageError, match="inside a running event loop"):
        asyncio.run(inside())


def test_binary_outputs_are_written_as_base64(tmp_path: Path) -> None:
    from inferwire._batch_io import result_line

    line = result_line(BatchResult("a", 0, b"\x00\xffwav"))
    record = json.loads(line)
    assert base64.b64decode(record["output"]["base64"]) == b"\x00\xffwav"
    failed = json.loads(result_line(BatchResult("b", 1, error=InferenceError("boom"))))
    assert failed["error"] == {"type": "InferenceError", "message": "boom"}
    assert "output" not in failed


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), cut=st.floats(0, 1))
def test_a_checkpoint_cut_at_any_byte_keeps_exactly_its_complete_lines(
        n: int, cut: float) -> None:
    from inferwire._batch_io import Checkpoint, result_line

    lines = [result_line(BatchResult(f"é{i}", i, {"text": "ü" * i})) for i in range(n)]
    whole = b"".join(lines)
    keep = int(len(whole) * cut)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.jsonl"
        path.write_bytes(whole[:keep])
        checkpoint = Checkpoint(path)
        checkpoint.close()
        complete, size = 0, 0
        while complete < n and size + len(lines[complete]) <= keep:
            size += len(lines[complete])
            complete += 1
        assert checkpoint.done == {f"é{i}" for i in range(complete)}
        assert path.read_bytes() == whole[:size]


def test_the_tqdm_bar_is_used_when_tqdm_is_installed(
        server: FakeInferenceServer, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")

    async def main() -> BatchSummary:
        async with _client(server) as client:
            return await run_batch(client, "chat_completion", _questions(4), progress="tqdm")

    assert asyncio.run(main()).succeeded == 4
    err = capsys.readouterr().err
    assert "batch" in err and "4/4" in err and "tokens=" in err

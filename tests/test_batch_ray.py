"""The Ray Data adapter on a local Ray cluster, and the 🤗 datasets ``map`` recipe, against the
fake server. Needs the ``ray`` extra (``pip install 'inferwire[ray]'``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from inferwire.testing import FakeInferenceServer, error

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "messages": [{"role": "user", "content": f"question {i}"}]}
            for i in range(n)]


def test_map_batches_runs_every_row_with_one_client_per_actor(cluster: Any) -> None:
    from inferwire.batch import RayInference

    with FakeInferenceServer(tokens=["an", " answer"]) as server:
        server.enqueue(error(429, headers={"Retry-After": "0"}))
        ds = ray.data.from_items(_rows(40))
        out = ds.map_batches(
            RayInference, batch_size=8, concurrency=2,
            fn_constructor_kwargs={"method": "chat_completion", "actors": 2,
                                   "client": {"base_url": server.url("/v1")},
                                   "concurrency": 4, "rpm": 60_000},
        ).take_all()
        asked = len(server.requests)
    assert sorted(row["id"] for row in out) == sorted(f"q{i}" for i in range(40))
    assert all(row["error"] is None for row in out)
    first = json.loads(out[0]["output"])
    assert first["choices"][0]["message"]["content"] == "an answer"
    assert sum(row["attempts"] for row in out) == 41  # the 429 was retried, once
    assert asked == 41
    assert all(row["total_tokens"] > 0 for row in out)


def test_the_budgets_are_divided_among_the_actors() -> None:
    from inferwire.batch import RayInference

    adapter = RayInference("chat_completion", actors=4, rpm=600, tpm=40_000,
                           client={"base_url": "http://127.0.0.1:9/v1"})
    assert (adapter._options["rpm"], adapter._options["tpm"]) == (150, 10_000)
    with pytest.raises(ValueError, match="actors must be an int >= 1"):
        RayInference("chat_completion", actors=0)


def test_datasets_map_with_an_async_function() -> None:
    datasets = pytest.importorskip("datasets")
    from inferwire import AsyncInferenceClient

    with FakeInferenceServer(tokens=["an", " answer"]) as server:
        client = AsyncInferenceClient(base_url=server.url("/v1"))

        async def answer(row: dict[str, Any]) -> dict[str, Any]:
            out = await client.chat_completion(row["messages"], max_tokens=16)
            return {"answer": out.choices[0].message.content,
                    "total_tokens": out.usage.total_tokens}

        ds = datasets.Dataset.from_list(_rows(12)).map(answer)
        asyncio.run(client.close())
        assert len(server.requests) == 12
    assert ds["answer"] == ["an answer"] * 12
    assert ds.column_names == ["id", "messages", "answer", "total_tokens"]

"""The three clients against a real llama.cpp server (xllamacpp + SmolLM2-135M), on 127.0.0.1.

The servers are started once per session by the fixtures in `realserver.py`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
import trio

from inferwire import (
    AsyncInferenceClient,
    AuthenticationError,
    BadRequestError,
    ConnectError,
    InferenceClient,
    RetryPolicy,
    ServiceUnavailableError,
)
from inferwire.local import LocalServer

from realserver import AUTH_KEY, BackgroundStart, free_port

pytestmark = pytest.mark.realserver

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
TIMEOUT = 120


def run_async(library: str, coro_fn: Any) -> Any:
    async def main() -> Any:
        return await coro_fn()

    return asyncio.run(main()) if library == "asyncio" else trio.run(main)


def test_sync_chat_stream_and_non_stream_agree(llama_chat_server: LocalServer) -> None:
    with InferenceClient(base_url=llama_chat_server.base_url, timeout=TIMEOUT) as client:
        output = client.chat_completion(QUESTION, max_tokens=24, temperature=0.0, seed=1)
        chunks = list(client.chat_completion(QUESTION, max_tokens=24, temperature=0.0, seed=1,
                                             stream=True,
                                             stream_options={"include_usage": True}))
    text = output.choices[0].message.content
    assert text and output.choices[0].finish_reason in ("stop", "length")
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text  # same seed, greedy: the stream spells the same answer
    assert chunks[0].choices[0].delta.role == "assistant"
    usage = chunks[-1]
    assert usage.choices == [] and usage.usage.completion_tokens == output.usage.completion_tokens
    assert "timings" in usage.extras  # llama.cpp's extra field is kept


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_chat_streams_survive_llama_cpp_closing_after_each_stream(
        llama_chat_server: LocalServer, library: str) -> None:
    """cpp-httplib closes the connection after every chunked (streamed) response without a
    `Connection: close` header; the pooled connection is then stale and must be replaced
    transparently (reuse after streams is proven on the fake server's scenario table)."""
    async def scenario() -> tuple[list[str], int]:
        async with AsyncInferenceClient(base_url=llama_chat_server.base_url,
                                        timeout=TIMEOUT) as client:
            texts = []
            for _ in range(2):
                stream = await client.chat_completion(QUESTION, max_tokens=12, stream=True,
                                                      temperature=0.0, seed=1)
                texts.append("".join([c.choices[0].delta.content or "" async for c in stream
                                      if c.choices]))
            return texts, client.connections_opened

    texts, opened = run_async(library, scenario)
    assert texts[0]
    assert texts[0] == texts[1]
    assert opened == 2


def test_text_generation_uses_completions(llama_chat_server: LocalServer) -> None:
    with InferenceClient(base_url=llama_chat_server.base_url, timeout=TIMEOUT) as client:
        text = client.text_generation("The capital of France is", max_new_tokens=8,
                                      temperature=0.0, seed=1)
        words = list(client.text_generation("The capital of France is", max_new_tokens=8,
                                            temperature=0.0, seed=1, stream=True))
        details = client.text_generation("The capital of France is", max_new_tokens=8,
                                         temperature=0.0, seed=1, details=True)
    assert text and "".join(words) == text
    assert details.generated_text == text
    assert details.details is not None and details.details.generated_tokens == 8


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_text_generation_stream(llama_chat_server: LocalServer, library: str) -> None:
    async def scenario() -> list[Any]:
        async with AsyncInferenceClient(base_url=llama_chat_server.base_url,
                                        timeout=TIMEOUT) as client:
            stream = await client.text_generation("Once upon a time", max_new_tokens=6,
                                                  stream=True, details=True)
            return [item async for item in stream]

    items = run_async(library, scenario)
    assert items and items[-1].details is not None
    assert all(isinstance(i.token.text, str) for i in items)


def test_embeddings_from_a_second_instance(llama_embed_server: LocalServer) -> None:
    with InferenceClient(base_url=llama_embed_server.base_url, timeout=TIMEOUT) as client:
        one = client.feature_extraction("Paris is the capital of France.")
        packed = client.feature_extraction("Paris is the capital of France.",
                                           encoding_format="base64")
        two = client.feature_extraction(["Paris is the capital of France.", "Bonjour"])
    assert one.dtype == np.float32
    assert one.shape == (1, 576)
    np.testing.assert_allclose(packed, one, rtol=1e-5, atol=1e-6)  # base64 decodes the same
    assert two.shape == (2, 576)
    cosine = float(one[0] @ two[0] / np.linalg.norm(one[0]) / np.linalg.norm(two[0]))
    assert cosine > 0.9  # batched inference differs slightly in llama.cpp, not in meaning

    async def scenario() -> Any:
        async with AsyncInferenceClient(base_url=llama_embed_server.base_url,
                                        timeout=TIMEOUT) as client:
            return await client.feature_extraction("Paris is the capital of France.")

    np.testing.assert_allclose(run_async("trio", scenario), one, rtol=1e-4, atol=1e-5)


def test_wrong_api_key_is_a_401_with_the_server_message(llama_auth_server: LocalServer) -> None:
    with InferenceClient(base_url=llama_auth_server.base_url, api_key="sk-wrong",
                         timeout=TIMEOUT) as client:
        with pytest.raises(AuthenticationError) as info:
            client.chat_completion(QUESTION, max_tokens=4)
        assert info.value.status == 401
        assert info.value.server_message == "Invalid API Key"
        assert "sk-wrong" not in str(info.value)
    with InferenceClient(base_url=llama_auth_server.base_url, api_key=AUTH_KEY,
                         timeout=TIMEOUT) as client:
        assert client.chat_completion(QUESTION, max_tokens=4).choices


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_401(llama_auth_server: LocalServer, library: str) -> None:
    async def scenario() -> None:
        async with AsyncInferenceClient(base_url=llama_auth_server.base_url,
                                        api_key="sk-wrong", timeout=TIMEOUT) as client:
            await client.chat_completion(QUESTION, max_tokens=4, stream=True)

    with pytest.raises(AuthenticationError):
        run_async(library, scenario)


def test_400_from_the_server(llama_chat_server: LocalServer) -> None:
    with InferenceClient(base_url=llama_chat_server.base_url, timeout=TIMEOUT) as client:
        long_prompt = [{"role": "user", "content": "word " * 5000}]  # beyond n_ctx=2048
        with pytest.raises(BadRequestError) as info:
            client.chat_completion(long_prompt, max_tokens=4, stream=True)
    assert info.value.error_type == "exceed_context_size_error"
    assert info.value.server_message


def test_health_check(llama_chat_server: LocalServer) -> None:
    with InferenceClient(llama_chat_server.root_url, timeout=TIMEOUT) as client:
        assert client.health_check() is True


def test_503_while_the_model_loads_then_retried_until_ready() -> None:
    """llama.cpp binds its port before loading the model and answers 503 "Loading model"
    meanwhile: without retries that is a typed `ServiceUnavailableError`; with retries the
    same call waits the load out and succeeds."""
    port = free_port()
    starting = BackgroundStart(port)
    url = f"http://127.0.0.1:{port}/v1"
    loading: ServiceUnavailableError | None = None
    patient = RetryPolicy(max_retries=200, backoff_initial=0.02, backoff_max=0.1)
    try:
        with InferenceClient(base_url=url, timeout=TIMEOUT, max_retries=0) as impatient:
            while loading is None and not starting.done.is_set():
                try:
                    impatient.chat_completion(QUESTION, max_tokens=2)
                except ConnectError:
                    time.sleep(0.002)  # not listening yet
                except ServiceUnavailableError as exc:
                    loading = exc
                else:
                    break
        with InferenceClient(base_url=url, timeout=TIMEOUT, max_retries=patient) as client:
            output = client.chat_completion(QUESTION, max_tokens=4)
    finally:
        starting.join().stop()
    assert loading is not None, "the server was never seen loading"
    assert loading.server_message == "Loading model"
    assert loading.error_type == "unavailable_error"
    assert output.choices[0].message.content is not None

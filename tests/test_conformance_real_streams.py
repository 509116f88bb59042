"""Conformance against raw captures of real local servers, replayed through every transport.

The captures in ``tests/data/real_streams/`` (see its SOURCE.md) are the bytes llama.cpp
(xllamacpp), ``transformers serve``, the LiteLLM proxy, infinity-emb and the HF Inference
Toolkit really sent: status line, headers and body. The fake server replays each one
(`inferwire.testing.replay`: re-chunked, headers kept, ``Connection: close`` honoured) and the
parsed results are checked against the capture, read independently here, and against the
other captures of the same server and prompt. The captures do not hold the requests; the
calls below are the ones that produce such answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from conformance import REAL_STREAMS_DIR, TRANSPORTS, Facade, run, sse_json

from inferwire import AuthenticationError, BadRequestError, RetryPolicy, ServiceUnavailableError
from inferwire.sansio import TextGenerationStreamOutput
from inferwire.testing import FakeInferenceServer, Reply, replay

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]


def capture(name: str) -> Reply:
    """`replay` of capture `name`."""
    return replay(REAL_STREAMS_DIR / name)


def body(name: str) -> bytes:
    data = (REAL_STREAMS_DIR / name).read_bytes()
    for separator in (b"\r\n\r\n", b"\n\n"):
        _, found, rest = data.partition(separator)
        if found:
            return rest
    raise AssertionError(f"{name} is not a capture")


def chunks_of(name: str) -> tuple[list[Any], bool]:
    return sse_json(body(name))


def floats(name: str) -> np.ndarray:
    """The float vectors of an OpenAI embeddings capture, as float32, in index order."""
    data = sorted(json.loads(body(name))["data"], key=lambda item: item["index"])
    return np.asarray([item["embedding"] for item in data], dtype=np.float32)


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


# -- chat: stream and non-stream of the same server and prompt ---------------------------------


async def _chat_pair(
    t: Facade, server: FakeInferenceServer, prefix: str, expected: str, **stream_kwargs: Any
) -> tuple[Any, list[Any], Any]:
    server.enqueue(capture(f"{prefix}_chat_stream.txt"), capture(f"{prefix}_chat_nonstream.txt"))
    stream = await t.call("chat_completion", FRANCE, stream=True, max_tokens=20, **stream_kwargs)
    chunks = await t.collect(stream)
    assert stream.head.status == 200
    output = await t.call("chat_completion", FRANCE, max_tokens=20)
    payloads, _ = chunks_of(f"{prefix}_chat_stream.txt")
    assert [chunk.to_dict() for chunk in chunks] == payloads
    assert text_of(chunks) == output.choices[0].message.content == expected
    finish = [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
    assert finish == [output.choices[0].finish_reason]
    assert [r.path for r in server.requests] == ["/v1/chat/completions"] * 2
    assert server.requests[0].json["stream"] is True
    assert server.requests[1].json["stream"] is False
    return stream.head, chunks, output


async def xllamacpp_chat(t: Facade, server: FakeInferenceServer) -> None:
    _, chunks, output = await _chat_pair(
        t,
        server,
        "xllamacpp",
        "L'Étoile, la Marseillaise, la femme, la femme au",
        stream_options={"include_usage": True},
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content is None
    usage_chunk = chunks[-1]  # usage-only chunk after the finish chunk, with llama.cpp timings
    assert usage_chunk.choices == []
    assert usage_chunk.usage.completion_tokens == output.usage.completion_tokens == 20
    assert usage_chunk.usage.prompt_tokens == output.usage.prompt_tokens == 37
    assert usage_chunk["timings"]["predicted_n"] == 20
    assert output.choices[0].finish_reason == "length"
    assert server.requests[0].json["stream_options"] == {"include_usage": True}
    assert server.requests[0].connection_id == server.requests[1].connection_id


async def transformers_serve_chat(t: Facade, server: FakeInferenceServer) -> None:
    _, done = chunks_of("transformers_serve_chat_stream.txt")
    assert not done  # transformers serve ends its stream without [DONE]
    head, chunks, output = await _chat_pair(
        t, server, "transformers_serve", "The capital of France is Paris."
    )
    last = chunks[-1]  # the usage rides on the finish chunk
    assert last.choices[0].finish_reason == "stop"
    assert last.usage.completion_tokens == output.usage.completion_tokens == 8
    assert head.header("x-request-id") == last.id  # transformers serve's id is its request id
    # The stream ended cleanly at the end of the body: its connection served the next call.
    assert server.requests[0].connection_id == server.requests[1].connection_id


async def litellm_mock_chat(t: Facade, server: FakeInferenceServer) -> None:
    _, chunks, output = await _chat_pair(
        t,
        server,
        "litellm_mock",
        "Hello from the LiteLLM mock. This is a canned reply streamed in chunks.",
        stream_options={"include_usage": True},
    )
    usage_chunk = chunks[-1]  # after the finish chunk; LiteLLM keeps an empty choice in it
    assert [(c.delta.content, c.finish_reason) for c in usage_chunk.choices] == [(None, None)]
    assert usage_chunk.usage.completion_tokens == 17  # the mock counts differently per mode
    assert output.usage.completion_tokens == 20


async def litellm_proxy_chat(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("litellm_proxy_to_xllamacpp_chat_stream.txt"))
    chunks = await t.collect(await t.call("chat_completion", FRANCE, stream=True, max_tokens=16))
    payloads, done = chunks_of("litellm_proxy_to_xllamacpp_chat_stream.txt")
    assert done
    assert [chunk.to_dict() for chunk in chunks] == payloads
    assert text_of(chunks) == "L'Alma, la capital du paysage de France est la voix"
    assert [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason] == [
        "length"
    ]
    assert all(chunk.usage is None for chunk in chunks)


# -- text generation on OpenAI completions streams ---------------------------------------------


async def _completions(
    t: Facade, server: FakeInferenceServer, name: str, expected: str, usage: tuple[int, int]
) -> None:
    _, done = chunks_of(name)
    server.enqueue(capture(name), capture(name))
    words = await t.collect(
        await t.call("text_generation", "The capital of France is", max_new_tokens=8, stream=True)
    )
    assert "".join(words) == expected
    items = await t.collect(
        await t.call(
            "text_generation",
            "The capital of France is",
            max_new_tokens=8,
            stream=True,
            details=True,
        )
    )
    # one item per text chunk; the finish chunk (empty text) gives the last token its details,
    # as TGI's last event has them: no item ends the stream with an empty token
    assert [item.token.text for item in items] == words
    assert [item.index for item in items] == list(range(1, len(words) + 1))
    assert all(item.details is None for item in items[:-1])
    last = items[-1]
    assert last.token.text == words[-1]
    assert last.generated_text == expected
    assert last.details.finish_reason == "length"
    assert (last.details.generated_tokens, last.details.input_length) == usage
    for request in server.requests:
        assert request.path == "/v1/completions"
        assert request.json == {
            "prompt": "The capital of France is",
            "max_tokens": 8,
            "stream": True,
        }
    assert len(server.requests) == 2
    if not done:  # no [DONE]: the end of the body ended the stream, cleanly
        assert server.requests[0].connection_id == server.requests[1].connection_id


async def xllamacpp_completions(t: Facade, server: FakeInferenceServer) -> None:
    await _completions(
        t, server, "xllamacpp_completions_stream.txt", " Paris.\n\nThe United States has", (8, 5)
    )


async def transformers_serve_completions(t: Facade, server: FakeInferenceServer) -> None:
    await _completions(
        t, server, "transformers_serve_completions_stream.txt", " Paris.\n\nThe answer is:", (8, 5)
    )


# -- embeddings ---------------------------------------------------------------------------------


async def infinity_float_and_base64(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("infinity_embeddings.txt"), capture("infinity_embeddings_base64.txt"))
    vectors = await t.call("feature_extraction", ["Hello world", "x"])
    expected = floats("infinity_embeddings.txt")
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    np.testing.assert_array_equal(vectors, expected)
    encoded = await t.call("feature_extraction", "Hello world", encoding_format="base64")
    assert encoded.dtype == np.float32 and encoded.shape == (1, 384)
    np.testing.assert_array_equal(encoded[0], expected[0])  # base64 float32 == the floats
    # infinity serves /embeddings without /v1: a URL ending in /embeddings is OpenAI-style
    assert [r.path for r in server.requests] == ["/embeddings", "/embeddings"]
    assert server.requests[0].json == {"input": ["Hello world", "x"]}
    assert server.requests[1].json == {"input": "Hello world", "encoding_format": "base64"}


async def infinity_unknown_model(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("infinity_error_unknown_model.txt"))
    vectors = await t.call("feature_extraction", "x", model="no-such-model")
    assert vectors.shape == (1, 384)  # infinity answers 200 with its only model
    np.testing.assert_array_equal(vectors, floats("infinity_error_unknown_model.txt"))
    # (infinity started with --url-prefix /v1; see test_model_name_reaches_an_openai_route_url)
    assert server.last_request.path == "/v1/embeddings"
    assert server.last_request.json == {"input": "x", "model": "no-such-model"}


async def xllamacpp_embeddings(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("xllamacpp_embeddings.txt"))
    vectors = await t.call("feature_extraction", ["Hello world", "x"])
    assert vectors.shape == (2, 384)
    np.testing.assert_array_equal(vectors, floats("xllamacpp_embeddings.txt"))
    # the same model (all-MiniLM-L6-v2) in llama.cpp and in infinity (sentence-transformers)
    np.testing.assert_allclose(vectors, floats("infinity_embeddings.txt"), atol=1e-3)
    assert server.last_request.path == "/v1/embeddings"


async def toolkit_feature_extraction(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("hf_toolkit_feature_extraction.txt"))
    features = await t.call("feature_extraction", "Hello world")
    expected = np.asarray(json.loads(body("hf_toolkit_feature_extraction.txt")), np.float32)
    assert features.shape == expected.shape == (1, 4, 384)
    np.testing.assert_array_equal(features, expected)
    assert (server.last_request.path, server.last_request.json) == ("/", {"inputs": "Hello world"})


async def toolkit_sentence_embeddings(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("hf_toolkit_sentence_embeddings.txt"))
    vectors = await t.call("feature_extraction", ["Hello world", "x"])
    expected = json.loads(body("hf_toolkit_sentence_embeddings.txt"))["embeddings"]
    assert vectors.shape == (2, 384)
    np.testing.assert_array_equal(vectors, np.asarray(expected, np.float32))
    # the toolkit and infinity run the same sentence-transformers model
    np.testing.assert_array_equal(vectors[0], floats("infinity_embeddings.txt")[0])


async def toolkit_400(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("hf_toolkit_error_400_no_inputs.txt"))
    with pytest.raises(BadRequestError) as info:
        await t.call("feature_extraction", "Hello world")
    assert info.value.status == 400
    assert info.value.server_message == (
        "Body needs to provide a inputs key, received: b'{\"foo\":1}'"
    )


# -- the toolkit's text generation: JSON, even to a stream request -----------------------------


async def toolkit_text_generation(t: Facade, server: FakeInferenceServer) -> None:
    expected = "The capital of France is Paris.\n\nThe capital of the"
    server.enqueue(*[capture("hf_toolkit_text_generation.txt")] * 3)
    prompt = "The capital of France is"
    assert await t.call("text_generation", prompt, max_new_tokens=8) == expected
    # The toolkit ignores "stream" and answers JSON: one item, not silence.
    items = await t.collect(await t.call("text_generation", prompt, max_new_tokens=8, stream=True))
    assert items == [expected]
    detailed = await t.collect(
        await t.call("text_generation", prompt, max_new_tokens=8, stream=True, details=True)
    )
    assert len(detailed) == 1 and isinstance(detailed[0], TextGenerationStreamOutput)
    assert detailed[0].generated_text == detailed[0].token.text == expected
    assert [r.path for r in server.requests] == ["/"] * 3
    assert [r.json.get("stream") for r in server.requests] == [None, True, True]
    # No "Accept: text/event-stream": the toolkit answers it with a 400 after generating
    # (hf_toolkit_error_400_accept_event_stream.txt).
    assert all("event-stream" not in r.headers.get("accept", "") for r in server.requests)
    assert server.requests[0].json == {"inputs": prompt, "parameters": {"max_new_tokens": 8}}


async def toolkit_refuses_event_stream_accept(t: Facade, server: FakeInferenceServer) -> None:
    """What the toolkit says to a client that asks for text/event-stream: its words reach
    the user in a BadRequestError."""
    server.enqueue(capture("hf_toolkit_error_400_accept_event_stream.txt"))
    with pytest.raises(BadRequestError) as info:
        await t.call("text_generation", "The capital of France is", stream=True)
    assert info.value.status == 400
    assert 'Accept type "text/event-stream" not supported' in str(info.value)


# -- llama.cpp errors ----------------------------------------------------------------------------


async def xllamacpp_context_exceeded(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(
        capture("xllamacpp_error_context_exceeded_stream.txt"),
        capture("xllamacpp_chat_nonstream.txt"),
    )
    with pytest.raises(BadRequestError) as info:
        await t.call("chat_completion", [{"role": "user", "content": "word " * 3000}], stream=True)
    error = info.value
    assert error.status == 400
    assert error.error_type == "exceed_context_size_error"
    assert error.server_message == (
        "request (3031 tokens) exceeds the available context size (1024 tokens), try increasing it"
    )
    assert json.loads(error.body)["error"]["n_ctx"] == 1024
    # The server closed the connection (Connection: close); the next call gets a new one.
    output = await t.call("chat_completion", FRANCE)
    assert output.choices[0].message.content.startswith("L'Étoile")
    assert server.requests[0].connection_id != server.requests[1].connection_id


async def xllamacpp_loading(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(capture("xllamacpp_503_loading_model.txt"))
    with pytest.raises(ServiceUnavailableError) as info:
        await t.call("chat_completion", FRANCE)
    assert info.value.status == 503
    assert info.value.error_type == "unavailable_error"
    assert info.value.server_message == "Loading model"
    assert len(server.requests) == 1  # max_retries=0


async def xllamacpp_loading_then_ready(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(
        capture("xllamacpp_503_loading_model.txt"),
        capture("xllamacpp_503_loading_model.txt"),
        capture("xllamacpp_chat_nonstream.txt"),
    )
    output = await t.call("chat_completion", FRANCE, max_tokens=20)
    assert output.choices[0].message.content == "L'Étoile, la Marseillaise, la femme, la femme au"
    assert len(server.requests) == 3  # two 503s retried (no Retry-After: backoff, here 0 s)


async def xllamacpp_errors(t: Facade, server: FakeInferenceServer) -> None:
    server.enqueue(
        capture("xllamacpp_error_401_no_api_key.txt"),
        capture("xllamacpp_error_400_messages_not_array.txt"),
    )
    with pytest.raises(AuthenticationError) as auth:
        await t.call("chat_completion", FRANCE, stream=True)
    assert (auth.value.status, auth.value.error_type, auth.value.server_message) == (
        401,
        "authentication_error",
        "Invalid API Key",
    )
    with pytest.raises(BadRequestError) as bad:
        await t.call("chat_completion", FRANCE, extra_body={"messages": "not a list"})
    assert (bad.value.status, bad.value.error_type, bad.value.server_message) == (
        400,
        "invalid_request_error",
        "Expected 'messages' to be an array",
    )
    assert server.requests[1].json["messages"] == "not a list"


Scenario = Callable[[Facade, FakeInferenceServer], Awaitable[None]]
NO_RETRY: dict[str, Any] = {"max_retries": 0}
FAST_RETRY: dict[str, Any] = {"max_retries": RetryPolicy(max_retries=2, backoff_initial=0.0)}

SCENARIOS: dict[str, tuple[Scenario, str, dict[str, Any]]] = {
    "xllamacpp chat, stream = non-stream, usage chunk": (xllamacpp_chat, "/v1", {}),
    "transformers serve chat, no [DONE]": (transformers_serve_chat, "/v1", {}),
    "litellm mock chat, stream = non-stream": (litellm_mock_chat, "/v1", {}),
    "litellm proxy to llama.cpp chat stream": (litellm_proxy_chat, "/v1", {}),
    "xllamacpp completions stream": (xllamacpp_completions, "/v1", {}),
    "transformers serve completions stream, no [DONE]": (transformers_serve_completions, "/v1", {}),
    "infinity embeddings float and base64": (infinity_float_and_base64, "/embeddings", {}),
    "infinity unknown model answers 200": (infinity_unknown_model, "/v1", {}),
    "xllamacpp embeddings": (xllamacpp_embeddings, "/v1", {}),
    "toolkit feature extraction [1,T,384]": (toolkit_feature_extraction, "/", {}),
    "toolkit sentence embeddings": (toolkit_sentence_embeddings, "/", {}),
    "toolkit 400": (toolkit_400, "/", {}),
    "toolkit text generation, JSON to a stream request": (toolkit_text_generation, "/", {}),
    "toolkit refusing Accept: text/event-stream": (toolkit_refuses_event_stream_accept, "/", {}),
    "xllamacpp context exceeded on a stream request": (xllamacpp_context_exceeded, "/v1", {}),
    "xllamacpp 503 loading model": (xllamacpp_loading, "/v1", NO_RETRY),
    "xllamacpp 503 loading model, retried": (xllamacpp_loading_then_ready, "/v1", FAST_RETRY),
    "xllamacpp 401 and 400": (xllamacpp_errors, "/v1", {}),
}


@pytest.fixture(scope="module")
def module_server() -> Any:
    with FakeInferenceServer() as fake:
        yield fake


@pytest.fixture
def server(module_server: FakeInferenceServer) -> FakeInferenceServer:
    module_server.reset()
    return module_server


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_real_capture(name: str, transport: str, server: FakeInferenceServer) -> None:
    scenario, path, client_kwargs = SCENARIOS[name]

    async def main(t: Facade) -> None:
        await scenario(t, server)

    run(transport, server, main, path=path, **client_kwargs)
    assert server.pending_replies == 0
    assert server.errors == []


# -- library bugs found by the captures (minimal reproductions) --------------------------------


@pytest.mark.parametrize(
    ("path", "capture_name", "method", "arg", "kwargs"),
    [
        ("/embeddings", "infinity_embeddings_base64.txt", "feature_extraction", "Hello world", {}),
        (
            "/v1/completions",
            "xllamacpp_completions_stream.txt",
            "text_generation",
            "Hi",
            {"stream": True},
        ),
    ],
    ids=["embeddings", "completions"],
)
def test_model_name_reaches_an_openai_route_url(
    path: str,
    capture_name: str,
    method: str,
    arg: str,
    kwargs: dict[str, Any],
    server: FakeInferenceServer,
) -> None:
    # infinity serves /embeddings without /v1; a client made for that URL that names the
    # model per call must send it, as it does for a URL ending in /v1.
    async def main(t: Facade) -> None:
        server.enqueue(capture(capture_name))
        result = await t.call(method, arg, model="all-MiniLM-L6-v2", **kwargs)
        if kwargs.get("stream"):
            await t.collect(result)

    run("sync", server, main, path=path)
    assert server.last_request.path == path
    assert server.last_request.json.get("model") == "all-MiniLM-L6-v2"


def test_sync_stream_request_answered_with_json(server: FakeInferenceServer) -> None:
    # The HF Inference Toolkit answers a stream request with its JSON body. The sync client's
    # flow reads that body, then the Stream asks httpx for the body a second time.
    async def main(t: Facade) -> list[Any]:
        server.enqueue(capture("hf_toolkit_text_generation.txt"))
        return await t.collect(await t.call("text_generation", "Hi", stream=True))

    items = run("sync", server, main, path="/")
    assert items == ["The capital of France is Paris.\n\nThe capital of the"]

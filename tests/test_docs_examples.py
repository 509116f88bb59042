"""The examples in docs/ run: a transport on urllib drives the core's flows."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from inferwire.sansio import (
    AuthenticationError,
    build_config,
    chat_completion,
    feature_extraction,
    text_generation,
)
from inferwire.testing import FakeInferenceServer, error

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "urllib_transport.py"
TOKENS = ["Paris", " is", " the", " capital", "."]


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("urllib_transport", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server() -> object:
    with FakeInferenceServer(tokens=TOKENS) as fake:
        yield fake


def test_urllib_transport_streams_and_calls(example: ModuleType, server: FakeInferenceServer
                                            ) -> None:
    config = build_config(base_url=server.url("/v1"))
    messages = [{"role": "user", "content": "hi"}]
    chunks = list(example.run(chat_completion(config, messages, stream=True, params={})))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "Paris is the capital."
    output = example.run(chat_completion(config, messages, params={}))
    assert output.choices[0].message.content == "Paris is the capital."
    assert example.run(text_generation(config, "x", params={})) == "Paris is the capital."
    assert example.run(feature_extraction(config, ["a", "b"])).shape == (2, 16)


def test_urllib_transport_gets_the_core_retries_and_errors(example: ModuleType,
                                                          server: FakeInferenceServer) -> None:
    config = build_config(base_url=server.url("/v1"))
    server.enqueue(error(503, message="Loading model", headers={"Retry-After": "0"}))
    output = example.run(chat_completion(config, [{"role": "user", "content": "hi"}], params={}))
    assert output.choices[0].message.content == "Paris is the capital."
    server.enqueue(error(401, message="Invalid API Key"))
    with pytest.raises(AuthenticationError, match="Invalid API Key"):
        example.run(chat_completion(config, [{"role": "user", "content": "hi"}], params={}))


def test_the_example_runs_as_a_script(server: FakeInferenceServer) -> None:
    result = subprocess.run([sys.executable, str(EXAMPLE), server.url("/v1")],
                            capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "Paris is the capital."


def test_the_testing_guide_example_passes() -> None:
    example = EXAMPLE.parent / "test_with_fake_server.py"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             str(example)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout

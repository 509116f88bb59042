"""huggingface_hub's recorded provider cassettes, replayed on sync, asyncio and trio.

Each cassette's interactions, Hub lookup included, are served by the fake server at their
recorded paths: the router, the Hub and each provider's API root all point at it
(`FakeInferenceServer.provider_env`), and result URLs on other hosts (a provider's CDN) are
rewritten onto it. inferwire then makes the call huggingface_hub's test made; the test
checks that every recorded request was asked for, with the recorded body, and that the
result is what the recorded answer says. Cassettes of providers that huggingface_hub no
longer has (removed in v1.25) are listed in `test_conformance_cassettes.NOT_APPLICABLE`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from conformance import (
    TRANSPORTS,
    Facade,
    Interaction,
    cassette_files,
    cassette_reply,
    load_cassette,
)
from test_providers_clients import run_client

from inferwire.testing import FakeInferenceServer, json_reply

_NAME = re.compile(r"^TestInferenceClient\.test_(?P<test>\w+)"
                   r"\[(?P<provider>[\w-]+),(?P<task>[\w-]+)\]\.yaml$")
SERVED = ("cerebras", "cohere", "fireworks-ai", "novita", "together", "fal-ai", "replicate")
_HF_HOSTS = ("huggingface.co", "router.huggingface.co")


UNFINISHED = "TestInferenceClient.test_text_to_speech[replicate,text-to-speech].yaml"
"""Recorded up to a prediction still ``starting`` with no output, where huggingface_hub gave
up (a ``TimeoutError``); inferwire polls it, which the recording does not hold (listed in
`test_conformance_cassettes.NOT_APPLICABLE`; the polling is tested on the replicate play)."""


def provider_cassettes() -> list[str]:
    out = []
    for name in cassette_files():
        match = _NAME.match(name)
        if match and match["provider"] in SERVED and name != UNFINISHED:
            out.append(name)
    return out


def _foreign_hosts(items: tuple[Interaction, ...], provider_hosts: set[str]) -> set[str]:
    return {it.host for it in items} - set(_HF_HOSTS) - provider_hosts


def _serve(server: FakeInferenceServer, items: tuple[Interaction, ...],
           provider_hosts: set[str]) -> None:
    foreign = _foreign_hosts(items, provider_hosts)
    for it in items:
        reply = cassette_reply(it)
        body = it.body
        for host in foreign:  # result URLs on a CDN are fetched from the fake server
            body = body.replace(f"https://{host}".encode(), server.base_url.encode())
        if body != it.body:
            reply = cassette_reply(Interaction(it.cassette, it.index, it.method, it.uri,
                                               it.request_body, it.status, it.reason,
                                               it.headers, body))
        server.route(it.method, it.path, reply, times=1)


def _call(test: str, items: tuple[Interaction, ...], model: str) -> tuple[str, tuple[Any, ...],
                                                                         dict[str, Any]]:
    post = next(it for it in items if it.method == "POST")
    body = post.request_json or {}
    if test.startswith("chat_completion"):
        params = {k: v for k, v in body.items() if k not in ("messages", "model", "stream")}
        return "chat_completion", (body["messages"],), {"model": model, "stream":
                                                        bool(body.get("stream")), **params}
    if test == "text_to_image_default":
        prompt = body.get("prompt") or body.get("input", {}).get("prompt")
        return "text_to_image", (prompt,), {"model": model}
    if test == "text_to_speech":
        text = body.get("text") or body.get("input", {}).get("text")
        return "text_to_speech", (text,), {"model": model}
    if test == "automatic_speech_recognition":
        audio_url = body.get("audio_url") or body.get("input", {}).get("audio")
        audio = base64.b64decode(audio_url.split(",", 1)[1])
        return "automatic_speech_recognition", (audio,), {"model": model}
    raise AssertionError(f"no call for {test}")


def _check(test: str, out: Any, items: tuple[Interaction, ...]) -> Any:
    post = next(it for it in items if it.method == "POST")
    if test.startswith("chat_completion"):
        return out
    downloads = [it for it in items if it.method == "GET" and it.index > post.index]
    if test == "automatic_speech_recognition":
        assert out.text == post.json()["text"]
        return out
    expected = downloads[-1].body if downloads else base64.b64decode(
        post.json()["data"][0]["b64_json"])
    if test == "text_to_image_default":
        import io

        from PIL import Image

        assert out.tobytes() == Image.open(io.BytesIO(expected)).tobytes()
    else:
        assert out == expected
    return out


def _same_data(body: dict[str, Any]) -> dict[str, Any]:
    """`body` without None values, data URLs reduced to their data: huggingface_hub labels
    every upload ``audio/mpeg``, inferwire the type it sniffs (here ``audio/flac``)."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, str) and value.startswith("data:"):
            value = value.split(",", 1)[1]
        out[key] = value
    return out


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", provider_cassettes())
def test_provider_cassette(monkeypatch: pytest.MonkeyPatch, transport: str, name: str) -> None:
    from inferwire.sansio._providers import PROVIDER_NAMES, provider

    match = _NAME.match(name)
    assert match is not None
    test, provider_name = match["test"], match["provider"]
    if provider_name not in PROVIDER_NAMES:
        pytest.fail(f"{provider_name} is not served yet")
    items = load_cassette(name)
    spec = provider(provider_name)
    provider_hosts = {spec.base_url.split("//", 1)[1],
                      *(url.split("//", 1)[1] for url in spec.hosts.values())}
    lookup = next((it for it in items if it.path.startswith("/api/models/")), None)
    post = next(it for it in items if it.method == "POST")
    via_router = post.host == "router.huggingface.co"
    with FakeInferenceServer() as server:
        server.play_provider(provider_name)  # (its routes: only the recorded ones answer)
        for key, value in server.provider_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("INFERWIRE_PROVIDER_URLS", f"{provider_name}={server.base_url}")
        _serve(server, items, provider_hosts)
        if lookup is not None:
            model = lookup.path.removeprefix("/api/models/")
        else:
            # Recorded before clients asked the Hub for direct calls: the lookup is answered
            # with the id the recording sent.
            model = "org/recorded-model"
            task = match["task"]
            sent_body = post.request_json or {}
            provider_id = sent_body.get("model") or post.path.split("/")[-1]
            if "version" in sent_body:  # replicate: "owner/model:version"
                provider_id = f"{post.json()['model']}:{sent_body['version']}"
            server.route("GET", f"/api/models/{model}", json_reply({
                "inferenceProviderMapping": {provider_name: {
                    "providerId": provider_id, "task": task, "status": "live"}}}))
        method, args, kwargs = _call(test, items, model)

        async def scenario(t: Facade) -> Any:
            out = await t.call(method, *args, **kwargs)
            if kwargs.get("stream"):
                out = await t.collect(out)
            return _check(test, out, items)

        out = run_client(transport, scenario, provider=provider_name,
                         token="hf_replay" if via_router else "provider-key", max_retries=0)
        asked = [(r.method, r.path) for r in server.requests]
        for it in items:
            assert (it.method, it.path) in asked, f"interaction {it.index} was not replayed"
        sent = next(r for r in server.requests if r.method == "POST")
        if post.request_json is not None and sent.json is not None:
            assert _same_data(sent.json) == _same_data(post.request_json)
        if test.startswith("chat_completion") and not kwargs.get("stream"):
            assert out.choices[0].message.content == post.json()["choices"][0]["message"][
                "content"]
        if kwargs.get("stream"):
            text = "".join(c.choices[0].delta.content or "" for c in out if c.choices)
            recorded = "".join(
                (json.loads(line[5:]).get("choices") or [{}])[0].get("delta", {}).get(
                    "content") or "" for line in post.body.decode().splitlines()
                if line.startswith("data:") and line.strip() != "data: [DONE]")
            assert text == recorded

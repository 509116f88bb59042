"""The core's trust rules as scripted conversations: tokens, ids, redirects, offline mode,
honest retries, billing, refused text-generation parameters. No sockets: the test plays the
transport (see tests/flowscript.py)."""

from __future__ import annotations

import contextlib
import json
import pickle
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferwire.sansio import Request, ResponseHead
from inferwire.sansio._config import build_config
from inferwire.sansio._embeddings import parse_hf_features, parse_openai_embeddings
from inferwire.sansio._error_body import error_from_response
from inferwire.sansio._errors import (
    ConnectError,
    HTTPStatusError,
    MalformedResponseError,
    NotFoundError,
    OfflineModeError,
    ProxyError,
    RedirectError,
    TLSError,
    UsageError,
    UsageTypeError,
)
from inferwire.sansio._exchange import Runtime
from inferwire.sansio._ids import check_model_id, check_token, is_hf_host
from inferwire.sansio._redirects import MAX_REDIRECTS, redirected_request
from inferwire.sansio._retry import RetryPolicy
from inferwire.sansio._tasks import (
    chat_completion,
    get_endpoint_info,
    health_check,
    text_generation,
)

from flowscript import Conversation

MESSAGES = [{"role": "user", "content": "hi"}]
CHAT = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                "finish_reason": "stop"}]}).encode()
SECRET = "hf_0123456789abcdefSECRET"


def chat(config: object, **kwargs: object) -> Conversation:
    return Conversation(chat_completion(config, MESSAGES, params={}, **kwargs))  # type: ignore[arg-type]


# -- 1. the token never appears ---------------------------------------------------------------


@pytest.mark.parametrize("raw", [SECRET + "\n", " " + SECRET + " ", SECRET + "\r\n", "\t" + SECRET])
def test_surrounding_whitespace_is_stripped_from_the_token(raw: str) -> None:
    config = build_config(base_url="http://h:1/v1", token=raw)
    headers = dict(config.request_headers("http://h:1/v1", json_body=True))
    assert headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("raw", [SECRET[:5] + "\n" + SECRET[5:], SECRET[:5] + "\r\nX: y",
                                 SECRET[:5] + " " + SECRET[5:], SECRET + "\x00", SECRET + "é"])
@pytest.mark.parametrize("argument", ["token", "api_key"])
def test_inner_control_characters_are_refused_without_quoting_the_token(
        raw: str, argument: str) -> None:
    with pytest.raises(UsageError) as info:
        build_config(base_url="http://h:1/v1", **{argument: raw})  # type: ignore[arg-type]
    assert info.value.argument == argument
    assert SECRET[:5] not in str(info.value) and SECRET[5:] not in str(info.value)


@given(st.text(min_size=1))
def test_check_token_returns_a_header_safe_token_or_refuses_without_echo(raw: str) -> None:
    stripped = raw.strip()
    if stripped and all(0x21 <= ord(c) <= 0x7E for c in stripped):
        assert check_token(raw) == stripped
        return
    with pytest.raises(UsageError) as info:
        check_token(raw)
    assert len(stripped) < 3 or stripped not in str(info.value)


def test_errors_keep_the_request_with_secrets_redacted_and_pickle_without_them() -> None:
    config = build_config(base_url="http://h:1/v1", token=SECRET,
                          headers={"X-API-Key": "sk-other-secret", "Cookie": "s=cookie-secret"})
    talk = chat(config)
    with pytest.raises(NotFoundError) as info:
        talk.respond(404, b'{"error": "no such model"}')
    error = info.value
    dumped = pickle.dumps(error)
    for secret in (SECRET, "sk-other-secret", "cookie-secret"):
        assert secret.encode() not in dumped
        assert secret not in repr(error.request) and secret not in str(error)
    assert error.request.header("authorization") == "***"
    assert pickle.loads(dumped).status == 404


def test_header_values_with_line_breaks_are_refused_naming_the_header_not_a_secret() -> None:
    with pytest.raises(UsageError, match="'authorization' has a line break") as info:
        build_config(headers={"Authorization": "Bearer " + SECRET + "\r\nX-Evil: 1"})
    assert SECRET not in str(info.value)
    with pytest.raises(UsageError, match="x-trace"):
        build_config(headers={"X-Trace": "a\nb"})
    assert dict(build_config(headers={"X-A": " padded "}).headers)["x-a"] == "padded"


# -- the implicit token goes only to Hugging Face ----------------------------------------------


@pytest.mark.parametrize(("url", "sent"), [
    ("https://router.huggingface.co/v1/chat/completions", True),
    ("https://abc.us-east-1.aws.endpoints.huggingface.cloud/v1/chat/completions", True),
    ("https://huggingface.co/api/models/x", True),
    ("http://127.0.0.1:8080/v1/chat/completions", False),
    ("https://api.openai.com/v1/chat/completions", False),
    ("https://huggingface.co.evil.example/v1", False),
    ("https://evilhuggingface.co/v1", False),
])
def test_implicit_token_is_sent_only_to_hugging_face_hosts(url: str, sent: bool) -> None:
    implicit = build_config(env_token=SECRET)
    assert ("authorization" in dict(implicit.request_headers(url, json_body=False))) is sent
    explicit = build_config(token=SECRET)
    assert dict(explicit.request_headers(url, json_body=False))["authorization"].endswith(SECRET)


def test_is_hf_host_accepts_configured_hosts() -> None:
    assert is_hf_host("127.0.0.1", ("127.0.0.1",))
    assert not is_hf_host("127.0.0.1")


# -- 3. model ids are ids -----------------------------------------------------------------------


@pytest.mark.parametrize("model", [
    "../../etc/passwd", "org/../admin", "org/name?x=1", "org/name#frag", "org/na me",
    "org/name\n", "org\x00/name", "org/name/extra", "/org/name", "org//name", "org/-name",
    "a..b", "org/name%2F..", "",
])
def test_bad_model_ids_are_usage_errors_never_router_paths(model: str) -> None:
    config = build_config(token="hf_x")
    for call in (lambda: chat_completion(config, MESSAGES, model=model or " ", params={}),
                 lambda: text_generation(config, "p", model=model or " ", params={}),
                 lambda: get_endpoint_info(config, model or " ")):
        with pytest.raises(UsageError) as info:
            call()
        assert info.value.argument == "model"


@pytest.mark.parametrize("model", ["gpt2", "meta-llama/Llama-3.1-8B-Instruct", "org/name_v1.5",
                                   "HuggingFaceTB/SmolLM2-135M-Instruct"])
def test_real_model_ids_pass(model: str) -> None:
    check_model_id(model)
    check_model_id(model + ":fastest", route_suffix=True)
    check_model_id(model + ":groq", route_suffix=True)
    with pytest.raises(UsageError):
        check_model_id(model + ":groq")


def test_chat_routing_suffix_goes_to_the_router_untouched() -> None:
    config = build_config(token="hf_x")
    talk = chat(config, model="meta-llama/Llama-3.1-8B-Instruct:cheapest")
    request = talk.expect_send()
    assert request.url == "https://router.huggingface.co/v1/chat/completions"
    assert json.loads(request.body or b"")["model"] == "meta-llama/Llama-3.1-8B-Instruct:cheapest"


def test_url_servers_take_any_model_name_in_the_payload() -> None:
    config = build_config(base_url="http://127.0.0.1:11434/v1")
    talk = chat(config, model="ollama/llama3:8b instruct")
    assert json.loads(talk.expect_send().body or b"")["model"] == "ollama/llama3:8b instruct"


# -- 2. redirects: one rule set in the core -----------------------------------------------------


def _head(request: Request, status: int, location: str | None) -> ResponseHead:
    headers = () if location is None else (("location", location),)
    return ResponseHead(status, headers, request)


POST = Request("POST", "https://a.example/v1/chat", (
    ("authorization", "Bearer " + SECRET), ("x-api-key", "k"), ("proxy-authorization", "p"),
    ("cookie", "c=1"), ("x-hf-bill-to", "org"), ("content-type", "application/json"),
    ("user-agent", "ua")), b"{}")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_cross_origin_redirect_drops_every_credential(status: int) -> None:
    nxt = redirected_request(_head(POST, status, "https://b.example/elsewhere"), 0)
    names = {k for k, _ in nxt.headers}
    assert not names & {"authorization", "x-api-key", "proxy-authorization", "cookie",
                        "x-hf-bill-to"}
    assert "user-agent" in names
    assert nxt.url == "https://b.example/elsewhere"
    if status in (307, 308):
        assert (nxt.method, nxt.body) == ("POST", b"{}") and "content-type" in names
    else:
        assert (nxt.method, nxt.body) == ("GET", None) and "content-type" not in names


def test_same_origin_redirect_keeps_credentials_and_http_to_https_upgrade_too() -> None:
    same = redirected_request(_head(POST, 307, "/v2/chat?x=1#frag"), 0)
    assert same.url == "https://a.example/v2/chat?x=1" and same.header("authorization")
    plain = Request("GET", "http://a.example/x", (("authorization", "t"),))
    assert redirected_request(_head(plain, 301, "https://a.example/x"), 0).header("authorization")
    other_port = redirected_request(_head(plain, 301, "http://a.example:8080/x"), 0)
    assert other_port.header("authorization") is None


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://a.example/x", "gopher://x",
                                      "http://", "https://a.example:99999/", "\x00bad",
                                      "javascript:alert(1)"])
def test_bad_locations_are_server_errors_not_usage_errors(location: str) -> None:
    with pytest.raises(RedirectError) as info:
        redirected_request(_head(POST, 302, location), 0)
    assert not isinstance(info.value, UsageError)


def test_redirects_are_followed_by_the_flow_up_to_the_limit() -> None:
    config = build_config(base_url="http://127.0.0.1:1/v1", token="sk")
    talk = chat(config)
    for hop in range(MAX_REDIRECTS):
        talk.respond(307, headers={"location": f"http://127.0.0.1:1/hop{hop}"})
    with pytest.raises(RedirectError, match="too many redirects"):
        talk.respond(307, headers={"location": "http://127.0.0.1:1/again"})


def test_a_followed_redirect_reaches_its_target_and_a_stream_redirect_reads_the_old_body() -> None:
    config = build_config(base_url="http://127.0.0.1:1/v1", token="sk")
    talk = chat(config)
    talk.respond(308, headers={"location": "/v2/chat/completions"})
    assert talk.expect_send().url == "http://127.0.0.1:1/v2/chat/completions"
    talk.respond(200, CHAT)
    assert talk.result().choices[0].message.content == "ok"
    stream = chat(config, stream=True)
    stream.respond_head(302, {"location": "http://127.0.0.1:1/moved"})
    stream.body(b"moved")
    assert stream.expect_open().method == "GET"


@pytest.mark.parametrize("status", [300, 301, 302, 305, 307, 399])
def test_3xx_without_location_names_the_status(status: int) -> None:
    talk = chat(build_config(base_url="http://h:1/v1"))
    with pytest.raises(RedirectError, match=str(status)):
        talk.respond(status, b"")


@pytest.mark.parametrize("status", [204, 205, 304])
def test_success_without_a_body_names_the_status(status: int) -> None:
    talk = chat(build_config(base_url="http://h:1/v1"))
    with pytest.raises(MalformedResponseError, match=str(status)):
        talk.respond(status, b"")


# -- 9. honest retries ------------------------------------------------------------------------


RUNTIME = Runtime(retry=RetryPolicy(max_retries=3), now=lambda: 0.0)


@pytest.mark.parametrize("error", [TLSError("handshake failed"), ProxyError("407 from proxy")])
def test_tls_and_proxy_failures_are_not_retried(error: ConnectError) -> None:
    config = build_config(base_url="https://h:1/v1", runtime=RUNTIME)
    talk = chat(config)
    talk.expect_send()
    with pytest.raises(type(error)):
        talk.fail(error)


def test_connect_failures_are_retried() -> None:
    talk = chat(build_config(base_url="https://h:1/v1", runtime=RUNTIME))
    talk.fail(ConnectError("refused"))
    assert talk.slept() > 0
    talk.respond(200, CHAT)
    assert talk.done


# -- 15. offline mode ---------------------------------------------------------------------------


def test_offline_mode_refuses_hugging_face_but_not_local_servers() -> None:
    offline = Runtime(offline=True)
    router = build_config(token="hf_x", runtime=offline)
    with pytest.raises(OfflineModeError, match="HF_HUB_OFFLINE"):
        chat(router, model="org/model")
    local = chat(build_config(base_url="http://127.0.0.1:8080/v1", runtime=offline))
    local.respond(200, CHAT)
    assert local.done
    endpoint = build_config(base_url="https://x.endpoints.huggingface.cloud", runtime=offline)
    with pytest.raises(OfflineModeError):
        chat(endpoint)
    # a local server redirecting to the Hub is refused at the redirect
    redirect = chat(build_config(base_url="http://127.0.0.1:8080/v1", runtime=offline))
    with pytest.raises(OfflineModeError):
        redirect.respond(302, headers={"location": "https://huggingface.co/api/x"})


# -- 19. billing, types of errors -----------------------------------------------------------------


def test_bill_to_wins_over_a_user_header() -> None:
    config = build_config(token="hf_x", bill_to="my-org", headers={"X-HF-Bill-To": "other"})
    headers = dict(config.request_headers("https://router.huggingface.co/v1", json_body=True))
    assert headers["x-hf-bill-to"] == "my-org"


def test_unknown_and_mistyped_arguments_are_also_type_errors() -> None:
    with pytest.raises(TypeError) as info:
        chat_completion(build_config(base_url="http://h/v1"), MESSAGES,
                        params={"max_tokens": "ten"})
    assert isinstance(info.value, UsageTypeError) and info.value.argument == "max_tokens"
    with pytest.raises(TypeError):
        build_config(token=1)  # type: ignore[arg-type]


# -- 21. parameters a server refuses ---------------------------------------------------------


REFUSED = json.dumps({"error": "The following `model_kwargs` are not used by the model: "
                      "['details', 'watermark'] (note: typos in the generate arguments will also "
                      "show up in this list)"}).encode()


def test_refused_parameters_are_dropped_once_with_a_warning_and_remembered_per_client() -> None:
    warnings: list[str] = []
    config = build_config(base_url="http://127.0.0.1:9/", runtime=Runtime(warn=warnings.append))
    talk = Conversation(text_generation(config, "p", details=True,
                                        params={"watermark": True, "max_new_tokens": 3}))
    first = json.loads(talk.expect_send().body or b"")
    assert {"details", "watermark"} <= set(first["parameters"])
    talk.respond(400, REFUSED)
    second = json.loads(talk.expect_send().body or b"")
    assert second["parameters"] == {"max_new_tokens": 3}
    talk.respond(200, b'[{"generated_text": "abc"}]')
    assert talk.result().generated_text == "abc"
    assert len(warnings) == 1 and "details, watermark" in warnings[0]
    # the same client leaves them out from now on; a new client does not know it
    again = Conversation(text_generation(config, "p", details=True, params={"watermark": True}))
    assert json.loads(again.expect_send().body or b"")["parameters"] == {}
    fresh = build_config(base_url="http://127.0.0.1:9/")
    other = Conversation(text_generation(fresh, "p", details=True, params={}))
    assert json.loads(other.expect_send().body or b"")["parameters"] == {"details": True}


def test_a_second_refusal_is_an_error_not_a_loop() -> None:
    config = build_config(base_url="http://127.0.0.1:9/")
    talk = Conversation(text_generation(config, "p", details=True, params={}))
    talk.respond(400, REFUSED)
    with pytest.raises(HTTPStatusError):
        talk.respond(400, REFUSED)


# -- 23. health on OpenAI-style URLs ----------------------------------------------------------


@pytest.mark.parametrize(("base", "probe"), [
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/health"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/health"),
    ("http://127.0.0.1:8000/proxy/v1", "http://127.0.0.1:8000/proxy/health"),
    ("http://127.0.0.1:3000", "http://127.0.0.1:3000/health"),
])
def test_health_check_probes_the_server_root(base: str, probe: str) -> None:
    talk = Conversation(health_check(build_config(base_url=base)))
    assert talk.expect_send().url == probe


# -- 10. bad input raises our errors only, naming the cause -----------------------------------


def _b64(*values: float) -> str:
    import base64
    import struct

    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


NON_FINITE_EMBEDDINGS = [
    (parse_hf_features, b"[0.5, 1e999]", "inf"),
    (parse_hf_features, b"[[0.5, 0.25], [NaN, 1.0]]", "nan"),
    (parse_hf_features, b"[[0.5, -Infinity]]", "-inf"),
    (parse_hf_features, b"[Infinity, -Infinity]", "inf"),
    (parse_hf_features, b"[[[0.5], [1e999]]]", "inf"),
    (parse_hf_features, b"[1, 1e39]", "1e+39"),  # finite as float64, not as float32
    (parse_hf_features, b'{"embeddings": [[0.1, 1e999]]}', "inf"),
    (parse_hf_features, b"[1" + b"0" * 400 + b"]", "1" + "0" * 400),  # an int beyond float64
    (parse_hf_features, b"[[1" + b"0" * 400 + b"]]", "1" + "0" * 400),
    (parse_hf_features, b"[[[1" + b"0" * 400 + b"]]]", "1" + "0" * 400),
    (parse_openai_embeddings, b'{"data": [{"embedding": [1' + b"0" * 400 + b"]}]}",
     "1" + "0" * 400),
    (parse_openai_embeddings, b'{"data": [{"embedding": [0.1, 1e999]}]}', "inf"),
    (parse_openai_embeddings, b'{"data": [{"embedding": [NaN]}]}', "nan"),
    (parse_openai_embeddings, b'{"data": [{"embedding": [1, 2]}, {"embedding": [3, -1e400]}]}',
     "-inf"),
    (parse_openai_embeddings, b'{"data": [{"embedding": "%s"}]}' % _b64(1.0, float("inf")).encode(),
     "inf"),
    (parse_openai_embeddings, b'{"data": [{"embedding": "%s"}]}' % _b64(float("nan")).encode(),
     "nan"),
]


@pytest.mark.parametrize(("parse", "body", "value"), NON_FINITE_EMBEDDINGS)
def test_an_embedding_value_that_is_not_a_finite_number_is_malformed_and_named(
    parse: Callable[[bytes], object], body: bytes, value: str
) -> None:
    with pytest.raises(MalformedResponseError, match="not a finite") as info:
        parse(body)
    assert f"value {value} " in str(info.value)


def test_large_finite_embedding_values_are_kept() -> None:
    """3e38 is within float32 range; the sum of many such values is no reason to refuse."""
    values = parse_hf_features(json.dumps([[3e38] * 64, [-3e38] * 64]).encode()).data
    assert len(values) == 128 and max(values) > 2.9e38


EMPTY_EMBEDDINGS = [
    (parse_hf_features, b"[]"),
    (parse_hf_features, b"[[]]"),
    (parse_hf_features, b"[[], []]"),
    (parse_hf_features, b'{"embeddings": []}'),
    (parse_hf_features, b'{"embeddings": [[]]}'),
    (parse_hf_features, b'{"data": []}'),
    (parse_openai_embeddings, b'{"data": []}'),
    (parse_openai_embeddings, b'{"data": [{"embedding": []}]}'),
    (parse_openai_embeddings, b'{"data": [{"embedding": ""}]}'),
    (parse_openai_embeddings, b'{"data": [{"embedding": [1.0]}, {"embedding": []}]}'),
]


@pytest.mark.parametrize(("parse", "body"), EMPTY_EMBEDDINGS)
def test_an_empty_embedding_is_malformed(parse: Callable[[bytes], object], body: bytes) -> None:
    with pytest.raises(MalformedResponseError, match="empty"):
        parse(body)


@pytest.mark.parametrize("parse", [parse_hf_features, parse_openai_embeddings])
def test_an_embeddings_body_with_a_null_error_is_not_an_error_named_none(
    parse: Callable[[bytes], object],
) -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse(b'{"error": null}')
    assert "None" not in str(info.value)
    ok = parse(b'{"error": null, "data": [{"embedding": [0.5]}]}')
    assert ok.shape == (1, 1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [400, 422, 500, 503])
def test_an_error_body_with_a_null_error_gives_status_and_reason(status: int) -> None:
    head = ResponseHead(status, (("content-type", "application/json"),),
                        Request("POST", "http://127.0.0.1:9/v1/chat/completions", (), b"{}"),
                        "Some Reason")
    error = error_from_response(head, b'{"error": null}')
    assert isinstance(error, HTTPStatusError)
    first = str(error).splitlines()[0]
    assert first.startswith(f"{status} Some Reason from POST")
    assert "None" not in str(error) and error.server_message is None


@pytest.mark.parametrize("body", [
    b"[" * 100_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"data": [{"embedding": ' + b"[" * 100_000 + b"}]}",
    b'{"embeddings": ' + b"[" * 100_000,
])
@pytest.mark.parametrize("parse", [parse_hf_features, parse_openai_embeddings])
def test_deeply_nested_embeddings_bodies_are_malformed_not_recursion_errors(
    parse: Callable[[bytes], object], body: bytes
) -> None:
    with pytest.raises(MalformedResponseError):
        parse(body)


def test_nested_embeddings_within_the_parser_limit_are_malformed_even_deep_in_the_stack() -> None:
    """JSON that json.loads reads (depth 900) is walked without recursion."""
    body = b"[" * 900 + b"1" + b"]" * 900

    def deep(n: int) -> object:
        return deep(n - 1) if n else parse_hf_features(body)

    for depth in (0, 50, 90):
        # a shape of 900 dimensions is read, or refused as too deep: both are ours
        with contextlib.suppress(MalformedResponseError):
            deep(depth)

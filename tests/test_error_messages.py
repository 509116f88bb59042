"""What an error response says reaches the message and the exception type: TGI's typed errors
are catchable by kind and by status, FastAPI names the field, HTML pages give their visible
text, binary and absurdly nested bodies give a readable message, never a foreign exception."""

from __future__ import annotations

import json
import pickle

import pytest

from inferwire.sansio import (
    GenerationError,
    MalformedResponseError,
    OverloadedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
    ValidationError,
)
from inferwire.sansio._bodies import check_json_error, parse_endpoint_info
from inferwire.sansio._embeddings import parse_hf_features, parse_openai_embeddings
from inferwire.sansio._error_body import error_from_response, html_visible_text
from inferwire.sansio._http import Request, ResponseHead

REQUEST = Request("POST", "http://127.0.0.1:8080/generate", (), b"{}")
DEEP = b"[" * 100_000 + b"]" * 100_000


def _error(status: int, body: bytes, content_type: str = "application/json") -> Exception:
    head = ResponseHead(status, (("content-type", content_type),), REQUEST, "")
    return error_from_response(head, body)


@pytest.mark.parametrize(("status", "kind", "kind_cls", "status_cls"), [
    (422, "validation", ValidationError, UnprocessableEntityError),
    (424, "generation", GenerationError, type(None)),
    (429, "overloaded", OverloadedError, RateLimitError),
    (500, "generation", GenerationError, ServerError),
])
def test_tgi_typed_errors_are_catchable_by_kind_and_by_status(
        status: int, kind: str, kind_cls: type, status_cls: type) -> None:
    body = json.dumps({"error": "Input validation error: too long", "error_type": kind}).encode()
    error = _error(status, body)
    assert isinstance(error, kind_cls)
    if status_cls is not type(None):
        assert isinstance(error, status_cls)
    assert error.status == status and error.error_type == kind  # type: ignore[attr-defined]
    assert "too long" in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)


def test_fastapi_422_names_the_fields() -> None:
    body = json.dumps({"detail": [
        {"loc": ["body", "inputs"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "parameters", "top_k"], "msg": "Input should be > 0", "type": "gt"},
    ]}).encode()
    message = str(_error(422, body))
    assert "body.inputs: Field required" in message
    assert "body.parameters.top_k: Input should be > 0" in message


def test_many_validation_entries_are_bounded() -> None:
    body = json.dumps({"detail": [{"loc": ["body", f"f{i}"], "msg": "bad"}
                                  for i in range(500)]}).encode()
    message = str(_error(422, body))
    assert "body.f9: bad" in message and "body.f10" not in message and "490 more" in message


@pytest.mark.parametrize(("page", "text"), [
    (b"<html><head><title>502 Bad Gateway</title></head><body><h1>Oops</h1></body></html>",
     "502 Bad Gateway"),
    (b"<html><body><script>var x = 1;</script><h1>Service\n   Unavailable &amp; down</h1>"
     b"<p>later</p></body></html>", "Service Unavailable & down"),
    (b"<html><body><style>p{}</style><p>  The   model is\n loading  </p></body></html>",
     "The model is loading"),
])
def test_html_error_pages_carry_their_visible_text(page: bytes, text: str) -> None:
    assert f"HTML error page: {text}" in str(_error(503, page, "text/html"))


def test_html_text_is_bounded() -> None:
    text = html_visible_text("<p>" + "word " * 1000 + "</p>")
    assert len(text) <= 300 and text.endswith("…")


def test_binary_error_bodies_are_described_not_dumped() -> None:
    body = bytes(range(256)) * 8
    message = str(_error(500, body, "application/octet-stream"))
    assert "a binary body (2048 bytes, application/octet-stream)" in message
    assert "\ufffd" not in message.split("\n")[1]


def test_deeply_nested_json_never_escapes_as_recursion_error() -> None:
    assert "nested too deeply" in str(_error(500, DEEP))
    with pytest.raises(MalformedResponseError, match="nested too deeply"):
        check_json_error(DEEP)
    with pytest.raises(MalformedResponseError, match="nested too deeply"):
        parse_endpoint_info(DEEP)
    with pytest.raises(MalformedResponseError, match="nested too deeply"):
        parse_hf_features(DEEP)
    with pytest.raises(MalformedResponseError, match="nested too deeply"):
        parse_openai_embeddings(b"{\"data\": " + DEEP + b"}")

"""Error responses of every shape become typed errors with the server's message."""

from __future__ import annotations

import pytest

from inferwire.sansio import Request, ResponseHead
from inferwire.sansio._errors import (
    AuthenticationError,
    BadRequestError,
    HTTPStatusError,
    InferenceError,
    InferenceTimeoutError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
    UnknownError,
    UnprocessableEntityError,
    UsageError,
    ValidationError,
    in_stream_error,
)
from inferwire.sansio._exchange import error_from_response

REQ = Request("POST", "http://127.0.0.1:8080/v1/chat/completions",
              (("authorization", "Bearer hf_secret_token"),), b"{}")


def head(status: int, **headers: str) -> ResponseHead:
    return ResponseHead(status, tuple((k.replace("_", "-"), v) for k, v in headers.items()), REQ)


@pytest.mark.parametrize(("status", "body", "cls", "message"), [
    # llama.cpp / OpenAI shape
    (401, b'{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}',
     AuthenticationError, "Invalid API Key"),
    (400, b'{"error":{"code":400,"message":"\\"messages\\" must be an array",'
          b'"type":"invalid_request_error"}}',
     BadRequestError, '"messages" must be an array'),
    # TGI shape
    (422, b'{"error":"Input validation error: `inputs` must have less than 4096 tokens",'
          b'"error_type":"validation"}',
     UnprocessableEntityError, "Input validation error: `inputs` must have less than 4096 tokens"),
    # FastAPI (transformers serve)
    (400, b'{"detail":"Server is pinned to \'a\'; requested \'b\'"}', BadRequestError,
     "Server is pinned to 'a'; requested 'b'"),
    (422, b'{"detail":[{"loc":["body","messages"],"msg":"field required"}]}',
     UnprocessableEntityError, "body.messages: field required"),
    # plain text and HTML pages
    (500, b"Internal Server Error", ServerError, "Internal Server Error"),
    (502, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
     ServerError, "HTML error page: 502 Bad Gateway"),
    (503, b'{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}',
     ServiceUnavailableError, "Loading model"),
    (404, b"", NotFoundError, None),
])
def test_error_shapes(status: int, body: bytes, cls: type[HTTPStatusError],
                      message: str | None) -> None:
    error = error_from_response(head(status), body)
    assert isinstance(error, cls)
    # TGI's typed errors are the status class joined with their kind (see test_error_messages)
    assert type(error) is cls or type(error).__bases__[0] is cls
    assert error.status == status
    assert error.server_message == message
    assert error.body == body
    if message:
        assert message in str(error)


def test_request_id_and_error_type_are_extracted() -> None:
    error = error_from_response(
        head(422, x_request_id="abc-123"),
        b'{"error":"Input validation error","error_type":"validation"}')
    assert error.request_id == "abc-123"
    assert error.error_type == "validation"
    assert "abc-123" in str(error)


def test_amzn_trace_id_is_a_request_id_too() -> None:
    error = error_from_response(head(500, x_amzn_trace_id="Root=1-abc"), b"oops")
    assert error.request_id == "Root=1-abc"


def test_x_error_message_header_joins_the_body_message() -> None:
    error = error_from_response(head(400, x_error_message="Model is gated"), b'{"error":"nope"}')
    assert error.server_message == "Model is gated\nnope"


def test_token_never_appears_in_an_error_or_a_repr() -> None:
    error = error_from_response(head(401), b'{"error":"bad token"}')
    assert "hf_secret_token" not in str(error)
    assert "hf_secret_token" not in repr(error.request)
    assert "hf_secret_token" not in repr(REQ)


def test_malformed_json_error_body_keeps_the_text() -> None:
    error = error_from_response(head(500), b'{"error": truncated')
    assert error.server_message is None
    assert "truncated" in str(error)


@pytest.mark.parametrize(("payload", "error_type", "cls"), [
    ("Input validation error", "validation", ValidationError),
    ({"message": "boom", "type": "server_error"}, None, UnknownError),
    ({"message": "too long", "type": "validation"}, None, ValidationError),
])
def test_in_stream_errors(payload: object, error_type: str | None, cls: type) -> None:
    error = in_stream_error(payload, error_type)
    assert type(error) is cls
    assert str(error) in ("Input validation error", "boom", "too long")


def test_hierarchy() -> None:
    assert issubclass(InferenceTimeoutError, TimeoutError)
    assert issubclass(InferenceTimeoutError, TransportError)
    assert issubclass(UsageError, ValueError)
    assert issubclass(BadRequestError, ValueError)
    for cls in (UsageError, HTTPStatusError, TransportError, ValidationError):
        assert issubclass(cls, InferenceError)

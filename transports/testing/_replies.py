"""Generic replies: any JSON, custom SSE, errors in real servers' shapes, raw bytes, replays."""

from __future__ import annotations

import http
import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._common import _SSE_HEADERS, _build, _json_body, _style
from ._reply import HeadersLike, Reply, ReplyOptions, apply_options, merge_headers, sse_events

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._reply import _HeadOptions, _TransportOptions


# --------------------------------------------------------------------------------------------
# Generic replies
# --------------------------------------------------------------------------------------------


def json_reply(obj: Any, **options: Unpack[ReplyOptions]) -> Reply:
    """Any JSON value as an ``application/json`` body (status 200 unless ``status=``)."""
    return _json_body(obj, options)


def sse(
    events: Iterable[str | bytes | Mapping[str, Any]],
    *,
    done: bool = False,
    crlf: bool = False,
    keepalive_comments: bool = False,
    event_lines: bool = False,
    multiline_data: bool = False,
    data_space: bool = True,
    **options: Unpack[ReplyOptions],
) -> Reply:
    """A custom SSE stream (``text/event-stream``, chunked).

    Each item is a JSON object (sent as one ``data:`` event), a ``str`` (the event's data; a
    newline in it starts another ``data:`` line) or ``bytes`` (one event sent verbatim, for
    hand-written fields, comments or broken framing). ``done`` appends ``data: [DONE]``.
    The style parameters are those of `chat_stream`.
    """
    items: list[str | bytes | Mapping[str, Any]] = list(events)
    if done:
        items.append("[DONE]")
    style = _style(data_space, crlf, keepalive_comments, event_lines, multiline_data)
    return _build(sse_events(items, style), _SSE_HEADERS, options, chunked=True)


def error(
    status: int,
    json: Any = None,
    text: str | None = None,
    html: str | None = None,
    *,
    message: str | None = None,
    shape: Literal["openai", "tgi", "fastapi"] = "openai",
    error_type: str | None = None,
    **options: Unpack[_HeadOptions],
) -> Reply:
    """An error response, with the body in one of the shapes real servers use.

    Give at most one of ``json`` (any JSON value, sent as is), ``text`` (``text/plain``) or
    ``html`` (``text/html``, like a proxy's error page). Without any, the body is built from
    ``message`` (default: the reason phrase) in the chosen ``shape``:

    - ``"openai"``: ``{"error": {"message", "type", "code": status}}`` (llama.cpp, vLLM,
      LiteLLM); ``type`` defaults from the status (``invalid_request_error``,
      ``authentication_error``, ``not_found_error``, ``rate_limit_error``,
      ``unavailable_error``, ``server_error``).
    - ``"tgi"``: ``{"error": message, "error_type": ...}`` (default ``error_type``:
      ``"validation"`` for 4xx, ``"generation"`` otherwise).
    - ``"fastapi"``: ``{"detail": message}``.

    Retries are easy to script: ``error(503, headers={"Retry-After": "0"})``.

    Args:
        status: The HTTP status code.
        json, text, html: An explicit body.
        message: The message for a built body.
        shape: The shape of a built body.
        error_type: The OpenAI ``type`` or TGI ``error_type`` of a built body.
        **options: `ReplyOptions` except ``status`` (``headers``, delays, ``keepalive``...).
    """
    if sum(x is not None for x in (json, text, html)) > 1:
        raise ValueError("give at most one of json, text and html")
    if text is not None:
        return _build(
            [text.encode()],
            (("Content-Type", "text/plain; charset=utf-8"),),
            options,
            status=status,
        )
    if html is not None:
        return _build(
            [html.encode()], (("Content-Type", "text/html; charset=utf-8"),), options, status=status
        )
    if json is None:
        msg = message if message is not None else _phrase(status)
        if shape == "openai":
            json = {
                "error": {
                    "message": msg,
                    "type": error_type or _openai_type(status),
                    "code": status,
                }
            }
        elif shape == "tgi":
            json = {
                "error": msg,
                "error_type": error_type or ("validation" if status < 500 else "generation"),
            }
        elif shape == "fastapi":
            json = {"detail": msg}
        else:
            raise ValueError(f"unknown error shape {shape!r}")
    return _json_body(json, options, status=status)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _openai_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        501: "not_supported_error",
        503: "unavailable_error",
    }.get(status, "invalid_request_error" if status < 500 else "server_error")


def raw(
    status: int,
    headers: HeadersLike = (),
    body_chunks: Iterable[bytes] = (),
    *,
    reason: str | None = None,
    **options: Unpack[_TransportOptions],
) -> Reply:
    """A reply written as given: your status, headers and body pieces.

    The server still adds the framing (``Content-Length``, or chunked with ``chunked=True``)
    unless ``headers`` set ``Content-Length`` or ``Transfer-Encoding`` themselves: then the
    body pieces are written verbatim, framing included, so broken framing can be tested. Each
    body piece is one "event" for the delay, split and disconnect options.
    """
    pairs = merge_headers((), headers)
    return apply_options(
        Reply(status=status, headers=pairs, events=tuple(body_chunks), reason=reason), options
    )


def close_connection(*, delay_before_headers: float = 0.0) -> Reply:
    """A reply that sends nothing: the server reads the request, then closes the socket.

    This is what a stale keep-alive connection looks like to a client (the server went away
    before answering). With ``delay_before_headers`` the server waits first.
    """
    return Reply(hang_up=True, delay_before_headers=delay_before_headers)


_EVENT_END = re.compile(rb"(?:\r\n|\r|\n)(?:\r\n|\r|\n)")


def replay(path: str | os.PathLike[str], **options: Unpack[ReplyOptions]) -> Reply:
    """Replay a recorded exchange verbatim, from a capture file.

    The capture format is the one of ``curl -sN -D -`` output (as in the project's
    ``conformance/real_streams``): the status line, the header lines, a blank line, then the
    body bytes as received (de-chunked). Informational ``1xx`` heads before the final head are
    skipped. The status, reason phrase, headers (order and case) and body bytes are sent
    back unchanged, except the framing: ``Content-Length`` is recomputed from the body (some
    captures were edited), a capture that said ``Transfer-Encoding: chunked`` is re-chunked,
    and ``Connection: close`` makes the server close after the reply. An SSE body
    (``text/event-stream``) is cut into its events, so the delay, split and disconnect options
    act per event.
    """
    with open(path, "rb") as f:
        data = f.read()
    while True:
        match = re.search(rb"\r?\n\r?\n", data)
        if not data.startswith(b"HTTP/") or match is None:
            raise ValueError(
                f"{os.fspath(path)!r} is not a capture: expected a status line and headers"
            )
        head, data = data[: match.start()], data[match.end() :]
        lines = head.decode("latin-1").splitlines()
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        if not 100 <= status < 200:
            break
    reason = parts[2] if len(parts) > 2 else ""
    headers: list[tuple[str, str]] = []
    chunked = False
    keepalive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        lower = name.lower()
        if lower == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif lower == "content-length":
            continue
        elif lower == "connection" and "close" in value.lower():
            keepalive = False
        else:
            headers.append((name, value))
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    if "text/event-stream" in content_type.lower():
        events: list[bytes] = []
        start = 0
        for match in _EVENT_END.finditer(data):
            events.append(data[start : match.end()])
            start = match.end()
        if start < len(data):
            events.append(data[start:])
    else:
        events = [data] if data else []
    reply = Reply(
        status=status,
        headers=tuple(headers),
        events=tuple(events),
        reason=reason,
        chunked=chunked,
        keepalive=keepalive,
    )
    return apply_options(reply, options)




# --------------------------------------------------------------------------------------------
# CORS (`FakeInferenceServer(cors=True)`), for clients running in a browser page
# --------------------------------------------------------------------------------------------

CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "*"),
)
"""Added to every reply of a server with ``cors=True``: any page may read any reply."""


def cors_preflight(request_headers: Mapping[str, str]) -> Reply:
    """The ``204`` answer to a CORS preflight (``OPTIONS``) allowing the method and headers it
    asks for (``Authorization`` included, which the ``*`` wildcard does not cover)."""
    method = request_headers.get("access-control-request-method", "POST")
    asked = request_headers.get("access-control-request-headers", "")
    headers = [*CORS_HEADERS, ("Access-Control-Allow-Methods", method),
               ("Access-Control-Max-Age", "600")]
    if asked:
        headers.append(("Access-Control-Allow-Headers", asked))
    return Reply(status=204, headers=tuple(headers))

"""What an error response says: the server's message, error type and request id.

Servers put their message in many shapes (OpenAI ``{"error": {...}}``, TGI ``{"error",
"error_type"}``, FastAPI ``{"detail": ...}``, plain text, HTML pages); `server_message_of`
reads them all, and `error_from_response` maps a status and body to the fitting
`HTTPStatusError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._errors import HTTPStatusError, http_status_error
from ._http import Headers, ResponseHead, get_header

__all__ = ["REQUEST_ID_HEADERS", "error_from_response", "html_visible_text", "server_message_of"]

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-trace-id", "x-amz-cf-id")
_MAX_PARTS = 10
_HTML_TEXT_LIMIT = 300
_SPACES = re.compile(r"\s+")


def _looks_binary(text: str) -> bool:
    """Whether decoded bytes are mostly not text (undecodable bytes or control characters)."""
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\n\r"))
    return odd * 10 > len(text)


def html_visible_text(page: str) -> str:
    """What an HTML error page says: its title, else its first heading, else its visible text;
    whitespace collapsed, entities unescaped, at most 300 characters."""
    from ._html import VisibleText  # html.parser only when a page needs reading

    parser = VisibleText()
    try:
        parser.feed(page[: 256 << 10])
        parser.close()
    except (ValueError, AssertionError):  # pragma: no cover - html.parser is lenient
        pass
    for parts in (parser.title, parser.heading, parser.text):
        text = _SPACES.sub(" ", "".join(parts)).strip()
        if text:
            return text if len(text) <= _HTML_TEXT_LIMIT else text[: _HTML_TEXT_LIMIT - 1] + "…"
    return ""


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, str):
        return data or None
    if isinstance(data, list):
        parts = [m for m in (_message_from_json(item) for item in data[:_MAX_PARTS]) if m]
        if len(data) > _MAX_PARTS:
            parts.append(f"(and {len(data) - _MAX_PARTS} more)")
        return "; ".join(parts) or None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        return _message_from_json(error)
    if isinstance(error, str) and error:
        description = data.get("error_description")
        return f"{error}: {description}" if isinstance(description, str) else error
    if isinstance(error, list):
        return _message_from_json(error)
    loc = data.get("loc")
    msg = data.get("msg")
    if isinstance(loc, list) and isinstance(msg, str):
        # FastAPI/pydantic validation entries: name the field, e.g. "body.inputs: Field required"
        where = ".".join(str(part) for part in loc)
        return f"{where}: {msg}" if where else msg
    for key in ("message", "detail", "msg", "error_description", "errors"):
        found = _message_from_json(data.get(key))
        if found:
            return found
    return None


def server_message_of(headers: Headers, body: bytes) -> tuple[str | None, str | None]:
    """The server's own error message and error type, from headers and body (any shape)."""
    header_message = get_header(headers, "x-error-message")
    message: str | None = None
    error_type: str | None = None
    stripped = body.strip()
    if stripped[:1] in (b"{", b"["):
        try:
            data = json.loads(stripped)
        except RecursionError:
            data = None
            message = f"a JSON error body nested too deeply to read ({len(body)} bytes)"
        except ValueError:
            data = None
        if data is not None:
            message = _message_from_json(data)
            if isinstance(data, dict):
                kind = data.get("error_type")
                error = data.get("error")
                if kind is None and isinstance(error, dict):
                    kind = error.get("type")
                error_type = kind if isinstance(kind, str) else None
    if message is None and stripped:
        content_type = get_header(headers, "content-type") or ""
        if b"<html" in stripped[:512].lower() or "html" in content_type:
            text = html_visible_text(stripped.decode("utf-8", "replace"))
            message = f"HTML error page: {text}" if text else "HTML error page"
        elif not stripped.startswith((b"{", b"[")):
            text = stripped[:2000].decode("utf-8", "replace")
            if _looks_binary(text):
                kind = f", {content_type}" if content_type else ""
                message = f"a binary body ({len(body)} bytes{kind}) that is not an error message"
            else:
                message = text
    if header_message and message and header_message not in message:
        message = f"{header_message}\n{message}"
    return header_message if message is None else message, error_type


def error_from_response(head: ResponseHead, body: bytes) -> HTTPStatusError:
    """Map an error status with its body to the fitting `HTTPStatusError`."""
    message, error_type = server_message_of(head.headers, body)
    request_id = next((v for v in map(head.header, REQUEST_ID_HEADERS) if v), None)
    return http_status_error(
        head, body, server_message=message, request_id=request_id, error_type=error_type
    )

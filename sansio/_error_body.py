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

__all__ = ["REQUEST_ID_HEADERS", "error_from_response", "server_message_of"]

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-trace-id", "x-amz-cf-id")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, str):
        return data or None
    if isinstance(data, list):
        parts = [m for m in (_message_from_json(item) for item in data) if m]
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
            title = _TITLE.search(stripped)
            text = title.group(1).decode("utf-8", "replace").strip() if title else ""
            message = f"HTML error page: {text}" if text else "HTML error page"
        elif not stripped.startswith((b"{", b"[")):
            message = stripped[:2000].decode("utf-8", "replace")
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

"""Following redirects: one rule set for every transport.

The rules are httpx's (which huggingface_hub's sync client uses), written once here:

- 301, 302, 303, 307 and 308 with a ``Location`` are followed, at most `MAX_REDIRECTS` times;
- 303 turns any method but HEAD into GET, and 301/302 turn POST into GET (what browsers and
  httpx do); a request that becomes a GET loses its body and the headers describing it;
- ``Location`` is resolved against the request URL; only ``http`` and ``https`` targets are
  followed: a server that sends anything else (``file:``, ``ftp:``, garbage) broke the protocol,
  which is a `RedirectError`, not the caller's mistake;
- a redirect to another origin (scheme, host or port) drops every credential-bearing header:
  ``Authorization``, ``Proxy-Authorization``, ``X-API-Key``, ``Cookie`` and ``X-HF-Bill-To``.
  The one exception, as in httpx, is an upgrade from ``http`` to ``https`` on the same host
  (default ports), which keeps them;
- any other 3xx is not a redirect we can follow: it is reported with its status.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from ._errors import RedirectError
from ._http import Request, ResponseHead

__all__ = ["CREDENTIAL_HEADERS", "MAX_REDIRECTS", "REDIRECT_STATUSES", "redirected_request"]

MAX_REDIRECTS = 20
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "cookie", "x-hf-bill-to"}
)
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding",
                           "transfer-encoding"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def _keeps_credentials(old_url: str, new_url: str) -> bool:
    old, new = _origin(old_url), _origin(new_url)
    if old == new:
        return True
    # http -> https on the same host, both on their default ports (httpx's one exception).
    return (old[0], new[0]) == ("http", "https") and old[1] == new[1] and old[2] == 80 and (
        new[2] == 443)


def redirected_request(head: ResponseHead, hops: int) -> Request:
    """The request to send next for the redirect `head` (the answer to `head.request`).

    `hops` counts the redirects already followed for this call. Raises `RedirectError` when the
    redirect cannot be followed (no or bad ``Location``, unsupported scheme, too many hops).
    """
    request = head.request
    where = f"{head.status} from {request.method} {request.url}"
    location = head.header("location")
    if location is None or not location.strip():
        raise RedirectError(f"the server answered {where} without a Location header",
                            status=head.status)
    location = location.strip()
    if hops >= MAX_REDIRECTS:
        raise RedirectError(f"too many redirects ({MAX_REDIRECTS}); the last was {where} to "
                            f"{location[:200]!r}", status=head.status)
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in location):
        raise RedirectError(f"the server answered {where} with an unusable Location "
                            f"{location[:200]!r}", status=head.status)
    try:
        url = urljoin(request.url, location)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise RedirectError(f"the server answered {where} with an unusable Location "
                            f"{location[:200]!r}", status=head.status) from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise RedirectError(
            f"the server answered {where} with a Location that is not an http(s) URL: "
            f"{location[:200]!r}", status=head.status)
    url = url.split("#", 1)[0]
    method = request.method
    if (head.status == 303 and method != "HEAD") or (head.status in (301, 302)
                                                     and method == "POST"):
        method = "GET"
    drop = set() if _keeps_credentials(request.url, url) else set(CREDENTIAL_HEADERS)
    body = request.body
    if method == "GET" and request.method != "GET":
        drop |= _BODY_HEADERS
        body = None
    headers = tuple((k, v) for k, v in request.headers if k not in drop)
    return Request(method, url, headers, body)

"""Which proxy a request goes through, and the CONNECT tunnel that https needs.

The rules are httpx's (so the sync client behaves as it did on httpx): an explicit `proxy`
applies to every http and https request; without one, and with `trust_env`, the
``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` variables (either case) apply, except for the hosts
``NO_PROXY`` lists. Only ``http://`` proxies are supported: a plain-HTTP request is sent to the
proxy in absolute form; an https request goes through a ``CONNECT`` tunnel, with TLS to the
origin inside it. Credentials in the proxy URL become a ``Proxy-Authorization`` header, sent to
the proxy only (the tunnelled request never carries it).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from inferwire.sansio._errors import ProxyError, RemoteProtocolError, UsageError

__all__ = ["Proxy", "ProxyRules", "connect_request", "parse_connect_reply"]

_MAX_CONNECT_HEAD = 16 * 1024


@dataclass(frozen=True, slots=True)
class Proxy:
    """An http:// proxy: where to connect, and the header that authenticates us to it."""

    host: str
    port: int
    authorization: str | None
    shown: str
    """The proxy URL without its credentials, for messages."""


def _parse_proxy(url: str, source: str) -> Proxy:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{source} is not a valid proxy URL: {exc}", argument="proxy") from None
    scheme = parts.scheme.lower()
    if scheme != "http":
        raise UsageError(
            f"{source} uses a {scheme}:// proxy; inferwire supports http:// proxies (an https "
            "request is tunnelled through them with CONNECT)",
            argument="proxy",
        )
    if not parts.hostname:
        raise UsageError(f"{source} has no host", argument="proxy")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    port = port or 80
    return Proxy(parts.hostname, port, authorization, f"http://{parts.hostname}:{port}")


class ProxyRules:
    """The proxy (or none) for each origin, decided from the options and the environment once.

    An invalid proxy variable is reported by the first request it would apply to, naming the
    variable, so a broken ``ALL_PROXY`` does not stop requests that ``NO_PROXY`` exempts.
    """

    __slots__ = ("_env", "_explicit")

    def __init__(self, proxy: str | None, trust_env: bool) -> None:
        self._explicit = None if proxy is None else _parse_proxy(proxy, f"proxy={proxy!r}")
        self._env: dict[str, str] = {}
        if proxy is None and trust_env:
            self._env = _environment_proxies()

    @property
    def active(self) -> bool:
        """False when no request can go through a proxy (the common case: no lookups)."""
        return self._explicit is not None or any(k in self._env for k in ("http", "https", "all"))

    def for_origin(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy for a request to (scheme, host, port), or None to connect directly."""
        if self._explicit is not None:
            return self._explicit
        env = self._env
        url = env.get(scheme) or env.get("all")
        if not url:
            return None
        no_proxy = env.get("no")
        if no_proxy and _bypassed(host, port, no_proxy):
            return None
        name = f"{scheme.upper()}_PROXY" if env.get(scheme) else "ALL_PROXY"
        return _parse_proxy(url, f"{name}={url!r}")


def _environment_proxies() -> dict[str, str]:
    """``{scheme: url}`` from the ``*_PROXY`` variables, lower case winning (as in urllib,
    which is not imported for this: it costs tens of milliseconds of import time)."""
    found: dict[str, str] = {}
    for name, value in os.environ.items():
        if value and name.upper().endswith("_PROXY") and (name.islower() or name.lower()
                                                          not in os.environ):
            found[name[:-6].lower()] = value
    return found


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` exempts the host (the stdlib's matching: suffixes, ports, ``*``)."""
    import urllib.request

    bypass: Any = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - untyped
    return no_proxy.strip() == "*" or bool(
        bypass(f"{host}:{port}", {"no": no_proxy}) or bypass(host, {"no": no_proxy})
    )


def connect_request(proxy: Proxy, authority: str) -> bytes:
    """The ``CONNECT`` request that opens a tunnel to `authority` (``host:port``)."""
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization is not None:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def parse_connect_reply(buffer: bytes, proxy: Proxy, authority: str) -> bool:
    """Whether `buffer` holds the proxy's whole reply head (True: the tunnel is open); raises
    `ProxyError` for a refusal and `RemoteProtocolError` for a malformed or oversized reply.
    The tunnel must not carry bytes after the head: the origin speaks first only after TLS."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > _MAX_CONNECT_HEAD:
            raise RemoteProtocolError(
                f"the proxy {proxy.shown} sent a reply head over {_MAX_CONNECT_HEAD} bytes"
            )
        return False
    status_line = buffer.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise RemoteProtocolError(
            f"the proxy {proxy.shown} answered CONNECT with a malformed status line "
            f"{status_line[:100]!r}"
        )
    status = int(parts[1])
    if not 200 <= status < 300:
        hint = " (check the credentials in the proxy URL)" if status == 407 else ""
        raise ProxyError(
            f"the proxy {proxy.shown} refused to open a tunnel to {authority}: "
            f"{status_line[:200]}{hint}"
        )
    if len(buffer) > end + 4:
        raise RemoteProtocolError(
            f"the proxy {proxy.shown} sent data through the tunnel to {authority} before TLS"
        )
    return True

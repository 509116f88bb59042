"""TLS trust: the `ssl.SSLContext` for a `verify=` option, the same for every transport.

`verify` is True (verified: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when trusted from the environment
and set, else certifi's CAs), False (no checks), the path of a CA bundle file or directory, an
`ssl.SSLContext`, or a factory making one when first needed.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from typing import Any

from inferwire.sansio._errors import UsageError, UsageTypeError

__all__ = ["Verify", "check_verify", "make_ssl_context"]

Verify = bool | str | os.PathLike[str] | ssl.SSLContext | Callable[[], ssl.SSLContext]


def _ca_location(path: str | os.PathLike[str], source: str) -> dict[str, Any]:
    location = os.path.expanduser(os.fspath(path))
    if os.path.isdir(location):
        return {"capath": location}
    if os.path.isfile(location):
        return {"cafile": location}
    raise UsageError(f"{source}: no CA bundle file or directory at {location!r}",
                     argument="verify")


def check_verify(verify: Verify) -> dict[str, Any]:
    """Refuse a `verify` of the wrong type, or a CA path where there is none (at construction,
    not at the first https request); the CA location keywords of a path, else ``{}``."""
    if isinstance(verify, (str, os.PathLike)):
        return _ca_location(verify, f"verify={verify!r}")
    if isinstance(verify, (bool, ssl.SSLContext)) or callable(verify):
        return {}
    raise UsageTypeError(
        f"verify must be a bool, a CA bundle path or an ssl.SSLContext, not "
        f"{type(verify).__name__}", argument="verify")


def make_ssl_context(verify: Verify = True, *, trust_env: bool = True) -> ssl.SSLContext:
    """The TLS context for `verify`: a given context as is (or made by a given factory, when
    first needed); a path: verified against the CA bundle file or directory there; True:
    verified against ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when `trust_env` and they are set,
    else certifi's CAs (the system's without certifi); False: no certificate or host checks."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, (str, os.PathLike)):
        context = ssl.create_default_context(**check_verify(verify))
        context.set_alpn_protocols(["http/1.1"])
        return context
    if not isinstance(verify, bool):
        check_verify(verify)
        return verify()
    if verify:
        locations: dict[str, Any] = {}
        if trust_env:
            for name, key in (("SSL_CERT_FILE", "cafile"), ("SSL_CERT_DIR", "capath")):
                value = os.environ.get(name)
                if value:
                    location = os.path.expanduser(value)
                    if not os.path.exists(location):
                        raise UsageError(f"{name}={value!r} does not exist", argument="verify")
                    locations[key] = location
        if locations:
            context = ssl.create_default_context(**locations)
        else:
            try:
                import certifi
            except ImportError:  # pragma: no cover - certifi comes with httpx
                context = ssl.create_default_context()
            else:
                context = ssl.create_default_context(cafile=certifi.where())
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context

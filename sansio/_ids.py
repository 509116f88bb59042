"""What a model id, a token and a Hugging Face host are: checked once, for every call.

- A Hub model id becomes part of a router URL path, so it must be an id and nothing else:
  ``name`` or ``namespace/name`` with the Hub's own character rules. A chat call may add the
  router's ``:provider`` or ``:policy`` suffix (``:fastest``, ``:cheapest``...).
- A token travels in a header: surrounding whitespace (a token read from a file or a secret
  mount ends in a newline) is stripped, and anything that cannot be a header value is refused
  without ever quoting the token.
- A token that the user did not pass explicitly (``HF_TOKEN``, the saved login) is a Hugging
  Face credential: it is sent only to Hugging Face hosts, never to another server a URL names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ._errors import UsageError

__all__ = ["HF_HOST_SUFFIXES", "check_model_id", "check_token", "host_of", "is_hf_host"]

HF_HOST_SUFFIXES = ("huggingface.co", "hf.co", "huggingface.cloud", "hf.space")
"""Hosts (and their subdomains) that belong to Hugging Face: the Hub, the router, Inference
Endpoints (``*.endpoints.huggingface.cloud``) and Spaces."""

_SEGMENT = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_MODEL_ID = re.compile(rf"(?:{_SEGMENT}/)?{_SEGMENT}", re.ASCII)
_ROUTE_SUFFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)


def check_model_id(model: str, *, route_suffix: bool = False) -> None:
    """Raise `UsageError` unless `model` is a Hub model id (``org/name`` or ``name``).

    With `route_suffix`, one ``:provider`` / ``:policy`` suffix is accepted (chat routing).
    """
    name, colon, suffix = model.partition(":") if route_suffix else (model, "", "")
    problem = None
    if not _MODEL_ID.fullmatch(name):
        problem = "it must be 'name' or 'namespace/name' of letters, digits, '-', '_' and '.'"
        if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in model):
            problem = "it contains whitespace or a control character"
        elif any(c in model for c in "?#%\\"):
            problem = "it contains '?', '#', '%' or '\\'"
    elif ".." in name or "--" in name:
        problem = "'..' and '--' are not allowed in a Hub id"
    elif colon and not _ROUTE_SUFFIX.fullmatch(suffix):
        problem = "the part after ':' must name a provider or a routing policy"
    if problem is not None:
        shown = model if len(model) <= 120 else model[:120] + "..."
        raise UsageError(
            f"model {shown!r} is not a Hugging Face model id: {problem} "
            "(pass a URL as base_url= or model= for another server)",
            argument="model",
        )


def check_token(token: str, argument: str = "token") -> str:
    """`token` without surrounding whitespace; `UsageError` (never quoting it) if unusable."""
    stripped = token.strip()
    if not stripped:
        raise UsageError(f"{argument} is empty (or only whitespace)", argument=argument)
    for position, char in enumerate(stripped):
        code = ord(char)
        if code < 0x21 or code > 0x7E:
            what = "a control character" if code < 0x20 or code == 0x7F else (
                "a space" if char == " " else "a non-ASCII character")
            raise UsageError(
                f"{argument} contains {what} at position {position} (of {len(stripped)}); "
                "a token is printable ASCII with no spaces",
                argument=argument,
            )
    return stripped


def host_of(url: str) -> str:
    """The lower-cased host name of `url` ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_hf_host(host: str, extra_hosts: Iterable[str] = ()) -> bool:
    """Whether `host` belongs to Hugging Face (or is one of `extra_hosts`, e.g. a configured
    router or Hub endpoint)."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    if host in extra_hosts:
        return True
    return any(host == suffix or host.endswith("." + suffix) for suffix in HF_HOST_SUFFIXES)

"""One task call at a provider, and the small steps provider flows are made of.

A provider's `TaskFlow` gets a `ProviderCall`: where the call goes (the route's URL, through
the router or straight to the provider), the model's id at the provider, the user's inputs
and parameters. Its helpers are the only way provider flows touch the network, so that every
provider sends the same headers, reads JSON the same way, names itself in its errors, and
never sends a key where it does not belong:

- `post_json` / `post_form` / `get` go to the provider with the client's headers and key;
- `download` fetches a result URL (an image, a video) with no key and no user headers: a
  provider's CDN is a foreign host;
- `poll` (in `._jobs`) waits on a job with bounded `Sleep` effects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from inferwire.sansio._args import encode_json
from inferwire.sansio._content import Blob, is_http_url
from inferwire.sansio._effects import Flow
from inferwire.sansio._errors import HTTPStatusError, MalformedResponseError
from inferwire.sansio._exchange import send_request
from inferwire.sansio._hf_tasks import fetch_blob
from inferwire.sansio._http import Headers, Request, Response
from inferwire.sansio._models import load_json_body, raise_for_error_object

if TYPE_CHECKING:
    from dataclasses import dataclass

    from inferwire.sansio._config import ClientConfig
    from inferwire.sansio._routing import MappingEntry

    from ._base import Provider
else:
    from inferwire.sansio._record import dataclass

__all__ = ["ProviderCall", "data_url"]

RESULT_LIMIT = 512 << 20
"""The most bytes a downloaded result (a video...) may have."""


def data_url(blob: Blob, default_mime: str) -> str:
    """`blob` as a ``data:`` URL (providers that take a URL accept these for uploads)."""
    mime = blob.mime or default_mime
    return f"data:{mime};base64,{base64.b64encode(blob.data).decode('ascii')}"


def _decode_data_url(url: str) -> bytes:
    head, sep, data = url.partition(",")
    if not sep:
        raise MalformedResponseError(f"malformed data URL in a provider's answer: {url[:60]!r}")
    try:
        if head.endswith(";base64"):
            return base64.b64decode(data, validate=True)
        return unquote_to_bytes(data)
    except (binascii.Error, ValueError):
        raise MalformedResponseError("a data URL in a provider's answer is not valid base64",
                                     received=url[:200].encode()) from None


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """A task call at a provider: the route's `url`, the API root it is under (`root`: the
    router's ``{router}/{provider}`` or the provider's own base URL), the model's id there,
    the user's `inputs` (text, a `Blob`, an http(s) URL, or a dict of parts) and
    `parameters` (None values dropped)."""

    config: ClientConfig
    provider: Provider
    task: str
    url: str
    root: str
    via_router: bool
    provider_id: str
    mapping: MappingEntry | None
    inputs: Any
    parameters: Mapping[str, Any]

    @property
    def name(self) -> str:
        """The provider's name (``together``...)."""
        return self.provider.name

    def at(self, path: str, host: str | None = None) -> str:
        """The URL of `path` at the provider: under `root`, or at the provider's other API
        root `host` (fal-ai's ``queue``; through the router, the router's spelling of it)."""
        if host is None:
            return self.root + path
        if self.via_router:
            return f"{self.root}{path}{'&' if '?' in path else '?'}_subdomain={host}"
        return (self.config.provider_urls.get(self.name) or self.provider.hosts[host]) + path

    def headers(self, url: str, *, content_type: str | None = "application/json") -> Headers:
        """The headers of a request to the provider: the client's (its key, in the
        provider's scheme for direct calls), then the provider's own."""
        headers = self.config.request_headers(url, json_body=False)
        scheme = self.provider.auth_scheme
        if not self.via_router and scheme != "Bearer" and self.config.token:
            headers = tuple((k, f"{scheme} {self.config.token}") if k == "authorization"
                            else (k, v) for k, v in headers)
        if content_type is not None:
            headers = (*headers, ("content-type", content_type))
        return (*headers, *self.provider.headers)

    def send(self, request: Request, *, limit: int | None = None) -> Flow[Response]:
        """Send `request` (retries and redirects as for any call); an error status raises
        its `HTTPStatusError` naming this provider."""
        try:
            return (yield from send_request(request, self.config.runtime, limit=limit))
        except HTTPStatusError as exc:
            exc.provider = exc.provider or self.name
            raise

    def post_json(self, payload: Any, url: str | None = None, *,
                  accept: str | None = None) -> Flow[Response]:
        """POST `payload` as JSON to `url` (default: the route's)."""
        target = url or self.url
        headers = self.headers(target)
        if accept is not None:
            headers = (*headers, ("accept", accept))
        request = Request("POST", target, headers, encode_json(payload, self.task))
        return (yield from self.send(request))

    def post_form(self, fields: Mapping[str, str], files: Mapping[str, Blob],
                  url: str | None = None) -> Flow[Response]:
        """POST a ``multipart/form-data`` body: the `files` parts, then the `fields`."""
        target = url or self.url
        # A boundary made from the content cannot occur in it (short of a hash collision).
        digest = hashlib.sha256()
        for blob in files.values():
            digest.update(blob.data)
        boundary = "inferwire-" + digest.hexdigest()[:32]
        parts: list[bytes] = []
        for name, blob in files.items():
            filename = blob.name or f"{name}{_extension(blob.mime)}"
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: '
                f'{blob.mime or "application/octet-stream"}\r\n\r\n'.encode() + blob.data
                + b"\r\n")
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{value}\r\n".encode())
        parts.append(f"--{boundary}--\r\n".encode())
        headers = self.headers(target, content_type=f"multipart/form-data; boundary={boundary}")
        return (yield from self.send(Request("POST", target, headers, b"".join(parts))))

    def get(self, url: str) -> Flow[Response]:
        """GET `url` at the provider with the call's headers (a job's status or result)."""
        return (yield from self.send(Request("GET", url, self.headers(url, content_type=None),
                                             None)))

    def download(self, url: str) -> Flow[bytes]:
        """The bytes at a result URL, fetched with no key and no user headers (a ``data:``
        URL is decoded in place)."""
        if url.startswith("data:"):
            return _decode_data_url(url)
        if not is_http_url(url):
            raise MalformedResponseError(
                f"{self.name} answered a result URL that is not http(s): {url[:80]!r}")
        blob = yield from fetch_blob(self.config, url, limit=RESULT_LIMIT)
        return blob.data

    def content(self, value: Any) -> Flow[Blob]:
        """`value` (a `Blob` or an http(s) URL) as a `Blob`, fetching a URL without the key."""
        if isinstance(value, Blob):
            return value
        return (yield from fetch_blob(self.config, value))

    def url_of(self, value: Any, default_mime: str) -> str:
        """`value` as a URL a provider can read: an http(s) URL as given, a `Blob` as a
        ``data:`` URL."""
        if isinstance(value, Blob):
            return data_url(value.with_mime(None), default_mime)
        return str(value)

    def json(self, response: Response, *, job: bool = False) -> Any:
        """The JSON body of a provider's answer. An error object raises, except in a job's
        status (`job`), where the job's state says what it means."""
        data = load_json_body(response.body, f"{self.name} {self.task}")
        if isinstance(data, dict) and not job:
            raise_for_error_object(data, f"{self.name} {self.task}")
        return data

    def binary(self, response: Response) -> bytes:
        """The body of an answer that is the result itself (audio, an image); a JSON body
        is an error object (raised) or the wrong shape."""
        kind = (response.header("content-type") or "").split(";", 1)[0].strip()
        if kind == "application/json":
            self.json(response)
            raise self.malformed("binary content (audio, an image), not JSON", response)
        return response.body

    def b64(self, text: Any, what: str, response: Response) -> bytes:
        """The bytes of base64 `text` found at `what` in `response`."""
        if isinstance(text, str):
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                pass
        raise self.malformed(f"{what}, base64 data", response)

    def first_b64(self, response: Response, items: str, key: str) -> bytes:
        """The bytes of ``{items: [{key: base64}, ...]}``'s first item (image APIs)."""
        data = self.json(response)
        listed = data.get(items) if isinstance(data, dict) else None
        first = listed[0] if isinstance(listed, list) and listed else None
        return self.b64(first.get(key) if isinstance(first, dict) else None,
                        f"{items}[0].{key}", response)

    def malformed(self, what: str, response: Response | None = None) -> MalformedResponseError:
        """The error for an answer of the wrong shape: `what` was expected."""
        return MalformedResponseError(
            f"{self.name} {self.task}: expected {what}",
            received=response.body if response is not None else None)

    def lora_url(self) -> str | None:
        """The LoRA weights of a mapped adapter model
        (``https://huggingface.co/{model}/resolve/main/{weights}``), or None."""
        entry = self.mapping
        if entry is None or entry.adapter != "lora" or not entry.adapter_weights_path:
            return None
        return (f"{self.config.hub_url}/{entry.model_id}/resolve/main/"
                f"{entry.adapter_weights_path}")


def _extension(mime: str | None) -> str:
    return {"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav",
            "audio/flac": ".flac", "audio/ogg": ".ogg", "audio/webm": ".webm",
            "image/png": ".png", "image/jpeg": ".jpg"}.get(mime or "", ".wav")

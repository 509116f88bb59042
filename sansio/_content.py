"""Binary inputs in the core: bytes with a MIME type, or a URL; no files, no images.

A task that takes an image, an audio clip or a document gets a `Blob` (the bytes, their MIME
type, maybe a file name) or a URL string. Turning a path, a file object or a PIL image into a
`Blob` is I/O and happens in the transports (`inferwire._media`), once for all of them. An
``http(s)://`` URL is passed on where the API takes URLs and fetched with a `Send` effect
where bytes are needed; a ``data:`` URL is decoded here.

The MIME type comes from the content itself (magic bytes), then from the file name, then from
the task's default.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from ._errors import UsageError

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = ["MAX_INPUT_SIZE", "Blob", "blob_from_data_url", "data_url", "is_http_url",
           "mime_from_name", "sniff_mime"]

MAX_INPUT_SIZE = 100 << 20
"""The largest binary input inferwire sends (100 MiB); a larger one is a `UsageError`."""


@dataclass(frozen=True, slots=True, repr=False)
class Blob:
    """Binary content for a task: the bytes, their MIME type (None: unknown) and the name of the
    file they came from (for messages and multipart uploads)."""

    data: bytes
    mime: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Blob {self.mime or 'unknown type'} {len(self.data)} bytes{name}>"

    def with_mime(self, default: str | None) -> Blob:
        """This blob with its MIME type decided: sniffed, else from the name, else `default`."""
        mime = sniff_mime(self.data) or self.mime or mime_from_name(self.name) or default
        return self if mime == self.mime else Blob(self.data, mime, self.name)


def _riff(data: bytes) -> str | None:
    kind = data[8:12]
    return {b"WAVE": "audio/wav", b"WEBP": "image/webp", b"AVI ": "video/x-msvideo"}.get(kind)


def _ftyp(data: bytes) -> str:
    brand = data[8:12]
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return "audio/mp4"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    if brand in (b"avif", b"avis"):
        return "image/avif"
    return "video/mp4"


_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"%PDF-", "application/pdf"),
    (b"BM", "image/bmp"),
)


def sniff_mime(data: bytes) -> str | None:
    """The MIME type the first bytes of `data` announce, or None (pure: no libmagic)."""
    head = data[:64]
    for prefix, mime in _PREFIXES:
        if head.startswith(prefix):
            if mime == "image/bmp" and len(head) < 14:
                return None  # "BM" alone is too weak a signature
            return mime
    if head[:4] == b"RIFF" and len(head) >= 12:
        return _riff(head)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head[4:8] == b"ftyp":
        return _ftyp(head)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "audio/aac"  # ADTS
        if head[1] & 0xE0 == 0xE0:
            return "audio/mpeg"  # an MPEG audio frame
    return None


_EXTENSIONS = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff",
    "heic": "image/heic", "avif": "image/avif", "svg": "image/svg+xml",
    "wav": "audio/wav", "wave": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg",
    "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "m4a": "audio/mp4",
    "aac": "audio/aac", "amr": "audio/amr", "aiff": "audio/aiff", "weba": "audio/webm",
    "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
    "mkv": "video/x-matroska", "avi": "video/x-msvideo", "pdf": "application/pdf",
}


def mime_from_name(name: str | None) -> str | None:
    """The MIME type a file name's extension suggests (a fixed table: no system files)."""
    if not name or "." not in name:
        return None
    return _EXTENSIONS.get(name.rsplit(".", 1)[1].lower())


def data_url(blob: Blob, default: str = "application/octet-stream") -> str:
    """`blob` as a ``data:<mime>;base64,...`` URL."""
    mime = blob.with_mime(default).mime
    return f"data:{mime};base64,{base64.b64encode(blob.data).decode('ascii')}"


def is_http_url(text: str) -> bool:
    """Whether `text` is an ``http(s)://`` URL (any case of the scheme): content to fetch."""
    return text[:8].lower().startswith(("http://", "https://"))


def blob_from_data_url(url: str, argument: str) -> Blob:
    """Decode a ``data:`` URL (RFC 2397) into a `Blob`; `UsageError` naming `argument`."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise UsageError(f"{argument}: a data: URL needs a ',' before its data",
                         argument=argument)
    params = header.split(";")
    mime = params[0].strip() or None
    try:
        if "base64" in (p.strip().lower() for p in params[1:]):
            data = base64.b64decode(payload, validate=False)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise UsageError(f"{argument}: the data: URL's base64 is not valid",
                         argument=argument) from None
    return Blob(data, mime)

"""Incremental Content-Encoding decoders: gzip and deflate (zlib-wrapped or raw).

`make_decoder(value)` reads a Content-Encoding header value and returns a decoder, or None when
the body needs no decoding. A body whose codings include one we do not know (br, zstd, ...) is
passed through unchanged, as the brief of the connection layer promises: we only advertise
gzip and deflate, so such a body is the server's choice and the caller gets its bytes.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from inferwire.sansio._errors import RemoteProtocolError

__all__ = ["ACCEPT_ENCODING", "ContentDecoder", "DeflateDecoder", "GzipDecoder", "make_decoder"]

ACCEPT_ENCODING = "gzip, deflate"


class ContentDecoder(Protocol):
    """Turns encoded body bytes into decoded bytes, piece by piece."""

    def decode(self, data: bytes) -> bytes:
        """Decode the next piece; may return ``b""`` while more input is needed."""
        ...

    def flush(self) -> bytes:
        """The remaining decoded bytes, once the body has ended."""
        ...


def _corrupt(coding: str, exc: zlib.error) -> RemoteProtocolError:
    return RemoteProtocolError(f"the response body is not valid {coding} data: {exc}")


class GzipDecoder:
    """gzip, including bodies made of several gzip members."""

    __slots__ = ("_obj", "_trailing_garbage")

    def __init__(self) -> None:
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._trailing_garbage = False

    def decode(self, data: bytes) -> bytes:
        if self._trailing_garbage:
            return b""
        try:
            out = self._obj.decompress(data)
            if not self._obj.eof:
                return out
            parts = [out]
            while self._obj.eof:
                rest = self._obj.unused_data
                if len(rest) < 2 and b"\x1f\x8b".startswith(rest):
                    break  # maybe the start of another member: wait (an ended object keeps input)
                if not rest.startswith(b"\x1f\x8b"):
                    # Padding after the last member (some servers add NULs): ignore it.
                    self._trailing_garbage = True
                    break
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                parts.append(self._obj.decompress(rest))
            return b"".join(parts)
        except zlib.error as exc:
            raise _corrupt("gzip", exc) from exc

    def flush(self) -> bytes:
        try:
            return self._obj.flush()
        except zlib.error as exc:  # pragma: no cover - flush does not raise in CPython
            raise _corrupt("gzip", exc) from exc


class DeflateDecoder:
    """deflate: RFC 1950 zlib streams, and the raw RFC 1951 streams some servers send instead.

    The first two bytes tell which: a zlib header names method 8 and is a multiple of 31.
    """

    __slots__ = ("_head", "_obj")

    def __init__(self) -> None:
        self._obj: zlib._Decompress | None = None
        self._head = b""

    def decode(self, data: bytes) -> bytes:
        obj = self._obj
        if obj is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head = b""
            zlib_wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS
            obj = self._obj = zlib.decompressobj(wbits)
        try:
            return obj.decompress(data)
        except zlib.error as exc:
            raise _corrupt("deflate", exc) from exc

    def flush(self) -> bytes:
        if self._obj is None:
            if self._head:
                raise RemoteProtocolError("the response body is not valid deflate data: truncated")
            return b""
        try:
            return self._obj.flush()
        except zlib.error as exc:  # pragma: no cover - flush does not raise in CPython
            raise _corrupt("deflate", exc) from exc


class _ChainDecoder:
    """Several codings, applied by the server in order, so undone in reverse."""

    __slots__ = ("_decoders",)

    def __init__(self, decoders: list[ContentDecoder]) -> None:
        self._decoders = decoders  # innermost-last order: decode through them front to back

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush() if data else decoder.flush()
        return data


_DECODERS: dict[str, type[GzipDecoder] | type[DeflateDecoder]] = {
    "gzip": GzipDecoder,
    "x-gzip": GzipDecoder,
    "deflate": DeflateDecoder,
}


def make_decoder(content_encoding: str | None) -> ContentDecoder | None:
    """A decoder for a Content-Encoding value, or None for identity or unknown codings."""
    if not content_encoding:
        return None
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or any(c not in _DECODERS for c in codings):
        return None
    decoders: list[ContentDecoder] = [_DECODERS[c]() for c in reversed(codings)]
    return decoders[0] if len(decoders) == 1 else _ChainDecoder(decoders)

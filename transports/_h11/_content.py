"""Incremental Content-Encoding decoders: gzip and deflate (zlib-wrapped or raw), bounded.

`make_decoder(value, where)` reads a Content-Encoding header value and returns a decoder, or
None when the body needs no decoding. Decoding happens in bounded pieces: a decoder hands out at
most `PIECE` decoded bytes per call and keeps the rest of its input, so a compression bomb (a
small body that inflates to gigabytes) never sits in memory at once; whoever reads the pieces
enforces the total (`BodyCollector` for whole bodies, the SSE parser's event limits for streams).

A coding we do not know (br, zstd, ...) is refused by name when the body's first bytes arrive:
inferwire asks only for gzip and deflate, so such a body is not readable as what it claims.

The protocol: `decode(data)` takes more encoded input and answers the next piece (``b""`` while
more input is needed); while `pending` is true, `decode(b"")` has more to give without input;
at the end of the body, `finish()` answers the remaining pieces, one per call, then ``b""``, and
raises if the encoded data was truncated.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from inferwire.sansio._errors import RemoteProtocolError

__all__ = [
    "ACCEPT_ENCODING",
    "PIECE",
    "ContentDecoder",
    "DeflateDecoder",
    "GzipDecoder",
    "iter_decoded",
    "make_decoder",
]

ACCEPT_ENCODING = "gzip, deflate"

PIECE = 256 << 10
"""The most decoded bytes one `decode` call answers."""


class ContentDecoder(Protocol):
    """Turns encoded body bytes into decoded bytes, piece by bounded piece."""

    @property
    def pending(self) -> bool:
        """True when `decode(b"")` may answer more without more input."""
        ...

    def decode(self, data: bytes) -> bytes:
        """Take `data` (may be empty) and answer the next decoded piece (at most `PIECE`)."""
        ...

    def finish(self) -> bytes:
        """At the end of the body: the next remaining piece (``b""`` once all were given);
        raises if the encoded data was truncated."""
        ...


def _corrupt(coding: str, exc: zlib.error | str) -> RemoteProtocolError:
    return RemoteProtocolError(f"the response body is not valid {coding} data: {exc}")


class _ZlibDecoder:
    """What gzip and deflate share: a zlib object fed from a kept tail of input."""

    __slots__ = ("_capped", "_coding", "_flushed", "_obj", "_seen", "_tail")

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._flushed = False
        self._obj: zlib._Decompress | None = None
        self._tail = b""
        self._capped = False
        self._seen = False

    @property
    def pending(self) -> bool:
        return self._capped or bool(self._tail)

    def _inflate(self, obj: zlib._Decompress, data: bytes) -> bytes:
        try:
            out = obj.decompress(data, PIECE)
        except zlib.error as exc:
            raise _corrupt(self._coding, exc) from exc
        self._tail = obj.unconsumed_tail
        self._capped = len(out) >= PIECE
        return out

    def decode(self, data: bytes) -> bytes:  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def finish(self) -> bytes:
        while self.pending:
            out = self.decode(b"")
            if out:
                return out
            if self._tail and not self._capped:
                break  # input that yields nothing more: zlib's flush below judges it
        if self._flushed:
            return b""
        self._flushed = True
        obj = self._obj
        if obj is None:
            if self._seen:
                raise _corrupt(self._coding, "truncated")
            return b""
        try:
            out = obj.flush()
        except zlib.error as exc:  # pragma: no cover - flush does not raise in CPython
            raise _corrupt(self._coding, exc) from exc
        if not obj.eof:
            raise _corrupt(self._coding, "the compressed data ends early (truncated body)")
        return out


class GzipDecoder(_ZlibDecoder):
    """gzip, including bodies made of several gzip members (padding after the last ignored)."""

    __slots__ = ("_garbage",)

    def __init__(self) -> None:
        super().__init__("gzip")
        self._garbage = False

    def decode(self, data: bytes) -> bytes:
        if self._garbage:
            return b""
        if data:
            self._seen = True
        tail = self._tail + data if self._tail else data
        obj = self._obj
        if obj is None:
            if not tail:
                return b""
            obj = self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = self._inflate(obj, tail)
        while obj.eof and not self._tail and not self._capped:
            rest = obj.unused_data
            if not rest:
                break
            if len(rest) < 2 and b"\x1f\x8b".startswith(rest):
                self._tail = rest  # maybe the start of another member: wait for more
                self._obj = None
                break
            if not rest.startswith(b"\x1f\x8b"):
                self._garbage = True  # padding after the last member (some servers add NULs)
                break
            obj = self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
            more = self._inflate(obj, rest)
            out = out + more if out else more
            if len(out) >= PIECE:
                self._capped = True
                break
        return out

    def finish(self) -> bytes:
        if self._garbage:
            return b""
        if self._obj is None and self._tail and not self._flushed:
            raise _corrupt("gzip", "the compressed data ends early (truncated body)")
        return super().finish()


class DeflateDecoder(_ZlibDecoder):
    """deflate: RFC 1950 zlib streams, and the raw RFC 1951 streams some servers send instead.

    The first two bytes tell which: a zlib header names method 8 and is a multiple of 31.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("deflate")

    def decode(self, data: bytes) -> bytes:
        if data:
            self._seen = True
        tail = self._tail + data if self._tail else data
        obj = self._obj
        if obj is None:
            if len(tail) < 2:
                self._tail = tail
                return b""
            zlib_wrapped = tail[0] & 0x0F == 8 and (tail[0] << 8 | tail[1]) % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS
            obj = self._obj = zlib.decompressobj(wbits)
        return self._inflate(obj, tail)

    @property
    def pending(self) -> bool:
        return self._capped or (self._obj is not None and bool(self._tail))


class _ChainDecoder:
    """Several codings, applied by the server in order, so undone in reverse: each decoder's
    pieces feed the next only when the next has nothing pending, so every stage stays bounded."""

    __slots__ = ("_first", "_first_done", "_held", "_rest")

    def __init__(self, first: ContentDecoder, rest: ContentDecoder) -> None:
        self._first = first
        self._rest = rest
        self._held: list[bytes] = []
        self._first_done = False

    @property
    def pending(self) -> bool:
        return self._rest.pending or self._first.pending or bool(self._held)

    def decode(self, data: bytes) -> bytes:
        held = self._held
        if data:
            held.append(data)
        first, rest = self._first, self._rest
        while True:
            if rest.pending:
                out = rest.decode(b"")
            else:
                data = b"".join(held) if held else b""
                held.clear()
                out = rest.decode(first.decode(data))
            if out or not self.pending:
                return out

    def finish(self) -> bytes:
        out = self.decode(b"") if self.pending else b""
        first, rest = self._first, self._rest
        while not out and not self._first_done:
            middle = first.finish()
            if not middle:
                self._first_done = True
                break
            out = rest.decode(middle)
        return out or rest.finish()


class _Unsupported:
    """A coding inferwire does not decode: refused, by name, when the body's bytes arrive."""

    __slots__ = ("_message",)

    def __init__(self, coding: str, where: str) -> None:
        self._message = (
            f"{where} is encoded with Content-Encoding {coding!r}, which inferwire does not "
            f"decode (it asks servers for {ACCEPT_ENCODING})"
        )

    @property
    def pending(self) -> bool:
        return False

    def decode(self, data: bytes) -> bytes:
        if data:
            raise RemoteProtocolError(self._message)
        return b""

    def finish(self) -> bytes:
        return b""


_DECODERS: dict[str, type[GzipDecoder] | type[DeflateDecoder]] = {
    "gzip": GzipDecoder,
    "x-gzip": GzipDecoder,
    "deflate": DeflateDecoder,
}


def make_decoder(content_encoding: str | None, where: str = "the response body") -> (
        ContentDecoder | None):
    """A decoder for a Content-Encoding value, or None for identity. `where` names the
    response in the error an unknown coding gets."""
    if not content_encoding:
        return None
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    for coding in codings:
        if coding not in _DECODERS:
            return _Unsupported(coding, where)
    decoder: ContentDecoder = _DECODERS[codings[0]]()
    for coding in codings[1:]:
        decoder = _ChainDecoder(_DECODERS[coding](), decoder)
    return decoder


def iter_decoded(decoder: ContentDecoder, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The decoded pieces of an iterable of encoded chunks (for bodies read by other HTTP
    stacks, such as a user's httpx client), bounded like the pool's."""
    for chunk in chunks:
        piece = decoder.decode(chunk)
        while piece:
            yield piece
            piece = decoder.decode(b"") if decoder.pending else b""
    piece = decoder.finish()
    while piece:
        yield piece
        piece = decoder.finish()

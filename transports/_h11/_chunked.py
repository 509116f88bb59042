"""An incremental decoder of the chunked transfer coding (RFC 9112, section 7.1).

h11 parses response heads and every other body framing; chunked bodies take this path instead
because it is the streaming hot path. Servers that stream tokens write one HTTP chunk per token,
and h11 spends about 8 microseconds per chunk event; this decoder handles a whole socket read
with a few `bytes.find` calls and returns the payload of every chunk in it as one bytes object.
It is as strict as h11 about the framing (CRLF line ends, hex sizes, CRLF after each chunk).
"""

from __future__ import annotations

import re

from inferwire.sansio._errors import RemoteProtocolError

__all__ = ["MAX_LINE", "ChunkedDecoder"]

MAX_LINE = 16 * 1024
"""Bound on one chunk-size line and on the whole trailer section."""

_HEADER = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")
"""A complete chunk-size line: hex size, optional whitespace and extensions (ignored), CRLF."""

_SIZE = 0  # expecting a chunk-size line
_DATA = 1  # inside chunk data; `_remaining` bytes to go
_DATA_END = 2  # expecting the CRLF after chunk data
_TRAILER = 3  # after the last chunk: trailer lines until an empty line
_DONE = 4


class ChunkedDecoder:
    """Feed raw body bytes, get payload bytes. `done` once the last chunk and trailers ended."""

    __slots__ = ("_pending", "_remaining", "_state", "_trailer_size", "trailing")

    def __init__(self) -> None:
        self._pending = b""
        self._remaining = 0
        self._state = _SIZE
        self._trailer_size = 0
        self.trailing = b""
        """Bytes received after the end of the body (a server must not send any)."""

    @property
    def done(self) -> bool:
        """True once the terminating chunk and the trailer section have been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> bytes:
        """Decode `data` (the next bytes of the body); the payload it completes, maybe ``b""``."""
        if self._state == _DONE:
            self.trailing += data
            return b""
        buf = self._pending + data if self._pending else data
        pos = 0
        end = len(buf)
        out: list[bytes] = []
        state = self._state
        remaining = self._remaining
        header = _HEADER.match
        while pos < end:
            if state == _DATA:
                available = end - pos
                if available <= remaining:
                    out.append(buf[pos:] if pos else buf)
                    remaining -= available
                    pos = end
                    if not remaining:
                        state = _DATA_END
                    break
                stop = pos + remaining
                out.append(buf[pos:stop])
                pos = stop
                remaining = 0
                state = _DATA_END
            elif state == _DATA_END:
                if buf.startswith(b"\r\n", pos):
                    pos += 2
                    state = _SIZE
                elif end - pos == 1 and buf[pos] == 13:  # a lone CR: wait for the LF
                    break
                else:
                    raise RemoteProtocolError(
                        "malformed chunked body: chunk data not followed by CRLF",
                        received=buf[pos : pos + 64],
                    )
            elif state == _SIZE:
                # The hot loop: whole chunks, one regex match and one slice each.
                match = header(buf, pos)
                while match is not None:
                    size = int(match.group(1), 16)
                    start = match.end()
                    if not size:
                        pos = start
                        state = _TRAILER
                        break
                    stop = start + size
                    if stop + 2 > end:  # the chunk goes on in a later read
                        pos = start
                        remaining = size
                        state = _DATA
                        break
                    if buf[stop] != 13 or buf[stop + 1] != 10:
                        raise RemoteProtocolError(
                            "malformed chunked body: chunk data not followed by CRLF",
                            received=buf[stop : stop + 64],
                        )
                    out.append(buf[start:stop])
                    pos = stop + 2
                    match = header(buf, pos)
                else:
                    # No complete size line at `pos`: wait for more, unless it is malformed.
                    eol = buf.find(b"\r\n", pos)
                    if eol >= 0:
                        raise RemoteProtocolError(
                            "malformed chunked body: bad chunk-size line", received=buf[pos:eol]
                        )
                    if end - pos > MAX_LINE:
                        raise RemoteProtocolError(
                            "malformed chunked body: chunk-size line too long",
                            received=buf[pos : pos + 64],
                        )
                    break
            elif state == _TRAILER:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if self._trailer_size + end - pos > MAX_LINE:
                        raise RemoteProtocolError(
                            "malformed chunked body: trailer section too long",
                            received=buf[pos : pos + 64],
                        )
                    break
                if eol == pos:
                    pos += 2
                    state = _DONE
                    self.trailing = buf[pos:]
                    pos = end
                    break
                self._trailer_size += eol + 2 - pos
                if self._trailer_size > MAX_LINE:
                    raise RemoteProtocolError(
                        "malformed chunked body: trailer section too long",
                        received=buf[pos : pos + 64],
                    )
                pos = eol + 2
        self._pending = buf[pos:] if pos < end else b""
        self._state = state
        self._remaining = remaining
        if not out:
            return b""
        return out[0] if len(out) == 1 else b"".join(out)

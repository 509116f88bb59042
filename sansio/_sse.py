"""Incremental Server-Sent-Events decoder over bytes (WHATWG EventSource algorithm).

`SSEDecoder` follows the "event stream interpretation" section of the HTML standard:

* lines end in CR, LF or CRLF, also when the CR ends one chunk and the LF starts the next;
* one leading UTF-8 byte order mark is stripped;
* ``field:value`` with one optional space after the colon removed; a line without a colon is a
  field name with an empty value; a line starting with ``:`` is a comment (keep-alive);
* ``data`` lines are joined with ``\\n``; ``event``, ``id`` (ignored when it contains NUL; the
  last event id persists from event to event) and ``retry`` (ASCII digits only) are kept;
  other fields are ignored;
* a blank line dispatches the event, unless no ``data`` line was received: an ``id:`` line
  followed by a comment-only block dispatches nothing;
* text is decoded as UTF-8 with ``errors="replace"``, per line (lines split at ASCII bytes, so a
  multi-byte character split across chunks decodes correctly). U+2028, U+0085 and the other
  Unicode line separators are *not* line ends.

Memory is bounded: a line longer than `max_line_size` bytes (counted while it is still
incomplete) or an event whose data exceeds `max_event_size` bytes raises `EventTooLargeError`.

Errors do not depend on the split either: the events a chunk completes before an error are
returned, and the error is raised at the next `feed` or `close` (and at every later call);
its message names nothing that depends on where the chunks were cut.

The decoder produces the same events whatever the split of the input. It has a fast path for
the common shape (no CR, blocks of ``data:`` lines only): a chunk's complete blocks are
recognised by counting line feeds and cut out of the decoded text with one split, without
walking their fields; a chunk that is exactly one single-line event takes a shorter path
still. CR and CRLF line ends are normalised to LF first, so those streams take the fast path
too.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from ._errors import EventTooLargeError, IncompleteStreamError, InferenceError, UsageError

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = ["SSEDecoder", "ServerSentEvent", "encode_event"]

_BOM = b"\xef\xbb\xbf"
_RETRY_MAX_DIGITS = 64
_KEEP_LIMIT = 16 << 10


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event.

    `id` is the stream's last event id when the event was dispatched (it persists from event
    to event, as the standard says); `retry` is the reconnection time in milliseconds set by a
    ``retry:`` field inside this event's block, or None.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


_new = object.__new__
_set_data = ServerSentEvent.__dict__["data"].__set__
_set_event = ServerSentEvent.__dict__["event"].__set__
_set_id = ServerSentEvent.__dict__["id"].__set__
_set_retry = ServerSentEvent.__dict__["retry"].__set__


def _event(data: str, event: str, id: str | None, retry: int | None) -> ServerSentEvent:
    """`ServerSentEvent(data, event, id, retry)`, at half the cost of the frozen dataclass's
    ``__init__`` (which goes through ``object.__setattr__`` for every field)."""
    ev: ServerSentEvent = _new(ServerSentEvent)
    _set_data(ev, data)
    _set_event(ev, event)
    _set_id(ev, id)
    _set_retry(ev, retry)
    return ev


# In typed mode, a block of lines that change nothing but the last event id (comments,
# "event: message", "id"), then at most one data line, then the blank line. Groups: the
# block's last id line, "data" if there is a data line, its value.
_TYPED_BLOCK_PATTERN = (
    r"(?:(?::[^\n]*|event: ?message|(id(?::[^\n]*)?))\n)*(?:(data): ?([^\n]*)\n)?\n"
)



@functools.cache
def _typed_block_patterns() -> tuple[re.Pattern[bytes], re.Pattern[str], re.Pattern[str]]:
    """(one block, on bytes; one block; any number of blocks), compiled on first use: most
    streams never need them, and compiling them would cost every import a millisecond."""
    return (
        re.compile(_TYPED_BLOCK_PATTERN.encode()),
        re.compile(_TYPED_BLOCK_PATTERN),
        re.compile(f"(?:{_TYPED_BLOCK_PATTERN})*"),
    )


def _data_blocks(buf: bytes, end: int) -> list[str] | None:
    """The data of every block in ``buf[:end]`` (`buf` has a blank line at `end`), when each
    block holds only data lines, all with or all without the space after the colon; else None.

    Every LF must then be the first of a block separator ``\\n\\ndata:`` or start a
    continuation ``\\ndata:`` line: counting the LFs tells, without walking the lines.
    """
    if buf[:5] != b"data:":
        return None
    if buf[5] == 0x20:
        complete = buf[6:end]
        sep, cont, text_sep, text_cont = b"\n\ndata: ", b"\ndata: ", "\n\ndata: ", "\ndata: "
    else:
        complete = buf[5:end]
        if b"\ndata: " in complete:
            return None
        sep, cont, text_sep, text_cont = b"\n\ndata:", b"\ndata:", "\n\ndata:", "\ndata:"
    lfs = complete.count(10)
    if not lfs:
        return [complete.decode("utf-8", "replace")]
    seps = complete.count(sep)
    if lfs == 2 * seps:
        return complete.decode("utf-8", "replace").split(text_sep)
    if lfs != seps + complete.count(cont):
        return None
    text = complete.decode("utf-8", "replace")
    if complete[:1] == b"\n" or cont + b"\n" in complete:
        # An empty data line: joined, it would make a blank line inside the data.
        return [d.replace(text_cont, "\n") if "\n" in d else d for d in text.split(text_sep)]
    # Without empty data lines, joining every block's lines leaves blank lines between the
    # blocks only: one replace and one split for the whole chunk.
    return text.replace(text_cont, "\n").split("\n\n")


class SSEDecoder:
    """Incremental SSE decoder: `feed` bytes in any split, `close` when the body ends."""

    __slots__ = (
        "_bom_done",
        "_buf",
        "_closed",
        "_cr",
        "_data",
        "_data_size",
        "_error",
        "_event",
        "_event_retry",
        "_fast_limit",
        "_in_event",
        "_keep_limit",
        "_lane",
        "_last_id",
        "_max_event",
        "_max_line",
        "_more",
        "_partial",
        "_received",
        "_retry",
        "_start",
        "_typed",
    )

    def __init__(self, max_line_size: int = 1 << 20, max_event_size: int = 8 << 20) -> None:
        if max_line_size < 1 or max_event_size < 1:
            raise UsageError("SSE size bounds must be positive", argument="max_line_size")
        self._max_line = max_line_size
        self._max_event = max_event_size
        # A single-line event block is taken by the fast path when it cannot break a bound.
        self._fast_limit = min(max_line_size, max_event_size + 5)
        # The tail of a chunk (the start of an unfinished event) is kept as bytes up to this
        # size; beyond, its complete lines are interpreted at once.
        self._keep_limit = min(self._fast_limit, _KEEP_LIMIT)
        self._buf = b""  # unprocessed bytes: starts at a line start, no CR
        self._more: list[bytes] = []  # later pieces of the current line (no CR, no LF)
        self._partial = 0  # length of the incomplete last line (in _buf + _more)
        self._cr = False  # the last byte seen was a CR: a leading LF in the next chunk is eaten
        self._bom_done = False
        self._closed = False
        self._start = True  # a chunk needs the slow prelude (_cr, not _bom_done, _closed)
        self._data: list[bytes] = []  # data buffer, one entry per data line
        self._data_size = 0
        self._event: bytes | None = None  # event type buffer (None: not set in this block)
        self._event_retry: int | None = None  # retry field seen in the current block
        self._in_event = False  # a data, event or retry field is buffered
        # The state is clean (no prelude work, nothing buffered): a chunk that is exactly one
        # single-line data event can take the shortest path.
        self._lane = False
        self._last_id: str | None = None
        self._retry: int | None = None
        self._received = 0
        # Internal mode used by the typed decoders: "message" events are produced as their
        # data `str` only (no `ServerSentEvent` object on the hot path).
        self._typed = False
        # The error met after some events of a chunk: those events are returned, the error is
        # raised at the next `feed` or `close` (and at every later one).
        self._error: InferenceError | None = None

    # -- public state --------------------------------------------------------------------------

    @property
    def saw_any_bytes(self) -> bool:
        """Whether any body byte was fed."""
        return self._received > 0

    @property
    def bytes_received(self) -> int:
        """How many body bytes were fed so far."""
        return self._received

    @property
    def last_event_id(self) -> str | None:
        """The last event id set by the stream (None if never set)."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The last reconnection time (ms) the stream asked for, or None."""
        return self._retry

    @property
    def pending(self) -> bytes:
        """Bytes received but not interpreted yet: the incomplete last line, possibly after
        complete lines of an unfinished event (kept, up to 16 KiB, so that the next chunk can
        take the fast path)."""
        return self._buf + b"".join(self._more)

    @property
    def in_event(self) -> bool:
        """Whether fields of an event were interpreted but the event not dispatched yet (a
        complete line may also wait in `pending`)."""
        return self._in_event

    # -- decoding ------------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the body; return the events it completes."""
        return self._decode(data)

    def close(self) -> list[ServerSentEvent]:
        """The body ended: return the last events, or raise `IncompleteStreamError`.

        An incomplete last line (no line end) is a truncated stream. Complete ``data`` lines
        without the final blank line still make an event (some servers end with one newline).
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        self._closed = self._start = True
        self._lane = False
        out: list[Any] = []
        buf = self.pending
        try:
            if buf:
                self._buf = b""
                self._more = []
                # (complete lines first: one of them may break a bound before the cut line)
                lines = buf.split(b"\n")
                self._lines(lines[:-1], out)
                if self._partial:
                    raise IncompleteStreamError(
                        "the event stream ended in the middle of a line "
                        f"({self._partial} bytes without a line end)",
                        received=lines[-1],
                    )
        except InferenceError as exc:
            self._error = exc
            raise
        self._dispatch(out)
        return out

    def _prelude(self, data: bytes) -> bytes:
        """The rare work at the start of a chunk: closed decoder, pending CR, leading BOM."""
        if self._closed:
            raise UsageError("feed() called after close()")
        if self._cr:
            self._cr = False
            if data[0] == 0x0A:
                data = data[1:]
        if not self._bom_done and data:
            data = self._buf + data
            self._buf = b""
            self._partial = 0
            if len(data) < 3 and _BOM.startswith(data):
                self._buf = data
                self._partial = len(data)
                return b""
            self._bom_done = True
            if data.startswith(_BOM):
                data = data[3:]
        self._start = not self._bom_done
        return data

    def _decode(self, data: bytes) -> list[Any]:
        """Decode a chunk. Items are `ServerSentEvent`s, or in typed mode `str` for the data
        of "message" events and `ServerSentEvent` for events of any other type."""
        if self._lane and data[-2:] == b"\n\n" and 13 not in data:
            # One whole single-line data event, the state clean: the shortest path.
            if data[:6] == b"data: ":
                complete = data[6:-2]
            elif data[:5] == b"data:":
                complete = data[5:-2]
            else:
                complete = None
            if complete is not None and 10 not in complete and len(data) <= self._fast_limit:
                self._received += len(data)
                text = complete.decode("utf-8", "replace")
                if self._typed:
                    return [text]
                return [_event(text, "message", self._last_id, None)]
        self._lane = False
        try:
            out = self._decode_chunk(data)
        except _StoppedError as stopped:
            # Events before the error are delivered now, the error at the next call.
            self._fail(stopped.error)
            if stopped.items:
                return stopped.items
            raise stopped.error from None
        except InferenceError as exc:
            self._fail(exc)
            raise
        self._lane = not (self._start or self._buf or self._more or self._in_event)
        return out

    def _fail(self, error: InferenceError) -> None:
        """Remember `error`: every later `feed` or `close` raises it."""
        self._error = error
        self._start = True
        self._lane = False

    def _decode_chunk(self, data: bytes) -> list[Any]:
        if self._start and self._error is not None:
            raise self._error
        if not data:
            return []
        self._received += len(data)
        if self._start:
            data = self._prelude(data)
            if not data:
                return []
        # (int needles: `13 in data` is a memchr; `b"\r" in data` costs several times more)
        has_cr = 13 in data
        if not has_cr and 10 not in data:
            # No line end: the current line grows.
            self._more.append(data)
            self._partial += len(data)
            if self._partial > self._max_line:
                raise self._overlong_partial()
            return []
        if self._more:
            buf = self._buf + b"".join(self._more) + data
            self._more = []
        elif self._buf:
            buf = self._buf + data
        else:
            buf = data
        if has_cr:
            if buf[-1] == 0x0D:
                self._cr = self._start = True
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

        end = buf.rfind(b"\n\n")
        out: list[Any]
        if end < 0:
            out = []
            end = -2
        elif self._in_event or end > self._fast_limit:
            out = self._events(buf, end)
        else:
            # Fast path: when every block holds only data lines, cut the decoded text at the
            # block separators (one decode and one split for the whole chunk).
            datas = _data_blocks(buf, end)
            if datas is None and self._typed and buf[:5] != b"data:":
                # (blocks that start with a data line are mostly plain: `_events` walks them
                # at little cost; blocks with head lines are cheaper to match as a whole)
                datas = self._typed_blocks(buf, end)
            if datas is None:
                out = self._events(buf, end)  # not only data lines
            elif self._typed:
                out = datas
            else:
                last_id = self._last_id
                out = [_event(d, "message", last_id, None) for d in datas]
        end += 2
        if end == len(buf):
            if buf is not data:
                self._buf = b""
                self._partial = 0
            return out
        # The tail holds the last lines of an unfinished event. Keep it unprocessed while it
        # is short (the next chunk will most often end the event, and the whole event then
        # takes a fast path); otherwise interpret its complete lines now, so that a long event
        # is not scanned again and again. A tail that starts with a blank line ends an event:
        # it is interpreted now, so that the event is dispatched as soon as it is complete.
        tail = buf[end:] if end else buf
        nl = tail.rfind(b"\n")
        try:
            if nl >= 0 and (nl == 0 or len(tail) > self._keep_limit):
                self._lines(tail[:nl].split(b"\n"), out)
                tail = tail[nl + 1 :]
                nl = -1
            self._buf = tail
            self._partial = len(tail) - nl - 1
            if self._partial > self._max_line:
                raise self._overlong_partial()
        except InferenceError as exc:
            raise _StoppedError(out, exc) from None
        return out

    def _typed_blocks(self, buf: bytes, end: int) -> list[str] | None:
        """Typed mode: the data of the complete blocks ``buf[:end]`` when each is some
        comment, ``event: message`` and ``id`` lines, then at most one data line; else None.

        Those lines dispatch nothing and, in typed mode (no id on the items), change nothing
        but the last event id: the blocks are checked with one regex match and their data
        and ids read with one ``findall``, instead of being walked one by one.
        """
        first_block, block, blocks = _typed_block_patterns()
        if first_block.match(buf) is None:
            return None  # (cheap: it reads the first block only)
        text = buf[: end + 2].decode("utf-8", "replace")
        if "\x00" in text or blocks.fullmatch(text) is None:
            return None
        found = block.findall(text)
        for line, _, _ in reversed(found):
            if line:
                value = line[3:] if line[2:3] == ":" else ""
                self._last_id = value[1:] if value[:1] == " " else value
                break
        return [value for _, data, value in found if data]

    def _events(self, buf: bytes, end: int) -> list[Any]:
        """The events of the complete blocks ``buf[:end]``, one by one."""
        out: list[Any] = []
        blocks = buf[:end].split(b"\n\n")
        start = 0
        limit = self._fast_limit
        typed = self._typed
        try:
            if self._in_event:
                # An event is in progress: the first block ends it.
                self._block(blocks[0], out)
                start = 1
            for i in range(start, len(blocks)):
                block = blocks[i]
                if block[:5] == b"data:" and len(block) <= limit and 10 not in block:
                    raw = block[6:] if block[5:6] == b" " else block[5:]
                    text = raw.decode("utf-8", "replace")
                    out.append(text if typed else _event(text, "message", self._last_id, None))
                else:
                    self._block(block, out)
        except InferenceError as exc:
            raise _StoppedError(out, exc) from None
        return out

    def _block(self, block: bytes, out: list[Any]) -> None:
        """One complete block (its lines, then the blank line), not a single data line.

        The usual shapes (an ``event:`` or ``id:`` line, then data lines that all have, or
        all lack, the space after the colon) are taken whole: the data lines are joined with
        one ``replace``. Anything else goes line by line.
        """
        if len(block) > self._fast_limit:
            self._lines(block.split(b"\n"), out)
            self._dispatch(out)
            return
        if block[:5] != b"data:":
            first = block.find(b"\ndata:")
            if first < 0:
                self._lines(block.split(b"\n"), out)
                self._dispatch(out)
                return
            head = block[:first]
            block = block[first + 1 :]
            if 10 in head:
                self._lines(head.split(b"\n"), out)
            elif head[:6] == b"event:":
                self._event = head[7:] if head[6:7] == b" " else head[6:]
                self._in_event = True
            elif head[:3] == b"id:":
                value = head[4:] if head[3:4] == b" " else head[3:]
                if 0 not in value:
                    self._last_id = value.decode("utf-8", "replace")
            else:
                self._lines([head], out)
        # All lines are data lines when every line end is followed by the data prefix (each
        # replacement shortens the block by the prefix length).
        if block[5:6] == b" ":
            data = block[6:].replace(b"\ndata: ", b"\n")
            if (len(block) - 6 - len(data)) // 6 != block.count(10):
                self._lines(block.split(b"\n"), out)
                self._dispatch(out)
                return
        elif b"\ndata: " not in block:
            data = block[5:].replace(b"\ndata:", b"\n")
            if (len(block) - 5 - len(data)) // 5 != block.count(10):
                self._lines(block.split(b"\n"), out)
                self._dispatch(out)
                return
        else:
            self._lines(block.split(b"\n"), out)
            self._dispatch(out)
            return
        if self._data:
            # (an event continued from an earlier chunk)
            if self._data_size + len(data) + 1 > self._max_event:
                # line by line: the error names the size where the bound was crossed
                self._lines(block.split(b"\n"), out)
                self._dispatch(out)
                return
            self._data_size += len(data) + 1
            self._data.append(data)
            self._in_event = True
            self._dispatch(out)
            return
        if len(data) > self._max_event:
            self._lines(block.split(b"\n"), out)  # (raises where the bound is crossed)
            self._dispatch(out)
            return
        # Dispatch here: the data buffer is exactly `data`.
        text = data.decode("utf-8", "replace")
        event = self._event
        if not event or event == b"message":
            if self._typed:
                out.append(text)
            else:
                out.append(_event(text, "message", self._last_id, self._event_retry))
        else:
            out.append(
                _event(text, event.decode("utf-8", "replace"), self._last_id, self._event_retry)
            )
        self._event = None
        self._event_retry = None
        self._in_event = False

    def _lines(self, lines: list[bytes], out: list[Any]) -> None:
        """Interpret complete lines (without their line ends)."""
        for line in lines:
            if not line:
                self._dispatch(out)
                continue
            if len(line) > self._max_line:
                raise self._line_too_large(line)
            if line[0] == 0x3A:  # ":" comment
                continue
            colon = line.find(b":")
            if colon < 0:
                name = line
                value = b""
            else:
                name = line[:colon]
                value = (
                    line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
                )
            if name == b"data":
                self._data_size += len(value) + (1 if self._data else 0)
                if self._data_size > self._max_event:
                    raise self._event_too_large()
                self._data.append(value)
                self._in_event = True
            elif name == b"event":
                self._event = value
                self._in_event = True
            elif name == b"id":
                if b"\x00" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit() and len(value) <= _RETRY_MAX_DIGITS:
                self._event_retry = self._retry = int(value)
                self._in_event = True
            # other fields are ignored

    def _dispatch(self, out: list[Any]) -> None:
        """A blank line: dispatch the event if it has data, then reset the event buffers."""
        if not self._in_event:
            return
        data = self._data
        if data:
            text = (data[0] if len(data) == 1 else b"\n".join(data)).decode("utf-8", "replace")
            event = self._event.decode("utf-8", "replace") if self._event else "message"
            if self._typed and event == "message":
                out.append(text)
            else:
                out.append(_event(text, event, self._last_id, self._event_retry))
            self._data = []
            self._data_size = 0
        self._event = None
        self._event_retry = None
        self._in_event = False

    def _event_too_large(self) -> EventTooLargeError:
        return EventTooLargeError(
            f"an event's data exceeds max_event_size={self._max_event} bytes "
            f"({self._data_size} bytes so far)"
        )

    def _overlong_partial(self) -> EventTooLargeError:
        """The error for an incomplete line over the bound. Complete lines kept before it are
        interpreted first: one of them may break the event bound earlier in the stream."""
        pending = self.pending
        nl = pending.rfind(b"\n")
        if nl >= 0:
            # (kept lines hold no blank line: nothing is dispatched)
            self._lines(pending[:nl].split(b"\n"), [])
        return self._line_too_large(pending[nl + 1 :])

    def _line_too_large(self, line: bytes) -> EventTooLargeError:
        # The message and the excerpt are the same wherever the chunks were cut: the line is
        # caught as soon as it has max_line + 1 bytes, and only those are quoted.
        return EventTooLargeError(
            f"an event stream line exceeds max_line_size={self._max_line} bytes "
            f"({self._max_line + 1} bytes or more without a line end)",
            received=line[: min(200, self._max_line + 1)],
        )


class _StoppedError(Exception):
    """Internal: `error` was met after `items` were decoded from the same chunk."""

    def __init__(self, items: list[Any], error: InferenceError) -> None:
        super().__init__()
        self.items = items
        self.error = error


def encode_event(event: ServerSentEvent, *, line_end: str = "\n") -> bytes:
    """The wire form of `event`, such that decoding it gives `event` back.

    Multi-line data becomes several ``data:`` lines. ``id`` and ``retry`` are written when
    set, ``event`` when it is not "message". Raises `UsageError` for what SSE cannot carry:
    a CR in the data, a line end in the event name or id, a NUL in the id, a negative retry.
    """
    if line_end not in ("\n", "\r\n", "\r"):
        raise UsageError("line_end must be LF, CRLF or CR", argument="line_end")
    if "\r" in event.data:
        raise UsageError("SSE data cannot contain CR (it is a line end)", argument="data")
    lines = []
    if event.id is not None:
        if "\r" in event.id or "\n" in event.id or "\x00" in event.id:
            raise UsageError("SSE id cannot contain CR, LF or NUL", argument="id")
        lines.append(f"id: {event.id}" if event.id else "id")
    if event.event != "message":
        if "\r" in event.event or "\n" in event.event or not event.event:
            raise UsageError(
                "SSE event names cannot be empty or contain CR or LF", argument="event"
            )
        lines.append(f"event: {event.event}")
    if event.retry is not None:
        if event.retry < 0:
            raise UsageError("SSE retry must be a non-negative integer", argument="retry")
        lines.append(f"retry: {event.retry}")
    lines.extend(f"data: {line}" for line in event.data.split("\n"))
    return (line_end.join(lines) + line_end + line_end).encode("utf-8")

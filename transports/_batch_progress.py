"""Progress of a batch run: a tqdm bar when tqdm is installed, else a plain line on stderr."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["Progress", "make_progress"]


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """Counts what a run did; subclasses show it."""

    def __init__(self, total: int | None, start: float) -> None:
        self.total = total
        self.start = start
        self.done = 0
        self.errors = 0
        self.tokens = 0

    def update(self, ok: bool, tokens: int, now: float) -> None:
        """One more item finished."""
        self.done += 1
        self.errors += not ok
        self.tokens += tokens

    def skip(self, count: int) -> None:
        """`count` items were already in the checkpoint."""
        if self.total is not None:
            self.total = max(0, self.total - count)

    def line(self, now: float) -> str:
        """``1200/10000 items, 35.2/s, ETA 04:10, 3 errors, 81,220 tokens``."""
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        count = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        eta = ""
        if self.total is not None and rate > 0:
            eta = f", ETA {_duration((self.total - self.done) / rate)}"
        return (f"{count} items, {rate:.1f}/s{eta}, {self.errors} errors, "
                f"{self.tokens:,} tokens")

    def close(self, now: float) -> None:
        """The run ended."""


class _Plain(Progress):
    """A status line on stderr: rewritten in place on a terminal (at most 4 times a second),
    one line every 10 seconds otherwise."""

    def __init__(self, total: int | None, start: float, stream: TextIO) -> None:
        super().__init__(total, start)
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._every = 0.25 if self._tty else 10.0
        self._shown = start

    def update(self, ok: bool, tokens: int, now: float) -> None:
        super().update(ok, tokens, now)
        if now - self._shown >= self._every:
            self._shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        end = "\r" if self._tty else "\n"
        self._stream.write(f"batch: {self.line(now)}{end}")
        self._stream.flush()

    def close(self, now: float) -> None:
        self._stream.write(f"batch: {self.line(now)} in {_duration(now - self.start)}\n")
        self._stream.flush()


class _Tqdm(Progress):
    def __init__(self, total: int | None, start: float, tqdm: Any) -> None:
        super().__init__(total, start)
        self._bar = tqdm(total=total, unit="item", desc="batch", dynamic_ncols=True)

    def update(self, ok: bool, tokens: int, now: float) -> None:
        super().update(ok, tokens, now)
        self._bar.update(1)
        if self.done % 16 == 1 or not ok:
            self._bar.set_postfix(errors=self.errors, tokens=self.tokens, refresh=False)

    def skip(self, count: int) -> None:
        super().skip(count)
        if self.total is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def close(self, now: float) -> None:
        self._bar.set_postfix(errors=self.errors, tokens=self.tokens, refresh=False)
        self._bar.close()


def make_progress(kind: object, total: int | None, start: float,
                  stream: TextIO | None = None) -> Progress:
    """The progress display for ``progress=``: True (tqdm if installed, else the plain line),
    ``"plain"``, ``"tqdm"``, False (nothing shown), None (True when stderr is a terminal)."""
    from .sansio._errors import UsageError

    stream = sys.stderr if stream is None else stream
    if kind is None:
        kind = bool(getattr(stream, "isatty", lambda: False)())
    if kind is False:
        return Progress(total, start)
    if kind in (True, "tqdm"):
        try:
            import importlib

            tqdm = importlib.import_module("tqdm.auto").tqdm
        except ImportError:
            if kind == "tqdm":
                raise UsageError("progress='tqdm' needs tqdm: pip install tqdm",
                                 argument="progress") from None
        else:
            return _Tqdm(total, start, tqdm)
        return _Plain(total, start, stream)
    if kind == "plain":
        return _Plain(total, start, stream)
    raise UsageError(f"progress must be True, False, None, 'plain' or 'tqdm', got {kind!r}",
                     argument="progress")

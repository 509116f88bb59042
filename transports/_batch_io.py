"""What a batch run reads and writes: its inputs (lazily), its results, and the JSONL file that
is both its output and its checkpoint."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .sansio._errors import HTTPStatusError, InferenceError, UsageError, UsageTypeError

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from .sansio._record import dataclass

__all__ = ["BatchResult", "Checkpoint", "Item", "encode_error", "estimate_tokens", "read_inputs",
           "result_line"]

ItemId = str | int


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of one input of a batch run.

    `id` is the input's id (its ``id`` field, else its line number in a JSONL file or its
    position in an iterable), `index` its position in the input (0-based). Exactly one of
    `output` (what the client method returned) and `error` (an `InferenceError`) is set.
    `usage` is the output's token usage as a dict (``prompt_tokens``, ``completion_tokens``,
    ``total_tokens``) when it has one; `provider` the client's provider; `request_id` the
    server's request id; `attempts` how many calls it took (429s included).
    """

    id: ItemId
    index: int
    output: Any = None
    error: InferenceError | None = None
    usage: dict[str, Any] | None = None
    provider: str | None = None
    request_id: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """Whether the item succeeded."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class Item:
    """One input: where it is, its id, and the method's arguments."""

    index: int
    id: ItemId
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    explicit: bool = False  # the id came from the input (not its position)


def _check_id(value: object, where: str) -> ItemId:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UsageTypeError(f"{where}: an id must be a string or an integer, got "
                             f"{type(value).__name__} {value!r}", argument="inputs")
    return value


def _item(index: int, value: object, default_id: ItemId, where: str) -> Item:
    if isinstance(value, Mapping):
        kwargs = dict(value)
        item_id = _check_id(kwargs.pop("id"), where) if "id" in kwargs else default_id
        for name in kwargs:
            if not isinstance(name, str):
                raise UsageTypeError(f"{where}: argument names must be strings, got {name!r}",
                                     argument="inputs")
        return Item(index, item_id, (), kwargs, "id" in value)
    return Item(index, default_id, (value,), {})


def _jsonl_items(path: Path) -> Iterator[Item]:
    with path.open("rb") as lines:
        index = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise UsageError(f"{where}: not valid JSON ({exc})", argument="inputs") from None
            if not isinstance(value, dict):
                raise UsageError(f"{where}: expected a JSON object of the method's arguments, "
                                 f"got {type(value).__name__}", argument="inputs")
            yield _item(index, value, number, where)
            index += 1


def read_inputs(inputs: object) -> Iterator[Item]:
    """The items of `inputs`, read lazily.

    A `str` or path names a JSONL file: one JSON object per line holding the method's
    arguments by name and an optional ``id`` (default: the line number, from 1). Any other
    iterable (a list, a generator, a 🤗 ``datasets.Dataset``...) gives one item per element:
    a mapping holds the arguments by name (and an optional ``id``; default: the position,
    from 0), any other value is the method's first argument.
    """
    if isinstance(inputs, (str, os.PathLike)):
        path = Path(inputs)
        if not path.is_file():
            raise UsageError(f"input file {str(path)!r} does not exist", argument="inputs")
        return _jsonl_items(path)
    if isinstance(inputs, (bytes, Mapping)) or not isinstance(inputs, Iterable):
        raise UsageTypeError("inputs must be an iterable of inputs, a JSONL path or a "
                             f"datasets.Dataset, got {type(inputs).__name__}", argument="inputs")
    return (_item(i, value, i, f"input {i}") for i, value in enumerate(inputs))


def count_inputs(inputs: object) -> int | None:
    """How many items `inputs` holds when that is cheap to know (a sized collection, or a
    JSONL file's non-blank lines counted in a streaming pass), else None."""
    if isinstance(inputs, (str, os.PathLike)):
        try:
            with open(inputs, "rb") as file:
                return sum(1 for line in file if line.strip())
        except OSError:
            return None
    try:
        return len(inputs)  # type: ignore[arg-type]
    except TypeError:
        return None


def estimate_tokens(item: Item) -> float:
    """The tokens an item is charged for against a `tpm` budget before it runs: about one per
    four characters of its arguments, plus its ``max_tokens`` (or ``max_new_tokens``). The
    charge is corrected with the actual usage when the call returns one."""
    size = len(json.dumps([item.args, item.kwargs], default=str, ensure_ascii=False))
    limit = item.kwargs.get("max_tokens") or item.kwargs.get("max_new_tokens") or 0
    return size / 4 + (limit if isinstance(limit, (int, float)) else 0)


def _encode(value: Any) -> Any:
    """JSON for what `json` does not know: bytes as ``{"base64": ...}``, PIL images as PNG in
    ``{"base64": ..., "media_type": "image/png"}``, arrays as lists, typed objects as dicts."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    save = getattr(value, "save", None)
    if callable(save) and hasattr(value, "mode"):
        buffer = io.BytesIO()
        save(buffer, format="PNG")
        return {"base64": base64.b64encode(buffer.getvalue()).decode("ascii"),
                "media_type": "image/png"}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def encode_error(error: InferenceError) -> dict[str, Any]:
    """An error as JSON: its class name, message and (for HTTP errors) status."""
    encoded: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, HTTPStatusError):
        encoded["status"] = error.status
    return encoded


def result_line(result: BatchResult) -> bytes:
    """The JSONL line of a result (with its newline)."""
    record: dict[str, Any] = {"id": result.id, "index": result.index}
    if result.error is None:
        record["output"] = result.output
    else:
        record["error"] = encode_error(result.error)
    record["usage"] = result.usage
    record["provider"] = result.provider
    record["request_id"] = result.request_id
    record["attempts"] = result.attempts
    text = json.dumps(record, default=_encode, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


class Checkpoint:
    """The output JSONL file, which is also the run's checkpoint.

    Opening it reads the ids already there (a torn last line, left by a kill in the middle of
    a write, is cut off); each result is then appended as one line and flushed, so a killed
    run loses nothing that was written and a re-run skips every id the file holds.

    With `retry_failed`, the lines of failed items are taken out first, so that their items
    run again: the file is rewritten without them into a temporary file beside it, which then
    replaces it in one rename (a kill during the rewrite leaves the file as it was).
    """

    __slots__ = ("_file", "done", "failed", "path", "succeeded")

    def __init__(self, path: str | os.PathLike[str], *, retry_failed: bool = False) -> None:
        self.path = Path(path)
        self.done: set[ItemId] = set()
        self.succeeded = 0
        self.failed = 0
        self._file: BinaryIO | None = None
        try:
            keep = self._scan(retry_failed) if self.path.exists() else 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("r+b" if self.path.exists() else "wb")
            self._file.truncate(keep)
            self._file.seek(keep)
        except OSError as exc:
            self.close()
            raise UsageError(f"batch output {str(self.path)!r}: {exc.strerror or exc}",
                             argument="output") from exc

    def _scan(self, retry_failed: bool) -> int:
        """Read the existing lines; return the offset where the complete lines end."""
        offset = 0
        failed_at: list[int] = []  # the line numbers of failed items, if they are retried
        with self.path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    break  # torn: the run was killed while writing it
                try:
                    record = json.loads(line)
                    item_id = record["id"]
                except (ValueError, KeyError, TypeError):
                    if not file.read(1):  # the last line: torn
                        break
                    raise UsageError(f"{self.path}:{number}: not a batch result line; is "
                                     "this the output of a batch run?",
                                     argument="output") from None
                if item_id in self.done:
                    raise UsageError(f"{self.path}:{number}: id {item_id!r} is there twice",
                                     argument="output")
                if "error" in record and retry_failed:
                    failed_at.append(number)
                else:
                    self.done.add(item_id)
                    if "error" in record:
                        self.failed += 1
                    else:
                        self.succeeded += 1
                offset += len(line)
        return self._rewrite_without(set(failed_at), offset) if failed_at else offset

    def _rewrite_without(self, numbers: set[int], end: int) -> int:
        """Replace the file by its complete lines but `numbers`; the new end offset."""
        spare = self.path.with_name(f".{self.path.name}.retry-failed")
        kept = 0
        try:
            with self.path.open("rb") as source, spare.open("wb") as target:
                read = 0
                for number, line in enumerate(source, start=1):
                    read += len(line)
                    if read > end:
                        break  # the torn tail
                    if number not in numbers:
                        target.write(line)
                        kept += len(line)
                target.flush()
                os.fsync(target.fileno())
            os.replace(spare, self.path)
        except OSError:
            spare.unlink(missing_ok=True)
            raise
        return kept

    def append(self, line: bytes) -> None:
        """Write one finished item's line and flush it to the operating system."""
        if self._file is None:
            raise UsageError("the checkpoint file is closed", argument="output")
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            raise UsageError(f"batch output {str(self.path)!r}: could not write a result: "
                             f"{exc.strerror or exc}", argument="output") from exc

    def close(self) -> None:
        """Close the file (further appends fail)."""
        file, self._file = self._file, None
        if file is not None:
            file.close()

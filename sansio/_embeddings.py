"""Embedding results: parsed into a flat float32 buffer plus a shape (numpy-ready, no numpy)."""

from __future__ import annotations

import binascii
import json
import math
import sys
from array import array
from typing import TYPE_CHECKING, Any

from ._errors import MalformedResponseError, in_stream_error

if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    from ._record import dataclass

__all__ = ["FloatArray", "parse_hf_features", "parse_openai_embeddings"]


@dataclass(frozen=True, slots=True)
class FloatArray:
    """A dense float32 array: `data` holds the values in C order, `shape` their dimensions.

    `numpy.frombuffer(a.data, dtype=numpy.float32).reshape(a.shape)` views it without a copy;
    `tolist()` gives nested Python lists.
    """

    shape: tuple[int, ...]
    data: array  # type: ignore[type-arg]

    def tolist(self) -> Any:
        """Nested lists of floats with this array's shape."""
        flat = self.data.tolist()
        for size in reversed(self.shape[1:]):
            flat = [flat[i : i + size] for i in range(0, len(flat), size)]
        return flat if self.shape else (flat[0] if flat else [])


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise MalformedResponseError(
            "the embeddings response is nested too deeply to read", received=body
        ) from None
    except ValueError:
        raise MalformedResponseError(
            "the embeddings response is not valid JSON", received=body
        ) from None


def _flatten(value: Any, body: bytes) -> tuple[tuple[int, ...], list[float]]:
    """Shape and flat values of a rectangular nested list of numbers."""
    shape: list[int] = []
    probe = value
    while isinstance(probe, list):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat: list[float] = []
    depth = len(shape)

    def walk(node: Any, level: int) -> None:
        if level == depth:
            if isinstance(node, bool) or not isinstance(node, (int, float)):
                raise MalformedResponseError(
                    f"the embeddings response holds a non-number {node!r}", received=body)
            flat.append(node)
            return
        if not isinstance(node, list) or len(node) != shape[level]:
            raise MalformedResponseError(
                "the embeddings response is not a rectangular array of numbers", received=body)
        for item in node:
            walk(item, level + 1)

    walk(value, 0)
    return tuple(shape), flat


_NUMBERS = frozenset({float, int})


def _without_bools(body: bytes) -> bool:
    """True when ``json.loads(body)`` cannot hold a bool: no ``true``/``false`` literal in the
    body, which is not UTF-16/32 either (those have NUL bytes wherever they have ASCII)."""
    # One memchr per letter first: number arrays hold neither a "t" nor an "f".
    return (
        b"\x00" not in body
        and (b"t" not in body or b"true" not in body)
        and (b"f" not in body or b"false" not in body)
    )


def _packed(rows: list[list[Any]], width: int) -> array | None:  # type: ignore[type-arg]
    """The rows as float32 in one C pass per row (`struct`), or None if one is not all numbers
    or holds a value float32 cannot hold (the checked path then decides, as it always did)."""
    import struct  # (here: only embeddings need it, not every import of the core)

    pack = struct.Struct(f"{width}f").pack
    out = array("f")
    try:
        for row in rows:
            out.frombytes(pack(*row))
    except (struct.error, OverflowError):
        return None
    return out


def _floats(
    value: Any, body: bytes, plain: bool = False
) -> tuple[tuple[int, ...], array]:  # type: ignore[type-arg]
    """`_copy_floats`, an int beyond float64 (OverflowError) named as not finite."""
    try:
        return _copy_floats(value, body, plain)
    except OverflowError:
        raise _not_finite(value, array("f"), body) from None


def _copy_floats(
    value: Any, body: bytes, plain: bool = False
) -> tuple[tuple[int, ...], array]:  # type: ignore[type-arg]
    """Shape and float32 values of a rectangular nested list of numbers.

    The usual shapes, a list of numbers or a list of equally long lists of numbers, are copied
    at C speed. When `plain` (`_without_bools(body)`: a bool would pass as 1 or 0), `struct`
    packs the values, checking their types on the way; otherwise the types are checked with
    C-level passes (`map(type, ...)`) and the values copied with `array`. Either way a 384-float
    vector costs a few microseconds instead of the hundreds a Python call per value took.
    Anything else (deeper nesting, ragged rows, a bool or a string among the values, a number
    beyond float32) takes the checked path or `_flatten`, which also words the errors.
    """
    if value.__class__ is list and value:
        first = value[0]
        if first.__class__ is list:
            width = len(first)
            if width and all(row.__class__ is list and len(row) == width for row in value):
                if plain:
                    packed = _packed(value, width)
                    if packed is not None:
                        return (len(value), width), packed
                if all(set(map(type, row)) <= _NUMBERS for row in value):
                    out = array("f")
                    for row in value:
                        out.extend(row)
                    return (len(value), width), out
        else:
            if plain:
                packed = _packed([value], len(value))
                if packed is not None:
                    return (len(value),), packed
            if set(map(type, value)) <= _NUMBERS:
                return (len(value),), array("f", value)
    shape, flat = _flatten(value, body)
    return shape, array("f", flat)


_HIGH_BYTE = slice(3, None, 4) if sys.byteorder == "little" else slice(0, None, 4)


def _all_finite(values: array) -> bool:  # type: ignore[type-arg]
    """Whether every float32 value is finite, in two C passes instead of a call per value.

    An infinite or NaN float32 has all exponent bits set: its high byte is 0x7f or 0xff.
    When no value's high byte is, all are finite (one strided slice and two byte searches);
    otherwise (also for finite values beyond 2**127) the sum decides: float32 values cannot
    overflow a float64 sum, so it is finite exactly when every value is.
    """
    high = values.tobytes()[_HIGH_BYTE]
    if 0x7F not in high and 0xFF not in high:
        return True
    return math.isfinite(sum(values))


def _finite_float32(number: Any) -> bool:
    try:
        return math.isfinite(array("f", [number])[0])
    except OverflowError:  # (an int beyond float64)
        return False


def _not_finite(source: Any, values: array, body: bytes) -> MalformedResponseError:  # type: ignore[type-arg]
    """The error naming the first value of `source` (parsed JSON) that float32 cannot hold
    as a finite number (NaN, Infinity, 1e999 or 1e39), else the first such float32 value."""
    stack: list[Any] = [source]
    bad: Any = None
    while stack and bad is None:
        node: Any = stack.pop()
        if node.__class__ is list:
            stack.extend(reversed(node))
        elif node.__class__ is dict:
            stack.append(node.get("embedding"))
        elif node.__class__ in _NUMBERS and not _finite_float32(node):
            bad = node
    if bad is None:
        bad = next(v for v in values if not math.isfinite(v))
    return MalformedResponseError(
        f"the embedding value {bad!r} is not a finite float32 number", received=body
    )


def parse_hf_features(body: bytes) -> FloatArray:
    """Parse an HF/TEI feature-extraction body: nested lists, or ``{"embeddings": [...]}``."""
    data = _load(body)
    if isinstance(data, dict):
        if data.get("error") is not None:
            raise in_stream_error(data["error"], data.get("error_type"))
        if "embeddings" in data:
            data = data["embeddings"]
        elif "data" in data:
            return _openai_vectors(data, body)
    if not isinstance(data, list):
        raise MalformedResponseError(
            "the feature-extraction response is not an array of numbers", received=body)
    shape, values = _floats(data, body, _without_bools(body))
    if 0 in shape:
        raise MalformedResponseError(
            f"the embedding is empty (the response's shape is {shape})", received=body)
    if not _all_finite(values):
        raise _not_finite(data, values, body)
    return FloatArray(shape, values)


def _decode_base64(text: str, body: bytes) -> array:  # type: ignore[type-arg]
    try:
        import base64  # only base64 bodies need it: kept out of `import inferwire.sansio`

        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedResponseError("an embedding is not valid base64", received=body) from None
    if len(raw) % 4:
        raise MalformedResponseError(
            "a base64 embedding is not a whole number of float32 values", received=body)
    values = array("f")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _openai_vectors(data: dict[str, Any], body: bytes) -> FloatArray:
    items = data.get("data")
    if not isinstance(items, list):
        raise MalformedResponseError(
            "the embeddings response has no 'data' list", received=body)
    if not items:
        raise MalformedResponseError(
            "the embeddings response is empty: its 'data' list holds no embedding",
            received=body)
    rows: list[tuple[int, array]] = []  # type: ignore[type-arg]
    plain = _without_bools(body)
    for position, item in enumerate(items):
        if not isinstance(item, dict) or "embedding" not in item:
            raise MalformedResponseError(
                "an item of 'data' has no 'embedding'", received=body)
        embedding = item["embedding"]
        index = item.get("index", position)
        if isinstance(embedding, str):
            row = _decode_base64(embedding, body)
        else:
            shape, row = _floats(embedding, body, plain)
            if len(shape) != 1:
                raise MalformedResponseError(
                    "an embedding is not a flat list of numbers", received=body)
        if not row:
            raise MalformedResponseError(
                f"the embedding of item {position} of 'data' is empty", received=body)
        rows.append((index if isinstance(index, int) else position, row))
    rows.sort(key=lambda pair: pair[0])
    width = len(rows[0][1]) if rows else 0
    out = array("f")
    for _, row in rows:
        if len(row) != width:
            raise MalformedResponseError(
                "the embeddings have different dimensions", received=body)
        out.extend(row)
    if not _all_finite(out):
        raise _not_finite(items, out, body)
    return FloatArray((len(rows), width), out)


def parse_openai_embeddings(body: bytes) -> FloatArray:
    """Parse an OpenAI ``/v1/embeddings`` body (float lists or base64 float32) in index order."""
    data = _load(body)
    if not isinstance(data, dict):
        raise MalformedResponseError(
            "the embeddings response is not a JSON object", received=body)
    if data.get("error") is not None:
        raise in_stream_error(data["error"], data.get("error_type"))
    return _openai_vectors(data, body)

"""Shared base of the typed results.

A typed result wraps the JSON object it was parsed from (kept as is, never copied):

* known scalar fields are read-only properties reading that object, so a missing field is
  ``None`` and building an object costs one attribute store plus its typed children;
* known nested fields (``choices``, ``delta``, ``usage``, ``token``...) are typed objects built
  eagerly, so a wrong shape is reported when the response is parsed, as
  `MalformedResponseError`, never later as a `TypeError` in user code;
* unknown fields are kept and reachable three ways: ``obj.extras`` (a dict of them),
  ``obj["reasoning_content"]`` / ``obj.get("timings")`` (read access to the original keys, as
  on ``huggingface_hub``'s dict-like outputs) and attribute access ``obj.timings``;
* ``to_dict()`` gives back the original object (a deep copy): ``T.parse(d).to_dict() == d``.

Scalar values are not type-checked (servers disagree on them, and checking costs time on the
hot path): a field holds what the server sent. Objects compare equal when they have the same
type and the same JSON. They are meant to be read, never modified; `parse` takes ownership of
the dict it is given.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Callable, Iterator, KeysView
from typing import Any, ClassVar, TypeVar

from ._errors import MalformedResponseError, in_stream_error

__all__ = [
    "Model",
    "field",
    "load_json_body",
    "model_list",
    "raise_for_error_object",
    "shape_error",
    "with_received",
]

M = TypeVar("M", bound="Model")

_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlist = 4
_repr.maxdict = 6
_repr.maxlevel = 3


def shape_error(what: str, value: Any) -> MalformedResponseError:
    """The error for a JSON value that does not have the documented shape.

    `what` names the field; a name ending in ``[]`` expects a list. The caller that has the
    received bytes re-raises with them (see `with_received`).
    """
    expected = "a list" if what.endswith("[]") else "a JSON object"
    return MalformedResponseError(
        f"{what.removesuffix('[]')}: expected {expected}, got {type(value).__name__} "
        f"{_repr.repr(value)}"
    )


def with_received(error: MalformedResponseError, received: bytes | str) -> MalformedResponseError:
    """`error` again, carrying the received body or event data."""
    if error.received is not None:
        return error
    return MalformedResponseError(str(error), received=received, status=error.status)


def load_json_body(body: bytes, what: str) -> Any:
    """Parse a response body as JSON, or raise `MalformedResponseError` with the body."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # (RecursionError: nested too deep for the parser; malformed for our purposes)
        raise MalformedResponseError(
            f"{what}: the body is not valid JSON ({exc})", received=body
        ) from None


def raise_for_error_object(obj: dict[str, Any]) -> None:
    """Raise the mapped `InStreamError` if `obj` is an error object (``"error"`` not null).

    Both shapes are recognised: OpenAI ``{"error": {"message", "type", "code"}}`` and TGI
    ``{"error": "...", "error_type": "validation"}``.
    """
    error = obj.get("error")
    if error is not None:
        raise in_stream_error(error, obj.get("error_type"))


def field(key: str) -> Any:
    """A read-only property returning the raw JSON value of `key` (None when missing).

    Declared as ``content: str | None = field("content")`` so that type checkers see the
    field's type; at run time it is a property reading the kept JSON object.
    """

    def get(self: Model) -> Any:
        return self._raw.get(key)

    get.__name__ = key
    return property(get, doc=f"The ``{key}`` field (None when missing).")


def model_list(cls: Callable[[dict[str, Any]], M], value: Any, what: str) -> list[M]:
    """Build typed objects from a JSON list (raising `MalformedResponseError` otherwise)."""
    if value.__class__ is not list:
        raise shape_error(what + "[]", value)
    return [cls(item) for item in value]


class Model:
    """Base class of the typed results (see the module documentation)."""

    __slots__ = ("_raw",)

    #: JSON keys with a typed attribute (scalar property or typed child), in repr order.
    _fields: ClassVar[tuple[str, ...]] = ()
    #: JSON keys whose attribute is a typed child (item access returns the typed value).
    _children: ClassVar[frozenset[str]] = frozenset()
    _known: ClassVar[frozenset[str]] = frozenset()

    _raw: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._known = frozenset(cls._fields)

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.__class__ is not dict:
            raise shape_error(type(self).__name__, raw)
        self._raw = raw

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Build the typed object from a parsed JSON object (a dict)."""
        if not isinstance(data, dict):
            raise shape_error(cls.__name__, data)
        if data.__class__ is not dict:
            data = dict(data)
        return cls(data)

    # -- dict-like read access to the original JSON keys ---------------------------------------

    def __getitem__(self, key: str) -> Any:
        value = self._raw[key]
        if key in self._children:
            return getattr(self, key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of JSON key `key` (typed for known nested fields), or `default`."""
        if key not in self._raw:
            return default
        return self[key]

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def keys(self) -> KeysView[str]:
        """The JSON keys the server sent."""
        return self._raw.keys()

    def __iter__(self) -> Iterator[str]:
        # Iterating gives the JSON keys, as on a dict (and as on huggingface_hub's outputs).
        return iter(self._raw)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: unknown JSON fields read as attributes.
        if not name.startswith("_"):
            raw = self._raw
            if name in raw:
                return raw[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def extras(self) -> dict[str, Any]:
        """The JSON fields this type does not know (e.g. ``reasoning_content``, ``timings``)."""
        known = self._known
        return {k: v for k, v in self._raw.items() if k not in known}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this was parsed from (a copy), including unknown and null fields."""
        copy: dict[str, Any] = _copy_json(self._raw)
        return copy

    # -- value semantics -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, Model)
            return self._raw == other._raw
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        raw = self._raw
        parts = [f"{k}={_repr.repr(raw[k])}" for k in self._fields if raw.get(k) is not None]
        extra = [k for k in raw if k not in self._known]
        if extra:
            parts.append(f"extras={_repr.repr(extra)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __getstate__(self) -> dict[str, Any]:
        return self._raw

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Rebuild the typed children from the JSON.
        type(self).__init__(self, state)


def _copy_json(value: Any) -> Any:
    cls = value.__class__
    if cls is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if cls is list:
        return [_copy_json(v) for v in value]
    return value

"""Shared base of the typed results.

A typed result is a read-only ``dict`` subclass holding the JSON object it was parsed from,
with its known nested objects replaced by typed objects, as ``huggingface_hub``'s outputs are
dict subclasses:

* known fields are attributes (``chunk.choices[0].delta.content``) and keys
  (``chunk["choices"][0]["delta"]["content"]``); a known field the server omitted reads as
  ``None`` both ways, and a required list or object (``choices``, ``delta``...) as an empty one;
* unknown fields are kept: ``obj.extras`` (a dict of them), ``obj["reasoning_content"]`` and
  attribute access ``obj.timings``; a key that is neither known nor sent raises `KeyError`, as
  on any dict;
* ``json.dumps(result)`` writes what the server sent; ``to_dict()`` gives it back as plain
  dicts and lists (a deep copy): ``T.parse(d).to_dict() == d``;
* every type is built with keyword arguments (``TextGenerationOutputPrefillToken(id=1,
  text="a", logprob=None)``), stored as given, or with ``T.parse(json_object)``, which builds
  the typed nested objects (and checks their shape).

Scalar values are not type-checked (servers disagree on them, and checking costs time on the
hot path): a field holds what the server sent. Objects compare as dicts do. They are read-only
(item assignment and the dict mutators raise `UsageTypeError`; lists inside are plain lists).

A type declares its fields as annotations; a typed nested object as ``child(T)`` (an object),
``child(T, many=True)`` (a list) or ``child(T, many=2)`` (a list of lists)::

    class ChatCompletionStreamOutputChoice(Model):
        delta: ChatCompletionStreamOutputDelta = child(ChatCompletionStreamOutputDelta,
                                                       required=True)
        index: int
        finish_reason: str | None

Building an object from JSON costs one C-level dict copy per object (no Python ``__init__``):
parsers fill the typed children into the parsed JSON, then call the class on it.
"""

from __future__ import annotations

import json
import reprlib
from operator import itemgetter
from typing import Any, ClassVar, NoReturn, TypeVar

from ._errors import MalformedResponseError, UsageTypeError, in_stream_error

__all__ = [
    "Model",
    "child",
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


def raise_for_error_object(obj: dict[str, Any], what: str) -> None:
    """Raise if `obj`, a 2xx answer, is an error object rather than a `what`.

    A non-null ``error`` raises the mapped `InStreamError` (OpenAI ``{"error": {"message",
    "type", "code"}}`` and TGI ``{"error": "...", "error_type": "validation"}``). An object
    whose only content is a null ``error`` (``{"error": null}``) is no answer at all: it raises
    `MalformedResponseError` rather than reading as an empty `what`.
    """
    if "error" not in obj:
        return
    error = obj["error"]
    if error is not None:
        raise in_stream_error(error, obj.get("error_type"))
    if all(value is None for value in obj.values()):
        raise MalformedResponseError(
            f"{what}: the server answered {{'error': null}} and nothing else"
        )


class _Child:
    """The declaration of a typed nested field (see `child`)."""

    __slots__ = ("cls", "many", "required", "what")

    def __init__(self, cls: type[Model], many: int, required: bool) -> None:
        self.cls = cls
        self.many = many
        self.required = required
        self.what = ""

    def build(self, value: Any) -> Any:
        """The typed value of JSON `value` (not None); takes ownership of it."""
        if self.many == 0:
            return _typed(self.cls, value, self.what)
        if value.__class__ is not list:
            raise shape_error(self.what + "[]", value)
        cls = self.cls
        if self.many == 1:
            return [_typed(cls, item, self.what) for item in value]
        out = []
        for row in value:
            if row.__class__ is not list:
                raise shape_error(self.what + "[]", row)
            out.append([_typed(cls, item, cls.__name__) for item in row])
        return out

    def default(self) -> Any:
        """What the field reads as when the server omitted it."""
        if not self.required:
            return None
        return [] if self.many else self.cls._empty


def child(cls: type[Model], *, many: int | bool = False, required: bool = False) -> Any:
    """Declare a typed nested field: an object of `cls`, a list of them (``many=True``) or a
    list of lists (``many=2``). A `required` field the server omitted reads as an empty object
    or list rather than None."""
    return _Child(cls, int(many), required)


def _typed(cls: type[M], value: Any, what: str) -> M:
    if value.__class__ is dict:
        return cls._from_json(value)
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls._from_json(dict(value))
    raise shape_error(what, value)


def model_list(cls: type[M], value: Any, what: str) -> list[M]:
    """Build typed objects from a JSON list (raising `MalformedResponseError` otherwise)."""
    if value.__class__ is not list:
        raise shape_error(what + "[]", value)
    return [_typed(cls, item, what) for item in value]


def _read_only(self: Model, *args: Any, **kwargs: Any) -> NoReturn:
    raise UsageTypeError(
        f"{type(self).__name__} is read-only; build a changed copy with "
        f"{type(self).__name__}(**{{**obj, 'field': value}})"
    )


class Model(dict[str, Any]):
    """Base class of the typed results (see the module documentation)."""

    __slots__ = ()

    #: JSON keys with a typed attribute, in repr order.
    _fields: ClassVar[tuple[str, ...]] = ()
    _known: ClassVar[frozenset[str]] = frozenset()
    #: The typed nested fields: JSON key -> declaration.
    _children: ClassVar[dict[str, _Child]] = {}
    #: Known fields that read as something else than None when omitted.
    _defaults: ClassVar[dict[str, _Child]] = {}
    #: Known fields defined by a hand-written property rather than an annotation.
    _computed: ClassVar[tuple[str, ...]] = ()
    #: An empty instance, shared (it cannot change): what a required child reads as.
    _empty: ClassVar[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        children = dict(cls._children)
        own = cls.__dict__
        for name, annotation in own.get("__annotations__", {}).items():
            if name.startswith("_") or str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if hasattr(dict, name):
                raise TypeError(f"{cls.__name__}.{name}: a field cannot shadow a dict method")
            value = own.get(name)
            if isinstance(value, _Child):
                value.what = f"{cls.__name__}.{name}"
                children[name] = value
            elif value is not None:
                continue  # a hand-written property
            if name not in fields:
                fields.append(name)
            setattr(cls, name, property(itemgetter(name), doc=f"The ``{name}`` field."))
        for name in cls._computed:
            if name not in fields:
                fields.append(name)
        cls._fields = tuple(fields)
        cls._known = frozenset(fields)
        cls._children = children
        cls._defaults = {k: c for k, c in children.items() if c.required}
        cls._empty = dict.__new__(cls)

    @classmethod
    def parse(cls: type[M], data: Any) -> M:
        """Build the typed object from a JSON object (a dict, copied first), building its typed
        nested objects; `MalformedResponseError` when a known field has the wrong shape."""
        if not isinstance(data, dict):
            raise shape_error(cls.__name__, data)
        return cls._from_json(_plain(data))

    @classmethod
    def _from_json(cls: type[M], raw: dict[str, Any]) -> M:
        """Build from a parsed JSON object, taking ownership of it (its nested values are
        replaced by typed ones). Hot-path types override this with a flat version."""
        for key, spec in cls._children.items():
            value = raw.get(key)
            if value is not None:
                raw[key] = spec.build(value)
        return cls(raw)

    # -- dict behaviour --------------------------------------------------------------------------

    def __missing__(self, key: str) -> Any:
        spec = self._defaults.get(key)
        if spec is not None:
            return spec.default()
        if key in self._known:
            return None
        raise KeyError(key)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: unknown JSON fields read as attributes.
        if not name.startswith("_") and name in self:
            return dict.__getitem__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    __setitem__ = _read_only
    __delitem__ = _read_only
    __ior__ = _read_only
    clear = _read_only
    pop = _read_only
    popitem = _read_only
    setdefault = _read_only
    update = _read_only

    @property
    def extras(self) -> dict[str, Any]:
        """The JSON fields this type does not know (e.g. ``reasoning_content``, ``timings``)."""
        known = self._known
        return {k: v for k, v in self.items() if k not in known}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this was parsed from, as plain dicts and lists (a copy), including
        unknown and null fields."""
        plain: dict[str, Any] = _plain(self)
        return plain

    def __repr__(self) -> str:
        parts = []
        for key in self._fields:
            value = dict.get(self, key)
            if value is not None:
                parts.append(f"{key}={_repr.repr(value)}")
        extra = [k for k in self if k not in self._known]
        if extra:
            parts.append(f"extras={_repr.repr(extra)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The default protocol would rebuild the dict through __setitem__ (read-only here).
        return (type(self), (dict(self),))

    def __copy__(self: M) -> M:
        return type(self)(self)

    def __deepcopy__(self: M, memo: dict[int, Any]) -> M:
        # The values are JSON and typed objects: a fresh parse of the plain copy is a deep copy.
        return type(self)._from_json(_plain(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value.__class__ is list:
        return [_plain(v) for v in value]
    return value

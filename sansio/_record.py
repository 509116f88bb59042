"""A light stand-in for ``dataclasses.dataclass(frozen=True, slots=True)``.

The core's value types are plain frozen, slotted records. ``dataclasses`` would build them, but
importing it loads ``inspect`` (with ``ast``, ``dis``, ``tokenize``...), and building each
class costs more than everything else ``import inferwire.sansio`` does: the import must stay
cheap. Modules import ``dataclass``/``field`` from here at run time and from ``dataclasses``
under ``TYPE_CHECKING``, so type checkers see exactly the dataclass semantics this mirrors:
positional-or-keyword ``__init__`` in field order with defaults and ``default_factory``,
``__post_init__``, ``__repr__``/``__eq__``/``__hash__`` over the fields and pickling (a method
the class defines itself is kept), frozen instances (``AttributeError`` on assignment) and
``__slots__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dataclass", "field"]

_MISSING: Any = object()


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Any) -> None:
        self.default = default
        self.default_factory = default_factory


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    """A field's default value, or a factory called for each instance."""
    return _Field(default, default_factory)


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")


def _frozen_delattr(self: object, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")


def _build(cls: type, *, repr: bool) -> type:
    names = list(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 - no inspect here
    namespace = {k: v for k, v in cls.__dict__.items()
                 if k not in names and k not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = tuple(names)
    globs: dict[str, Any] = {"_MISSING": _MISSING}
    params, body = [], []
    for name in names:
        declared = cls.__dict__.get(name, _MISSING)
        if isinstance(declared, _Field):
            if declared.default_factory is not _MISSING:
                globs[f"_factory_{name}"] = declared.default_factory
                params.append(f"{name}=_MISSING")
                body.append(f"if {name} is _MISSING: {name} = _factory_{name}()")
                continue
            declared = declared.default
        if declared is _MISSING:
            if params and "=" in params[-1]:
                raise TypeError(f"non-default field {name!r} follows a default field")
            params.append(name)
        else:
            globs[f"_default_{name}"] = declared
            params.append(f"{name}=_default_{name}")
    new_cls = type(cls)(cls.__name__, cls.__bases__, namespace)
    for name in names:
        globs[f"_set_{name}"] = new_cls.__dict__[name].__set__
        body.append(f"_set_{name}(self, {name})")
    if "__post_init__" in namespace:
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    if not params:
        source = "def __init__(self):\n    " + "\n    ".join(body or ["pass"])
    exec(source, globs)  # noqa: S102 - generated from the class's own field names
    init = globs["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    fields = tuple(names)

    def values(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in fields)

    def equal(self: Any, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented  # type: ignore[no-any-return]
        return bool(values(self) == values(other))

    def hashed(self: Any) -> int:
        return hash(values(self))

    def shown(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields)
        return f"{type(self).__qualname__}({inner})"

    def reduced(self: Any) -> tuple[Any, ...]:
        return type(self), values(self)

    methods: dict[str, Any] = {"__init__": init, "__eq__": equal, "__hash__": hashed,
                               "__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr,
                               "__reduce__": reduced}
    if repr:
        methods["__repr__"] = shown
    for attr, method in methods.items():
        if attr not in namespace:
            type.__setattr__(new_cls, attr, method)
    return new_cls


def dataclass(*, frozen: bool = True, slots: bool = True,
              repr: bool = True) -> Callable[[type], type]:
    """Decorate a class as a frozen, slotted record (the only kind the core uses)."""
    if not (frozen and slots):
        raise TypeError("the core's records are always frozen and slotted")

    def wrap(cls: type) -> type:
        return _build(cls, repr=repr)

    return wrap

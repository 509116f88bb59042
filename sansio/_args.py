"""Argument checking and JSON payload building shared by the task flows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._errors import UsageError, UsageTypeError

__all__ = ["check_arg", "check_params", "encode_json", "filter_none", "messages_as_dicts",
           "reject_unexpected"]

NUMBER = (int, float)


def reject_unexpected(task: str, unexpected: Mapping[str, Any], hint: str = "") -> None:
    """Raise a `UsageError` naming any keyword argument the task does not know."""
    if unexpected:
        names = ", ".join(sorted(unexpected))
        raise UsageTypeError(
            f"{task}() got unknown parameter(s): {names}{hint}",
            argument=sorted(unexpected)[0],
        )


def check_arg(task: str, name: str, value: Any, types: tuple[type, ...]) -> None:
    """Raise a `UsageError` unless `value` is None or an instance of `types` (bool is no int)."""
    if value is None:
        return
    if isinstance(value, bool) and bool not in types:
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        expected = " or ".join(t.__name__ for t in types)
        raise UsageTypeError(
            f"{task}(): {name} must be {expected}, got {type(value).__name__} {value!r:.60}",
            argument=name,
        )


def check_params(
    task: str, params: Mapping[str, Any], spec: Mapping[str, tuple[type, ...]]
) -> None:
    """Type-check every parameter of `params` against `spec`."""
    for name, value in params.items():
        check_arg(task, name, value, spec[name])


def filter_none(value: Any) -> Any:
    """Drop None values from dicts, recursively; keep empty dicts and lists."""
    if isinstance(value, dict):
        return {k: filter_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [filter_none(v) for v in value]
    return value


def encode_json(payload: Any, task: str) -> bytes:
    """Serialize a payload compactly as UTF-8 JSON, with a usage error for what JSON can't hold."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{task}(): the request cannot be sent as JSON: {exc}") from None


def _as_dict(item: Any, task: str, name: str) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    to_dict = getattr(item, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, dict):
            return result
    raise UsageError(f"{task}(): each of {name} must be a dict, got {type(item).__name__}",
                     argument=name)


def messages_as_dicts(messages: Any, task: str = "chat_completion") -> list[dict[str, Any]]:
    """Validate chat messages: a non-empty list of dicts (or typed messages) with a role."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, (list, tuple)):
        raise UsageError(
            f"{task}(): messages must be a list of {{'role': ..., 'content': ...}} dicts, "
            f"got {type(messages).__name__}",
            argument="messages",
        )
    if not messages:
        raise UsageError(f"{task}(): messages must not be empty", argument="messages")
    out = []
    for message in messages:
        as_dict = _as_dict(message, task, "messages")
        if not isinstance(as_dict.get("role"), str):
            raise UsageError(f"{task}(): every message needs a 'role' string: {as_dict!r:.80}",
                             argument="messages")
        out.append(as_dict)
    return out

"""Write `sansio/_types/`: every type name of ``huggingface_hub``'s inference types as ours.

Facts only are taken from the installed ``huggingface_hub`` (its names, field names, field
order and field types, by introspection); the code and the docstrings are ours. One module per
task module of ``huggingface_hub.inference._generated.types``; the names already hand-written in
`sansio/_chat_types.py` and `sansio/_textgen_types.py` are imported from there, not redefined.
Also written: ``_types/__init__.py`` (the name -> module map the packages resolve lazily) and
``_types/_all.py`` (every name, imported only under ``TYPE_CHECKING``).

    python tools/gen_types.py [OUTPUT_DIR]    # default: sansio/_types

The test suite runs the generator into a temporary folder and compares.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "sansio" / "_types"
PACKAGE = "inferwire.sansio._types"
HAND_WRITTEN = {
    "inferwire.sansio._chat_types": "chat_completion",
    "inferwire.sansio._textgen_types": "text_generation",
}
LINE = 100


def _hand_written() -> dict[str, str]:
    """Name -> module of the hand-written types (read from their ``__all__``)."""
    out: dict[str, str] = {}
    for module_name in HAND_WRITTEN:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name[0].isupper():
                out[name] = module_name
    return out


def _words(camel: str) -> list[str]:
    parts = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z][a-z]*|\d+[a-z]*|[a-z]+", camel)
    return [p if len(p) > 1 and p.isupper() else p.lower() for p in parts]


def _task_words(task: str) -> str:
    return task.replace("_", " ")


def _camel(task: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in task.split("_"))


def _docstring(name: str, task: str, alias: bool) -> str:
    if task == "base":
        return "The common base of the task types."
    prefix = _camel(task)
    rest = name[len(prefix) :] if name.lower().startswith(prefix.lower()) else name
    words = " ".join(_words(rest))
    if alias:
        return f"The allowed {words} values of {_task_words(task)}."
    return f"The {words} of {_task_words(task)}."


class _Module:
    """What one generated module needs: its classes, aliases and imports."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.aliases: dict[str, tuple[Any, ...]] = {}  # name -> literal values
        self.unions: dict[str, tuple[type, ...]] = {}  # name -> member classes
        self.classes: list[type] = []
        self.imports: dict[str, set[str]] = {}  # module -> names
        self.typing: set[str] = set()
        self.uses_child = False


def _literal(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _literal_text(values: tuple[Any, ...]) -> str:
    return "Literal[" + ", ".join(_literal(v) for v in values) + "]"


def _wrapped(opening: str, items: list[str], closing: str, sep: str) -> list[str]:
    """``opening + items + closing`` on one line, or split as ``ruff format`` does."""
    joiner = ", " if sep == " " else sep
    if sep == " ":
        one = f"{opening}{joiner.join(items)}{closing}"
        if len(one) <= LINE:
            return [one]
        inner = "    " + joiner.join(items)
        if len(inner) <= LINE:
            return [opening, inner, closing]
        return [opening, *(f"    {item}," for item in items), closing]
    one = f"{opening.removesuffix('(')}{joiner.join(items)}"
    if len(one) <= LINE:
        return [one]
    return [opening, f"    {items[0]}", *(f"    | {item}" for item in items[1:]), closing]


def _simple(tp: Any, mod: _Module) -> str | None:
    """The annotation of a non-model type, or None when it is too complex (then ``Any``)."""
    if tp in (str, int, float, bool):
        return str(tp.__name__)
    if tp is Any or tp is object:
        mod.typing.add("Any")
        return "Any"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        for alias, values in mod.aliases.items():
            if values == args:
                return alias
        mod.typing.add("Literal")
        return _literal_text(args)
    if origin is list and len(args) == 1:
        inner = _simple(args[0], mod)
        return None if inner is None else f"list[{inner}]"
    if origin is dict and len(args) == 2 and args[0] is str:
        value = _simple(args[1], mod)
        return None if value is None else f"dict[str, {value}]"
    return None


def _field(name: str, tp: Any, mod: _Module, models: dict[type, str]) -> str:
    """One field declaration line (or lines), indented."""
    optional = False
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        optional = True
        tp = rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
    depth = 0
    inner = tp
    while typing.get_origin(inner) is list and len(typing.get_args(inner)) == 1:
        inner = typing.get_args(inner)[0]
        depth += 1
    suffix = " | None" if optional else ""
    if isinstance(inner, type) and inner in models:
        cls_name = models[inner]
        _need(cls_name, mod)
        mod.uses_child = True
        annotation = "list[" * depth + cls_name + "]" * depth + suffix
        call_args = [cls_name]
        if depth == 1:
            call_args.append("many=True")
        elif depth > 1:
            call_args.append(f"many={depth}")
        if not optional:
            call_args.append("required=True")
        call = f"child({', '.join(call_args)})"
        line = f"    {name}: {annotation} = {call}"
        if len(line) <= LINE:
            return line
        return f"    {name}: {annotation} = child(\n        {', '.join(call_args)}\n    )"
    simple = _simple(tp, mod)
    if simple is None or (simple == "Any" and optional):
        mod.typing.add("Any")
        return f"    {name}: Any"
    return f"    {name}: {simple}{suffix}"


def _need(cls_name: str, mod: _Module) -> None:
    """Import `cls_name` into `mod` when it is defined elsewhere."""
    home = _HOME[cls_name]
    if home != f"{PACKAGE}.{mod.task}":
        mod.imports.setdefault(home, set()).add(cls_name)


_HOME: dict[str, str] = {}


def _short(module: str) -> str:
    """`module` relative to ``inferwire.sansio`` (the form `TYPE_MODULES` holds)."""
    return module.removeprefix("inferwire.sansio")


def _ordered(classes: list[type], defined: set[type]) -> list[type]:
    """`classes` with every class after the classes of this module its fields name."""
    out: list[type] = []
    seen: set[type] = set()

    def visit(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        for tp in typing.get_type_hints(cls).values():
            for dep in _model_refs(tp):
                if dep in defined:
                    visit(dep)
        out.append(cls)

    for cls in classes:
        visit(cls)
    return out


def _model_refs(tp: Any) -> list[type]:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return [tp]
    return [ref for arg in typing.get_args(tp) for ref in _model_refs(arg)]


def _render(mod: _Module, hf_version: str, models: dict[type, str]) -> str:
    body: list[str] = []
    for alias, values in mod.aliases.items():
        mod.typing.add("Literal")
        body.extend(_wrapped(f"{alias} = Literal[", [_literal(v) for v in values], "]", " "))
        body.append(f'"""{_docstring(alias, mod.task, alias=True)}"""')
        body.append("")
    base = "Model" if mod.task == "base" else "BaseInferenceType"
    if mod.task != "base":
        mod.imports.setdefault(f"{PACKAGE}.base", set()).add("BaseInferenceType")
    for cls in mod.classes:
        hints = typing.get_type_hints(cls)
        lines = [
            "",
            f"class {cls.__name__}({base}):",
            f'    """{_docstring(cls.__name__, mod.task, alias=False)}"""',
            "",
            "    __slots__ = ()",
        ]
        fields = dataclasses.fields(cls)
        if fields:
            lines.append("")
        lines.extend(_field(f.name, hints[f.name], mod, models) for f in fields)
        body.extend(lines)
        body.append("")
    for alias, members in mod.unions.items():
        body.append("")
        body.extend(_wrapped(f"{alias} = (", [models[m] for m in members], ")", " | "))
        body.append(f'"""{_docstring(alias, mod.task, alias=False)[:-1]}: one of these types."""')
    names = sorted([*mod.aliases, *mod.unions, *(c.__name__ for c in mod.classes)])
    head = [
        f"# Generated by tools/gen_types.py from huggingface_hub {hf_version}'s type names and",
        "# fields; do not edit.",
        f'"""Types of {_task_words(mod.task)}, named as in ``huggingface_hub``."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if mod.typing:
        head.append(f"from typing import {', '.join(sorted(mod.typing))}")
        head.append("")
    models_imports = ["Model"] if mod.task == "base" else []
    if mod.uses_child:
        models_imports.append("child")
    imports: list[tuple[str, list[str]]] = []
    if models_imports:
        imports.append(("inferwire.sansio._models", models_imports))
    imports.extend((m, sorted(n)) for m, n in mod.imports.items())
    for where, what in sorted(imports):
        line = f"from {where} import {', '.join(what)}"
        if len(line) <= LINE:
            head.append(line)
        else:
            head.append(f"from {where} import (")
            head.extend(f"    {n}," for n in what)
            head.append(")")
    if imports:
        head.append("")
    head.append("__all__ = [")
    head.extend(f'    "{n}",' for n in names)
    head.append("]")
    head.append("")
    text = "\n".join(head + body).rstrip("\n") + "\n"
    return re.sub(r"\n{3,}(?=class )", "\n\n\n", text).replace("]\n\n\nclass", "]\n\n\nclass")


def generate() -> dict[str, str]:
    """File name -> text of every generated file."""
    import huggingface_hub
    import huggingface_hub.inference._generated.types as hf_types

    hf_version = huggingface_hub.__version__
    hand = _hand_written()
    public = {
        name: value
        for name, value in vars(hf_types).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    modules: dict[str, _Module] = {}
    home_task: dict[str, str] = {}
    for info in pkgutil.iter_modules(hf_types.__path__):
        hf_module = importlib.import_module(f"{hf_types.__name__}.{info.name}")
        for name, value in vars(hf_module).items():
            if name not in public or public[name] is not value or name in home_task:
                continue
            is_class = isinstance(value, type)
            if is_class and value.__module__ != hf_module.__name__:
                continue
            home_task[name] = info.name
    missing = set(public) - set(home_task)
    if missing:
        raise SystemExit(f"no home module for {sorted(missing)}")
    models: dict[type, str] = {}
    for name, task in sorted(home_task.items()):
        _HOME[name] = hand.get(name, f"{PACKAGE}.{task}")
        if isinstance(public[name], type):
            models[public[name]] = name
    for task in sorted(set(home_task.values())):
        modules[task] = _Module(task)
    for task, mod in modules.items():
        hf_module = importlib.import_module(f"{hf_types.__name__}.{task}")
        own = [n for n, v in vars(hf_module).items() if home_task.get(n) == task and n not in hand]
        for name in own:
            value = public[name]
            if isinstance(value, type):
                mod.classes.append(value)
            elif typing.get_origin(value) is Literal:
                mod.aliases[name] = typing.get_args(value)
            else:  # a union of classes of this module
                mod.unions[name] = typing.get_args(value)
        mod.classes = _ordered(mod.classes, set(mod.classes))
    files = {f"{task}.py": _render(mod, hf_version, models) for task, mod in modules.items()}
    type_modules = {name: _short(_HOME[name]) for name in sorted(home_task)}
    files["__init__.py"] = _render_init(type_modules, hf_version)
    files["_all.py"] = _render_all(type_modules, hf_version)
    return files


def _render_init(type_modules: dict[str, str], hf_version: str) -> str:
    lines = [
        f"# Generated by tools/gen_types.py from huggingface_hub {hf_version}'s type names and",
        "# fields; do not edit.",
        '"""Every type name of ``huggingface_hub``\'s inference types, loaded on first use.',
        "",
        "`TYPE_MODULES` maps each name to the module defining it; `resolve` imports that module",
        "and returns the type. The packages' ``__getattr__`` call it, so importing them creates",
        "none of these classes.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        '__all__ = ["TYPE_MODULES", "resolve"]',
        "",
        "TYPE_MODULES: dict[str, str] = {",
    ]
    lines.extend(f'    "{name}": "{module}",' for name, module in type_modules.items())
    lines += [
        "}",
        "",
        "",
        "def resolve(name: str) -> Any:",
        '    """The type called `name`, importing its module; `AttributeError` if unknown."""',
        "    module = TYPE_MODULES.get(name)",
        "    if module is None:",
        "        raise AttributeError(name)",
        "    import importlib  # (not at the top: importing this package stays cheap)",
        "",
        '    return getattr(importlib.import_module(module, "inferwire.sansio"), name)',
        "",
    ]
    return "\n".join(lines)


def _render_all(type_modules: dict[str, str], hf_version: str) -> str:
    lines = [
        f"# Generated by tools/gen_types.py from huggingface_hub {hf_version}'s type names and",
        "# fields; do not edit.",
        '"""Every type name, imported eagerly: for type checkers (under ``TYPE_CHECKING``)."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    by_module: dict[str, list[str]] = {}
    for name, module in type_modules.items():
        by_module.setdefault(module, []).append(name)
    for module, names in sorted(by_module.items()):
        lines.append(f"from inferwire.sansio{module} import (")
        lines.extend(f"    {n}," for n in sorted(names))
        lines.append(")")
    lines += ["", "__all__ = ["]
    lines.extend(f'    "{n}",' for n in type_modules)
    lines += ["]", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (out / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

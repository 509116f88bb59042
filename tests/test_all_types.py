"""Every type name of huggingface_hub's inference types exists in inferwire, with hf's fields.

The expectations are derived from the installed ``huggingface_hub`` (2.4.0, the bench extra):
its names, its dataclasses' field names, order and types. The generated modules are loaded
lazily; the generator's output is checked to be current.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal

import huggingface_hub
import huggingface_hub.inference._generated.types as hf_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import inferwire
import inferwire.sansio
from inferwire.sansio import MalformedResponseError
from inferwire.sansio._models import Model

ROOT = Path(__file__).resolve().parents[1]

HF_NAMES = sorted(
    name
    for name, value in vars(hf_types).items()
    if not name.startswith("_") and not inspect.ismodule(value)
)
HF_TOP_LEVEL = sorted(name for name in HF_NAMES if hasattr(huggingface_hub, name))
HF_CLASSES = [name for name in HF_NAMES if isinstance(getattr(hf_types, name), type)]
HF_ALIASES = [name for name in HF_NAMES if name not in HF_CLASSES]


def hf(name: str) -> Any:
    return getattr(hf_types, name)


def ours(name: str) -> Any:
    return getattr(inferwire.sansio, name)


def hf_fields(name: str) -> list[str]:
    return [f.name for f in dataclasses.fields(hf(name))]


def hf_child(name: str, field: str) -> tuple[str, int, bool] | None:
    """What hf's type of `field` says: (class name, list depth, optional) when it is (an
    Optional) list^depth of one hf class, else None (then the value is plain JSON)."""
    tp = typing.get_type_hints(hf(name))[field]
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) != 1:
            return None
        tp = args[0]
    depth = 0
    while typing.get_origin(tp) is list:
        (tp,) = typing.get_args(tp)
        depth += 1
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp.__name__, depth, optional
    return None


def test_the_counts_are_those_of_huggingface_hub_2_4_0() -> None:
    assert huggingface_hub.__version__ == "2.4.0"
    assert len(HF_NAMES) == 170
    assert len(HF_TOP_LEVEL) == 169
    assert len(HF_CLASSES) == 150
    assert len(HF_ALIASES) == 20


@pytest.mark.parametrize("name", HF_NAMES)
def test_every_name_is_importable_from_both_packages_as_one_object(name: str) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from inferwire import {name} as a\nfrom inferwire.sansio import {name} as b", namespace)
    assert namespace["a"] is namespace["b"]
    assert name in inferwire.__all__
    assert name in inferwire.sansio.__all__
    assert name in dir(inferwire)
    assert name in dir(inferwire.sansio)


def test_the_top_level_names_of_huggingface_hub_are_all_there() -> None:
    missing = [n for n in HF_TOP_LEVEL if not hasattr(inferwire, n)]
    assert missing == []
    star: dict[str, Any] = {}
    exec("from inferwire import *", star)
    assert set(HF_TOP_LEVEL) <= set(star)
    star = {}
    exec("from inferwire.sansio import *", star)
    assert set(HF_NAMES) <= set(star)


@pytest.mark.parametrize("module", [inferwire, inferwire.sansio])
def test_an_unknown_name_is_still_an_attribute_error(module: types.ModuleType) -> None:
    with pytest.raises(AttributeError, match="NoSuchTypeOutput"):
        _ = module.NoSuchTypeOutput
    assert not hasattr(module, "textclassificationinput")


@pytest.mark.parametrize("name", HF_CLASSES)
def test_every_class_has_huggingface_hubs_fields(name: str) -> None:
    cls = ours(name)
    assert isinstance(cls, type)
    assert issubclass(cls, Model)
    assert issubclass(cls, dict)
    assert set(cls._fields) == set(hf_fields(name))
    if cls.__module__.startswith("inferwire.sansio._types."):
        assert list(cls._fields) == hf_fields(name)  # generated: hf's order too
        assert cls.__doc__
        assert cls.__doc__ != hf(name).__doc__  # a docstring of our own


@pytest.mark.parametrize("name", HF_CLASSES)
def test_every_nested_hf_class_is_a_typed_child(name: str) -> None:
    cls = ours(name)
    for field in hf_fields(name):
        expected = hf_child(name, field)
        spec = cls._children.get(field)
        if expected is None:
            assert spec is None, field
            continue
        assert spec is not None, field
        child_name, depth, optional = expected
        assert spec.cls is ours(child_name)
        assert spec.many == depth
        if cls.__module__.startswith("inferwire.sansio._types."):
            assert spec.required is not optional


@pytest.mark.parametrize("name", HF_ALIASES)
def test_every_alias_allows_what_huggingface_hubs_allows(name: str) -> None:
    alias = ours(name)
    theirs = hf(name)
    if typing.get_origin(theirs) is Literal:
        assert typing.get_origin(alias) is Literal
        assert typing.get_args(alias) == typing.get_args(theirs)
    else:  # a union of classes
        assert [a.__name__ for a in typing.get_args(alias)] == [
            a.__name__ for a in typing.get_args(theirs)
        ]
        assert all(a is ours(a.__name__) for a in typing.get_args(alias))


@pytest.mark.parametrize("name", HF_CLASSES)
def test_every_class_builds_by_keyword_and_reads_back(name: str) -> None:
    cls = ours(name)
    fields = hf_fields(name)
    obj = cls(**dict.fromkeys(fields))
    assert type(obj) is cls
    for field in fields:
        assert getattr(obj, field) is None
        assert obj[field] is None
    assert json.loads(json.dumps(obj)) == dict.fromkeys(fields)
    assert obj.to_dict() == dict.fromkeys(fields)
    values = {field: f"v{i}" for i, field in enumerate(fields)}
    built = cls(**values)
    for field, value in values.items():
        assert getattr(built, field) == value
        assert built[field] == value
    assert json.loads(json.dumps(built)) == values


def test_nested_children_come_back_typed() -> None:
    from inferwire import (
        AutomaticSpeechRecognitionOutput,
        AutomaticSpeechRecognitionOutputChunk,
        ChatCompletionInput,
        ChatCompletionInputFunctionDefinition,
        ChatCompletionInputMessage,
        ChatCompletionInputToolCall,
        ObjectDetectionBoundingBox,
        ObjectDetectionOutputElement,
        TextClassificationInput,
        TextClassificationParameters,
    )

    message = ChatCompletionInputMessage.parse(
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "hi"}],
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        }
    )
    (call,) = message.tool_calls
    assert type(call) is ChatCompletionInputToolCall
    assert type(call.function) is ChatCompletionInputFunctionDefinition
    assert call.function.name == "f"
    assert call["function"]["arguments"] == "{}"
    # a union of a class and something else stays plain JSON
    assert type(message.content[0]) is dict
    request = ChatCompletionInput.parse({"messages": [{"role": "user", "content": "x"}]})
    assert type(request.messages[0]) is ChatCompletionInputMessage
    assert ChatCompletionInput.parse({}).messages == []  # a required list reads as empty

    element = ObjectDetectionOutputElement.parse(
        {"box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4}, "label": "cat", "score": 0.9}
    )
    assert type(element.box) is ObjectDetectionBoundingBox
    assert (element.box.xmin, element["box"]["ymax"]) == (1, 4)
    empty = ObjectDetectionOutputElement.parse({"label": "cat"}).box
    assert type(empty) is ObjectDetectionBoundingBox and empty.xmin is None

    asr = AutomaticSpeechRecognitionOutput.parse(
        {"text": "a b", "chunks": [{"text": "a", "timestamp": [0.0, 1.0]}]}
    )
    assert type(asr.chunks[0]) is AutomaticSpeechRecognitionOutputChunk
    assert asr.chunks[0].timestamp == [0.0, 1.0]
    assert TextClassificationInput.parse({"inputs": "x"}).parameters is None
    params = TextClassificationInput.parse({"inputs": "x", "parameters": {"top_k": 2}}).parameters
    assert type(params) is TextClassificationParameters and params.top_k == 2

    for bad in ({"box": 3}, {"box": [1, 2]}, {"box": "x"}):
        with pytest.raises(MalformedResponseError, match="box"):
            ObjectDetectionOutputElement.parse(bad)
    with pytest.raises(MalformedResponseError, match="tool_calls"):
        ChatCompletionInputMessage.parse({"role": "user", "tool_calls": {"id": "c1"}})


# -- the property: any JSON object gives a faithful typed object or MalformedResponseError ----

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def shaped(name: str, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects for hf class `name`: some of its known keys (nested classes often, but not
    always, well shaped) and random other keys, all with random values."""
    known: dict[str, st.SearchStrategy[Any]] = {}
    for field in hf_fields(name):
        spec = hf_child(name, field)
        value = json_values
        if spec is not None and depth < 3:
            child_name, list_depth, _ = spec
            good: st.SearchStrategy[Any] = st.deferred(lambda c=child_name: shaped(c, depth + 1))
            for _ in range(list_depth):
                good = st.lists(good, max_size=2)
            value = good | good | json_values
        known[field] = value
    return st.fixed_dictionaries({}, optional=known).flatmap(
        lambda fixed: st.dictionaries(st.text(max_size=6), json_values, max_size=2).map(
            lambda extra: {**extra, **fixed}
        )
    )


def well_shaped(name: str, value: Any) -> bool:
    """Whether JSON `value` has hf class `name`'s shape where its fields name hf classes."""
    if not isinstance(value, dict):
        return False
    for field in hf_fields(name):
        spec = hf_child(name, field)
        item = value.get(field)
        if spec is None or item is None:
            continue
        child_name, list_depth, _ = spec
        if not _shaped_list(child_name, item, list_depth):
            return False
    return True


def _shaped_list(name: str, value: Any, depth: int) -> bool:
    if depth == 0:
        return well_shaped(name, value)
    return isinstance(value, list) and all(_shaped_list(name, v, depth - 1) for v in value)


def check_typed(name: str, obj: Any) -> None:
    assert type(obj) is ours(name)
    for field in hf_fields(name):
        spec = hf_child(name, field)
        value = dict.get(obj, field)
        if spec is None or value is None:
            continue
        child_name, list_depth, _ = spec
        _check_list(child_name, value, list_depth)


def _check_list(name: str, value: Any, depth: int) -> None:
    if depth == 0:
        check_typed(name, value)
        return
    assert type(value) is list
    for item in value:
        _check_list(name, item, depth - 1)


@pytest.mark.parametrize("name", HF_CLASSES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_object_parses_faithfully_or_is_malformed(name: str, data: st.DataObject) -> None:
    cls = ours(name)
    obj = data.draw(shaped(name))
    snapshot = json.loads(json.dumps(obj))
    try:
        parsed = cls.parse(obj)
    except MalformedResponseError:
        assert not well_shaped(name, obj)
    else:
        assert well_shaped(name, obj)
        check_typed(name, parsed)
        assert parsed.to_dict() == obj
        assert json.loads(json.dumps(parsed)) == snapshot
    assert obj == snapshot  # the input is not changed


# -- laziness and the generator --------------------------------------------------------------


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def test_importing_the_packages_loads_no_generated_module() -> None:
    probe = "print(any(m.startswith('inferwire.sansio._types.') for m in sys.modules))"
    assert run_python(f"import inferwire.sansio, sys; {probe}") == "False"
    assert run_python(f"import inferwire, sys; {probe}") == "False"
    assert run_python(f"import inferwire, sys; dir(inferwire); {probe}") == "False"


def test_first_use_loads_only_the_types_module_it_needs() -> None:
    loaded = run_python(
        "import sys, inferwire\n"
        "cls = inferwire.TextClassificationOutputElement\n"
        "assert cls.parse({'label': 'a', 'score': 1.0}).label == 'a'\n"
        "print(sorted(m for m in sys.modules if m.startswith('inferwire.sansio._types.')))"
    )
    assert loaded == str(
        ["inferwire.sansio._types.base", "inferwire.sansio._types.text_classification"]
    )


def test_the_type_modules_map_matches_the_generated_modules() -> None:
    from inferwire.sansio._types import TYPE_MODULES, resolve

    assert sorted(TYPE_MODULES) == HF_NAMES
    for name, module in TYPE_MODULES.items():
        value = resolve(name)
        assert value is ours(name)
        if isinstance(value, type):
            assert value.__module__ == "inferwire.sansio" + module
    with pytest.raises(AttributeError):
        resolve("NoSuchType")


def test_the_generated_files_are_current(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_types.py"), str(tmp_path)],
        check=True,
        timeout=120,
    )
    checked_in = ROOT / "sansio" / "_types"
    generated = sorted(p.name for p in tmp_path.glob("*.py"))
    assert generated == sorted(p.name for p in checked_in.glob("*.py"))
    assert len(generated) >= 30
    stale = [n for n in generated if (tmp_path / n).read_text() != (checked_in / n).read_text()]
    assert stale == [], "run python tools/gen_types.py"
    header = "# Generated by tools/gen_types.py from huggingface_hub 2.4.0's type names and"
    assert all((checked_in / n).read_text().startswith(header) for n in generated)

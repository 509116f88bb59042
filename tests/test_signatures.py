"""The sync and async clients expose the same methods with the same parameters."""

from __future__ import annotations

import inspect
from typing import Any

from inferwire import AsyncInferenceClient, InferenceClient

PUBLIC_TASKS = {"chat_completion", "text_generation", "feature_extraction", "health_check",
                "get_endpoint_info"}


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(cls)
            if callable(member) and not name.startswith("_")}


def test_same_public_methods() -> None:
    sync, async_ = _public_methods(InferenceClient), _public_methods(AsyncInferenceClient)
    assert set(sync) == set(async_)
    assert set(sync) >= PUBLIC_TASKS


def test_same_parameters_and_defaults() -> None:
    sync, async_ = _public_methods(InferenceClient), _public_methods(AsyncInferenceClient)
    for name in sync:
        assert list(sync[name].parameters.values()) == list(async_[name].parameters.values()), name


def test_async_task_methods_are_coroutines() -> None:
    for name in PUBLIC_TASKS | {"close"}:
        assert inspect.iscoroutinefunction(getattr(AsyncInferenceClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(InferenceClient, name)), name


def test_constructors_share_huggingface_hub_parameters() -> None:
    common = ["model", "provider", "token", "timeout", "headers", "cookies", "bill_to",
              "base_url", "api_key", "max_retries"]
    for cls in (InferenceClient, AsyncInferenceClient):
        names = list(inspect.signature(cls).parameters)
        assert names[: len(common)] == common, cls


def test_chat_alias_is_the_bound_method() -> None:
    client = InferenceClient(base_url="http://127.0.0.1:9")
    assert client.chat.completions.create == client.chat_completion
    client.close()


def test_async_task_methods_are_derived_from_the_sync_ones() -> None:
    """`transports/_async_tasks.py` is generated from `transports/_sync_tasks.py`: one source."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "gen_async_tasks.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _hf_surface() -> dict[str, Any]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / "hf_client_signatures.json"
    surface: dict[str, Any] = json.loads(path.read_text())
    return surface


def _parameters(member: Any) -> list[dict[str, Any]]:
    out = []
    for p in inspect.signature(member).parameters.values():
        if p.name in ("self", "unexpected"):  # our catch-all that names unknown keywords
            continue
        out.append({"name": p.name, "kind": p.kind.name,
                    "default": None if p.default is inspect.Parameter.empty else repr(p.default),
                    "required": p.default is inspect.Parameter.empty})
    return out


def test_every_huggingface_hub_member_with_its_parameters() -> None:
    """All 33 public members of huggingface_hub 2.4.0's clients (tests/data/
    hf_client_signatures.json, written by tools/dump_hf_signatures.py): same names, and for
    each method the same parameters in the same order, of the same kind, with the same
    defaults."""
    surface = _hf_surface()
    assert surface["huggingface_hub"] == "2.4.0"
    assert len(surface["members"]) == 33
    for cls in (InferenceClient, AsyncInferenceClient):
        for name, expected in surface["members"].items():
            assert hasattr(cls, name), f"{cls.__name__}.{name} is missing"
            if expected.get("property"):
                assert isinstance(inspect.getattr_static(cls, name), property), name
                continue
            assert _parameters(getattr(cls, name)) == expected["parameters"], (
                f"{cls.__name__}.{name}")


#: The older huggingface_hub methods both clients keep (docs/migrating.md): the only public
#: methods beyond huggingface_hub 2.4.0's members.
LEGACY_EXTRAS = {"conversational", "get_model_status", "list_deployed_models"}


def test_the_only_extra_methods_are_the_listed_legacy_ones() -> None:
    surface = set(_hf_surface()["members"])
    for cls in (InferenceClient, AsyncInferenceClient):
        assert set(_public_methods(cls)) - surface == LEGACY_EXTRAS, cls.__name__


def test_legacy_methods_have_the_old_parameters_in_order() -> None:
    """As in huggingface_hub 0.19-0.2x (names, order, kinds, defaults)."""
    old = {
        "conversational": [("text", "POSITIONAL_OR_KEYWORD", None),
                           ("generated_responses", "POSITIONAL_OR_KEYWORD", "None"),
                           ("past_user_inputs", "POSITIONAL_OR_KEYWORD", "None"),
                           ("parameters", "KEYWORD_ONLY", "None"),
                           ("model", "KEYWORD_ONLY", "None")],
        "get_model_status": [("model", "POSITIONAL_OR_KEYWORD", "None")],
        "list_deployed_models": [("frameworks", "POSITIONAL_OR_KEYWORD", "None")],
    }
    for cls in (InferenceClient, AsyncInferenceClient):
        for name, expected in old.items():
            got = [(p["name"], p["kind"], p["default"]) for p in _parameters(getattr(cls, name))]
            assert got == expected, f"{cls.__name__}.{name}"
            assert inspect.iscoroutinefunction(getattr(cls, name)) == (
                cls is AsyncInferenceClient)

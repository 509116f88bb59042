"""Packaging: the wheel carries every subpackage and py.typed; the core imports no transport."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("httpx", "h11", "trio", "anyio", "numpy", "inferwire._sync",
                     "inferwire._async", "inferwire._h11", "inferwire.local", "inferwire.testing")
BANNED_CORE_IMPORTS = {"socket", "ssl", "select", "selectors", "asyncio", "trio", "anyio",
                       "threading", "multiprocessing", "concurrent", "subprocess", "os",
                       "pathlib", "shutil", "tempfile", "time", "random", "secrets", "logging",
                       "httpx", "h11", "numpy", "urllib.request", "http.client"}


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT / "tests").stdout
    return set(out.split())


def test_importing_the_core_loads_no_http_library_or_transport() -> None:
    loaded = _imported_after("import inferwire.sansio")
    leaked = sorted(m for m in loaded
                    if any(m == bad or m.startswith(bad + ".") for bad in FORBIDDEN_IN_CORE))
    assert leaked == []


def test_the_async_client_imports_without_httpx() -> None:
    loaded = _imported_after("from inferwire import AsyncInferenceClient")
    assert "inferwire._async" in loaded
    assert not any(m == "httpx" or m.startswith("httpx.") for m in loaded)
    assert "trio" not in loaded


def test_the_core_source_imports_only_pure_modules() -> None:
    """The same rule as the ruff banned-api list in sansio/ruff.toml, checked on the AST."""
    offenders = []
    for path in sorted((ROOT / "sansio").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
                offenders.append(f"{path.name}:{node.lineno} open()")
            for name in names:
                if any(name == bad or name.startswith(bad + ".") for bad in BANNED_CORE_IMPORTS):
                    offenders.append(f"{path.name}:{node.lineno} import {name}")
                if name.startswith("inferwire") and not name.startswith("inferwire.sansio"):
                    offenders.append(f"{path.name}:{node.lineno} import {name}")
    assert offenders == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (built,) = out.glob("inferwire-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_contains_every_module_and_py_typed(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    expected = {"inferwire/py.typed", "inferwire/sansio/py.typed"}
    for folder, package in (("transports", "inferwire"), ("sansio", "inferwire/sansio")):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder).as_posix()
            expected.add(f"{package}/{relative}")
    missing = sorted(expected - names)
    assert missing == []
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = wheel.read(metadata_name).decode()
    assert "Requires-Python: >=3.10" in metadata
    assert "Requires-Dist: h11" in metadata
    assert "Requires-Dist: httpx" in metadata
    assert 'extra == "trio"' in metadata
    assert 'extra == "numpy"' in metadata

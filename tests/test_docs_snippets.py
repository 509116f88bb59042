"""Every code snippet on the site runs, or says why it cannot.

The rules, for each fenced block of ``docs/**/*.md``:

- A block right after ``<!-- not-run: <reason> -->`` is not run (the reason is required).
- ``python`` blocks of a page run in order, as one program, in a fresh interpreter, with every
  ``http://127.0.0.1:<port>`` pointed at a fake server (`inferwire.testing`); a
  ``--8<-- "file"`` line includes that file (pymdownx.snippets, as the site does).
- ``sh`` blocks hold ``inferwire ...`` commands only, and each runs against the fake server.
- ``json`` blocks parse (and a replies file loads into the fake server); ``text`` blocks are
  output and are not run.
- A page's fake server plays what ``<!-- fake-server: {...} -->`` (one per page, anywhere,
  usually at the top) asks: a JSON object of `FakeInferenceServer` keyword arguments, such
  as ``{"tasks": {"org/classifier": "text-classification"}}`` (``POST
  http://127.0.0.1:<port>/models/org/classifier`` plays that task) or ``{"root_task":
  "summarization"}`` (``POST /`` plays it). Its python and sh blocks run against that server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inferwire.testing import FakeInferenceServer
from inferwire.testing._script import load_script

DOCS = Path(__file__).resolve().parent.parent / "docs"
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:\d+")
NOT_RUN = re.compile(r"<!-- not-run: (?P<reason>\S.*?) -->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<code>.*?)^```\n", re.M | re.S)
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.M)
FAKE_SERVER = re.compile(r"<!-- fake-server: (?P<options>.*?) -->", re.S)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    code: str
    not_run: str | None


def blocks(path: Path) -> Iterator[Block]:
    text = path.read_text()
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NOT_RUN.fullmatch(before.strip())
        code = SNIPPET.sub(lambda m: (DOCS / m.group("path")).read_text(), match.group("code"))
        yield Block(str(path.relative_to(DOCS)), text.count("\n", 0, match.start()) + 1,
                    match.group("lang"), code, marker.group("reason") if marker else None)


PAGES = sorted(DOCS.rglob("*.md"))
ALL = [b for page in PAGES for b in blocks(page)]


def server_options(page: str) -> dict[str, object]:
    """The `FakeInferenceServer` keyword arguments of `page` (its ``fake-server`` marker)."""
    markers = FAKE_SERVER.findall((DOCS / page).read_text())
    assert len(markers) <= 1, f"{page}: more than one fake-server marker"
    options = json.loads(markers[0]) if markers else {}
    assert isinstance(options, dict), f"{page}: the fake-server marker is not a JSON object"
    return {"tokens": ["Paris", " is", " the", " capital", "."], **options}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}


def test_every_block_has_a_known_language_or_a_reason() -> None:
    assert len(ALL) > 20
    unknown = [f"{b.page}:{b.line} ```{b.lang}" for b in ALL
               if b.not_run is None and b.lang not in ("python", "sh", "json", "text")]
    assert unknown == []


@pytest.mark.parametrize("page", sorted({b.page for b in ALL if b.lang == "python"
                                         and b.not_run is None}))
def test_the_python_snippets_of_a_page_run(page: str) -> None:
    code = "\n".join(f"# --- {b.page}:{b.line}\n{b.code}" for b in ALL
                     if b.page == page and b.lang == "python" and b.not_run is None)
    with FakeInferenceServer(**server_options(page)) as server:  # type: ignore[arg-type]
        code = LOCAL_URL.sub(server.base_url, code)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=180, env=_env(), cwd=DOCS, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


SH = [b for b in ALL if b.lang == "sh" and b.not_run is None]


@pytest.mark.parametrize("block", SH, ids=[f"{b.page}:{b.line}" for b in SH])
def test_the_shell_snippets_run(block: Block) -> None:
    commands = [shlex.split(line, comments=True) for line in block.code.splitlines()]
    commands = [c for c in commands if c]
    assert commands and all(c[0] == "inferwire" for c in commands), \
        f"{block.page}:{block.line}: only inferwire commands run; mark the others not-run"
    with FakeInferenceServer(**server_options(block.page)) as server:  # type: ignore[arg-type]
        for command in commands:
            args = [LOCAL_URL.sub(server.base_url, a) for a in command[1:]]
            result = subprocess.run([sys.executable, "-m", "inferwire", *args],
                                    capture_output=True, text=True, timeout=60, env=_env(),
                                    check=False)
            assert result.returncode == 0, f"{command}: {result.stderr}"
            assert result.stdout.strip(), command


JSON = [b for b in ALL if b.lang == "json" and b.not_run is None]


@pytest.mark.parametrize("block", JSON, ids=[f"{b.page}:{b.line}" for b in JSON])
def test_the_json_snippets_parse(block: Block, tmp_path: Path) -> None:
    data = json.loads(block.code)
    if isinstance(data, dict) and {"enqueue", "routes"} & set(data):
        path = tmp_path / "replies.json"
        path.write_text(block.code)
        load_script(path)            # a replies file the fake server accepts


def test_not_run_reasons_are_given() -> None:
    marked = [b for b in ALL if b.not_run is not None]
    assert marked and all(len(b.not_run or "") >= 10 for b in marked)
    text = "\n".join(p.read_text() for p in PAGES)
    assert text.count("<!-- not-run:") == len(marked), "a not-run marker not before a block"


def test_fake_server_markers_parse() -> None:
    marked = [p for p in PAGES if "<!-- fake-server:" in p.read_text()]
    assert marked, "no page says which tasks its fake server plays"
    for path in marked:
        options = server_options(str(path.relative_to(DOCS)))
        with FakeInferenceServer(**options):  # type: ignore[arg-type]  # unknown task: raises
            pass

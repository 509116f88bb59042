"""``docs/examples/browser-chat.html`` in headless Chromium: Pyodide runs inferwire's fetch
transport in a real page and streams a chat answer from the fake server into the DOM.

A loopback server serves the page, Pyodide's npm files and a zip of inferwire's source; the
`FakeInferenceServer` (``cors=True``: the page's origin differs) plays the stream slowly. The
page records ``performance.now()`` at each DOM update, so the test can tell that tokens showed
up one by one rather than all at the end. Needs Debian's ``chromium`` and ``chromium-driver``
and ``npm install --prefix build/pyodide-npm pyodide`` (`.ci/run` installs them); the
screenshot goes to ``build/site-screenshots/browser-chat.png``.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

import pytest

from inferwire.testing import FakeInferenceServer, chat_stream

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "examples" / "browser-chat.html"
PYODIDE_DIR = Path(os.environ.get("INFERWIRE_PYODIDE_DIR",
                                  ROOT / "build" / "pyodide-npm" / "node_modules" / "pyodide"))
SHOTS = ROOT / "build" / "site-screenshots"
CHAT = "/v1/chat/completions"
PACED = [f"token{i} " for i in range(8)]  # one every 0.3 s
LONG = [f"t{i} " for i in range(400)]  # 400 x 50 ms: 20 s unless the page aborts it


def _zip_inferwire(target: Path) -> None:
    """inferwire's source with the package layout of pyproject.toml, as a zip."""
    with zipfile.ZipFile(target, "w") as archive:
        for folder, prefix in ((ROOT / "transports", "inferwire"),
                               (ROOT / "sansio", "inferwire/sansio")):
            for path in folder.rglob("*.py"):
                if "__pycache__" not in path.parts:
                    archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


class _Static(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
        ".zip": "application/zip"}

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    if not (PYODIDE_DIR / "pyodide.mjs").is_file():
        missing = f"the pyodide npm package is not in {PYODIDE_DIR}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}: .ci/run must install it (CI=true)")
        pytest.skip(missing)
    with tempfile.TemporaryDirectory(prefix="inferwire-browser-") as tmp:
        served = Path(tmp)
        (served / "pyodide").symlink_to(PYODIDE_DIR, target_is_directory=True)
        (served / "browser-chat.html").symlink_to(PAGE)
        _zip_inferwire(served / "inferwire.zip")
        handler = functools.partial(_Static, directory=str(served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/browser-chat.html"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)


@pytest.fixture(scope="module")
def chat_server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer(cors=True) as server:
        server.route("POST", "/paced" + CHAT, chat_stream(PACED, delay_between_events=0.3))
        server.route("POST", "/long" + CHAT, chat_stream(LONG, delay_between_events=0.05))
        yield server


def _open(browser: object, page_url: str, **params: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page_url + "?" + urlencode({"inferwire": "inferwire.zip", **params}))  # type: ignore[attr-defined]
    WebDriverWait(browser, 90).until(  # type: ignore[arg-type]
        lambda driver: driver.execute_script("return document.body.dataset.state"))
    state = browser.execute_script("return document.body.dataset.state")  # type: ignore[attr-defined]
    status = browser.find_element("id", "status").text  # type: ignore[attr-defined]
    assert state == "done", status


def test_tokens_appear_in_the_page_as_they_arrive(
        browser: object, page_url: str, chat_server: FakeInferenceServer) -> None:
    _open(browser, page_url, server=chat_server.url("/paced/v1"))
    answer = browser.find_element("id", "answer").text  # type: ignore[attr-defined]
    assert answer.strip() == "".join(PACED).strip()
    times = browser.execute_script("return window.tokenTimes")  # type: ignore[attr-defined]
    assert len(times) == len(PACED)
    # The server paced the tokens 0.3 s apart: shown as they came, the DOM updates spread over
    # most of the 2.1 s; a page that waited for the whole body would show them in one burst.
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) > 100, gaps  # milliseconds
    assert chat_server.requests[-1].path == "/paced" + CHAT
    assert any(r.method == "OPTIONS" for r in chat_server.requests)  # the CORS preflight
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "browser-chat.png"))  # type: ignore[attr-defined]


def test_stopping_the_stream_aborts_the_request_on_the_server(
        browser: object, page_url: str, chat_server: FakeInferenceServer) -> None:
    _open(browser, page_url, server=chat_server.url("/long/v1"), stop_after="3")
    status = browser.find_element("id", "status").text  # type: ignore[attr-defined]
    assert status == "stopped after 3 tokens"
    stream = [r for r in chat_server.requests if r.path == "/long" + CHAT][-1]
    # the stream had ~20 s to go: its connection closes only because the page aborted it
    assert chat_server.wait_connection_closed(stream.connection_id, 5.0)


def test_the_sync_client_blocks_on_fetch_with_jspi(
        browser: object, page_url: str, chat_server: FakeInferenceServer) -> None:
    # Chromium has JavaScript Promise Integration: the sync InferenceClient waits on fetch
    # chunk by chunk (the page still paints between tokens), and leaving the stream aborts.
    _open(browser, page_url, server=chat_server.url("/paced/v1"), client="sync")
    times = browser.execute_script("return window.tokenTimes")  # type: ignore[attr-defined]
    assert len(times) == len(PACED)
    assert min(b - a for a, b in itertools.pairwise(times)) > 100, times
    _open(browser, page_url, server=chat_server.url("/long/v1"), stop_after="3", client="sync")
    status = browser.find_element("id", "status").text  # type: ignore[attr-defined]
    assert status == "stopped after 3 tokens"
    stream = [r for r in chat_server.requests if r.path == "/long" + CHAT][-1]
    assert chat_server.wait_connection_closed(stream.connection_id, 5.0)

"""The built site (``mkdocs build --strict`` into ``build/site``), checked as a reader sees it.

Run by ``.ci/run`` after the build, not by README command 2 (it needs the ``docs`` extra and
Debian's ``chromium`` and ``chromium-driver``)::

    mkdocs build --strict && python -m pytest site_tests

The browser tests open the pages from a local HTTP server in headless Chromium (driven by
selenium through chromedriver; nothing is downloaded) and save screenshots in
``build/site-screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "site-screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")


def test_the_site_was_built() -> None:
    assert (SITE / "index.html").is_file(), f"build the site first: mkdocs build --strict ({SITE})"


def _inventory() -> set[str]:
    data = (SITE / "objects.inv").read_bytes()
    body = zlib.decompress(data.split(b"\n", 4)[4]).decode()
    return {line.split(" ", 1)[0] for line in body.splitlines()}


@pytest.mark.parametrize("module", ["inferwire", "inferwire.sansio", "inferwire.testing",
                                    "inferwire.local"])
def test_the_api_reference_covers_every_public_name(module: str) -> None:
    import importlib

    names = importlib.import_module(module).__all__
    documented = _inventory()
    assert [n for n in names if f"{module}.{n}" not in documented] == []


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="inferwire-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _console_errors(driver: object) -> list[str]:
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    return [entry["message"] for entry in logs if entry["level"] == "SEVERE"]


def _wait(driver: object, css: str, timeout: float = 20) -> object:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(  # type: ignore[arg-type]
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))


def test_the_home_page_renders(browser: object, site_url: str) -> None:
    browser.get(site_url + "/")  # type: ignore[attr-defined]
    heading = _wait(browser, "article h1")
    assert heading.text.strip().startswith("inferwire")  # type: ignore[attr-defined]
    nav = browser.find_element("css selector", "nav.md-nav--primary")  # type: ignore[attr-defined]
    assert "Quickstart" in nav.get_attribute("textContent")
    browser.save_screenshot(str(SHOTS / "home.png"))  # type: ignore[attr-defined]
    assert _console_errors(browser) == []


def test_the_api_reference_renders(browser: object, site_url: str) -> None:
    browser.get(site_url + "/reference/inferwire/")  # type: ignore[attr-defined]
    heading = _wait(browser, '[id="inferwire.InferenceClient"]')
    assert "InferenceClient" in heading.text  # type: ignore[attr-defined]
    browser.execute_script(  # type: ignore[attr-defined]
        "arguments[0].scrollIntoView(); window.scrollBy(0, -80);", heading)
    signature = browser.find_elements("css selector", ".doc-signature")  # type: ignore[attr-defined]
    assert signature, "no rendered signatures"
    browser.save_screenshot(str(SHOTS / "reference.png"))  # type: ignore[attr-defined]
    assert _console_errors(browser) == []


def test_search_finds_a_known_symbol(browser: object, site_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(site_url + "/")  # type: ignore[attr-defined]
    query = _wait(browser, "input[data-md-component='search-query']")   # the header's box
    query.click()  # type: ignore[attr-defined]
    query.send_keys("ToolCallAccumulator")  # type: ignore[attr-defined]

    def found(driver: object) -> bool:
        items = driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item")  # type: ignore[attr-defined]
        return any("ToolCallAccumulator" in item.text for item in items)

    WebDriverWait(browser, 20).until(found)  # type: ignore[arg-type]
    browser.save_screenshot(str(SHOTS / "search.png"))  # type: ignore[attr-defined]
    assert _console_errors(browser) == []

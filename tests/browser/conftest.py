"""Browser fixtures: the built site on 127.0.0.1, driven by Playwright with Debian's Chromium.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``make test`` installs the
Debian package when it is missing). Every page a test opens fails the test if it logs a script
error or asks for anything from another host.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: Screenshots for people to look at; CI keeps this folder as an artifact (gitignored).
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"


def serve_folder(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m http.server`` on a free 127.0.0.1 port; returns the process and its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):  # up to ~10 s for the server to listen
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait()


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The real site, built once per session, served on 127.0.0.1."""
    server, url = serve_folder(built_site)
    yield url
    stop(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@dataclass
class Watch:
    """What the pages of one browser context did wrong."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


def guard(context: BrowserContext, origin: str) -> Watch:
    """Block and record requests to other hosts; record script errors of every page."""
    watch = Watch()

    def route(r: Route, request: Request) -> None:
        if request.url.startswith((origin + "/", "data:", "blob:")):
            r.continue_()
        else:
            watch.foreign.append(request.url)
            r.abort()

    context.route("**/*", route)
    context.on("weberror", lambda e: watch.errors.append(str(e.error)))
    context.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    return watch


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, site_url: str) -> Iterator[NewPage]:
    """Open pages of the served site: new_page(viewport='phone', javascript=False, origin=…)."""
    opened: list[tuple[BrowserContext, Watch]] = []

    def make(viewport: str = "desktop", javascript: bool = True, origin: str = site_url) -> Page:
        context = browser.new_context(
            base_url=origin,
            viewport=VIEWPORTS[viewport],
            java_script_enabled=javascript,  # type: ignore[arg-type]
            reduced_motion="reduce",
        )
        opened.append((context, guard(context, origin)))
        return context.new_page()

    yield make
    for context, watch in opened:
        context.close()
        assert watch.foreign == [], f"requests to other hosts: {watch.foreign}"
        assert watch.errors == [], f"script errors: {watch.errors}"


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop-sized page of the served site."""
    return new_page()


def record_scripts(page: Page) -> dict[str, int]:
    """Site path → bytes of every script the page fetches from now on (filled as they arrive)."""
    scripts: dict[str, int] = {}

    def seen(response: Response) -> None:
        if response.request.resource_type == "script":
            scripts[urlsplit(response.url).path] = len(response.body())

    page.on("response", seen)
    return scripts


def open_calculator(page: Page, query: str = "") -> Page:
    """Load /calculator/ (with a query string) and wait until it has answered or refused."""
    page.goto("/calculator/" + query)
    page.wait_for_selector("#calc-result:not([hidden]), #calc-error:not([hidden])")
    return page

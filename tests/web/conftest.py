"""Browser-test fixtures: Debian's Chromium driven by Playwright, and live studio servers.

The browser is the system one (``/usr/bin/chromium``); Playwright never downloads
one. Screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.config.settings import Scope
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, PlatformOverrides, build_platform
from tests.conftest import LiveServer

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the skip below names how to install it
    sync_playwright = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
# Headless and quiet: without the background-networking flags Chromium keeps
# calling Google services, which a closed CI network answers slowly or not at all.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}

needs_browser = pytest.mark.skipif(
    sync_playwright is None or not CHROMIUM.exists(),
    reason=(
        "browser tests need Debian's Chromium and Playwright: `apt-get install -y chromium` "
        "and `.venv/bin/pip install playwright` (never `playwright install`)"
    ),
)

TINY_SD15 = "tiny-sd15"
TILES_YAML = """\
name: tiles
description: Two tiles for the browser tests.
csv_path: tiles.csv
base_prompt: a square tile
prompt_template: "{name} in {colour}"
style_suffix: flat illustration
example_theme: pastel colours
width: 64
height: 64
"""
TILES_CSV = "name,colour\nSun Tile,amber\nMoon Tile,silver\n"


@dataclass
class Site:
    """A live server over a private data directory with the two-row ``tiles`` set."""

    live: LiveServer
    platform: Platform
    model: str  # a model id: over HTTP a request names no paths (SPEC §2.1)
    headers: dict[str, str]

    @property
    def url(self) -> str:
        return self.live.url

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(self.url + path, json=body, headers=self.headers, timeout=30)
        assert response.status_code == 202, response.text
        created: dict[str, Any] = response.json()
        return created

    def wait(self, path: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            body = httpx.get(self.url + path, headers=self.headers, timeout=10).json()
            if done(body):
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.1)


@contextmanager
def open_site(
    tmp: Path,
    model: Path,
    *,
    environ: dict[str, str] | None = None,
    admin_key: bool = False,
    overrides: PlatformOverrides | None = None,
    more_models: dict[str, Path] | None = None,
    manifest_overrides: dict[str, dict[str, Any]] | None = None,
) -> Iterator[Site]:
    """A live server over ``tmp/data``; with ``admin_key`` auth is on and ``headers`` carry it.

    ``tmp/config.yaml``, if written first, is the deployer's file; ``overrides`` replace
    collaborators (the gateway's LLM) as in the other suites; ``more_models`` (id → tiny
    model folder) join ``tiny-sd15`` in the manifest, ``manifest_overrides`` (id → fields)
    change their entries (a hub ``source``, say).
    """
    data = tmp / "data"
    (data / "sets").mkdir(parents=True, exist_ok=True)
    (data / "sets" / "tiles.yaml").write_text(TILES_YAML, encoding="utf-8")
    (data / "sets" / "tiles.csv").write_text(TILES_CSV, encoding="utf-8")
    write_tiny_manifest(
        data, {TINY_SD15: model, **(more_models or {})}, overrides=manifest_overrides
    )
    settings = load_settings(
        environ={
            "IMAJIN_DATA_DIR": str(data),
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
            "IMAJIN_STUDIO__DEFAULTS__MODEL": TINY_SD15,
            "IMAJIN_STUDIO__DEFAULTS__STEPS": "2",
            **(environ or {}),
        },
        cwd=tmp,
    )
    platform = build_platform(settings, overrides=overrides)
    upgrade(platform.database)
    headers: dict[str, str] = {}
    if admin_key:
        key = platform.keys.create(scopes=[Scope.ADMIN], name="browser-tests")[1]
        headers = {"Authorization": f"Bearer {key}"}
    try:
        with LiveServer(create_app(platform)) as live:
            yield Site(live=live, platform=platform, model=TINY_SD15, headers=headers)
    finally:
        platform.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_sd15_path: Path) -> Iterator[Site]:
    """One open server (no keys) shared by a module's tests."""
    with open_site(tmp_path_factory.mktemp("web"), tiny_sd15_path) as opened:
        yield opened


# Per module, not per session: while sync Playwright is open it keeps an event loop
# running on this thread, so any later asyncio.run() in the same process fails (under
# pytest-xdist other modules run after these on the same worker).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts (``viewport=PHONE`` for a phone)."""
    contexts = []
    errors: list[str] = []  # script errors: a test fails if any happened

    def open_page(viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(viewport=viewport, service_workers="block")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Console errors too (a CSP refusal shows only there); HTTP error statuses are
        # expected in some tests and are checked on the page instead.
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and errors.append(message.text)
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"script errors in the page: {errors}"


def watch_network(page: Page, *, expected: tuple[tuple[str, int], ...] = ()) -> list[str]:
    """Failed requests and error answers of ``page``, as they happen; ``expected`` lists
    the (path, status) pairs a test provokes on purpose."""
    problems: list[str] = []

    def on_failed(request: Request) -> None:
        # A screen aborts its own pending reads when it is left (its AbortController):
        # that is the page cancelling, not a request failing.
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        path = re.sub(r"^https?://[^/]+", "", response.url)
        if response.status >= 400 and (path, response.status) not in expected:
            problems.append(f"{response.request.method} {response.url}: {response.status}")

    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return problems


@pytest.fixture
def open_page(new_page: Callable[..., Page]) -> Iterator[Callable[..., Page]]:
    """``new_page`` whose failed requests and error answers fail the test (see
    :func:`watch_network`; ``expected`` pairs are allowed)."""
    problems: list[list[str]] = []

    def open_one(
        viewport: dict[str, int] | None = None, expected: tuple[tuple[str, int], ...] = ()
    ) -> Page:
        page = new_page(viewport) if viewport else new_page()
        problems.append(watch_network(page, expected=expected))
        return page

    yield open_one
    found = [problem for page_problems in problems for problem in page_problems]
    assert found == [], f"failed requests in the page: {found}"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # From the top: a scrolled page would show its sticky header halfway down the image.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def expect(target: Page | Locator) -> Any:
    """Playwright's auto-waiting assertions (imported late: Playwright may be absent)."""
    from playwright.sync_api import expect as playwright_expect  # noqa: PLC0415

    return playwright_expect(target)


def wait_for_image(image: Locator) -> None:
    """Wait until an <img> has loaded real pixels (not just got a src)."""
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )

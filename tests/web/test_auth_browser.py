"""The UI on a server with API keys: 401 shown, key entered and kept, images and live
events with the key, 429 with Retry-After, and 403 for a key without the admin scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from imajin.config.settings import Scope
from tests.web.conftest import Site, expect, needs_browser, open_site, screenshot, wait_for_image

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = needs_browser


@pytest.fixture
def keyed_site(tmp_path: Path, tiny_sd15_path: Path) -> Iterator[Site]:
    # A capacity of one job per queue: one variation fits, a two-row batch is refused (429).
    environ = {"IMAJIN_JOBS__DEFAULT_CAPACITY": "1"}
    with open_site(tmp_path, tiny_sd15_path, environ=environ, admin_key=True) as opened:
        yield opened


def enter_key(page: Page, key: str) -> None:
    dialog = page.get_by_role("dialog", name="API key")
    expect(dialog).to_be_visible()
    dialog.get_by_label("API key").fill(key)
    dialog.get_by_role("button", name="Save key").click()
    expect(dialog).to_be_hidden()


def test_key_flow_401_then_key_then_everything_works(
    keyed_site: Site, new_page: Callable[..., Page]
) -> None:
    site = keyed_site
    created = site.post(
        "/api/images/variations",
        {
            "name": "keyed-harbour",
            "families": ["square"],
            "generation": {
                "prompt": "a harbour",
                "seed": 5,
                "model": str(site.model),
                "inferenceSteps": 2,
            },
        },
    )
    site.wait(f"/api/images/variations/{created['id']}", lambda body: body["status"] == "complete")
    admin_key = site.headers["Authorization"].removeprefix("Bearer ")

    # Without a key: the 401 is explained, with a way to enter one.
    page = new_page()
    page.goto(site.url)
    alert = page.get_by_role("alert").filter(has_text="API key needed").first
    expect(alert).to_be_visible()
    expect(page.locator("#live-state")).to_have_text("Key needed")
    expect(page.get_by_role("button", name="Enter API key").first).to_be_visible()
    screenshot(page, "auth-key-needed")

    alert.get_by_role("button", name="Enter API key").click()
    enter_key(page, admin_key)
    expect(page.get_by_text("API key saved.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#live-state")).to_have_text("Live")  # the event stream sends the key too
    # <img> cannot send the key: the API signed the URL (SPEC §3.2), so it goes in as it is.
    image = page.get_by_role("button", name=re.compile("Variation keyed-harbour")).locator("img")
    expect(image).to_have_attribute("src", re.compile(r"/api/images/keyed-harbour/.+[?&]sig="))
    wait_for_image(image)
    signed = image.get_attribute("src")
    assert signed is not None
    assert httpx.get(signed if "://" in signed else site.url + signed).status_code == 200  # no key
    stored = page.evaluate("localStorage.getItem('imajin.apiKey')")
    assert stored == admin_key

    # 429: the batch does not fit the queue; the notice counts Retry-After down.
    page.get_by_role("link", name="Studio", exact=True).click()
    page.get_by_label("Set", exact=True).select_option("tiles")
    expect(page.locator(".prompt-list li")).to_have_count(2)
    page.get_by_role("button", name="Launch batch (2 images)").click()
    full = page.get_by_role("alert").filter(has_text="Queue is full")
    expect(full).to_be_visible()
    expect(full).to_contain_text(re.compile(r"Try again in \d+ s\."))
    screenshot(page, "auth-queue-full")

    # The key survives a reload.
    page.reload()
    expect(page.locator("#live-state")).to_have_text("Live")
    expect(page.get_by_role("alert")).to_have_count(0)

    # A read-only key may look at the configuration but not change it (403, explained).
    read_key = site.platform.keys.create(scopes=[Scope.READ], name="viewer")[1]
    page.get_by_role("button", name="API key").click()
    enter_key(page, read_key)
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_text(re.compile(r"Using key \S+ \(scopes: read\)"))).to_be_visible()
    page.get_by_role("button", name="Save configuration").click()
    forbidden = page.get_by_role("alert").filter(has_text="Not allowed")
    expect(forbidden).to_contain_text("`admin` scope")
    screenshot(page, "auth-forbidden")

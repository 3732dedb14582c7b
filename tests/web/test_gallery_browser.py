"""The gallery UI in a real headless Chromium against a live server with the tiny SD 1.5.

One open server (no API keys) for the module: launch a batch from the UI and watch it
finish live, open an image and its parameters, reuse them, see variations, move with
the keyboard, cancel jobs, edit configuration, and fit a phone screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.web.conftest import PHONE, Site, expect, needs_browser, screenshot, wait_for_image

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = needs_browser

THEME = "art nouveau, gold leaf"


def launch_batch_from_the_ui(page: Page, site: Site) -> str:
    """Studio → pick the set, type a theme, check the preview, launch; returns the batch id."""
    page.goto(site.url)
    page.get_by_role("link", name="Studio", exact=True).click()
    page.get_by_label("Set", exact=True).select_option("tiles")
    preview = page.locator(".prompt-list li")
    # The set's example theme is filled in and previewed first, then the typed one.
    expect(preview.first).to_contain_text("pastel colours")
    theme = page.get_by_label("Theme", exact=True)
    page.get_by_role("button", name="Random theme").click()
    expect(theme).not_to_have_value("pastel colours")
    expect(preview.first).to_contain_text(theme.input_value())
    theme.fill(THEME)
    expect(preview).to_have_count(2)
    expect(preview.first).to_contain_text(f"a square tile, {THEME}, Sun Tile in amber")
    expect(page.get_by_text("2 prompts will be generated.")).to_be_visible()
    screenshot(page, "studio-preview")
    page.get_by_role("button", name="Launch batch (2 images)").click()
    page.wait_for_url(re.compile(r"#/batch/"))
    return page.url.rsplit("/", 1)[-1]


def test_launch_a_batch_watch_it_live_open_an_image_and_reuse_its_settings(
    site: Site, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    batch_id = launch_batch_from_the_ui(page, site)

    # Live: the page does not poll; only server-sent events move it to "complete".
    expect(page.get_by_role("heading", level=1)).to_have_text(f"tiles — “{THEME}”")
    expect(page.locator("#live-state")).to_have_text("Live")
    cards = page.locator("ul.grid [data-card]")
    expect(cards).to_have_count(2)
    expect(page.locator(".batch-summary")).to_contain_text("2 of 2 done", timeout=60_000)
    expect(page.locator(".batch-summary .badge")).to_have_text("complete")
    images = page.locator("ul.grid .thumb img")
    expect(images).to_have_count(2)
    for image in images.all():
        expect(image).to_have_attribute("loading", "lazy")
        expect(image).to_have_attribute("src", re.compile(r"/api/outputs/.+"))
        wait_for_image(image)
    screenshot(page, "batch-complete")

    # The image view shows every parameter from the sidecar.
    cards.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="1. Sun Tile")).to_be_visible()
    params = dialog.locator("dl.params")
    expect(params.locator('[data-param="prompt"] dd')).to_contain_text(
        f"{THEME}, Sun Tile in amber"
    )
    expect(params.locator('[data-param="steps"] dd')).to_have_text("2")
    for name in ("negative_prompt", "model", "seed", "guidance", "scheduler", "width", "height"):
        expect(params.locator(f'[data-param="{name}"] dd')).not_to_be_empty()
    seed = params.locator('[data-param="seed"] dd').inner_text()
    screenshot(page, "image-view")

    # "Use these settings" fills the single-image form.
    dialog.get_by_role("button", name="Use these settings").click()
    page.wait_for_url(re.compile(r"#/generate$"))
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(
        re.compile(f"{THEME}, Sun Tile in amber")
    )
    expect(page.get_by_label("Seed")).to_have_value(seed)
    expect(page.get_by_label("Steps")).to_have_value("2")
    expect(page.get_by_label("Width")).to_have_value("64")
    page.get_by_role("button", name="Generate", exact=True).click()
    result = page.get_by_role("button", name=f"Image 1 (seed {seed})")
    expect(result).to_be_visible(timeout=60_000)
    screenshot(page, "generate-result")

    # Back in the gallery the batch shows its thumbnail.
    page.get_by_role("link", name="Gallery", exact=True).click()
    card = page.locator(f'a[href="#/batch/{batch_id}"]')
    expect(card).to_contain_text("tiles")
    expect(card.locator("img")).to_have_attribute("src", re.compile(r"/api/outputs/"))


def test_variations_appear_with_small_thumbnails(site: Site, new_page: Callable[..., Page]) -> None:
    created = site.post(
        "/api/images/variations",
        {
            "name": "harbour-dawn",
            "category": "places",
            "families": ["square"],
            "generation": {
                "prompt": "a harbour at dawn",
                "seed": 7,
                "model": str(site.model),
                "inferenceSteps": 2,
            },
        },
    )
    site.wait(f"/api/images/variations/{created['id']}", lambda body: body["status"] == "complete")
    page = new_page()
    page.goto(site.url)
    card = page.get_by_role("button", name=re.compile("Variation harbour-dawn"))
    image = card.locator("img")
    # The smallest square derivative, never the 1024 px master.
    expect(image).to_have_attribute("src", re.compile(r"/api/images/harbour-dawn/thumbnail\?v="))
    expect(image).to_have_attribute("loading", "lazy")
    wait_for_image(image)
    card.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator('[data-param="seed"] dd')).to_have_text("7")
    expect(dialog.locator('[data-param="steps"] dd')).to_have_text("2")
    expect(dialog.get_by_text(re.compile(r"\d+ sizes"))).to_be_visible()
    screenshot(page, "variation-view")


def test_keyboard_moves_between_cards_opens_and_closes(
    site: Site, new_page: Callable[..., Page]
) -> None:
    batch = site.post(
        "/api/generate/batch", {"set_name": "tiles", "user_theme": "ink wash", "seed": 3}
    )
    site.wait(f"/api/batches/{batch['batch_id']}", lambda body: body["status"] == "complete")
    page = new_page()
    page.goto(f"{site.url}/#/batch/{batch['batch_id']}")
    cards = page.locator("ul.grid [data-card]")
    expect(cards).to_have_count(2)
    # One card is in the Tab order: Tab from the heading area reaches it.
    expect(page.locator('ul.grid [data-card][tabindex="0"]')).to_have_count(1)
    cards.first.focus()
    page.keyboard.press("ArrowRight")
    expect(cards.nth(1)).to_be_focused()
    outline = cards.nth(1).evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused card must show a visible focus ring"
    page.keyboard.press("ArrowLeft")
    expect(cards.first).to_be_focused()
    page.keyboard.press("End")
    expect(cards.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="2. Moon Tile")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cards.nth(1)).to_be_focused()  # focus returns to the card that opened the view


def test_queue_shows_live_progress_and_cancels(site: Site, new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto(f"{site.url}/#/queue")
    expect(page.locator("#live-state")).to_have_text("Live")
    # 100 steps at 1024 px: far longer than this test, so the first job is still running
    # (and the second still queued) when they are cancelled. Cancelling stops it at once.
    slow = {
        "prompt": "a long exposure of a lighthouse",
        "width": 1024,
        "height": 1024,
        "steps": 100,
    }
    running = site.post("/api/generate", slow)
    waiting = site.post("/api/generate", slow)
    site.wait(f"/api/jobs/{running['job_id']}", lambda body: body["status"] == "running")
    active = page.locator("section", has=page.get_by_role("heading", name="Running and queued"))
    rows = active.locator("li.job")
    # Rows are found by job id: the shared server may still list other tests' jobs.
    running_row = rows.filter(has_text=running["job_id"][:8])
    waiting_row = rows.filter(has_text=waiting["job_id"][:8])
    expect(running_row).to_have_count(1, timeout=15_000)
    expect(waiting_row).to_have_count(1, timeout=15_000)
    expect(running_row.locator("progress")).to_be_visible(timeout=30_000)  # live steps
    expect(waiting_row.locator(".badge")).to_have_text("queued", timeout=15_000)
    waiting_row.get_by_role("button", name=re.compile("^Cancel")).click()
    expect(waiting_row).to_have_count(0, timeout=15_000)  # moved to Recent
    screenshot(page, "queue-live")
    running_row.get_by_role("button", name=re.compile("^Cancel")).click()  # between steps
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent"))
    expect(recent.locator('.badge[data-status="cancelled"]')).to_have_count(2, timeout=30_000)
    expect(running_row).to_have_count(0, timeout=15_000)
    for job in (running, waiting):
        site.wait(f"/api/jobs/{job['job_id']}", lambda body: body["status"] == "cancelled")


def test_configuration_errors_show_next_to_the_field(
    site: Site, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    page.goto(f"{site.url}/#/settings")
    steps = page.get_by_label("Steps")
    expect(steps).to_have_value("2")
    steps.fill("500")
    page.get_by_role("button", name="Save configuration").click()
    expect(steps).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field-error")
    expect(error).to_contain_text("100")
    described = steps.get_attribute("aria-describedby") or ""
    assert error.get_attribute("id") in described.split()
    screenshot(page, "settings-error")
    steps.fill("3")
    page.get_by_role("button", name="Save configuration").click()
    expect(page.get_by_text("Configuration saved.")).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(0)
    site.wait("/api/config", lambda body: body["steps"] == 3)
    steps = page.get_by_label("Steps")
    steps.fill("2")
    page.get_by_role("button", name="Save configuration").click()
    site.wait("/api/config", lambda body: body["steps"] == 2)


# A route and something that shows once its data has loaded.
PHONE_ROUTES = {
    "": "#batches-grid [data-card]",
    "#/studio": ".prompt-list li",
    "#/queue": "li.job",
    "#/settings": "#config-steps",
    "#/generate": "#gen-prompt",
}


@pytest.mark.parametrize("route", list(PHONE_ROUTES))
def test_phone_width_has_no_sideways_scroll(
    site: Site, new_page: Callable[..., Page], route: str
) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{site.url}/{route}")
    page.locator(PHONE_ROUTES[route]).first.wait_for()
    assert_fits(page, route or "gallery")
    screenshot(page, f"phone-{route.strip('#/') or 'gallery'}")
    if route == "":
        page.locator("#batches-grid [data-card]").first.click()
        page.locator("#batches-grid, ul.grid").first.wait_for()
        page.locator("ul.grid [data-card]").first.click()
        expect(page.get_by_role("dialog").locator("dl.params")).to_be_visible()
        assert_fits(page, "image view")
        screenshot(page, "phone-image-view")


def assert_fits(page: Page, what: str) -> None:
    scroll_width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= viewport, f"{what} scrolls sideways at 375 px: {scroll_width}px"


def test_network_and_server_errors_are_shown_with_a_retry(
    site: Site, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    page.route("**/api/batches?*", lambda route: route.abort())
    page.route(
        "**/api/images/variations?*",
        lambda route: route.fulfill(
            status=500,
            json={"error": {"code": "internal_error", "message": "Boom.", "requestId": "r-42"}},
        ),
    )
    page.goto(site.url)
    batches = page.locator("section", has=page.get_by_role("heading", name="Batches"))
    expect(batches.get_by_role("alert")).to_contain_text("Network problem: Cannot reach")
    variations = page.locator("section", has=page.get_by_role("heading", name="Variations"))
    expect(variations.get_by_role("alert")).to_contain_text("Server error: Boom. (request r-42)")
    page.unroute("**/api/batches?*")
    batches.get_by_role("button", name="Retry").click()
    expect(batches.locator("[data-card]").first).to_be_visible()
    expect(batches.get_by_role("alert")).to_have_count(0)

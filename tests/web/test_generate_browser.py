"""The Generate screen in Chromium: pickers filled from the server, the live preview, the
result in place, and a navigation that takes every screen at 1280 and 375 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from imajin.testing.manifest import install_loras
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    Site,
    expect,
    needs_browser,
    open_site,
    screenshot,
    wait_for_image,
    watch_network,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = needs_browser

# The screens the navigation names, in order.
NINE = [
    "Gallery",
    "Studio",
    "Generate",
    "Variations",
    "Assistant",
    "Gateway",
    "Training",
    "Queue",
    "Settings",
]


@pytest.fixture(scope="module")
def generate_site(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_sd15_path: Path,
    tiny_sdxl_path: Path,
    tiny_sd15_lora: Path,
    tiny_sdxl_lora: Path,
) -> Iterator[Site]:
    """Two models (SD 1.5 and SDXL), a LoRA for each, previews at every step."""
    tmp = tmp_path_factory.mktemp("generate")
    install_loras(tmp / "data", {"tiny-sd15-a": tiny_sd15_lora, "tiny-sdxl-a": tiny_sdxl_lora})
    with open_site(
        tmp,
        tiny_sd15_path,
        # A preview every step, and a relay quick enough to see one on a fast machine.
        environ={
            "IMAJIN_ENGINE__PREVIEW_INTERVAL_S": "0",
            "IMAJIN_EVENTS__RELAY_INTERVAL_S": "0.01",
        },
        more_models={"tiny-sdxl": tiny_sdxl_path},
    ) as opened:
        yield opened


def models_of(site: Site) -> dict[str, dict[str, Any]]:
    found = httpx.get(f"{site.url}/api/images/models", timeout=10).json()
    return {model["model_id"]: model for model in found}


def option_values(page: Page, selector: str) -> list[str]:
    values: list[str] = page.locator(f"{selector} option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    return values


def test_pickers_list_what_the_server_has(
    generate_site: Site, new_page: Callable[..., Page]
) -> None:
    models = models_of(generate_site)
    page = new_page()
    problems = watch_network(page)
    page.goto(f"{generate_site.url}/#/generate")
    model = page.get_by_label("Model", exact=True)
    # The studio default is preselected; every manifest model is offered, by id.
    expect(model).to_have_value("tiny-sd15")
    assert option_values(page, "#gen-model") == list(models)
    facts = page.locator("#gen-model-facts")
    expect(facts.locator('[data-fact="family"]')).to_have_text("SD 1.5")
    expect(facts.locator('[data-fact="style"]')).to_have_text(models["tiny-sd15"]["type"])
    expect(facts.locator('[data-fact="downloaded"]')).to_have_text("downloaded")
    # Samplers: the model's default first, then exactly the ones the engine accepts for it.
    assert option_values(page, "#gen-scheduler") == ["", *models["tiny-sd15"]["samplers"]]
    scheduler = models["tiny-sd15"]["scheduler"]
    expect(page.locator("#gen-scheduler option").first).to_have_text(f"Model default ({scheduler})")
    # Sizes: the native square first, and it fills the size fields.
    native = models["tiny-sd15"]["native"]
    expect(page.locator("#gen-size option").first).to_have_text(
        f"{native} × {native} (1:1), native"
    )
    expect(page.get_by_label("Width")).to_have_value(str(native))
    # LoRAs: the one made for SD 1.5 can be ticked; the SDXL one is disabled, with why.
    fits = page.get_by_role("checkbox", name=re.compile("tiny-sd15-a"))
    unfit = page.get_by_role("checkbox", name=re.compile("tiny-sdxl-a"))
    expect(fits).to_be_enabled()
    expect(unfit).to_be_disabled()
    expect(page.locator(".lora-reason")).to_have_text(re.compile(r"Does not fit: made for SDXL"))
    screenshot(page, "generate-pickers")

    # Another model: its facts, samplers and sizes, and the LoRAs flip.
    model.select_option("tiny-sdxl")
    expect(facts.locator('[data-fact="family"]')).to_have_text("SDXL")
    expect(page.get_by_label("Width")).to_have_value(str(models["tiny-sdxl"]["native"]))
    expect(fits).to_be_disabled()
    expect(unfit).to_be_enabled()
    assert option_values(page, "#gen-scheduler") == ["", *models["tiny-sdxl"]["samplers"]]
    assert problems == []


def test_a_preview_appears_before_the_result_which_shows_in_place(
    generate_site: Site, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    problems = watch_network(page)
    page.goto(f"{generate_site.url}/#/generate")
    expect(page.get_by_label("Model", exact=True)).to_have_value("tiny-sd15")
    page.get_by_label("Prompt", exact=True).fill("a lighthouse at dusk")
    page.get_by_label("Steps").fill("40")
    page.get_by_label("Seed").fill("21")
    page.get_by_label("Sampler").select_option("euler")
    page.get_by_role("checkbox", name=re.compile("tiny-sd15-a")).check()
    page.get_by_label("Weight of tiny-sd15-a").fill("0.5")
    page.get_by_role("button", name="Generate", exact=True).click()

    # A decoded preview while no finished image is on the page yet.
    page.wait_for_function(
        """() => {
          const img = document.querySelector("img.live-preview");
          return img && !img.hidden && img.src.startsWith("data:image/webp;base64,")
            && img.complete && img.naturalWidth > 0
            && !document.querySelector(".result-image");
        }""",
        timeout=60_000,
    )
    expect(page.locator("img.live-preview")).to_have_attribute(
        "alt", re.compile(r"Live preview at step \d+ of 40")
    )

    result = page.get_by_role("button", name="Image 1 (seed 21)")
    expect(result).to_be_visible(timeout=60_000)
    wait_for_image(result.locator("img"))
    expect(page.locator("img.live-preview")).to_be_hidden()
    expect(page.locator('#gen-model-facts [data-fact="loaded"]')).to_have_text("loaded")
    params = page.locator(".result-params")
    expect(params.locator('[data-param="steps"] dd')).to_have_text("40")
    expect(params.locator('[data-param="seed"] dd')).to_have_text("21")
    expect(params.locator('[data-param="scheduler"] dd')).to_have_text("euler")
    expect(params.locator('[data-param="loras"] dd')).to_contain_text("weight 0.5")
    screenshot(page, "generate-result-in-place")

    # The image's settings come back into the pickers: sampler, LoRA and its weight.
    result.click()
    page.get_by_role("dialog").get_by_role("button", name="Use these settings").click()
    expect(page.get_by_label("Seed")).to_have_value("21")
    expect(page.get_by_label("Sampler")).to_have_value("euler")
    expect(page.get_by_role("checkbox", name=re.compile("tiny-sd15-a"))).to_be_checked()
    expect(page.get_by_label("Weight of tiny-sd15-a")).to_have_value("0.5")

    phone = new_page(PHONE)
    phone_problems = watch_network(phone)
    phone.goto(f"{generate_site.url}/#/generate")
    expect(phone.get_by_role("checkbox", name=re.compile("tiny-sd15-a"))).to_be_enabled()
    assert_no_sideways_scroll(phone)
    screenshot(phone, "phone-generate")
    assert problems == [] and phone_problems == []


def assert_no_sideways_scroll(page: Page) -> None:
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"the page scrolls sideways: {width}px in {viewport}px"


@pytest.mark.parametrize(("viewport", "rows"), [(DESKTOP, 1), (PHONE, 2)])
def test_the_navigation_takes_all_nine_screens(
    generate_site: Site, new_page: Callable[..., Page], viewport: dict[str, int], rows: int
) -> None:
    page = new_page(viewport)
    page.goto(generate_site.url)
    expect(page.get_by_role("link", name="Generate", exact=True)).to_be_visible()
    # The screens other branches add, put in as the final navigation will name them.
    page.evaluate(
        """(names) => {
          const list = document.querySelector(".nav ul");
          const have = new Set([...list.querySelectorAll("a")].map((a) => a.textContent.trim()));
          const items = [...list.children];
          for (const name of names) {
            if ([...have].some((text) => text.startsWith(name))) continue;
            const li = document.createElement("li");
            const a = document.createElement("a");
            a.textContent = name;
            a.href = "#/" + name.toLowerCase();
            li.append(a);
            items.push(li);
          }
          const order = (li) => names.findIndex((name) => li.textContent.trim().startsWith(name));
          list.replaceChildren(...items.sort((a, b) => order(a) - order(b)));
        }""",
        NINE,
    )
    links = page.locator(".nav a")
    assert [text.strip() for text in links.all_inner_texts()] == NINE
    tops = links.evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().top))")
    assert len(set(tops)) == rows, tops
    assert_no_sideways_scroll(page)
    for link in links.all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    label = "desktop" if viewport is DESKTOP else "phone"
    screenshot(page, f"nav-nine-{label}")

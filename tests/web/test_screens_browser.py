"""The Variations, Assistant and Gateway screens in a real headless Chromium.

One live server for the module: the tiny SD 1.5 renders variations and gateway images;
the assistant's LLM is the shipped ``scripted`` backend configured in config.yaml (its
answers are the smallest that fit each stage's schema); the gateway's prompt steps get
the gateway suite's step-by-step double, so the caption shown is one the LLM wrote.
Every test also fails on a failed request or an HTTP error answer in the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from imajin.imaging.sizes import family_derivatives
from imajin.llm import CallPolicy, LLMClient, ScriptedBackend
from imajin.wiring import PlatformOverrides
from tests.gateway.conftest import DEFAULT_ANSWERS, ScriptedLLM
from tests.web.conftest import (
    PHONE,
    TINY_SD15,
    Site,
    expect,
    needs_browser,
    open_site,
    screenshot,
    wait_for_image,
)
from tests.web.test_gallery_browser import assert_fits

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = needs_browser

INSTANCES = Path(__file__).resolve().parents[2] / "examples" / "instances"
FAMILIES = ["square", "sidebar"]  # seven derivatives from two small masters


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tiny_sd15_path: Path) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("screens")
    config = {
        "llm": {"default_model": "script", "models": {"script": {"backend": "scripted"}}},
        "assistant": {"instances": {"seo": str(INSTANCES / "seo.yaml")}},
        # Scenes answers 202 {job_id} at once: the page follows the job to its image.
        "gateway": {"endpoints": {"scenes": {"policy": "moderated", "timeout_s": 0.001}}},
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    gateway_llm = LLMClient.for_backend(
        ScriptedBackend(respond=ScriptedLLM()), policy=CallPolicy(retries=0, output_retries=1)
    )
    with open_site(
        tmp,
        tiny_sd15_path,
        environ={"IMAJIN_GATEWAY__MODEL": TINY_SD15},
        overrides=PlatformOverrides(gateway_llm=gateway_llm),
    ) as opened:
        yield opened


def variation(site: Site, variation_id: str) -> dict[str, Any]:
    response = httpx.get(f"{site.url}/api/images/variations/{variation_id}", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_a_variation_watch_it_finish_copy_urls_regenerate_and_delete(
    site: Site, open_page: Callable[..., Page]
) -> None:
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.goto(site.url)
    page.get_by_role("link", name="Variations", exact=True).click()
    options = page.locator(".family-option")
    expect(options).to_have_count(9)
    # Each checkbox shows what that family produces, from the server's size matrix.
    expected = ", ".join(
        f"{d.name} {d.size.width}×{d.size.height}" for d in family_derivatives("square")
    )
    expect(page.locator("#var-family-square-sizes")).to_have_text(expected)
    expect(page.get_by_label("square 1:1")).to_be_checked()

    page.get_by_label("Name", exact=True).fill("lighthouse-cove")
    page.get_by_label("Category").fill("places")
    page.get_by_label("Prompt", exact=True).fill("a lighthouse above a quiet cove, watercolour")
    page.get_by_label("Model").select_option(TINY_SD15)
    page.get_by_label("Seed").fill("11")
    page.get_by_text("Steps and guidance").click()
    page.get_by_label("Steps").fill("2")
    page.get_by_role("button", name="None", exact=True).click()
    for name in FAMILIES:
        page.locator(f"#var-family-{name}").check()
    screenshot(page, "variations-form")
    page.get_by_role("button", name="Create variation").click()
    page.wait_for_url(re.compile(r"#/variations/[0-9a-f]+$"))
    variation_id = page.url.rsplit("/", 1)[-1]

    # Live: only server-sent events move the page on (it fetches once per event).
    expect(page.get_by_role("heading", level=1)).to_have_text("Variation lighthouse-cove")
    expect(page.locator(".family-count")).to_have_text(
        re.compile("^2 of 2 families done"), timeout=90_000
    )
    expect(page.locator(".variation-summary .badge")).to_have_text("complete")
    for name in FAMILIES:
        expect(page.locator(f'.family-state[data-family="{name}"]')).to_contain_text("done in")
    served = variation(site, variation_id)
    derivatives = served["derivatives"]
    assert sorted(d["derivativeName"] for d in derivatives) == sorted(
        d.name for name in FAMILIES for d in family_derivatives(name)
    )
    items = page.locator("li.derivative")
    expect(items).to_have_count(len(derivatives))
    for derivative in derivatives:
        item = page.locator(f'li.derivative[data-derivative="{derivative["derivativeName"]}"]')
        image = item.locator("img")
        image.scroll_into_view_if_needed()  # they load lazily
        wait_for_image(image)
        # Every derivative is shown from its own file, at its own size.
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural == [derivative["width"], derivative["height"]], derivative
        expect(item.locator("figcaption")).to_contain_text(
            f"{derivative['width']}×{derivative['height']}"
        )
        url = item.get_by_role(
            "textbox", name=f"URL of {derivative['derivativeName']}"
        ).input_value()
        assert url == f"{site.url}{derivative['publicUrl']}"
    screenshot(page, "variation-detail")

    # Copy URL puts the derivative's own URL on the clipboard, and that URL serves it.
    page.get_by_role("button", name="Copy URL of square-sm").click()
    expect(page.get_by_text("Copied the URL of square-sm.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    square_sm = next(d for d in derivatives if d["derivativeName"] == "square-sm")
    assert copied == f"{site.url}{square_sm['publicUrl']}"
    fetched = httpx.get(copied, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"

    phone = open_page(PHONE)
    phone.goto(f"{site.url}/#/variations/{variation_id}")
    expect(phone.locator("li.derivative")).to_have_count(len(derivatives))
    sidebar = phone.locator('li.derivative[data-derivative="sidebar"] img')
    sidebar.scroll_into_view_if_needed()
    wait_for_image(sidebar)
    assert_fits(phone, "the variation page")
    screenshot(phone, "phone-variation-detail")
    phone.goto(f"{site.url}/#/variations")
    expect(phone.locator(".family-option")).to_have_count(9)
    expect(phone.locator("#variations-grid a.card").first).to_be_visible()
    assert_fits(phone, "the variations form")
    screenshot(phone, "phone-variations")

    # Regenerate with the same seed, then with a new one; each finishes live again.
    page.get_by_role("button", name="Regenerate (same seed)").click()
    expect(page.locator(".variation-summary .badge")).to_have_text("complete", timeout=90_000)
    assert variation(site, variation_id)["generationParams"]["seed"] == 11
    page.get_by_role("button", name="Regenerate with a new seed").click()
    expect(page.locator(".variation-summary .badge")).not_to_have_text("complete")
    expect(page.locator(".variation-summary .badge")).to_have_text("complete", timeout=90_000)
    seed = variation(site, variation_id)["generationParams"]["seed"]
    assert seed != 11
    expect(page.locator(".variation-summary .param", has_text="Seed").locator("dd")).to_have_text(
        str(seed)
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"#/variations$"))
    expect(page.get_by_text("Variation lighthouse-cove deleted.")).to_be_visible()
    expect(page.locator(f'a[href="#/variations/{variation_id}"]')).to_have_count(0)
    gone = httpx.get(f"{site.url}/api/images/variations/{variation_id}", timeout=10)
    assert gone.status_code == 404


def test_with_auth_on_the_copied_urls_are_signed_and_need_no_key(
    tmp_path: Path, tiny_sd15_path: Path, open_page: Callable[..., Page]
) -> None:
    with open_site(tmp_path, tiny_sd15_path, admin_key=True) as keyed:
        created = keyed.post(
            "/api/images/variations",
            {
                "name": "keyed-cove",
                "families": ["sidebar"],
                "generation": {"prompt": "a cove", "model": TINY_SD15, "inferenceSteps": 2},
            },
        )
        path = f"/api/images/variations/{created['id']}"
        keyed.wait(path, lambda body: body["status"] == "complete")
        key = keyed.headers["Authorization"].removeprefix("Bearer ")
        page = open_page()
        page.add_init_script(f"localStorage.setItem('imajin.apiKey', {key!r})")
        page.goto(f"{keyed.url}/#/variations/{created['id']}")
        urls = page.locator("input.derivative-url")
        expect(urls).to_have_count(2)
        for box in urls.all():
            url = box.input_value()
            assert "sig=" in url, url
            assert httpx.get(url, timeout=10).status_code == 200  # no key sent
        image = page.locator('li.derivative[data-derivative="sidebar"] img')
        expect(image).to_have_attribute("src", re.compile(r"[?&]sig="))  # straight into <img>
        wait_for_image(image)


def test_analyze_context_shows_every_stage_and_hands_the_prompt_on(
    site: Site, open_page: Callable[..., Page]
) -> None:
    page = open_page()
    page.goto(f"{site.url}/#/assistant")
    page.get_by_label("Category").fill("bakery")
    page.get_by_label("City").fill("Lyon")
    page.get_by_label("Filters").fill("rustic, family-run")
    page.get_by_label("Maximum").select_option("mature")
    text = (INSTANCES / "seo.yaml").read_text(encoding="utf-8")
    page.get_by_label("Or paste an instance (YAML)").fill(text)
    with page.expect_response("**/analyze-context") as answered:
        page.get_by_role("button", name="Analyze").click()
    config = answered.value.json()
    chain = config["reasoningChain"]
    assert len(chain) >= 5
    steps = page.locator("li.chain-step")
    expect(steps).to_have_count(len(chain))
    expect(
        page.get_by_role("heading", name=f"Reasoning chain ({len(chain)} stages)")
    ).to_be_visible()
    for shown, step in zip(steps.all(), chain, strict=True):
        expect(shown.locator(".chain-stage")).to_have_text(step["stage"])
        expect(shown.locator(".chain-model")).to_have_text(step["llmModel"])
        # Math.round in the page: halves go up, unlike Python's round().
        expect(shown.locator(".chain-timing")).to_have_text(
            f"{'cached' if step['cached'] else 'asked'} · {math.floor(step['durationMs'] + 0.5)} ms"
        )
        shown.locator("summary").click()
        expect(shown.locator(".chain-question")).to_have_text(step["question"])
        expect(shown.locator(".chain-answer")).to_contain_text(next(iter(step["response"])))
    stages = [step["stage"] for step in chain]
    assert stages[0] == "term_analysis" and stages[-1] == "prompt_writing"
    summary = page.locator(".analysis-summary")
    expect(summary).to_contain_text(config["instanceName"])
    expect(summary).to_contain_text(config["maturityLevel"])
    screenshot(page, "assistant-analysis")

    # The same context by the instance's name: every answer now comes from the cache.
    page.get_by_label("Or paste an instance (YAML)").fill("")
    page.get_by_label("Instance name").fill("seo")
    with page.expect_response("**/analyze-context") as again:
        page.get_by_role("button", name="Analyze").click()
    assert all(step["cached"] for step in again.value.json()["reasoningChain"])
    expect(page.locator('li.chain-step[data-cached="true"]')).to_have_count(len(chain))

    phone = open_page(PHONE)
    phone.goto(f"{site.url}/#/assistant")
    phone.get_by_label("Category").fill("bakery")
    phone.get_by_label("Instance name").fill("seo")
    with phone.expect_response("**/analyze-context") as on_phone:
        phone.get_by_role("button", name="Analyze").click()
    expect(phone.locator("li.chain-step")).to_have_count(
        len(on_phone.value.json()["reasoningChain"])
    )
    phone.locator("li.chain-step summary").first.click()
    assert_fits(phone, "the assistant")
    screenshot(phone, "phone-assistant")

    prompt = again.value.json()["prompts"][0]
    page.get_by_role("button", name="Use prompt 1 in Generate").click()
    page.wait_for_url(re.compile(r"#/generate$"))
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompt["prompt"])
    expect(page.get_by_label("Negative prompt")).to_have_value(prompt["negativePrompt"])


def test_pipeline_prompts_go_to_variations(site: Site, open_page: Callable[..., Page]) -> None:
    page = open_page()
    page.goto(f"{site.url}/#/assistant")
    page.get_by_label("Pipeline", exact=True).select_option("error-pages")
    page.get_by_label("Count").fill("2")
    with page.expect_response("**/generate-prompts") as answered:
        page.get_by_role("button", name="Generate prompts").click()
    prompts = answered.value.json()["prompts"]
    assert len(prompts) == 2
    results = page.locator("#pipelines-title ~ div .prompt-result")
    expect(results).to_have_count(2)
    for shown, prompt in zip(results.all(), prompts, strict=True):
        expect(shown.locator("p.prompt").first).to_have_text(prompt["prompt"])
    results.nth(1).get_by_role("button", name="Use prompt 2 in Variations").click()
    page.wait_for_url(re.compile(r"#/variations$"))
    expect(page.get_by_label("Prompt", exact=True)).to_have_value(prompts[1]["prompt"])
    expect(page.get_by_label("Model")).to_have_value(prompts[1]["model"])


@pytest.mark.parametrize(
    ("endpoint", "policy"),
    [("1to1", "unrestricted"), ("shorts", "moderated"), ("scenes", "moderated")],
)
def test_a_chat_message_gives_an_image_a_caption_and_the_policy(
    site: Site, open_page: Callable[..., Page], endpoint: str, policy: str
) -> None:
    page = open_page()
    page.goto(f"{site.url}/#/gateway")
    page.get_by_label("Endpoint").select_option(endpoint)
    page.get_by_label("Message").fill("show me the lighthouse we talked about")
    page.get_by_label("Seed").fill("5")
    page.get_by_label("Width").fill("64")
    page.get_by_label("Height").fill("64")
    with page.expect_response(re.compile(r"/v1/chat/")) as answered:
        page.get_by_role("button", name="Send").click()
    answer = answered.value.json()
    if endpoint == "scenes":  # past its timeout: 202, then the job's own result
        assert answered.value.status == 202 and set(answer) == {"job_id"}
        finished = ("succeeded", "failed", "cancelled")
        job = site.wait(f"/api/jobs/{answer['job_id']}", lambda body: body["status"] in finished)
        assert job["status"] == "succeeded", job
        answer = {**job["result"], "job_id": answer["job_id"]}
    image = page.locator(".gateway-figure img")
    wait_for_image(image)
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 64]
    caption = DEFAULT_ANSWERS["caption"]["caption"]
    expect(page.locator(".gateway-caption")).to_have_text(caption)
    shown = page.locator(".gateway-result")
    expect(shown.locator('[data-param="prompt"] dd')).to_have_text(answer["prompt_used"])
    assert DEFAULT_ANSWERS["expand"]["prompt"] in answer["prompt_used"]
    expect(shown.locator('[data-param="seed"] dd')).to_have_text("5")
    expect(shown.locator('[data-param="policy"] dd')).to_have_text(policy)
    check = answer["policy"]["output_check"]
    output = shown.locator('[data-param="output-check"] dd')
    if policy == "unrestricted":
        assert check is None
        expect(output).to_contain_text("none")
    else:
        expect(output).to_contain_text(f"passed: {check['model']} scored {check['score']:.3f}")
    screenshot(page, f"gateway-{endpoint}")
    page.set_viewport_size(PHONE)
    assert_fits(page, "the gateway answer")
    screenshot(page, f"phone-gateway-{endpoint}")

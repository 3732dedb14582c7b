"""The selfie half of the Gateway screen in a real headless Chromium (SPEC §6.2).

The server's vision model is an OpenAI-compatible server on localhost (the one double:
a remote vision model) configured in config.yaml as a deployer would; the face detector
(OpenCV), the tiny Z-Image avatar pipeline and the output check are the real ones. The
selfie is NASA's public-domain portrait of Eileen Collins shipped in scikit-image.
Every test also fails on a failed request or an HTTP error answer it did not expect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from PIL import Image
from skimage import data

from imajin.llm.testing import FakeOpenAIServer, schema_answer
from tests.web.conftest import PHONE, Site, expect, needs_browser, open_site, screenshot
from tests.web.test_gallery_browser import assert_fits

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = needs_browser

ZIMAGE = "tiny-zimage"
ADULT = schema_answer(age_band="26_35")
EXIF_ORIENTATION = 0x0112
ROTATE_90_CW = 6  # EXIF: show the stored pixels turned 90° clockwise
# Wider than tall (512 × 400), so a box scaled by the wrong side or an unturned photo shows.
PORTRAIT = data.astronaut()[:400]  # type: ignore[no-untyped-call]  # scikit-image is untyped
TOO_LARGE_AT = 200_000  # gateway.profile.max_bytes where a test needs a 413 (the PNG is larger)


@dataclass
class VisionAnswers:
    """What the fake vision model answers: an adult's band unless a test sets another."""

    age_band: str = "26_35"

    def __call__(self, body: dict[str, Any]) -> str:
        return schema_answer(age_band=self.age_band)(body)


@pytest.fixture(scope="module")
def answers() -> VisionAnswers:
    return VisionAnswers()


@pytest.fixture(scope="module")
def vision(answers: VisionAnswers) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(respond=answers) as server:
        yield server


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_sd15_path: Path,
    tiny_zimage_path: Path,
    vision: FakeOpenAIServer,
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("profile")
    vlm = {"base_url": vision.base_url, "model": "x", "vision": True}
    config = {
        "llm": {"models": {"vlm": {"backend": "openai", "options": vlm}}},
        "vision": {"features_model": "vlm", "features_max_side": 128},
        "gateway": {"model": ZIMAGE},
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with open_site(tmp, tiny_sd15_path, more_models={ZIMAGE: tiny_zimage_path}) as opened:
        yield opened


@pytest.fixture(scope="module")
def selfies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The portrait as a plain JPEG, as a JPEG stored sideways with an EXIF rotation,
    as a GIF (a format the endpoints refuse) and as a PNG over ``TOO_LARGE_AT`` bytes."""
    folder = tmp_path_factory.mktemp("selfies")
    portrait = Image.fromarray(PORTRAIT)
    names = ("selfie.jpg", "sideways.jpg", "selfie.gif", "large.png")
    paths = {name: folder / name for name in names}
    portrait.save(paths["selfie.jpg"], "JPEG", quality=92)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CW
    # Stored turned a quarter left; the EXIF tag turns it back upright when shown.
    sideways = portrait.transpose(Image.Transpose.ROTATE_90)
    sideways.save(paths["sideways.jpg"], "JPEG", quality=92, exif=exif.tobytes())
    portrait.save(paths["selfie.gif"], "GIF")
    portrait.save(paths["large.png"], "PNG")
    return paths


def feature_text(value: Any) -> str:
    """What the table shows for a feature value (gateway-profile.js featureText)."""
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value in (None, "") else str(value)


def assert_box_on_face(page: Page, box: dict[str, int]) -> None:
    """The drawn box is the API's box (upright selfie pixels) scaled to the shown photo."""
    photo = page.locator(".selfie-photo")
    shown = photo.evaluate(
        "img => { const r = img.getBoundingClientRect();"
        " return [r.x, r.y, r.width, r.height, img.naturalWidth, img.naturalHeight]; }"
    )
    left, top, width, height, natural_width, natural_height = shown
    drawn = page.locator(".face-box").bounding_box()
    assert drawn is not None, "no face box is drawn"
    scale_x, scale_y = width / natural_width, height / natural_height
    expected = [
        left + box["x"] * scale_x,
        top + box["y"] * scale_y,
        box["width"] * scale_x,
        box["height"] * scale_y,
    ]
    actual = [drawn["x"], drawn["y"], drawn["width"], drawn["height"]]
    assert all(abs(a - e) <= 1.5 for a, e in zip(actual, expected, strict=True)), (
        actual,
        expected,
    )


def assert_features_shown(table: Locator, features: dict[str, Any]) -> None:
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(features))
    for name, value in features.items():
        expect(table.locator(f'tr[data-feature="{name}"] td')).to_have_text(feature_text(value))


def decoded_size(image: Locator) -> list[int]:
    image.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    size: list[int] = image.evaluate(
        "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"
    )
    return size


def test_a_selfie_shows_the_face_box_the_features_and_an_avatar_then_another(
    site: Site,
    vision: FakeOpenAIServer,
    selfies: dict[str, Path],
    open_page: Callable[..., Page],
) -> None:
    page = open_page()
    page.goto(f"{site.url}/#/gateway")
    page.get_by_label("Selfie").set_input_files(selfies["selfie.jpg"])
    page.get_by_label("Style").select_option("anime")
    with page.expect_response("**/v1/profile/create", timeout=120_000) as answered:
        page.get_by_role("button", name="Create avatar").click()
    assert answered.value.status == 200, answered.value.text()
    answer = answered.value.json()

    face = answer["face"]
    assert face["detected"] and face["faces_found"] >= 1 and face["box"] is not None
    expect(page.locator(".face-box")).to_be_visible()
    assert_box_on_face(page, face["box"])
    facts = page.locator(".face-facts")
    expect(facts.locator('[data-param="faces-found"] dd')).to_have_text(str(face["faces_found"]))
    expect(facts.locator('[data-param="quality"] dd')).to_have_text(f"{face['quality_score']:.2f}")

    # The table shows what the vision model answered to the request it was sent.
    sent = vision.requests[-1].body
    answered_features = json.loads(ADULT(sent))
    assert answered_features["age_band"] == "26_35"
    assert answer["features"] == answered_features
    assert_features_shown(page.locator(".features-table"), answered_features)

    avatar = page.locator(".avatar-figure img")
    assert decoded_size(avatar) == [64, 64]
    part = page.locator(".profile-avatar")
    expect(part.locator('[data-param="prompt"] dd')).to_have_text(answer["prompt_used"])
    expect(part.locator('[data-param="seed"] dd')).to_have_text(str(answer["seed"]))
    screenshot(page, "gateway-profile")

    first = avatar.get_attribute("src")
    with (
        page.expect_request("**/v1/profile/generate") as asked,
        page.expect_response("**/v1/profile/generate", timeout=120_000) as again,
    ):
        page.get_by_role("button", name="Generate again").click()
    sent_again = asked.value.post_data_json
    assert isinstance(sent_again, dict), asked.value.post_data
    assert sent_again["features"] == answered_features and sent_again["style"] == "anime"
    assert again.value.status == 200, again.value.text()
    redrawn = again.value.json()
    expect(part.locator('[data-param="seed"] dd')).to_have_text(str(sent_again["seed"]))
    assert redrawn["seed"] == sent_again["seed"]
    expect(part.locator('[data-param="prompt"] dd')).to_have_text(redrawn["prompt_used"])
    avatar = page.locator(".avatar-figure img")
    assert decoded_size(avatar) == [64, 64]
    assert avatar.get_attribute("src") != first or redrawn["seed"] == answer["seed"]

    page.set_viewport_size(PHONE)
    assert_fits(page, "the profile answer")
    assert_box_on_face(page, face["box"])  # percentages: still on the face when smaller
    screenshot(page, "phone-gateway-profile")


def test_an_exif_rotated_selfie_gets_its_box_on_the_upright_photo(
    site: Site, selfies: dict[str, Path], open_page: Callable[..., Page]
) -> None:
    page = open_page()
    page.goto(f"{site.url}/#/gateway")
    boxes = []
    for name in ("selfie.jpg", "sideways.jpg"):
        page.get_by_label("Selfie").set_input_files(selfies[name])
        with page.expect_response("**/v1/profile/analyze", timeout=60_000) as answered:
            page.get_by_role("button", name="Analyze").click()
        assert answered.value.status == 200, answered.value.text()
        box = answered.value.json()["face"]["box"]
        assert box is not None, name
        expect(page.locator(".face-box")).to_be_visible()
        assert page.locator(".selfie-photo").evaluate(
            "img => [img.naturalWidth, img.naturalHeight]"
        ) == [PORTRAIT.shape[1], PORTRAIT.shape[0]]
        assert_box_on_face(page, box)
        boxes.append(box)
    # Both are the upright face: the server turned the stored pixels, the browser too.
    plain, turned = boxes
    assert all(abs(plain[key] - turned[key]) <= 12 for key in plain), boxes
    expect(page.locator(".profile-avatar")).to_be_empty()


def test_a_gif_is_refused_next_to_the_selfie_field(
    site: Site, selfies: dict[str, Path], open_page: Callable[..., Page]
) -> None:
    page = open_page(expected=(("/v1/profile/create", 422),))
    page.goto(f"{site.url}/#/gateway")
    page.get_by_label("Selfie").set_input_files(selfies["selfie.gif"])
    with page.expect_response("**/v1/profile/create") as answered:
        page.get_by_role("button", name="Create avatar").click()
    assert answered.value.status == 422
    error = answered.value.json()["error"]
    assert error["field"] == "selfie"
    message = page.locator("#gw-selfie-error")
    expect(message).to_have_text(error["message"])
    expect(message).to_contain_text("selfie")
    expect(page.get_by_label("Selfie")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".face-box")).to_be_hidden()
    expect(page.locator(".profile-avatar")).to_be_empty()
    screenshot(page, "gateway-profile-refused")
    page.set_viewport_size(PHONE)
    assert_fits(page, "the refused selfie")
    screenshot(page, "phone-gateway-profile-refused")


def test_a_selfie_judged_a_minor_makes_no_avatar_and_says_why(
    site: Site,
    answers: VisionAnswers,
    selfies: dict[str, Path],
    open_page: Callable[..., Page],
) -> None:
    page = open_page(expected=(("/v1/profile/create", 422),))
    page.goto(f"{site.url}/#/gateway")
    page.get_by_label("Selfie").set_input_files(selfies["selfie.jpg"])
    answers.age_band = "under_18"
    try:
        with page.expect_response("**/v1/profile/create", timeout=60_000) as refused:
            page.get_by_role("button", name="Create avatar").click()
    finally:
        answers.age_band = "26_35"
    assert refused.value.status == 422
    error = refused.value.json()["error"]
    assert error["code"] == "minor_refused", error
    expect(page.locator(".profile-problem [role=alert]")).to_have_text(error["message"])
    expect(page.locator(".profile-avatar")).to_be_empty()
    expect(page.locator(".features-table")).to_have_count(0)


def test_without_a_vision_model_the_face_is_shown_and_the_server_says_what_to_set(
    tmp_path: Path,
    tiny_sd15_path: Path,
    tiny_zimage_path: Path,
    selfies: dict[str, Path],
    open_page: Callable[..., Page],
) -> None:
    # No vision.features_model; /analyze answers 202 at once, so the page follows its job.
    config = {
        "gateway": {
            "model": ZIMAGE,
            "endpoints": {"profile": {"timeout_s": 0.001}},
            "profile": {"max_bytes": TOO_LARGE_AT},
        }
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with open_site(tmp_path, tiny_sd15_path, more_models={ZIMAGE: tiny_zimage_path}) as bare:
        page = open_page(expected=(("/v1/profile/create", 503), ("/v1/profile/analyze", 413)))
        page.goto(f"{bare.url}/#/gateway")
        page.get_by_label("Selfie").set_input_files(selfies["selfie.jpg"])
        with page.expect_response("**/v1/profile/analyze") as answered:
            page.get_by_role("button", name="Analyze").click()
        assert answered.value.status == 202
        job_id = answered.value.json()["job_id"]
        job = bare.wait(f"/api/jobs/{job_id}", lambda body: body["status"] == "succeeded")
        result = job["result"]
        assert result["features"] is None and result["face"]["box"] is not None
        expect(page.locator(".face-box")).to_be_visible()
        assert_box_on_face(page, result["face"]["box"])
        expect(page.locator(".profile-features")).to_have_text(result["message"])
        expect(page.locator(".features-table")).to_have_count(0)

        with page.expect_response("**/v1/profile/create") as refused:
            page.get_by_role("button", name="Create avatar").click()
        assert refused.value.status == 503
        message = refused.value.json()["error"]["message"]
        assert "vision.features_model" in message
        expect(page.locator(".profile-problem [role=alert]")).to_have_text(message)
        expect(page.locator(".profile-avatar")).to_be_empty()
        screenshot(page, "gateway-profile-no-vision")

        # Over gateway.profile.max_bytes: said next to the file input, as the server words it.
        assert selfies["large.png"].stat().st_size > TOO_LARGE_AT
        page.get_by_label("Selfie").set_input_files(selfies["large.png"])
        with page.expect_response("**/v1/profile/analyze") as too_large:
            page.get_by_role("button", name="Analyze").click()
        assert too_large.value.status == 413
        expect(page.locator("#gw-selfie-error")).to_have_text(
            too_large.value.json()["error"]["message"]
        )
        expect(page.locator("#gw-selfie-error")).to_contain_text("gateway.profile.max_bytes")
        page.set_viewport_size(PHONE)
        assert_fits(page, "the missing vision model")
        screenshot(page, "phone-gateway-profile-no-vision")

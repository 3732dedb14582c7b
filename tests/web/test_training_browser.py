"""The Training screen and the models picker's download action in Chromium.

One server for the module: tiny SD 1.5 with fast training settings, a training area
with a ready folder and one missing a caption, and ``hub-sd15`` (the same tiny model as
a hub repo) served by a local :class:`~imajin.testing.fake_hub.FakeHub` through
``HF_ENDPOINT``, with an empty cache so it starts out not downloaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from imajin.client import ImajinClient
from imajin.config.settings import Scope
from imajin.testing.fake_hub import FakeHub, HubRepo
from tests.training.conftest import write_training_set
from tests.web.conftest import (
    PHONE,
    Site,
    expect,
    needs_browser,
    open_site,
    screenshot,
    watch_network,
)
from tests.web.test_generate_browser import assert_no_sideways_scroll, models_of, option_values

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = needs_browser

HUB_REPO = "imajin-test/tiny-sd15"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def training_site(tmp_path_factory: pytest.TempPathFactory, tiny_sd15_path: Path) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("training")
    area = tmp / "data" / "training"
    write_training_set(area / "shapes", count=3)
    uncaptioned = write_training_set(area / "uncaptioned", count=2)
    (uncaptioned / "item01.txt").unlink()
    environ = {
        "IMAJIN_ENGINE__DEVICE": "cpu",
        # Every step's progress is stored, so a three-step run draws three points.
        "IMAJIN_JOBS__PROGRESS_INTERVAL_S": "0",
        "IMAJIN_ENGINE__CACHE_DIR": str(tmp / "hf-cache"),
        "IMAJIN_TRAINING__RANK": "4",
        "IMAJIN_TRAINING__ALPHA": "8",
        "IMAJIN_TRAINING__RESOLUTION": "64",
        "IMAJIN_TRAINING__DEVICE": "cpu",
        "IMAJIN_TRAINING__LEARNING_RATE": "0.01",
        "IMAJIN_TRAINING__SEED": "7",
    }
    # The server runs in this process and reads HF_ENDPOINT when a pull starts.
    with (
        FakeHub({HUB_REPO: HubRepo(tiny_sd15_path, COMMIT)}) as hub,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("HF_ENDPOINT", hub.url)
        with open_site(
            tmp,
            tiny_sd15_path,
            environ=environ,
            more_models={"hub-sd15": tiny_sd15_path},
            manifest_overrides={"hub-sd15": {"source": HUB_REPO}},
        ) as opened:
            yield opened


def training_jobs(site: Site) -> list[dict[str, Any]]:
    page = httpx.get(f"{site.url}/api/jobs", params={"kind": "train_lora"}, timeout=10).json()
    items: list[dict[str, Any]] = page["items"]
    return items


def test_a_three_step_run_draws_its_loss_and_the_lora_reaches_generate(
    training_site: Site, new_page: Callable[..., Page]
) -> None:
    defaults = httpx.get(f"{training_site.url}/api/training/defaults", timeout=10).json()
    page = new_page()
    problems = watch_network(page, expected=(("/api/training", 422),))  # a refused setting
    page.goto(f"{training_site.url}/#/training")

    # The confined listing: the ready folder is picked, the other is disabled with why.
    shapes = page.get_by_role("radio", name=re.compile(r"^shapes"))
    expect(shapes).to_be_checked()
    expect(page.locator('.folder-row[data-ready="yes"] .badge')).to_have_text(
        "3 images · 3 captioned"
    )
    expect(page.get_by_role("radio", name=re.compile(r"^uncaptioned"))).to_be_disabled()
    expect(page.locator(".folder-reason")).to_have_text(
        re.compile(r"^Not ready: 1 of 2 images have no caption")
    )
    # Settings come from the server, each with its description as help.
    # Bases: every trainable model, a missing one disabled; a downloaded one is picked.
    models = models_of(training_site)
    usable = [b for b in defaults["bases"] if models[b]["downloaded"]]
    assert "tiny-sd15" in usable and "hub-sd15" not in usable
    chosen = defaults["defaultBase"] if defaults["defaultBase"] in usable else usable[0]
    base = page.get_by_label("Base model")
    expect(base).to_have_value(chosen)
    assert option_values(page, "#train-base") == defaults["bases"]
    expect(base.locator('option[value="hub-sd15"]')).to_be_disabled()
    steps = page.get_by_label("Max steps")
    expect(steps).to_have_value(str(defaults["settings"]["max_steps"]))
    expect(page.locator("#train-max_steps-hint")).to_have_text(
        defaults["descriptions"]["max_steps"]
    )
    expect(page.get_by_label("Rank", exact=True)).to_have_value("4")

    # A setting the server refuses is named beside its field, and no run starts.
    page.get_by_label("LoRA name").fill("shapes-ui")
    more = page.get_by_text("More settings")
    more.click()
    page.get_by_label("Keep checkpoints").fill("0")
    more.click()  # folded away again: the error unfolds it
    page.get_by_role("button", name="Start training").click()
    keep = page.get_by_label("Keep checkpoints")
    expect(keep).to_have_attribute("aria-invalid", "true")
    expect(keep).to_be_focused()
    expect(page.locator("#train-keep_checkpoints-error")).to_contain_text("greater than or equal")
    assert training_jobs(training_site) == []

    keep.fill(str(defaults["settings"]["keep_checkpoints"]))
    steps.fill("3")
    page.get_by_role("button", name="Start training").click()
    done = page.locator(".training-done")
    expect(done).to_contain_text("LoRA shapes-ui is ready: 3 steps on 3 images", timeout=120_000)
    expect(page.locator(".training-phase")).to_have_text("Finished")

    # The chart holds one point per step, from the losses the job reported, higher = up.
    (job,) = training_jobs(training_site)
    assert job["params"]["overrides"] == {"max_steps": 3}
    with ImajinClient(training_site.url) as imajin:
        events = list(imajin.job_events(job["id"]))
    reported = {
        e.payload["step"]: e.payload["loss"]
        for e in events
        if e.type == "JOB_PROGRESS" and e.payload.get("loss") is not None
    }
    assert sorted(reported) == [1, 2, 3]
    chart = page.get_by_role("img", name=re.compile("^Training loss over 3 points"))
    points = chart.locator("polyline").get_attribute("points") or ""
    xy = [tuple(float(v) for v in point.split(",")) for point in points.split()]
    assert len(xy) == 3 and xy[0][0] < xy[1][0] < xy[2][0], points
    by_height = sorted(range(3), key=lambda i: xy[i][1])
    assert by_height == sorted(range(3), key=lambda i: -reported[i + 1]), (points, reported)
    assert {"Step", "Loss", "3"} <= set(chart.locator("text").all_text_contents())
    shown = page.locator(".training-loss").inner_text()
    found = re.fullmatch(r"Loss (\S+) at step 3", shown)
    assert found and float(found.group(1)) == pytest.approx(reported[3], rel=1e-3), shown
    screenshot(page, "training-run")

    # One click to Generate: the base is picked and the new LoRA is listed and ticked.
    page.get_by_role("button", name="Use it in Generate").click()
    expect(page.get_by_label("Model", exact=True)).to_have_value(chosen)
    lora = page.get_by_role("checkbox", name=re.compile("shapes-ui"))
    expect(lora).to_be_enabled()
    expect(lora).to_be_checked()
    assert problems == []


def test_uploaded_images_with_captions_train_on_a_phone(
    training_site: Site, new_page: Callable[..., Page]
) -> None:
    source = training_site.platform.settings.layout.training / "shapes"
    page = new_page(PHONE)
    problems = watch_network(page)
    page.goto(f"{training_site.url}/#/training")
    page.get_by_label("Upload images").check()
    expect(page.get_by_role("radio", name=re.compile(r"^shapes"))).to_be_hidden()
    page.get_by_label("Image files").set_input_files(
        [
            {
                "name": name,
                "mimeType": "image/png",
                "buffer": (source / f"item0{i}.png").read_bytes(),
            }
            for i, name in enumerate(["first shape.png", "second shape.PNG"])
        ]
    )
    page.get_by_label("Caption for first shape.png").fill("a red circle, flat style")
    page.get_by_label("LoRA name").fill("uploaded-ui")
    page.get_by_label("Max steps").fill("2")
    before = len(training_jobs(training_site))

    # A missing caption is named beside its box, and nothing is sent.
    page.get_by_role("button", name="Start training").click()
    second = page.get_by_label("Caption for second shape.PNG")
    expect(second).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_text("Write a caption.")
    assert len(training_jobs(training_site)) == before

    second.fill("a green square, flat style")
    page.get_by_role("button", name="Start training").click()
    expect(page.locator(".training-done")).to_contain_text(
        "LoRA uploaded-ui is ready: 2 steps on 2 images", timeout=120_000
    )
    expect(page.locator(".loss-line")).to_have_attribute("points", re.compile(r"^\S+ \S+$"))
    # The files arrived under names the server takes, with the captions as typed.
    job = next(j for j in training_jobs(training_site) if j["params"]["output"] == "uploaded-ui")
    folder = training_site.platform.settings.layout.training / job["params"]["data"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "first-shape.png",
        "first-shape.txt",
        "second-shape.png",
        "second-shape.txt",
    ]
    assert (folder / "second-shape.txt").read_text(encoding="utf-8") == (
        "a green square, flat style\n"
    )
    assert_no_sideways_scroll(page)
    screenshot(page, "phone-training-upload")
    assert problems == []


def test_a_fresh_page_picks_up_the_runs_started_elsewhere_and_follows_them(
    training_site: Site, new_page: Callable[..., Page]
) -> None:
    # Started over the API, as another client (or this page before a reload) would. The
    # long run holds the only worker, so the page surely opens while it runs; the short
    # one waits in the queue behind it.
    long = _start_run(training_site, "shapes-long", steps=LONG_RUN_STEPS)
    short = _start_run(training_site, "shapes-elsewhere", steps=3)
    path = f"/api/jobs/{long['id']}"
    opened_at = training_site.wait(path, lambda job: job["progress"]["step"] >= 2)
    page = new_page()
    problems = watch_network(page)
    page.goto(f"{training_site.url}/#/training")
    run = page.get_by_role("region", name="Training run")
    expect(run.get_by_role("heading", name="Training shapes-long")).to_be_visible()
    expect(run.locator(".badge")).to_have_text("running")
    runs = page.get_by_role("region", name="Recent runs")
    expect(runs.locator(".training-run-row")).to_have_count(2)
    expect(runs.get_by_role("button", name="shapes-long")).to_have_attribute("aria-current", "true")
    short_badge = runs.locator('.training-run-row:has(button:text-is("shapes-elsewhere")) .badge')
    expect(short_badge).to_have_text("queued")

    # The steps reported before the page opened are drawn at once, then new ones live.
    dots = run.locator(".loss-points circle")
    page.wait_for_function(
        "n => document.querySelectorAll('.training-run .loss-points circle').length >= n",
        arg=opened_at["progress"]["step"],
    )
    seen = dots.count()
    page.wait_for_function(
        "n => document.querySelectorAll('.training-run .loss-points circle').length > n",
        arg=seen,
    )
    # Stopped elsewhere too: the page shows how it ended, with every step it reported.
    assert httpx.delete(training_site.url + path, timeout=10).status_code == 200
    expect(run.locator(".training-phase")).to_have_text("Cancelled", timeout=60_000)
    expect(run.locator(".job-outcome")).to_have_text("cancelled on request")
    reported = _reported_losses(training_site, long["id"])
    assert sorted(reported) == list(range(1, len(reported) + 1))
    expect(dots).to_have_count(len(reported))

    # The queued run, picked from the list, is followed to its last step.
    runs.get_by_role("button", name="shapes-elsewhere").click()
    expect(run.get_by_role("heading", name="Training shapes-elsewhere")).to_be_visible()
    expect(run.locator(".training-done")).to_contain_text(
        "LoRA shapes-elsewhere is ready: 3 steps on 3 images", timeout=120_000
    )
    expect(short_badge).to_have_text("succeeded")
    reported = _reported_losses(training_site, short["id"])
    assert sorted(reported) == [1, 2, 3]
    expect(run.get_by_role("img", name=re.compile(r"^Training loss over 3 points"))).to_be_visible()
    shown = run.locator(".training-loss").inner_text()
    found = re.fullmatch(r"Loss (\S+) at step 3", shown)
    assert found and float(found.group(1)) == pytest.approx(reported[3], rel=1e-3), shown
    screenshot(page, "training-reattached")

    # Opened after both ended, the newest run is shown finished, drawn from its history.
    phone = new_page(PHONE)
    phone_problems = watch_network(phone)
    phone.goto(f"{training_site.url}/#/training")
    phone_run = phone.get_by_role("region", name="Training run")
    expect(phone_run.get_by_role("heading", name="Training shapes-elsewhere")).to_be_visible()
    expect(phone_run.locator(".training-done")).to_contain_text("LoRA shapes-elsewhere is ready")
    expect(phone_run.locator(".loss-points circle")).to_have_count(3)
    expect(phone.locator(".training-runs")).to_be_hidden()  # one run: nothing to pick from
    assert_no_sideways_scroll(phone)
    screenshot(phone, "phone-training-reattached")
    assert problems == [] and phone_problems == []


# Far more steps than the page needs to open and see a few arrive; it is cancelled then.
LONG_RUN_STEPS = 2000


def _start_run(site: Site, output: str, *, steps: int) -> dict[str, Any]:
    body = {"base": "tiny-sd15", "output": output, "folder": "shapes"}
    return site.post("/api/training", {**body, "overrides": {"max_steps": steps}})


def _reported_losses(site: Site, job_id: str) -> dict[int, float]:
    """Step → loss, from the job's stored progress events."""
    with ImajinClient(site.url) as imajin:
        events = list(imajin.job_events(job_id))
    return {
        e.payload["step"]: e.payload["loss"]
        for e in events
        if e.type == "JOB_PROGRESS" and e.payload.get("loss") is not None
    }


def test_an_admin_downloads_a_missing_model_from_the_generate_picker(
    training_site: Site, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    problems = watch_network(page)
    page.goto(f"{training_site.url}/#/generate")
    option = page.locator('#gen-model option[value="hub-sd15"]')
    expect(option).to_be_disabled()
    missing = [m for m in models_of(training_site).values() if m["downloaded"] is False]
    page.get_by_text(f"{len(missing)} models are not downloaded yet").click()
    row = page.locator('.model-download[data-model="hub-sd15"]')
    expect(row).to_contain_text("(hub-sd15)")
    expect(page.locator(".model-download")).to_have_count(len(missing))
    # Every text the download's status shows, as it changes (a tiny model is quick).
    page.evaluate(
        """() => {
          window.seenStatus = [];
          const status = document.querySelector('[data-model="hub-sd15"] .download-status');
          new MutationObserver(() => window.seenStatus.push(status.textContent))
            .observe(status, { childList: true, subtree: true, characterData: true });
        }"""
    )
    screenshot(page, "generate-download")
    row.get_by_role("button", name=re.compile("^Download")).click()
    expect(option).to_be_enabled(timeout=120_000)
    expect(row).to_have_count(0)
    seen: list[str] = page.evaluate("window.seenStatus")
    total = re.escape(_megabytes(_size_of(training_site, "hub-sd15")))
    assert any(re.search(rf"\d+(\.\d)? MB of {total}", text) for text in seen), seen
    assert any(re.search(rf"{total} of {total}", text) for text in seen), seen
    page.get_by_label("Model", exact=True).select_option("hub-sd15")
    expect(page.locator('#gen-model-facts [data-fact="downloaded"]')).to_have_text("downloaded")

    phone = new_page(PHONE)
    phone_problems = watch_network(phone)
    phone.goto(f"{training_site.url}/#/generate")
    expect(phone.get_by_label("Model", exact=True)).to_have_value("tiny-sd15")
    assert_no_sideways_scroll(phone)
    screenshot(phone, "phone-generate-downloaded")
    assert problems == [] and phone_problems == []


def _size_of(site: Site, model_id: str) -> int:
    """The bytes the finished pull of ``model_id`` fetched, from its job's result."""
    jobs = httpx.get(f"{site.url}/api/jobs", params={"kind": "pull_model"}, timeout=10).json()
    (job,) = [j for j in jobs["items"] if j["params"].get("model") == model_id]
    size: int = job["result"]["totalBytes"]
    return size


def _megabytes(size: int) -> str:
    """As the page writes a size (downloads.js ``megabytes``)."""
    mb = size / (1024 * 1024)
    return f"{mb:.1f} MB" if size < 10 * 1024 * 1024 else f"{mb:.0f} MB"


def test_a_key_without_the_admin_scope_is_told_the_command_instead(
    tmp_path: Path, tiny_sd15_path: Path, new_page: Callable[..., Page]
) -> None:
    with open_site(
        tmp_path,
        tiny_sd15_path,
        environ={"IMAJIN_ENGINE__CACHE_DIR": str(tmp_path / "hf-cache")},
        admin_key=True,
        more_models={"hub-sd15": tiny_sd15_path},
        manifest_overrides={"hub-sd15": {"source": HUB_REPO}},
    ) as site:
        key = site.platform.keys.create(scopes=[Scope.GENERATE], name="no-admin")[1]
        page = new_page()
        problems = watch_network(page)
        page.add_init_script(f"localStorage.setItem('imajin.apiKey', {json.dumps(key)})")
        page.goto(f"{site.url}/#/generate")
        page.get_by_text(re.compile(r"models are not downloaded yet$")).click()
        row = page.locator('.model-download[data-model="hub-sd15"]')
        expect(row).to_contain_text("run imajin models pull hub-sd15")
        expect(page.locator(".model-downloads").get_by_role("button")).to_have_count(0)
        page.context.close()  # its event stream open would hold up the server's shutdown
        assert problems == []

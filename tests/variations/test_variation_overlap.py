"""Family N's derivatives are encoded while the engine generates family N+1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.jobs.models import JobStatus
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.variations.handler import Renderer, VariationRenderer
from imajin.wiring import Platform, build_platform, variation_renderer
from tests.conftest import LiveServer
from tests.variations.test_variations_api import SD15, create, wait_done

Install = Callable[[Renderer, bool], VariationRenderer]


@pytest.fixture
def platform(tmp_path: Path, tiny_sd15_path: Path) -> Iterator[Platform]:
    write_tiny_manifest(tmp_path / "data", {SD15: tiny_sd15_path})  # HTTP takes model ids
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    yield platform
    platform.close()


@pytest.fixture
def install(platform: Platform) -> Install:
    """Swap in a variation handler whose renderer is ``renderer`` (on the real pool)."""

    def swap(renderer: Renderer, overlap: bool) -> VariationRenderer:
        handler = variation_renderer(platform, renderer=renderer, overlap=overlap)
        platform.handlers.replace("variation", handler)
        return handler

    return swap


@pytest.mark.parametrize("overlap", [True, False], ids=["overlap", "sequential"])
def test_the_next_family_is_generated_while_the_previous_one_renders(
    platform: Platform, install: Install, overlap: bool
) -> None:
    next_family_generated = threading.Event()
    overlapped: list[bool] = []

    def render(image: Image.Image, family: str) -> Any:
        if family == "sidebar":
            # Held until the engine has generated the next family: only an overlap gets there.
            overlapped.append(next_family_generated.wait(timeout=30 if overlap else 0.5))
        else:
            next_family_generated.set()
        return handler._render(image, family)

    handler = install(render, overlap)
    with LiveServer(create_app(platform)) as live:
        done = wait_done(live, create(live, "pier", SD15, families=["sidebar", "header"])["id"])
    assert overlapped == [overlap]
    assert done["status"] == "complete", done
    assert {d["family"] for d in done["derivatives"]} == {"sidebar", "header"}


def test_a_cancel_while_a_family_renders_keeps_that_family_and_stops_the_rest(
    platform: Platform, install: Install
) -> None:
    created: dict[str, Any] = {}
    ready = threading.Event()

    def render(image: Image.Image, family: str) -> Any:
        if family == "sidebar":  # the engine goes on to "header" meanwhile
            assert ready.wait(timeout=30)
            platform.jobs.cancel(created["jobId"])
        return handler._render(image, family)

    handler = install(render, True)
    with LiveServer(create_app(platform)) as live:
        families = ["sidebar", "header", "square"]
        created.update(create(live, "quay", SD15, families=families))
        ready.set()
        done = wait_done(live, created["id"])
    assert platform.jobs.get(created["jobId"]).status == JobStatus.CANCELLED
    assert (done["status"], done["error"]) == ("partial", "cancelled")
    stored = {d["family"] for d in done["derivatives"]}
    # The family generated before the cancel was rendered and kept; "header" may have
    # finished before the cancel was seen, "square" never starts.
    assert "sidebar" in stored and "square" not in stored
    root = platform.settings.data_dir / "images" / "quay"
    assert not list(root.rglob("square*"))
    on_disk = {p.name.split("-")[0] for p in (root / "masters").iterdir()}
    assert on_disk == stored

"""Variations end to end over HTTP with tiny SD 1.5 and SDXL models (SPEC §3)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imajin.api.app import create_app
from imajin.client import ImajinClient
from imajin.config.loader import load_settings
from imajin.imaging.sizes import FAMILY_NAMES, derivative, family, family_derivatives
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.variations.events import VariationEvent
from imajin.variations.handler import VariationRenderer
from imajin.wiring import Platform, build_platform, variation_renderer
from tests.conftest import LiveServer

FAMILIES = ["og", "hero", "square"]
SD15, SDXL = "tiny-sd15", "tiny-sdxl"


@pytest.fixture
def served(
    tmp_path: Path, tiny_sd15_path: Path, tiny_sdxl_path: Path
) -> Iterator[tuple[LiveServer, Platform]]:
    # Over HTTP a model is an id (SPEC §2.1): the tiny models are listed in the manifest.
    write_tiny_manifest(tmp_path / "data", {SD15: tiny_sd15_path, SDXL: tiny_sdxl_path})
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as live:
        yield live, platform
    platform.close()


def create(
    live: LiveServer, name: str, model: str, families: list[str] = FAMILIES, **generation: Any
) -> dict[str, Any]:
    body = {
        "name": name,
        "category": "city-scenes",
        "families": families,
        "generation": {
            "prompt": "a quiet city square at dawn, watercolour",
            "seed": 7,
            "model": model,
            "inferenceSteps": 2,
            **generation,
        },
    }
    response = httpx.post(live.url + "/api/images/variations", json=body, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()


def wait_done(live: LiveServer, variation_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(live.url + f"/api/images/variations/{variation_id}").json()
        if body["status"] in ("complete", "partial", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def event_types(platform: Platform, variation_id: str) -> list[str]:
    return [
        e.type
        for e in platform.events.after(0, subject=variation_id)
        if e.type.startswith("IMAGE_")
    ]


@pytest.mark.parametrize("model", [SD15, SDXL])
def test_variation_end_to_end(served: tuple[LiveServer, Platform], model: str) -> None:
    live, platform = served
    created = create(live, "dawn-square", model)
    assert created["status"] in ("queued", "generating")
    assert created["generationParams"]["seed"] == 7
    assert "child" in created["generationParams"]["negativePrompt"]  # legal terms, always

    done = wait_done(live, created["id"])
    assert done["status"] == "complete", done
    assert event_types(platform, created["id"]) == [
        VariationEvent.QUEUED,
        VariationEvent.STARTED,
        *[VariationEvent.FAMILY_COMPLETED] * len(FAMILIES),
        VariationEvent.COMPLETED,
    ]
    expected = {d.name for f in FAMILIES for d in family_derivatives(f)}
    assert {d["derivativeName"] for d in done["derivatives"]} == expected

    for listed in done["derivatives"]:
        size = derivative(listed["derivativeName"]).size
        assert (listed["width"], listed["height"]) == (size.width, size.height)
        response = httpx.get(live.url + listed["publicUrl"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert int(response.headers["content-length"]) == listed["fileSize"]
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "WEBP" and image.size == (size.width, size.height)

    completed = next(
        e
        for e in platform.events.after(0, subject=created["id"])
        if e.type == VariationEvent.COMPLETED
    )
    assert completed.payload["familiesCompleted"] == len(FAMILIES)
    assert set(completed.payload["publicUrls"]) == expected


def test_caching_headers_etag_and_head(
    served: tuple[LiveServer, Platform],
) -> None:
    live, _ = served
    done = wait_done(live, create(live, "cache-check", SD15, families=["og"])["id"])
    og = next(d for d in done["derivatives"] if d["derivativeName"] == "og")
    unversioned = live.url + "/api/images/cache-check/og"
    first = httpx.get(unversioned)
    assert first.headers["cache-control"] == "public, max-age=60, must-revalidate"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = httpx.get(unversioned, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert httpx.get(unversioned, headers={"If-None-Match": '"other"'}).status_code == 200
    head = httpx.head(live.url + og["publicUrl"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag
    assert head.headers["content-length"] == first.headers["content-length"]
    stale = httpx.get(unversioned + "?v=0000000000000000")
    assert "immutable" not in stale.headers["cache-control"]


def test_regenerate_with_new_seed_changes_the_url_and_delete_removes_files(
    served: tuple[LiveServer, Platform],
) -> None:
    live, platform = served
    first = wait_done(live, create(live, "regen", SD15, families=["square"])["id"])
    url_before = {d["derivativeName"]: d["publicUrl"] for d in first["derivatives"]}

    same = httpx.post(live.url + f"/api/images/variations/{first['id']}/regenerate")
    assert same.status_code == 202
    again = wait_done(live, first["id"])
    # Same seed, same device: identical pixels, so the versioned URL stays valid.
    assert {d["derivativeName"]: d["publicUrl"] for d in again["derivatives"]} == url_before

    new = httpx.post(
        live.url + f"/api/images/variations/{first['id']}/regenerate", json={"newSeed": True}
    )
    assert new.status_code == 202 and new.json()["generationParams"]["seed"] != 7
    regenerated = wait_done(live, first["id"])
    url_after = {d["derivativeName"]: d["publicUrl"] for d in regenerated["derivatives"]}
    assert all(url_after[name] != url_before[name] for name in url_before)

    folder = platform.settings.data_dir / "images" / "regen"
    assert any(folder.rglob("*.webp"))
    assert httpx.delete(live.url + f"/api/images/variations/{first['id']}").status_code == 204
    assert not folder.exists()
    assert httpx.get(live.url + f"/api/images/variations/{first['id']}").status_code == 404
    assert httpx.get(live.url + "/api/images/regen/square").status_code == 404


def test_files_are_laid_out_as_the_spec_says(
    served: tuple[LiveServer, Platform],
) -> None:
    live, platform = served
    wait_done(live, create(live, "layout", SD15, families=["compact"])["id"])
    root = platform.settings.data_dir / "images" / "layout"
    assert sorted(p.name for p in (root / "masters").iterdir()) == ["compact-1500x800.webp"]
    assert sorted(p.name for p in (root / "derivatives").iterdir()) == [
        "compact-2x-1500x800.webp",
        "compact-750x400.webp",
        "mobile-banner-320x50.webp",
    ]


def test_one_failing_family_gives_partial_and_the_others_stay_served(
    tmp_path: Path, tiny_sd15_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_tiny_manifest(tmp_path / "data", {SD15: tiny_sd15_path})
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    real: VariationRenderer = platform.handlers.get("variation")  # type: ignore[assignment]

    def faulty(image: Image.Image, family: str) -> Any:
        if family == "hero":
            raise OSError("disk full while encoding hero")
        return real._render(image, family)

    platform.handlers.replace(
        "variation",
        variation_renderer(platform, renderer=faulty),
    )
    with LiveServer(create_app(platform)) as live:
        partial = wait_done(live, create(live, "half", SD15)["id"])
        assert partial["status"] == "partial"
        assert "hero: OSError: disk full" in partial["error"]
        assert {d["family"] for d in partial["derivatives"]} == {"og", "square"}
        assert not list((platform.settings.data_dir / "images" / "half").rglob("hero*"))
        for listed in partial["derivatives"]:
            assert httpx.get(live.url + listed["publicUrl"]).status_code == 200
        payload = next(
            e.payload
            for e in platform.events.after(0, subject=partial["id"])
            if e.type == VariationEvent.PARTIAL
        )
        assert payload["familiesFailed"] == ["hero"]
        assert payload["familiesCompleted"] == ["og", "square"]
        # A fault (not a refusal) is logged with its traceback.
        crashed = [r for r in caplog.records if "family hero of half crashed" in r.getMessage()]
        assert crashed and crashed[0].exc_info is not None
        assert crashed[0].exc_info[0] is OSError

        failed = wait_done(live, create(live, "none", SD15, families=["hero"])["id"])
        assert failed["status"] == "failed" and failed["derivatives"] == []
        assert not (platform.settings.data_dir / "images" / "none").exists() or not list(
            (platform.settings.data_dir / "images" / "none").rglob("*.webp")
        )
        assert VariationEvent.FAILED in event_types(platform, failed["id"])
    platform.close()


@pytest.mark.parametrize(
    ("body_change", "status", "field"),
    [
        ({"name": "bad name!"}, 422, "name"),
        ({"name": "-rf"}, 422, "name"),
        ({"name": "--help"}, 422, "name"),
        ({"name": "variations"}, 422, "name"),
        ({"families": ["og", "poster"]}, 422, "families"),
        ({"generation": {"prompt": "x" * 2001}}, 422, "generation.prompt"),
        ({"generation": {"prompt": "city", "inferenceSteps": 0}}, 422, "generation.inferenceSteps"),
        ({"generation": {"prompt": "city", "guidanceScale": 21}}, 422, "generation.guidanceScale"),
        ({"generation": {"prompt": "city", "model": "no-such-model"}}, 422, "generation.model"),
        ({"generation": {"prompt": "nude child on a bed"}}, 422, "generation.prompt"),
    ],
)
def test_validation(
    served: tuple[LiveServer, Platform], body_change: dict[str, Any], status: int, field: str
) -> None:
    live, platform = served
    body: dict[str, Any] = {
        "name": "valid-name",
        "category": "c",
        "families": ["og"],
        "generation": {"prompt": "a tram stop in the rain"},
    }
    body.update(body_change)
    response = httpx.post(live.url + "/api/images/variations", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert platform.jobs.repository.page()[1] == 0  # nothing queued


def test_duplicate_name_is_409(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    create(live, "twice", SD15, families=["og"])
    body = {
        "name": "twice",
        "generation": {"prompt": "a harbour", "model": SD15},
        "families": ["og"],
    }
    response = httpx.post(live.url + "/api/images/variations", json=body)
    assert response.status_code == 409 and response.json()["error"]["field"] == "name"


HOSTILE = ["..", "..%2f..%2fetc", "%2e%2e", "a.b", "name%00", "..%252f", "x y", "\u2025"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_serving_names_never_leave_the_images_root(
    served: tuple[LiveServer, Platform], name: str
) -> None:
    live, _ = served
    for path in (f"/api/images/{name}/og", f"/api/images/city/{name}"):
        response = httpx.get(live.url + path)
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        assert response.headers.get("content-type") != "image/webp"


def test_models_and_ml_health(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    models = httpx.get(live.url + "/api/images/models").json()
    ids = {m["model_id"] for m in models}
    assert {"juggernaut-xi-v11", "animagine-xl-4.0-opt", "z-image-turbo"} <= ids
    fields = {"type", "model_id", "name", "family", "native", "status", "device", "loaded"}
    fields |= {"downloaded", "scheduler", "samplers"}
    assert all(set(m) == fields for m in models)
    health = httpx.get(live.url + "/api/images/health/ml").json()
    assert health["status"] == "ok" and len(health["models"]) == len(models)


def test_families_list_the_size_matrix(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    with ImajinClient(live.url) as imajin:
        families = imajin.list_families()
    assert [f.name for f in families] == list(FAMILY_NAMES)
    for listed in families:
        spec = family(listed.name)
        assert (listed.master_width, listed.master_height) == (
            spec.master.width,
            spec.master.height,
        )
        assert listed.ratio == spec.ratio
        assert [(d.name, d.width, d.height) for d in listed.derivatives] == [
            (d.name, d.size.width, d.size.height) for d in family_derivatives(listed.name)
        ]
    raw = httpx.get(live.url + "/api/images/families").json()
    assert set(raw[0]) == {"name", "ratio", "masterWidth", "masterHeight", "derivatives"}

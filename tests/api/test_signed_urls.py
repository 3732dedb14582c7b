"""Signed image URLs with auth on (SPEC §3.2): an <img> tag or a CDN needs no key.

A derivative and a studio output are written to disk and recorded as the real
handlers record them (no model runs); the URLs come from the API itself.
"""

from __future__ import annotations

import hashlib
import io
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from imajin.api.app import create_app
from imajin.cli import app as cli_app
from imajin.config.loader import load_settings
from imajin.config.settings import Scope
from imajin.imaging.files import StoredImage
from imajin.jobs.models import JobSpec, JobStatus
from imajin.store.migrate import upgrade
from imajin.studio.outputs import StoredOutput
from imajin.studio.schemas import BatchCreate
from imajin.variations.schemas import VariationCreate
from imajin.wiring import Platform, build_platform
from tests.studio.conftest import MINI_CSV, MINI_YAML, write_set


@dataclass
class Served:
    platform: Platform
    client: TestClient
    key: str  # a read key, for the calls that list URLs


def _webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, format="WEBP")
    return out.getvalue()


def _seed_derivative(platform: Platform) -> None:
    """A variation with one derivative on disk, recorded as the variation handler does."""
    variation = platform.variations.create(
        VariationCreate.model_validate(
            {"name": "harbour", "families": ["og"], "generation": {"prompt": "a harbour"}}
        )
    )
    body = _webp()
    platform.images.write_bytes("harbour/derivatives/og-1200x675.webp", body)
    stored = StoredImage(
        name="og",
        family="og",
        is_master=False,
        path="harbour/derivatives/og-1200x675.webp",
        width=1200,
        height=675,
        size_bytes=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    with platform.database.session() as session:
        platform.variations.repository.replace_family(session, variation.id, "og", [stored])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__WORKERS": "0"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    key = platform.keys.create(scopes=[Scope.READ], name="reader")[1]
    _seed_derivative(platform)
    with TestClient(create_app(platform)) as client:
        yield Served(platform, client, key)
    platform.close()


def _public_url(served: Served) -> str:
    headers = {"Authorization": f"Bearer {served.key}"}
    variation = served.client.get("/api/images/variations/name/harbour", headers=headers).json()
    return str(variation["derivatives"][0]["publicUrl"])


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"{parts.path}?{urlencode(query)}"


def test_a_signed_derivative_url_needs_no_key(served: Served) -> None:
    url = _public_url(served)
    assert "sig=" in url and "v=" in url
    response = served.client.get(url)  # no key: as an <img> tag or a CDN fetches it
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "change",
    [
        {"sig": None},  # unsigned
        {"sig": "A" * 22},  # forged
        {"v": "0" * 16},  # the signature of one version on another
    ],
    ids=["unsigned", "forged", "other-version"],
)
def test_unsigned_or_tampered_urls_need_the_key(
    served: Served, change: dict[str, str | None]
) -> None:
    url = _with_query(_public_url(served), **change)
    response = served.client.get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # With the read key the same URL works: a bad signature only means "no free pass".
    keyed = served.client.get(url, headers={"Authorization": f"Bearer {served.key}"})
    assert keyed.status_code == 200


def test_a_signature_is_bound_to_its_path(served: Served) -> None:
    parts = urlsplit(_public_url(served))
    other = parts.path.replace("/og", "/twitter-large") + "?" + parts.query
    assert served.client.get(other).status_code == 401


def test_studio_outputs_listed_by_the_api_are_signed(served: Served) -> None:
    platform = served.platform
    platform.studio.outputs.write_bytes("single_1/1_7.png", b"\x89PNG fake")
    platform.studio.outputs.write_bytes("single_1/thumbs/1_7.webp", _webp())
    job = platform.jobs.submit(
        JobSpec(kind="generate", params={}, queue=platform.settings.studio.queue)
    )
    result = {
        "images": [
            {
                "imageUrl": "/api/outputs/single_1/1_7.png",
                "thumbnailUrl": "/api/outputs/single_1/thumbs/1_7.webp",
                "seed": 7,
            }
        ]
    }
    # Finished as a worker finishes it (no model runs).
    assert platform.jobs.repository.claim(job.id, "w") is not None
    platform.jobs.repository.finish(job.id, "w", status=JobStatus.SUCCEEDED, result=result)
    headers = {"Authorization": f"Bearer {served.key}"}
    shown = served.client.get(f"/api/jobs/{job.id}", headers=headers).json()
    image = shown["result"]["images"][0]
    assert image["seed"] == 7
    for key in ("imageUrl", "thumbnailUrl"):
        assert "sig=" in image[key]
        assert served.client.get(image[key]).status_code == 200  # no key
    assert served.client.get("/api/outputs/single_1/1_7.png").status_code == 401


def test_with_auth_off_urls_stay_as_they_were(tmp_path: Path) -> None:
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__WORKERS": "0"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    _seed_derivative(platform)
    with TestClient(create_app(platform)) as client:
        variation = client.get("/api/images/variations/name/harbour").json()
        url = variation["derivatives"][0]["publicUrl"]
        assert "sig=" not in url and "v=" in url
        assert client.get(url).status_code == 200
    platform.close()
    assert not platform.settings.layout.url_secret.exists()  # nothing signed, nothing made


def test_the_secret_is_private_and_rotating_it_revokes_every_url(served: Served) -> None:
    url = _public_url(served)
    secret = served.platform.settings.layout.url_secret
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    before = secret.read_text()
    result = CliRunner().invoke(
        cli_app,
        ["keys", "rotate-url-secret"],
        env={"IMAJIN_DATA_DIR": str(served.platform.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert secret.read_text() != before
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert served.client.get(url).status_code == 401  # the running server sees the new one
    fresh = _public_url(served)
    assert fresh != url and served.client.get(fresh).status_code == 200


def test_batch_thumbnails_and_items_are_signed(served: Served) -> None:
    platform = served.platform
    write_set(platform.settings.layout.sets, "mini", MINI_YAML, MINI_CSV)
    created = platform.studio.create_batch(BatchCreate(set_name="mini", seed=1))
    first = created.job_ids[0]
    image = f"{created.output_dir}/1_first.png"
    thumbnail = f"{created.output_dir}/thumbs/1_first.webp"
    platform.studio.outputs.write_bytes(image, b"\x89PNG fake")
    platform.studio.outputs.write_bytes(thumbnail, _webp())
    result = StoredOutput(image=image, sidecar=image + ".json", thumbnail=thumbnail).as_result()
    assert platform.jobs.repository.claim(first, "w") is not None
    platform.jobs.repository.finish(first, "w", status=JobStatus.SUCCEEDED, result=result)

    headers = {"Authorization": f"Bearer {served.key}"}
    listed = served.client.get("/api/batches", headers=headers).json()["items"][0]
    detail = served.client.get(f"/api/batches/{created.batch_id}", headers=headers).json()
    item = next(i for i in detail["items"] if i["job_id"] == first)
    for url in (listed["thumbnail_url"], detail["thumbnail_url"], item["image_url"]):
        assert "sig=" in url
        assert served.client.get(url).status_code == 200  # no key

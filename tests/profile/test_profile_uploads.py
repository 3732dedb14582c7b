"""Hostile and unusual uploads over HTTP, and where a selfie's bytes go (SPEC §6.2)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image
from skimage import data

from imajin.llm.testing import FakeOpenAIServer
from tests.profile.conftest import (
    ProfileFactory,
    astronaut_jpeg,
    encode,
    upload,
)
from tests.vision.test_images import constant_png

ANALYZE = "/v1/profile/analyze"


def _error(answer: httpx.Response, status: int) -> dict[str, str]:
    assert answer.status_code == status, answer.text
    error: dict[str, str] = answer.json()["error"]
    return error


@pytest.mark.parametrize(
    ("selfie", "words"),
    [
        (b"just some text in a file named selfie.jpg\n" * 10, "not an image"),
        (b"", "empty"),
        (astronaut_jpeg()[:6000], "truncated or corrupt"),
        (encode(data.astronaut(), "GIF"), "GIF image"),
    ],
    ids=["text-as-jpg", "empty", "truncated-jpeg", "gif"],
)
def test_bad_files_are_422_naming_the_field(
    make_profiles: ProfileFactory, vision_model: FakeOpenAIServer, selfie: bytes, words: str
) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    error = _error(upload(profiles.client, ANALYZE, selfie), 422)
    assert words in error["message"] and error["field"] == "selfie"


def test_decompression_bomb_is_refused_before_anything_is_queued(
    make_profiles: ProfileFactory,
    vision_model: FakeOpenAIServer,
) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    bomb = constant_png(30_000)
    error = _error(upload(profiles.client, "/v1/profile/create", bomb), 422)
    assert "gateway.profile.max_pixels" in error["message"]
    assert profiles.platform.jobs.page(kind="profile") == ([], 0)


def test_35_mb_upload_is_413_at_either_limit(
    make_profiles: ProfileFactory, vision_model: FakeOpenAIServer
) -> None:
    big = b"\xff\xd8\xff" + bytes(35 * 1024 * 1024)
    # The server's body limit (20 MiB by default) answers first...
    server = make_profiles(vision=vision_model.base_url)
    assert "server.max_body_bytes" in _error(upload(server.client, ANALYZE, big), 413)["message"]
    # ...and with a larger one, the profile limit, while reading the stream.
    profile = make_profiles(
        vision=vision_model.base_url, IMAJIN_SERVER__MAX_BODY_BYTES=str(100 * 1024 * 1024)
    )
    error = _error(upload(profile.client, ANALYZE, big), 413)
    assert "gateway.profile.max_bytes" in error["message"] and error["field"] == "selfie"


def test_exif_rotated_selfie_gives_the_box_in_the_upright_frame(
    make_profiles: ProfileFactory,
    vision_model: FakeOpenAIServer,
) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    upright = data.astronaut()[:, :448]
    plain = upload(profiles.client, ANALYZE, encode(upright, "JPEG", quality=95)).json()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    lying = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    rotated = upload(profiles.client, ANALYZE, encode(lying, "JPEG", quality=95, exif=exif))
    assert rotated.status_code == 200, rotated.text
    box, expected = rotated.json()["face"]["box"], plain["face"]["box"]
    assert all(abs(box[k] - expected[k]) <= 12 for k in ("x", "y", "width", "height"))


def test_malformed_forms(make_profiles: ProfileFactory, vision_model: FakeOpenAIServer) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    client = profiles.client
    json_body = client.post(ANALYZE, json={"selfie": "x"})
    assert "multipart/form-data" in _error(json_body, 422)["message"]
    other_field = client.post(ANALYZE, files={"photo": ("a.jpg", astronaut_jpeg(), "image/jpeg")})
    assert _error(other_field, 422)["field"] == "selfie"
    style = upload(client, "/v1/profile/create", astronaut_jpeg(), style="cubist")
    assert _error(style, 422)["field"] == "style"


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_selfies_are_not_written_anywhere_by_default(
    make_profiles: ProfileFactory, vision_model: FakeOpenAIServer
) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    selfie = astronaut_jpeg()
    for path in ("/v1/profile/analyze", "/v1/profile/create"):
        assert upload(profiles.client, path, selfie).status_code == 200
    assert upload(profiles.client, ANALYZE, selfie[:7000]).status_code == 422  # a failed job too
    # Any 64-byte run of the upload, anywhere under the data directory (database included).
    needles = [selfie[i : i + 64] for i in range(2000, len(selfie) - 64, 5000)]
    for needle in needles:
        assert _files_holding(profiles.data_dir, needle) == []
    assert not (profiles.data_dir / "selfies").exists()
    inbox = profiles.platform.profile._selfies  # type: ignore[union-attr]
    assert len(inbox) == 0  # every hand-off was taken or discarded


def test_kept_selfies_live_under_the_data_dir_until_deleted(
    make_profiles: ProfileFactory,
    vision_model: FakeOpenAIServer,
) -> None:
    profiles = make_profiles(
        vision=vision_model.base_url, IMAJIN_GATEWAY__PROFILE__KEEP_SELFIES="true"
    )
    selfie = astronaut_jpeg()
    body = upload(profiles.client, ANALYZE, selfie).json()
    selfie_id = body["selfie_id"]
    kept = profiles.data_dir / "selfies" / selfie_id
    assert kept.read_bytes() == selfie
    assert profiles.client.delete(f"/v1/profile/selfies/{selfie_id}").status_code == 204
    assert not kept.exists()
    again = profiles.client.delete(f"/v1/profile/selfies/{selfie_id}")
    assert _error(again, 404)["field"] == "selfie_id"
    bad_id = profiles.client.delete("/v1/profile/selfies/..x")
    assert _error(bad_id, 422)["field"].endswith("selfie_id")


def test_deleting_selfies_when_none_are_kept_is_404(make_profiles: ProfileFactory) -> None:
    profiles = make_profiles()
    answer = profiles.client.delete(f"/v1/profile/selfies/{'a' * 32}")
    assert "keep_selfies" in _error(answer, 404)["message"]

"""Profile fixtures: the platform over the tiny Z-Image pipeline, real OpenCV, real photos.

Feature extraction is the one double: :class:`FixedFeatureSource` answers in place
of ``imajin.vision.features.FeatureExtractor`` (a vision model). It is provided by
the single ``feature_source`` fixture, so it can be swapped for the real extractor
over the local fake OpenAI server (``imajin.llm.testing.FakeOpenAIServer``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, PlatformOverrides, build_platform
from tests.gateway.conftest import FixedScorer

TINY_MODEL = "tiny-zimage"
ADULT_FEATURES: dict[str, Any] = {
    "hair_colour": "dark blonde",
    "hair_style": "short curly",
    "eye_colour": "brown",
    "skin_tone": "light",
    "facial_hair": "none",
    "glasses": False,
    "apparent_age_band": "30_44",
    "expression": "smiling",
    "distinctive_features": ["freckles"],
}


@dataclass
class FixedFeatureSource:
    """Answers each ``extract`` with the next of ``answers`` (the last repeats); an
    exception in the list is raised instead. Records the shapes it was given."""

    answers: list[dict[str, Any] | BaseException] = field(
        default_factory=lambda: [dict(ADULT_FEATURES)]
    )
    calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    def extract(
        self, *, face: np.ndarray, image: np.ndarray, timeout_s: float | None = None
    ) -> dict[str, Any]:
        self.calls.append((face.shape, image.shape))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return dict(answer)


@pytest.fixture
def feature_source() -> FixedFeatureSource:
    return FixedFeatureSource()


@dataclass
class Profiles:
    platform: Platform
    client: TestClient
    data_dir: Path


ProfileFactory = Callable[..., Profiles]


@pytest.fixture
def make_profiles(tmp_path: Path, tiny_zimage_path: Path) -> Iterator[ProfileFactory]:
    """``make_profiles(features=..., **env)``: a served platform; ``features=None``
    is a platform with no vision model configured."""
    platforms: list[Platform] = []
    clients: list[TestClient] = []

    def make(*, features: Any = None, **env: str) -> Profiles:
        data_dir = tmp_path / f"data{len(platforms)}"
        write_tiny_manifest(data_dir, {TINY_MODEL: tiny_zimage_path})
        environ = {
            "IMAJIN_DATA_DIR": str(data_dir),
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
            "IMAJIN_GATEWAY__MODEL": TINY_MODEL,
            **env,
        }
        settings = load_settings(environ=environ, cwd=tmp_path)
        overrides = PlatformOverrides(features=features, image_scorer=FixedScorer([0.0]))
        platform = build_platform(settings, overrides=overrides)
        upgrade(platform.database)
        client = TestClient(create_app(platform))
        client.__enter__()
        platforms.append(platform)
        clients.append(client)
        return Profiles(platform=platform, client=client, data_dir=data_dir)

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    for platform in platforms:
        platform.close()


def encode(image: Image.Image | np.ndarray, fmt: str = "JPEG", **options: Any) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def astronaut_jpeg(**options: Any) -> bytes:
    """NASA's portrait of Eileen Collins (public domain), shipped in scikit-image."""
    return encode(data.astronaut(), "JPEG", quality=92, **options)


def upload(client: TestClient, path: str, selfie: bytes, **fields: str) -> Any:
    return client.post(path, files={"selfie": ("selfie.jpg", selfie, "image/jpeg")}, data=fields)
